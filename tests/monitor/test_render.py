"""Rendering of the dashboard, job page, /status.json body and /metrics (no sockets)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.monitor.statusdata import (
    HOSTILE,
    make_entry,
    sample_jobs,
    write_job_outputs,
    write_status,
)

from neuropose.datadir.lock import ExclusiveLock
from neuropose.monitor import render
from neuropose.monitor.snapshot import (
    job_files,
    percent_done,
    take_snapshot,
)
from neuropose.schemas import JobState
from neuropose.timefmt import format_age, format_duration


class _Collector(HTMLParser):
    """Collects start tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    return c


def rows_by_job(html: str) -> dict[str, str]:
    """Map each dashboard row's (unescaped) data-job to the row's visible text."""
    out = {}
    for m in re.finditer(r'<tr class="job" data-job="([^"]*)".*?</tr>', html, re.S):
        name = parse(f'<p title="{m.group(1)}"></p>').tags[0][1]["title"]
        out[str(name)] = " ".join(t.strip() for t in parse(m.group(0)).text if t.strip())
    return out


def snap(data_dir: Path, stale_after_s: float = 120.0):  # type: ignore[no-untyped-def]
    return take_snapshot(data_dir, stale_after_s=stale_after_s)


def test_every_state_row_shows_its_figures(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    html = render.render_dashboard(snap(data_dir))
    rows = rows_by_job(html)
    assert list(rows) == ["walk-01", "walk-02", "walk-05", "walk-04", "walk-03"]  # state order
    assert rows["walk-01"].startswith("walk-01 processing")
    for text in ("25%", "250 / 1,000", "12.5", "1 min", "cam01.mp4"):
        assert text in rows["walk-01"]
    assert "stale" in rows["walk-01"]  # the badge text exists but is hidden
    assert re.search(r'data-job="walk-01".*?data-f="stale"[^>]*hidden', html, re.S)
    assert rows["walk-02"].startswith("walk-02 queued")
    assert "0 / ?" in rows["walk-02"]
    assert "100%" in rows["walk-03"] and "400 / 400" in rows["walk-03"]
    assert "ProcessingError: decoder stalled at frame 17" in rows["walk-04"]
    assert rows["walk-04"].startswith("walk-04 ProcessingError")  # error right under the name
    assert "10%" in rows["walk-05"] and "interrupted" in rows["walk-05"]
    bars = re.findall(r'<progress max="100"( value="[0-9.]+")? data-f="bar"', html)
    assert [b for b in bars] == [
        ' value="25.00"',
        ' value="0.00"',
        ' value="10.00"',
        ' value="0.00"',
        ' value="100.00"',
    ]
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts == {
        "processing": "1",
        "queued": "1",
        "interrupted": "1",
        "failed": "1",
        "completed": "1",
    }


def test_stale_badge_shown_for_old_heartbeat_only_while_processing(data_dir: Path) -> None:
    jobs = {
        "old-proc": make_entry("old-proc", JobState.PROCESSING, age_s=300, frames_done=5),
        "old-done": make_entry("old-done", JobState.COMPLETED, age_s=3000),
        "fresh": make_entry("fresh", JobState.PROCESSING, age_s=1),
    }
    write_status(data_dir, jobs)
    html = render.render_dashboard(snap(data_dir, stale_after_s=120))
    visible_stale = re.findall(
        r'data-job="([^"]+)"[^>]*>(?:(?!</tr>).)*?<span class="badge badge-stale" '
        r'data-f="stale" title="[^"]*">stale',
        html,
        re.S,
    )
    assert visible_stale == ["old-proc"]
    assert "1 processing job(s) have not reported progress for more than 2 min." in html
    # Unknown total while processing: indeterminate bar (no value attribute).
    assert re.search(r'data-job="old-proc".*?<progress max="100" data-f="bar"', html, re.S)


def test_hostile_names_and_errors_are_escaped(data_dir: Path) -> None:
    payload = HOSTILE + "\"'&<script>alert(2)</script>"
    jobs = {
        payload: make_entry(
            payload,
            JobState.FAILED,
            error=f"InputError: bad file {payload}",
            current_video=payload + ".mp4",
        ),
    }
    write_status(data_dir, jobs)
    s = snap(data_dir)
    for html in (
        render.render_dashboard(s),
        render.render_dashboard(s, token_query="?token=a%22b"),
        render.render_job_page(
            s, payload, jobs[payload], job_files(data_dir, payload, jobs[payload])
        ),
        render.render_error_page(s, 404, "Not found", f"No job named {payload!r}"),
    ):
        tags = parse(html).tags
        assert not [t for t, _ in tags if t == "img"], "an <img> was injected"
        assert [t for t, _ in tags].count("script") == 1  # only the monitor's own script
        assert all(not k.startswith("on") for _, attrs in tags for k in attrs)
        assert "<img src=x" not in html and "<script>alert" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    link = [a["href"] for t, a in parse(render.render_dashboard(s)).tags if t == "a"][1]
    assert (
        link == "/jobs/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%22%27%26%3Cscript%3E"
        "alert%282%29%3C%2Fscript%3E"
    )


def test_empty_state(data_dir: Path) -> None:
    write_status(data_dir, {})
    html = render.render_dashboard(snap(data_dir))
    assert "No jobs yet." in html
    assert "<tbody></tbody>" in html


def test_daemon_down_and_up(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    down = render.render_dashboard(snap(data_dir))
    assert "The daemon is not running" in down and "daemon not running" in down
    with ExclusiveLock(data_dir / "neuropose.lock", purpose="neuropose watch"):
        up = render.render_dashboard(snap(data_dir))
        view = snap(data_dir).view()
    assert "The daemon is not running" not in up and "daemon running" in up
    assert view["daemon"]["running"] is True
    assert isinstance(view["daemon"]["pid"], int)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "does not exist yet"),
        ('{"schema_version": 1, "updated_at": "2026-11-22T0', "not valid JSON"),
        ('{"schema_version": 1, "updated_at": 5, "jobs": {}}', "field 'updated_at'"),
        ('{"schema_version": 99, "updated_at": "x", "jobs": {}}', "99"),
    ],
    ids=["missing", "half-written", "schema-invalid", "future-schema"],
)
def test_unreadable_status_is_an_error_state_not_empty(
    data_dir: Path, content: str | None, reason: str
) -> None:
    if content is not None:
        (data_dir / "status.json").write_text(content, "utf-8")
    s = snap(data_dir)
    assert s.status is None and s.error is not None and reason in s.error
    view = s.view()
    assert view["status_available"] is False and view["jobs"] == []
    assert view["notices"][0]["level"] == "error"
    page = render.render_error_page(s, 503, "Job status unavailable", s.error)
    assert "Job status unavailable" in page and "No jobs yet" not in page
    metrics = render.render_metrics(s)
    assert "neuropose_status_readable 0" in metrics and "neuropose_jobs{" not in metrics


