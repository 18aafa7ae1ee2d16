"""Status at scale: ``neuropose status``, ``serve`` and the daemon's writes at 1k and 100k jobs.

Run: ``.venv/bin/python benchmarks/bench_status_scale.py [--jobs 100000] [--small 1000]``

Builds two synthetic data directories as the daemon leaves them (one
``out/<job>/status.json`` per job with 3 videos and 2 attempts, the status
index ``status.db`` and the compact ``status.json``): ``--small`` and
``--jobs`` jobs, 2 % failed, 5 queued, 1 processing, the rest completed.
The per-job files are written without ``fsync`` (setup only). Then, in
each directory:

* ``neuropose status`` (the 50 most recent jobs and the counts) in a fresh
  process: wall time and peak RSS (``wait4``), median of 3 runs;
* ``neuropose serve --port 0``: time from spawn until ``/health`` answers,
  then 300 requests to each of ``/``, ``/status.json?limit=50``,
  ``/status.json?limit=50&offset=<half>`` and ``/metrics`` over one
  keep-alive connection while this process heartbeats the processing job
  every 0.25 s (so the monitor re-reads the status as with a live daemon):
  p50/p95 latency; the server's peak RSS (``VmHWM``) at the end;
* the daemon's writes, median of 30: a heartbeat (index row + per-job file)
  and a transition (the same plus ``status.json``); ``sync_index`` (the
  daemon's start), median of 3;
* for contrast, the previous design's transition (rewriting a ``status.json``
  that lists every job) at ``--small`` and 10x ``--small`` jobs.

Every daemon write is the real atomic write (SQLite transaction; temp file,
fsync, rename, fsync dir). Prints Markdown tables for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from neuropose.datadir import DataDir
from neuropose.datadir.index import create_index
from neuropose.datadir.status import (
    read_status,
    sync_index,
    write_aggregate_status,
    write_job_status,
)
from neuropose.io import write_model_atomic
from neuropose.schemas.status import (
    AttemptRecord,
    JobState,
    JobStatusEntry,
    StatusFile,
    VideoProgress,
)
from neuropose.timefmt import utc_iso, utc_now

ROUTES = ("/", "/status.json?limit=50", "/status.json?limit=50&offset={half}", "/metrics")


def _entry(i: int, n: int, t0: float) -> JobStatusEntry:
    job = f"job{i:06d}"
    if i == n - 1:
        state = JobState.PROCESSING
    elif i >= n - 6:
        state = JobState.QUEUED
    elif i % 50 == 0:
        state = JobState.FAILED
    else:
        state = JobState.COMPLETED
    when = utc_iso(_dt(t0 + i), timespec="microseconds")
    finished = state in (JobState.COMPLETED, JobState.FAILED)
    return JobStatusEntry(
        job_id=job,
        state=state,
        attempts=2,
        history=(
            AttemptRecord(
                attempt=1, started_at=when, finished_at=when, outcome=JobState.INTERRUPTED
            ),
            AttemptRecord(
                attempt=2,
                started_at=when,
                finished_at=when if finished else None,
                outcome=state if finished else None,
                error="FakeError: synthetic" if state is JobState.FAILED else None,
            ),
        ),
        queued_at=when,
        started_at=when,
        finished_at=when if finished else None,
        last_update=when,
        videos=tuple(
            VideoProgress(
                name=f"cam{v:02d}.mp4",
                state=state,
                frames_done=900 if finished else 0,
                frames_expected=900,
            )
            for v in range(3)
        ),
        frames_done=2700 if finished else 0,
        frames_expected=2700,
        error="FakeError: synthetic" if state is JobState.FAILED else None,
        results_path=f"out/{job}/results.json" if state is JobState.COMPLETED else None,
    )


def _dt(seconds: float):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


def build(root: Path, n: int) -> JobStatusEntry:
    """Write ``n`` jobs' per-job files, the index and status.json; return the processing job."""
    layout = DataDir(root)
    layout.out_dir.mkdir(parents=True)
    t0 = time.time() - 2 * n

    def entries() -> Iterator[JobStatusEntry]:
        for i in range(n):
            e = _entry(i, n, t0)
            path = layout.job(e.job_id).status
            path.parent.mkdir(parents=True)
            path.write_text(e.model_dump_json(indent=1))
            yield e

    create_index(layout.status_index, entries())
    write_aggregate_status(root)
    for d in (layout.in_dir, layout.failed_dir):
        d.mkdir(exist_ok=True)
    return _entry(n - 1, n, t0)


