"""The multi-view job page in headless Chromium: the wrong camera stands out, its check plays.

Skipped with a reason when /usr/bin/chromium or Playwright is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.mvpage import JOB, make_trial_data_dir
from tests.visualize.mvtrial import SIZE, WRONG

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_multiview_job_page_in_a_browser(
    page: Any, tmp_path: Path, server: Callable[..., Any], artifacts_dir: Path
) -> None:
    data, _ = make_trial_data_dir(tmp_path)
    srv = server(data)
    page.goto(srv.url + f"jobs/{JOB}")
    flagged = page.locator("#cameras tr[data-suspect]")
    assert flagged.count() == 1 and flagged.get_attribute("data-camera") == WRONG
    assert flagged.locator(".badge").inner_text().lower() == "flagged"
    assert page.locator(".camera-warning").inner_text().startswith(f"camera {WRONG} disagrees")
    assert page.locator("#verdict").get_attribute("data-verdict") == "caution"
    # the browser decodes the H.264 reprojection check of the wrong camera and the world view
    for sel, width in (
        (f"figure.reprojection[data-camera='{WRONG}'] video", SIZE[0]),
        ("figure.world3d video", 1280),
    ):
        page.wait_for_function(
            f'() => document.querySelector("{sel}").readyState >= 1', timeout=10_000
        )
        assert page.evaluate(f'() => document.querySelector("{sel}").videoWidth') == width
    page.locator("#multiview").screenshot(path=str(artifacts_dir / "monitor_multiview.png"))
    assert page.dialogs == [] and page.console_errors == []  # type: ignore[attr-defined]