def test_status_json_body_and_single_job(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    s = snap(data_dir)
    body = render.render_status_json(s)
    assert [j["name"] for j in body["jobs"]] == [
        "walk-01",
        "walk-02",
        "walk-05",
        "walk-04",
        "walk-03",
    ]
    j1 = body["jobs"][0]
    assert j1["percent"] == 25.0 and j1["stale"] is False and j1["frames_done"] == 250
    assert j1["display"]["eta"] == "1 min" and j1["display"]["percent"] == "25%"
    assert j1["videos"][0]["percent"] == 50.0
    one = render.render_status_json(s, "walk-04")
    assert one["job"]["error"] == "ProcessingError: decoder stalled at frame 17"
    with pytest.raises(KeyError):
        render.render_status_json(s, "nope")


def test_metrics_text(data_dir: Path) -> None:
    jobs = sample_jobs()
    jobs['we"ird\\job'] = make_entry('we"ird\\job', JobState.PROCESSING, frames_done=7, fps=2.5)
    write_status(data_dir, jobs)
    text = render.render_metrics(snap(data_dir))
    lines = set(text.splitlines())
    assert 'neuropose_jobs{state="processing"} 2' in lines
    assert 'neuropose_jobs{state="completed"} 1' in lines
    assert "neuropose_frames_done 667" in lines  # 250 + 400 + 10 + 7
    assert "neuropose_processing_fps 15" in lines  # 12.5 + 2.5
    assert 'neuropose_job_frames_done{job="we\\"ird\\\\job"} 7' in lines
    assert "neuropose_daemon_up 0" in lines
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r"[a-z_]+(\{.*\})? [0-9.e+-]+|.* NaN", line)