def _median(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)
    env.pop("NEUROPOSE_DATA_DIR", None)
    return env


def _neuropose() -> list[str]:
    return [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())"]


def cli_status(root: Path, env: dict[str, str], *args: str) -> tuple[float, float]:
    """Median wall time (s) and peak RSS (MB, GNU time's %M) of `neuropose status`, 3 runs.

    The process is started by ``/usr/bin/time`` (a small parent), so its peak
    RSS does not include the pages of this (large) benchmark process.
    """
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        proc = subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "maxrss=%M",
                *_neuropose(),
                *(args or ("status", "--data-dir", str(root))),
            ],
            env=env,
            capture_output=True,
            check=False,
        )
        wall = time.perf_counter() - t
        assert proc.returncode == 0 and (args or b"job(s):" in proc.stdout), proc.stderr[-500:]
        kb = int(re.findall(rb"maxrss=(\d+)", proc.stderr)[-1])
        runs.append((wall, kb / 1024))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def in_process(root: Path) -> tuple[float, float]:
    """Median (of 5) of ``read_status`` and of the monitor's first snapshot (with its
    pre-rendered bodies), in this process: what the start-up adds to the import floor."""
    from neuropose.monitor import MonitorServer

    read = _median(lambda: read_status(root), 5)

    def first_snapshot() -> None:
        srv = MonitorServer(root, port=0)
        try:
            srv.snapshots.get()
        finally:
            srv.server_close()

    return read, _median(first_snapshot, 5)


def _vm(pid: int, key: str) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) / 1024 if m else float("nan")


