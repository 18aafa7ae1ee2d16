"""One job, one quality report: the daemon writes it, and the dashboard, ``status JOB``
and the HTML report show the same headline numbers (the known ground truth).

The daemon runs as a real ``neuropose watch --once`` subprocess with a processor
whose predictions have known limb segment lengths (``tests.monitor.limb_processor``);
``status`` is a real subprocess; the dashboard is served over a real socket.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

from tests.conftest import REPO_PYTHONPATH

from neuropose.io import load_model
from neuropose.quality import summarize_quality
from neuropose.schemas.quality import QualityReport

LAUNCH = "import sys; from neuropose.cli import main; sys.exit(main())"
JOB = "visit-07"

#: What the synthetic predictions must give (see tests/visualize/synth.build_limb_predictions).
TRUTH = {
    "detection rate": "100.0%",
    "subject detected": "100.0%",
    "subject missing": "0 of 30 frames",
    "mean joint confidence": "0.80",
    "limb segment length CV (median)": "0.0%",
    "limb segment length CV (worst)": "12.5% (left_thigh)",
    "tracks / ID switches / subject fragments": "1 / 0 / 1",
}


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env.update(
        {
            "PYTHONPATH": REPO_PYTHONPATH,
            "XDG_DATA_HOME": str(tmp_path / "xdg"),
            "NEUROPOSE_SETTLE_SECONDS": "0",
            "NEUROPOSE_POLL_INTERVAL_S": "0.05",
            "COLUMNS": "300",
        }
    )
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def _kv_pairs(html: str) -> dict[str, str]:
    """``<tr><th>label</th><td>value</td></tr>`` pairs of the first ``kv`` table after
    the quality headline (in the report page, or the dashboard's Quality control column)."""
    start = html.index("Quality control") if "Quality control" in html else 0
    table = re.search(r'<table class="kv">(.*?)</table>', html[start:], re.S)
    assert table is not None
    return {
        unescape(k): unescape(v)
        for k, v in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", table.group(1))
    }


def _status_rows(stdout: str) -> dict[str, str]:
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 2 and all(cells):
            rows[cells[0]] = cells[1]
    return rows


def test_dashboard_status_and_html_report_show_the_same_numbers(
    tmp_path: Path,
    data_dir: Path,
    server: Callable[..., Any],
    http_get: Callable[..., tuple[int, dict[str, str], bytes]],
) -> None:
    env = _env(tmp_path)
    (data_dir / "in" / JOB).mkdir()
    (data_dir / "in" / JOB / "cam01.mp4").write_bytes(b"not decoded by the test processor")
    done = _run(
        env, "watch", "--once", "--data-dir", str(data_dir),
        "--model", "python:tests.monitor.limb_processor:make_processor",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    # The daemon wrote the report through neuropose.quality: the known figures.
    visualize = data_dir / "out" / JOB / "visualize"
    report = load_model(visualize / "cam01.quality.json", QualityReport)
    headline = dict(summarize_quality(report))
    assert {k: headline[k] for k in TRUTH} == TRUTH
    assert report.bone_length_cv["left_eye_inner-left_eye"] > 0.25  # measured, never headlined
    expected = {k: v for k, v in summarize_quality(report)[1:-1]}

    # 1. the HTML report written beside it
    page = (visualize / "cam01.quality.html").read_text("utf-8")
    assert _kv_pairs(page) == expected

    # 2. `neuropose status JOB`
    shown = _run(env, "status", JOB, "--data-dir", str(data_dir))
    assert shown.returncode == 0, shown.stderr
    rows = _status_rows(shown.stdout)
    assert {k: rows.get(k) for k in expected} == expected
    assert rows["warnings"] == "1 limb segment length(s) vary by more than 10%: left_thigh"

    # 3. the dashboard's job page, over a real socket
    srv = server(data_dir)
    code, _, body = http_get(f"{srv.url}jobs/{JOB}")
    assert code == 200
    dashboard = body.decode("utf-8")
    assert _kv_pairs(dashboard) == expected
    assert "Needs a look:" in dashboard and "left_thigh" in dashboard
    # the eye edge appears only in the per-edge reference table, never as "worst"
    assert "(left_eye_inner-left_eye)" not in dashboard
