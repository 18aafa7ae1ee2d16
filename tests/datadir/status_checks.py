"""Consistency of the three status stores (index, per-job files, status.json), for tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from neuropose.datadir import DataDir
from neuropose.datadir.index import UNFINISHED, StatusIndex
from neuropose.datadir.status import RECENT_JOBS
from neuropose.io import load_model
from neuropose.schemas.status import JobState, JobStatusEntry, StatusFile
from neuropose.timefmt import parse_time


def index_rows(data_dir: Path) -> dict[str, JobStatusEntry]:
    """Every row of ``status.db``, read with plain sqlite3 (not through NeuroPose)."""
    conn = sqlite3.connect(f"file:{DataDir(data_dir).status_index}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT job_id, entry FROM jobs").fetchall()
    finally:
        conn.close()
    return {j: JobStatusEntry.model_validate_json(t) for j, t in rows}


def per_job_files(data_dir: Path) -> dict[str, JobStatusEntry]:
    layout = DataDir(data_dir)
    out = {}
    for name in layout.output_jobs():
        path = layout.job(name).status
        if path.exists():
            out[name] = load_model(path, JobStatusEntry)
    return out


def assert_status_consistent(data_dir: Path, *, settled: bool) -> None:
    """The index passes SQLite's check and its counts match its rows; no per-job file is
    ahead of its row. ``settled`` (after a clean exit or ``sync_index``): rows and files
    are equal, and ``status.json`` holds the counts, every unfinished job and the most
    recent ones exactly as the index. Otherwise (right after a kill) at most one
    file lags its row (the write in flight)."""
    index = StatusIndex.open(DataDir(data_dir).status_index)
    assert index is not None, "no status.db"
    index.check()
    rows = index_rows(data_dir)
    files = per_job_files(data_dir)
    counts = {s: 0 for s in JobState}
    for e in rows.values():
        counts[e.state] += 1
    assert index.counts() == counts
    assert set(files) <= set(rows), set(files) - set(rows)
    lagging = []
    for name, on_file in files.items():
        row = rows[name]
        assert parse_time(row.last_update) >= parse_time(on_file.last_update), (name, row, on_file)
        if row != on_file:
            lagging.append(name)
    if not settled:
        assert len(lagging) <= 1, lagging
        return
    assert not lagging, lagging
    assert set(rows) == set(files)
    agg = load_model(DataDir(data_dir).status, StatusFile)
    assert agg.counts == counts
    listed = {n for n, e in rows.items() if e.state in UNFINISHED}
    listed |= {e.job_id for e in index.entries(limit=RECENT_JOBS)}
    assert set(agg.jobs) == listed
    for name, entry in agg.jobs.items():
        assert entry == rows[name], name