def serve(
    root: Path, env: dict[str, str], active: JobStatusEntry, n: int, requests: int
) -> dict[str, float]:
    """Start `neuropose serve`, time readiness, then route latencies under heartbeats."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [*_neuropose(), "serve", "--data-dir", str(root), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = 0
        for line in proc.stdout:
            m = re.search(r"Serving on http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        assert port, proc.stderr.read() if proc.stderr else ""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/health")
        assert conn.getresponse().read()
        ready = time.perf_counter() - t
        out: dict[str, float] = {"ready_s": ready, "rss_ready_mb": _vm(proc.pid, "VmRSS")}
        stop = threading.Event()

        def heartbeat() -> None:
            k = 0
            while not stop.wait(0.25):
                k += 1
                write_job_status(
                    root, active.model_copy(update={"frames_done": k, "last_update": utc_now()})
                )

        beats = threading.Thread(target=heartbeat, daemon=True)
        beats.start()
        try:
            for route in ROUTES:
                path = route.format(half=n // 2)
                lat = []
                for _ in range(requests):
                    s = time.perf_counter()
                    conn.request("GET", path)
                    resp = conn.getresponse()
                    resp.read()
                    lat.append(time.perf_counter() - s)
                    assert resp.status == 200, (path, resp.status)
                lat.sort()
                out[f"{route}_p50"] = lat[len(lat) // 2]
                out[f"{route}_p95"] = lat[int(0.95 * (len(lat) - 1))]
        finally:
            stop.set()
            beats.join()
        out["rss_peak_mb"] = _vm(proc.pid, "VmHWM")
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def daemon_writes(root: Path, active: JobStatusEntry, repeats: int) -> tuple[float, float, float]:
    """Median heartbeat and transition times (s), and sync_index (s)."""
    k = [0]

    def beat() -> None:
        k[0] += 1
        write_job_status(
            root, active.model_copy(update={"frames_done": k[0], "last_update": utc_now()})
        )

    def transition() -> None:
        k[0] += 1
        state = JobState.INTERRUPTED if k[0] % 2 else JobState.PROCESSING
        write_job_status(root, active.model_copy(update={"state": state, "last_update": utc_now()}))
        write_aggregate_status(root, daemon_pid=os.getpid())

    heartbeat = _median(beat, repeats)
    trans = _median(transition, repeats)
    sync = _median(lambda: sync_index(root), 3)
    return heartbeat, trans, sync


def old_transition(root: Path, n: int, repeats: int) -> float:
    """The previous design: every transition rewrote a status.json listing all ``n`` jobs."""
    t0 = time.time() - 2 * n
    jobs = {e.job_id: e for e in (_entry(i, n, t0) for i in range(n))}
    doc = StatusFile(updated_at=utc_now(), jobs=jobs)
    return _median(lambda: write_model_atomic(root / "status.json", doc), repeats)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument(
        "--workdir", type=Path, help="keep the data directories here (reused when present)"
    )
    args = ap.parse_args()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.workdir or Path(scratch)
        home = Path(scratch) / "home"
        home.mkdir()
        env = _env(home)
        for n in (args.small, args.jobs):
            root = Path(tmp) / f"d{n}"
            t = time.perf_counter()
            if root.exists():
                active = _entry(n - 1, n, time.time() - 2 * n)
                sync_index(root)
            else:
                active = build(root, n)
            print(f"{n:,} jobs ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            r: dict[str, float] = {}
            r["status_s"], r["status_mb"] = cli_status(root, env)
            r["help_s"], r["help_mb"] = cli_status(root, env, "--help")
            r["read_s"], r["snap_s"] = in_process(root)
            r.update(serve(root, env, active, n, args.requests))
            r["beat_s"], r["trans_s"], r["sync_s"] = daemon_writes(root, active, args.repeats)
            results[n] = r
            print(f"{n:,}: {r}", file=sys.stderr)
        old_small = old_transition(Path(scratch), args.small, max(3, args.repeats // 5))
        old_10x = old_transition(Path(scratch), 10 * args.small, 3)

    small, big = results[args.small], results[args.jobs]
    ms = 1e3
    print(f"| measurement | {args.small:,} jobs | {args.jobs:,} jobs | ratio | target |")
    print("|---|---|---|---|---|")

    def row(label: str, key: str, scale: float, unit: str, target: str) -> None:
        a, b = small[key] * scale, big[key] * scale
        print(f"| {label} ({unit}) | {a:.1f} | {b:.1f} | {b / a:.2f} | {target} |")

    row("`neuropose status`: wall time", "status_s", 1, "s", "<= 2 s")
    row("`neuropose status`: peak RSS", "status_mb", 1, "MB", "<= 300 MB")
    row("`neuropose --help` (start-up floor): wall time", "help_s", 1, "s", "")
    row("`neuropose --help` (start-up floor): peak RSS", "help_mb", 1, "MB", "")
    row("`read_status` in process", "read_s", ms, "ms", "")
    row("`serve`: spawn to first `/health` answer", "ready_s", 1, "s", "<= 2 s")
    row("`serve`: first snapshot and bodies, in process", "snap_s", ms, "ms", "")
    row("`serve`: RSS when ready", "rss_ready_mb", 1, "MB", "<= 300 MB")
    row("`serve`: peak RSS after the requests", "rss_peak_mb", 1, "MB", "<= 300 MB")
    for route in ROUTES:
        shown = route.replace("{half}", "N/2")
        row(f"`{shown}` p50", f"{route}_p50", ms, "ms", "")
        row(f"`{shown}` p95", f"{route}_p95", ms, "ms", "<= 100 ms")
    row("daemon heartbeat (index row + per-job file)", "beat_s", ms, "ms", "")
    row("daemon transition (+ status.json)", "trans_s", ms, "ms", "independent of N")
    row("daemon start: `sync_index`", "sync_s", ms, "ms", "")
    print()
    print(
        f"previous design, transition rewriting every job's entry: {old_small * ms:.1f} ms at "
        f"{args.small:,} jobs, {old_10x * ms:.1f} ms at {10 * args.small:,} jobs "
        f"({old_10x / old_small:.1f}x)"
    )


if __name__ == "__main__":
    main()
