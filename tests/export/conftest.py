"""Fixtures for export tests: synthetic results files with known positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuropose.io import write_model_atomic
from neuropose.schemas import JobResults, VideoPredictions
from tests.export import synth


def write_results(path: Path, *videos: VideoPredictions) -> Path:
    doc = JobResults(
        job_id="job1",
        created_at="2026-01-01T00:00:00Z",
        neuropose_version="0.1.0",
        videos=videos,
    )
    write_model_atomic(path, doc)
    return path


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    """results.json of the synthetic subject with a 3-frame gap (frames 20-22)."""
    return write_results(tmp_path / "results.json", synth.build())