def test_job_page_shows_results_quality_preview_and_history(data_dir: Path) -> None:
    jobs = sample_jobs()
    write_status(data_dir, jobs)
    quality = {
        "detection_rate": 0.9712,
        "flags": ["jitter", "occlusion"],
        "joints": {"left_knee": {"missing": 3}},
        "note": HOSTILE,
    }
    write_job_outputs(data_dir, "walk-03", ("cam01.mp4", "cam02.mp4"), quality=quality)
    s = snap(data_dir)
    files = job_files(data_dir, "walk-03", jobs["walk-03"])
    assert files.videos == ("cam01.mp4", "cam02.mp4") and set(files.previews) == {0, 1}
    html = render.render_job_page(s, "walk-03", jobs["walk-03"], files)
    text = " ".join(t.strip() for t in parse(html).text if t.strip())
    for expected in (
        "1080 × 1920 px",
        "90°",
        "59.94 fps",
        "100 / 120",
        "yes — fewer frames decoded than declared",
        "blazepose-full",
        "ab" * 8 + "…",
        "root-relative (hip centre)",
        "25.0 fps",
        "infer",
        "512 MiB",
        "detection_rate 0.9712",
        "flags jitter, occlusion",
        "joints.left_knee.missing 3",
        HOSTILE,
        "quality.json is not a QualityReport this version reads",
    ):
        assert expected in text, expected
    assert f'<code title="{"ab" * 32}">' in html  # the full hash stays available
    imgs = [a for t, a in parse(html).tags if t == "img"]
    assert [a["src"] for a in imgs] == ["/jobs/walk-03/preview/0", "/jobs/walk-03/preview/1"]
    failed = render.render_job_page(
        s, "walk-04", jobs["walk-04"], job_files(data_dir, "walk-04", jobs["walk-04"])
    )
    assert failed.count("ProcessingError: decoder stalled at frame 17") == 3  # summary + 2 rows
    assert "Attempt history" in failed


def test_job_page_reports_corrupt_results_without_failing(data_dir: Path) -> None:
    jobs = sample_jobs()
    write_status(data_dir, jobs)
    (data_dir / "out" / "walk-03").mkdir()
    (data_dir / "out" / "walk-03" / "results.json").write_text("{not json", "utf-8")
    files = job_files(data_dir, "walk-03", jobs["walk-03"])
    assert files.results is None and "not valid JSON" in str(files.results_error)
    html = render.render_job_page(snap(data_dir), "walk-03", jobs["walk-03"], files)
    assert "results.json could not be read" in html


