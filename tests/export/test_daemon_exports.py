"""The daemon setting ``export_formats``: exports after each job, failures isolated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuropose.datadir import read_status
from neuropose.export import export_job
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState
from tests.conftest import REPO_PYTHONPATH
from tests.export import synth
from tests.interfacer.test_real_estimator import grey_video

pd = pytest.importorskip("pandas", reason="pandas comes with neuropose[export]")


def test_export_job_isolates_a_refused_format(tmp_path: Path) -> None:
    vp = synth.build(missing=(), nan_joints={"left_wrist": range(30, 40)})  # trc refuses
    results = JobResults(
        job_id="j", created_at="2026-01-01T00:00:00Z", neuropose_version="0", videos=(vp,)
    )
    failures = export_job(results, tmp_path, "trc,csv-wide,nosuch")
    assert len(failures) == 1 and "export_formats" in failures[0] and "nosuch" in failures[0]
    failures = export_job(results, tmp_path, "trc,csv-wide")
    assert len(failures) == 1 and "trc not exported" in failures[0] and "LWrist" in failures[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.export.json", "walk.wide.csv"]


def test_watch_writes_exports_after_each_job(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    grey_video(data_dir / "in" / "visit1" / "walk.mp4", 20, 40)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEUROPOSE_", "FAKE_"))}
    env.update(
        PYTHONPATH=REPO_PYTHONPATH,
        NEUROPOSE_SETTLE_SECONDS="0",
        NEUROPOSE_POLL_INTERVAL_S="0.05",
        NEUROPOSE_EXPORT_FORMATS="csv-long,trc",  # the fake 3-joint skeleton has no .trc
    )
    code = "import sys; from neuropose.cli import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "watch", "--data-dir", str(data_dir), "--once",
         "--model", "python:tests.fakes:make_model"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert read_status(data_dir).jobs["visit1"].state is JobState.COMPLETED
    table = pd.read_csv(data_dir / "out" / "visit1" / "export" / "walk.long.csv")
    assert len(table) == 20 * 3 and np.isfinite(table["x_mm"]).all()
    assert not (data_dir / "out" / "visit1" / "export" / "walk.trc").exists()
    assert "trc not exported" in proc.stderr
