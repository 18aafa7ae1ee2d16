"""The monitor's one cache (``neuropose.monitor.cache.MonitorCache``): what it reuses, when
it re-reads, and that it never grows beyond the current jobs."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.statusdata import make_results, sample_jobs, write_status

from neuropose.datadir.status import read_status, write_job_status
from neuropose.io import write_model_atomic
from neuropose.monitor.cache import RESULTS_KEPT, MonitorCache
from neuropose.schemas import StatusFile


class CountingReader:
    """``read_status`` that counts its calls and can be made slow on demand."""

    def __init__(self) -> None:
        self.calls = 0
        self.block: threading.Event | None = None

    def __call__(self, data_dir: Path) -> StatusFile:
        self.calls += 1
        if self.block is not None:
            assert self.block.wait(10)
        return read_status(data_dir)


def test_unchanged_status_is_not_parsed_again(data_dir: Path) -> None:
    jobs = sample_jobs()
    write_status(data_dir, jobs)
    reader = CountingReader()
    cache = MonitorCache(data_dir, stale_after_s=120, reader=reader, ttl_s=0)
    first = cache.get()
    second = cache.get()
    assert second is not first  # ttl 0: a new snapshot every time ...
    assert second.status is first.status and reader.calls == 1  # ... from the same parse
    write_job_status(data_dir, jobs["walk-02"])  # a per-job file changes
    assert cache.get().status is not first.status and reader.calls == 2
    write_status(data_dir, jobs)  # the aggregate changes
    cache.get()
    assert reader.calls == 3


def test_previous_snapshot_is_served_while_one_thread_refreshes(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    reader = CountingReader()
    cache = MonitorCache(data_dir, stale_after_s=120, reader=reader, ttl_s=0.05)
    first = cache.get()
    time.sleep(0.1)
    write_status(data_dir, sample_jobs())  # new fingerprint: the next refresh parses
    reader.block = threading.Event()
    refresher = threading.Thread(target=cache.get)
    refresher.start()
    while reader.calls < 2:  # the refresher is now inside the (blocked) reader
        time.sleep(0.01)
    assert cache.get() is first  # answered although the refresh has not finished
    reader.block.set()
    refresher.join(10)
    assert cache.get() is not first and reader.calls == 2
    assert cache.effective_ttl_s >= 0.05


def test_job_views_are_reused_and_forgotten_with_their_jobs(data_dir: Path) -> None:
    jobs = sample_jobs()
    write_status(data_dir, jobs)
    cache = MonitorCache(data_dir, stale_after_s=120, ttl_s=0)
    before = {p.name: p.static for p in cache.get().jobs}
    changed = jobs["walk-01"].model_copy(update={"frames_done": 900})
    write_job_status(data_dir, changed)
    after = {p.name: p.static for p in cache.get().jobs}
    assert after["walk-01"] is not before["walk-01"] and after["walk-01"]["frames_done"] == 900
    assert all(after[n] is before[n] for n in jobs if n != "walk-01")  # unchanged: reused
    # Pruned jobs leave the cache: it never holds more views than the status has jobs.
    kept = {"walk-02": jobs["walk-02"]}
    for name in jobs:
        if name != "walk-02":
            (data_dir / "out" / name / "status.json").unlink(missing_ok=True)
    write_status(data_dir, kept)
    snap = cache.get()
    cache.get()
    assert [p.name for p in snap.jobs] == ["walk-02"]
    assert set(cache._views) == {"walk-02"}


def test_bodies_are_made_once_per_snapshot(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    cache = MonitorCache(data_dir, stale_after_s=120, ttl_s=60)
    snap = cache.get()
    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return b"body"

    assert cache.body(snap, "k", make) == cache.body(snap, "k", make) == b"body"
    assert len(made) == 1


def test_results_are_parsed_again_only_when_the_file_changes(data_dir: Path) -> None:
    import neuropose.monitor.cache as cache_module

    path = data_dir / "out" / "walk-03" / "results.json"
    path.parent.mkdir(parents=True)
    write_model_atomic(path, make_results("walk-03"))
    loads: list[Path] = []
    real = cache_module.load_model

    def counting(p: Path, model: Any) -> Any:
        loads.append(p)
        return real(p, model)

    cache = MonitorCache(data_dir, stale_after_s=120)
    cache_module.load_model = counting  # type: ignore[assignment]
    try:
        first = cache.results(path)
        assert cache.results(path) is first and len(loads) == 1
        write_model_atomic(path, make_results("walk-03", ("cam01.mp4", "cam02.mp4")))
        assert len(cache.results(path).videos) == 2 and len(loads) == 2
        for i in range(RESULTS_KEPT + 3):  # bounded
            other = data_dir / "out" / f"j{i}" / "results.json"
            other.parent.mkdir(parents=True)
            write_model_atomic(other, make_results(f"j{i}"))
            cache.results(other)
        assert len(cache._results) == RESULTS_KEPT
    finally:
        cache_module.load_model = real  # type: ignore[assignment]


def test_concurrent_requests_for_one_body_make_it_once(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    cache = MonitorCache(data_dir, stale_after_s=120, ttl_s=60)
    snap = cache.get()
    started, release = threading.Event(), threading.Event()
    made: list[int] = []

    def slow() -> bytes:
        made.append(1)
        started.set()
        assert release.wait(10)
        return b"page"

    results: list[bytes] = []
    first = threading.Thread(target=lambda: results.append(cache.body(snap, "page", slow)))
    first.start()
    assert started.wait(10)
    waiters = [
        threading.Thread(target=lambda: results.append(cache.body(snap, "page", slow)))
        for _ in range(3)
    ]
    for t in waiters:
        t.start()
    release.set()
    for t in [first, *waiters]:
        t.join(10)
    assert results == [b"page"] * 4 and len(made) == 1


def test_a_failed_body_is_made_again_by_the_next_request(data_dir: Path) -> None:
    write_status(data_dir, sample_jobs())
    cache = MonitorCache(data_dir, stale_after_s=120, ttl_s=60)
    snap = cache.get()

    def broken() -> bytes:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError, match="render failed"):
        cache.body(snap, "k", broken)
    assert cache.body(snap, "k", lambda: b"ok") == b"ok"
