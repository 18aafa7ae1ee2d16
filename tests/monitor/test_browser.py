"""The dashboard in a real headless Chromium (Debian's, driven by Playwright).

Skipped with a reason when /usr/bin/chromium or Playwright is absent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.statusdata import (
    HOSTILE,
    make_entry,
    make_quality,
    sample_jobs,
    write_job_outputs,
    write_status,
)

from neuropose.schemas import JobState

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"headless Chromium not installed: {CHROMIUM} is absent (apt-get install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = ctx.new_page()
    dialogs: list[str] = []
    console_errors: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    pg.console_errors = console_errors  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def _bar_value(page: Any, job: str) -> float:
    return float(
        page.evaluate(
            "(name) => { for (const tr of document.querySelectorAll('#jobs tr.job')) {"
            " if (tr.dataset.job === name) return tr.querySelector('progress').value; }"
            " return -1; }",
            job,
        )
    )


def test_dashboard_updates_live_and_is_safe(
    page: Any,
    data_dir: Path,
    daemon_lock: Any,
    server: Callable[..., Any],
    artifacts_dir: Path,
) -> None:
    jobs = sample_jobs()
    jobs[HOSTILE] = make_entry(
        HOSTILE,
        JobState.PROCESSING,
        frames_done=30,
        frames_expected=120,
        fps=8.0,
        eta_s=11.0,
        current_video=HOSTILE + ".mp4",
        error=None,
        attempts=1,
    )
    jobs["walk-06-stale"] = make_entry(
        "walk-06-stale",
        JobState.PROCESSING,
        age_s=3600,
        frames_done=70,
        frames_expected=100,
        fps=0.0,
    )
    write_status(data_dir, jobs)
    srv = server(data_dir, stale_after_s=120)
    page.goto(srv.url)
    marker = page.evaluate("() => { window.__loadMarker = 42; return window.__loadMarker; }")
    assert marker == 42
    assert _bar_value(page, "walk-01") == pytest.approx(25.0)
    assert page.locator("#daemon").inner_text() == "daemon running"
    # The hostile name is shown as text, not turned into an element.
    assert page.locator("#jobs img").count() == 0
    assert page.get_by_text(HOSTILE, exact=True).count() >= 1
    stale_row = page.locator("tr.job[data-job='walk-06-stale'] [data-f='stale']")
    assert stale_row.is_visible()
    assert not page.locator("tr.job[data-job='walk-01'] [data-f='stale']").is_visible()

    # Advance walk-01 to 75 % and add a job: the bar moves and a row appears, no reload.
    jobs["walk-01"] = jobs["walk-01"].model_copy(update={"frames_done": 750, "eta_s": 20.0})
    jobs["walk-07"] = make_entry("walk-07", JobState.QUEUED)
    write_status(data_dir, jobs)
    page.wait_for_function(
        "() => { for (const tr of document.querySelectorAll('#jobs tr.job')) {"
        " if (tr.dataset.job === 'walk-01') return tr.querySelector('progress').value > 74; }"
        " return false; }",
        timeout=10_000,
    )
    assert _bar_value(page, "walk-01") == pytest.approx(75.0)
    assert page.locator("tr.job[data-job='walk-01'] [data-f='percent']").inner_text() == "75%"
    assert page.locator("tr.job[data-job='walk-01'] [data-f='eta']").inner_text() == "20 s"
    page.wait_for_selector("tr.job[data-job='walk-07']", timeout=10_000)
    assert page.evaluate("() => window.__loadMarker") == 42, "the page was reloaded"
    page.screenshot(path=str(artifacts_dir / "monitor_dashboard.png"), full_page=True)

    # Open the job page of the hostile job by clicking its link.
    page.locator("#jobs a", has_text=HOSTILE).click()
    page.wait_for_selector(".job-summary")
    assert page.locator(".job-summary h2").inner_text() == HOSTILE
    assert page.locator("main img").count() == 0
    page.goto(srv.url + "jobs/walk-01")
    assert (
        page.locator("#videos tr[data-video='cam01.mp4'] [data-f='percent']").inner_text() == "50%"
    )
    page.screenshot(path=str(artifacts_dir / "monitor_job.png"), full_page=True)
    time.sleep(2.5)  # at least one poll of the job page
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_csp_blocks_injected_script(page: Any, data_dir: Path, server: Callable[..., Any]) -> None:
    write_status(data_dir, sample_jobs())
    srv = server(data_dir)
    page.goto(srv.url)
    # Even if an attacker got markup into the page, the CSP forbids running it.
    page.evaluate(
        "() => { const d = document.createElement('div');"
        " d.innerHTML = '<img src=x onerror=\"alert(1)\">'; document.body.appendChild(d);"
        " const s = document.createElement('script'); s.textContent = 'alert(2)';"
        " document.body.appendChild(s); }"
    )
    time.sleep(0.5)
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_unreadable_status_then_recovery(
    page: Any, data_dir: Path, server: Callable[..., Any], artifacts_dir: Path
) -> None:
    write_status(data_dir, sample_jobs())
    srv = server(data_dir)
    page.goto(srv.url)
    (data_dir / "status.json").write_text('{"updated_at": "2026-', "utf-8")
    page.wait_for_selector(".notice-error", timeout=10_000)
    assert "not valid JSON" in page.locator(".notice-error").first.inner_text()
    assert page.evaluate("() => document.body.classList.contains('status-unavailable')")
    assert page.locator("#jobs tr.job").count() == 5  # the last readable rows stay, dimmed
    assert page.locator("#daemon").inner_text() == "daemon not running"
    page.screenshot(path=str(artifacts_dir / "monitor_status_unavailable.png"))
    write_status(data_dir, sample_jobs())
    page.wait_for_function("() => !document.querySelector('.notice-error')", timeout=10_000)
    assert not page.evaluate("() => document.body.classList.contains('status-unavailable')")


def test_job_page_with_results_quality_and_preview(
    page: Any, data_dir: Path, server: Callable[..., Any], artifacts_dir: Path
) -> None:
    write_status(data_dir, sample_jobs())
    write_job_outputs(
        data_dir, "walk-03", ("cam01.mp4",), quality=make_quality("walk-03", "cam01.mp4")
    )
    srv = server(data_dir)
    page.goto(srv.url + "jobs/walk-03")
    img = page.locator("figure.preview img")
    img.wait_for()
    page.wait_for_function("() => document.querySelector('figure.preview img').naturalWidth > 0")
    assert page.evaluate("() => document.querySelector('figure.preview img').naturalWidth") == 320
    assert page.get_by_text("1080 × 1920 px").count() == 1
    assert page.get_by_text("subject missing").count() == 1
    assert page.get_by_text("4 of 100 frames").count() == 1
    page.screenshot(path=str(artifacts_dir / "monitor_job_results.png"), full_page=True)
    assert page.dialogs == [] and page.console_errors == []  # type: ignore[attr-defined]


def test_unavailable_page_reloads_itself_when_status_returns(
    page: Any, data_dir: Path, server: Callable[..., Any]
) -> None:
    (data_dir / "status.json").write_text("{", "utf-8")
    srv = server(data_dir)
    resp = page.goto(srv.url)
    assert resp.status == 503
    assert "Job status unavailable" in page.locator("h2").inner_text()
    write_status(data_dir, sample_jobs())
    page.wait_for_selector("#jobs tr.job[data-job='walk-01']", timeout=10_000)
    assert page.dialogs == []  # type: ignore[attr-defined]
    # Chromium logs each 503 answer as a console error; nothing else may appear.
    other = [m for m in page.console_errors if "status of 503" not in m]  # type: ignore[attr-defined]
    assert other == []
