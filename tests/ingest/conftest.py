"""Fixtures for ingest tests.

``data_dir``: ``tmp_path/data`` laid out like a daemon's data directory that
already knows two jobs: ``in/queued_job/walk.mp4`` (waiting) and
``out/done_job/results.json`` with ``status.json`` recording ``done_job``
as completed. Tests keep archives and source folders in ``tmp_path/src`` so
that ``tmp_path`` (the data directory's parent) can be compared whole before
and after a refused ingest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from neuropose.datadir.status import write_aggregate_status
from neuropose.schemas.status import JobState, JobStatusEntry
from neuropose.timefmt import utc_now


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "in" / "queued_job").mkdir(parents=True)
    (d / "in" / "queued_job" / "walk.mp4").write_bytes(b"queued video")
    (d / "out" / "done_job").mkdir(parents=True)
    (d / "out" / "done_job" / "results.json").write_text("{}")
    (d / "failed").mkdir()
    entry = JobStatusEntry(job_id="done_job", state=JobState.COMPLETED, last_update=utc_now())
    write_aggregate_status(d, {"done_job": entry})
    return d


@pytest.fixture
def src_dir(tmp_path: Path) -> Path:
    d = tmp_path / "src"
    d.mkdir()
    return d