def test_job_files_never_leave_out_dir(data_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    (secret / "visualize").mkdir(parents=True)
    (secret / "visualize" / "x.preview.png").write_bytes(b"\x89PNG\r\n\x1a\nSECRET")
    entry = make_entry("../../secret", JobState.COMPLETED, videos=())
    assert job_files(data_dir, "../../secret", entry).previews == {}
    # A symlinked job directory pointing outside out/ is not followed either.
    (data_dir / "out" / "linked").symlink_to(secret)
    entry = make_entry("linked", JobState.COMPLETED)
    assert job_files(data_dir, "linked", entry).previews == {}


def test_formatting_helpers() -> None:
    assert format_duration(45) == "45 s"
    assert format_duration(125) == "2 min 05 s"
    assert format_duration(3 * 3600 + 7 * 60) == "3 h 07 min"
    assert format_duration(float("nan")) == "–"
    assert format_age(0.2) == "just now" and format_age(7200) == "2 h ago"
    assert percent_done(JobState.PROCESSING, 1, 3) == pytest.approx(33.333, abs=1e-3)
    assert percent_done(JobState.PROCESSING, 5, 0) is None
    assert percent_done(JobState.COMPLETED, 0, None) == 100.0


def test_heartbeat_age_uses_snapshot_time(data_dir: Path) -> None:
    write_status(data_dir, {"a": make_entry("a", JobState.PROCESSING, age_s=0)})
    later = datetime.now(UTC).replace(microsecond=0).timestamp() + 600
    s = take_snapshot(data_dir, stale_after_s=120, now=datetime.fromtimestamp(later, UTC))
    job = s.view()["jobs"][0]
    assert job["stale"] is True and job["display"]["updated"] == "10 min ago"


def test_csp_hashes_match_the_embedded_assets(data_dir: Path) -> None:
    import base64
    import hashlib

    csp = render.content_security_policy()
    html = render.render_dashboard(snap(data_dir))
    script = re.search(r"<script>(.*)</script>", html, re.S)
    style = re.search(r"<style>(.*)</style>", html, re.S)
    assert script and style
    for body, directive in ((script.group(1), "script-src"), (style.group(1), "style-src")):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp


def test_fast_status_json_equals_the_plain_rendering(data_dir: Path) -> None:
    import json

    jobs = sample_jobs()
    jobs[HOSTILE + 'é"\\'] = make_entry(
        HOSTILE + 'é"\\', JobState.PROCESSING, age_s=999, frames_done=1, error="x\ny"
    )
    write_status(data_dir, jobs)
    s = snap(data_dir)
    for _ in range(2):  # second round hits the per-entry caches
        fast = json.loads(render.render_status_json_bytes(s))
        assert fast == json.loads(json.dumps(render.render_status_json(s)))
        stale = {j["name"]: j["stale"] for j in fast["jobs"]}
        assert stale == {
            "walk-01": False,
            HOSTILE + 'é"\\': True,
            "walk-02": False,
            "walk-05": False,
            "walk-04": False,
            "walk-03": False,
        }


def test_job_page_quality_report_headline_and_warnings(data_dir: Path) -> None:
    from tests.monitor.statusdata import make_quality

    jobs = sample_jobs()
    write_status(data_dir, jobs)
    job_dir = write_job_outputs(data_dir, "walk-03", ("cam01.mp4",), preview=False)
    (job_dir / "visualize" / "cam01.quality.json").write_text(
        __import__("json").dumps(make_quality("walk-03", "cam01.mp4")), "utf-8"
    )
    files = job_files(data_dir, "walk-03", jobs["walk-03"])
    html = render.render_job_page(snap(data_dir), "walk-03", jobs["walk-03"], files)
    text = " ".join(t.strip() for t in parse(html).text if t.strip())
    for expected in (
        "detection rate 100.0%",
        "subject detected 96.0%",
        "subject missing 4 of 100 frames",
        "mean joint confidence 0.80",
        "limb segment length CV (median) 7.0%",
        "limb segment length CV (worst) 12.0% (left_thigh)",
        "jitter > 8.0 Hz (median joint) 2.0 mm",
        "tracks / ID switches / subject fragments 2 / 0 / 2",
        "Needs a look: 1 limb segment length(s) vary by more than 10%: left_thigh",
    ):
        assert expected in text, expected
    assert "not a QualityReport" not in text
