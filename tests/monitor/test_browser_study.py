"""The study view in headless Chromium: the GET forms filter, sort and compare, script-free.

Skipped with a reason when /usr/bin/chromium or Playwright is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.monitor.studydata import write_study

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROWS = "() => Array.from(document.querySelectorAll('#jobs tr.job'), tr => tr.dataset.job)"


def test_the_filter_form_filters_and_the_compare_form_sends_the_ticked_jobs(
    page: Any, data_dir: Path, server: Callable[..., Any], artifacts_dir: Path
) -> None:
    srv = server(write_study(data_dir))
    page.goto(srv.url)
    assert len(page.evaluate(ROWS)) == 20
    page.get_by_label("Name contains").fill("post")
    page.get_by_label("State", exact=True).select_option("completed")
    page.get_by_label("Sort by", exact=True).select_option("name")
    page.get_by_label("Order", exact=True).select_option("desc")
    page.get_by_role("button", name="Show jobs").click()
    page.wait_for_load_state()
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"q": ["post"], "state": ["completed"], "sort": ["name"], "order": ["desc"]}
    expected = ["P10-POST", "P09-POST", "P07-POST", "P05-POST", "P04-POST", "P02-POST"]
    assert page.evaluate(ROWS) == expected
    # The live poll asks for the same filters: after two polls the rows are unchanged.
    first = page.evaluate("() => document.body.dataset.lastPoll || ''")
    page.wait_for_function(
        "(before) => (document.body.dataset.lastPoll || '') !== before", arg=first, timeout=10000
    )
    assert page.evaluate(ROWS) == expected
    assert page.locator('[data-count="completed"]').inner_text() == "12"
    page.screenshot(path=str(artifacts_dir / "monitor_study_filtered.png"), full_page=True)
    page.get_by_label("select P10-POST for comparison").check()
    page.get_by_label("select P04-POST for comparison").check()
    page.get_by_label("Angle", exact=True).select_option("right_knee_flexion")
    page.get_by_role("button", name="Compare selected jobs").click()
    page.wait_for_load_state()
    parts = urlsplit(page.url)
    assert parts.path == "/compare"
    assert parse_qs(parts.query) == {
        "angle": ["right_knee_flexion"],
        "jobs": ["P10-POST", "P04-POST"],
    }
    assert "P10-POST" in page.content() and "P04-POST" in page.content()
    assert page.console_errors == [] and page.dialogs == []
