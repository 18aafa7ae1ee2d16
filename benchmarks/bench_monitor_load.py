"""Load benchmark of ``neuropose serve`` against a 1,000-job status file.

The data directory holds the aggregate ``status.json`` and one
``out/<job>/status.json`` per job, as the daemon leaves them. Starts the
real CLI (``neuropose serve --port 0``) in its own process on loopback and
drives it from this process with asyncio HTTP/1.1 keep-alive clients (one
connection each), for ``--seconds`` per scenario:

* ``poll``: ``--clients`` dashboards, each polling ``/status.json`` every
  ``--interval`` seconds, as the page script does (2 s), with random phase.
* ``poll+heartbeats``: as ``poll`` while this process rewrites the per-job
  status file of every processing job (50) once per second, like the
  daemon's heartbeats, so the monitor re-reads the status every refresh.
* ``pages``: the same clients polling a mix of ``/`` (25 %),
  ``/status.json?job=...`` (50 %) and ``/health`` (25 %) every ``--interval`` s.
* ``saturate``: every client sends ``/status.json?job=...`` back to back (no
  think time): this measures the server's capacity, so its latency is
  ``clients / throughput`` by construction.

Prints one Markdown table (latency p50/p95/max, requests/s, errors). An error
is any non-200 answer, a connection failure, or a 10 s timeout.

Usage::

    .venv/bin/python benchmarks/bench_monitor_load.py [--clients 200] [--seconds 10] \
        [--components] [--compare-src OTHER_CHECKOUT/src]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from neuropose.io import write_model_atomic
from neuropose.schemas import JobState, JobStatusEntry, StatusFile, VideoProgress

STATES = (
    [JobState.COMPLETED] * 60
    + [JobState.QUEUED] * 25
    + [JobState.PROCESSING] * 5
    + [JobState.FAILED] * 7
    + [JobState.INTERRUPTED] * 3
)


def make_status(n_jobs: int) -> StatusFile:
    """``n_jobs`` jobs in a realistic state mix, two videos each."""
    now = datetime.now(UTC)
    iso = lambda t: t.isoformat(timespec="seconds").replace("+00:00", "Z")  # noqa: E731
    jobs = {}
    for i in range(n_jobs):
        state = STATES[i % len(STATES)]
        done = {JobState.COMPLETED: 3600, JobState.QUEUED: 0}.get(state, 1234)
        name = f"subject-{i:04d}_gait_session"
        jobs[name] = JobStatusEntry(
            job_id=name,
            state=state,
            attempts=0 if state is JobState.QUEUED else 1,
            queued_at=iso(now - timedelta(hours=2)),
            started_at=iso(now - timedelta(hours=1)),
            last_update=iso(now - timedelta(seconds=i % 300)),
            frames_done=done,
            frames_expected=3600,
            fps=24.5 if state is JobState.PROCESSING else None,
            eta_s=96.0 if state is JobState.PROCESSING else None,
            current_video="cam01.mp4" if state is JobState.PROCESSING else None,
            error="ProcessingError: decoder stalled at frame 17"
            if state is JobState.FAILED
            else None,
            videos=(
                VideoProgress(
                    name="cam01.mp4", state=state, frames_done=done // 2, frames_expected=1800
                ),
                VideoProgress(
                    name="cam02.mp4",
                    state=state,
                    frames_done=done - done // 2,
                    frames_expected=1800,
                ),
            ),
        )
    return StatusFile(updated_at=iso(now), daemon_pid=1, jobs=jobs)


ACCEPT_GZIP = True


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, int]:
    # Browsers always offer gzip; the monitor compresses its large cached bodies once.
    accept = "Accept-Encoding: gzip, deflate\r\n" if ACCEPT_GZIP else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    await reader.readexactly(length)
    return status, length


async def _client(
    host: str,
    port: int,
    paths: list[str],
    weights: list[float],
    interval: float,
    until: float,
    lat: list[float],
    errors: list[str],
    sizes: list[int],
) -> None:
    rng = random.Random()
    if interval:
        await asyncio.sleep(rng.uniform(0, interval))
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    while time.monotonic() < until:
        start = time.monotonic()
        path = rng.choices(paths, weights)[0]
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
            status, size = await asyncio.wait_for(_request(*conn, path), 10)
            if status != 200:
                errors.append(f"HTTP {status} for {path}")
            lat.append(time.monotonic() - start)
            sizes.append(size)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append(f"{type(exc).__name__} for {path}")
            if conn is not None:
                conn[1].close()
            conn = None
        if interval:
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - start)))
    if conn is not None:
        conn[1].close()


async def _scenario(
    host: str,
    port: int,
    clients: int,
    seconds: float,
    paths: list[str],
    weights: list[float],
    interval: float,
) -> dict[str, float]:
    lat: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    until = time.monotonic() + seconds
    t0 = time.monotonic()
    await asyncio.gather(
        *(
            _client(host, port, paths, weights, interval, until, lat, errors, sizes)
            for _ in range(clients)
        )
    )
    wall = time.monotonic() - t0
    lat_ms = sorted(x * 1000 for x in lat)
    q = statistics.quantiles(lat_ms, n=100) if len(lat_ms) > 1 else [0.0] * 99
    if errors:
        print(f"  errors (first 5): {errors[:5]}", file=sys.stderr)
    return {
        "requests": len(lat),
        "rps": len(lat) / wall,
        "p50": q[49],
        "p95": q[94],
        "max": lat_ms[-1] if lat_ms else 0.0,
        "errors": len(errors),
        "kb": statistics.mean(sizes) / 1024 if sizes else 0.0,
    }


def _heartbeats(data_dir: Path, status: StatusFile, stop: threading.Event) -> None:
    active = [e for e in status.jobs.values() if e.state is JobState.PROCESSING]
    frames = 0
    while not stop.wait(1.0):
        frames += 25
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for e in active:
            write_model_atomic(
                data_dir / "out" / e.job_id / "status.json",
                e.model_copy(
                    update={"last_update": now, "frames_done": min(3600, e.frames_done + frames)}
                ),
            )


def _serve(data_dir: Path, tmp: str, src: str | None) -> tuple[subprocess.Popen[str], str, int]:
    """Start ``neuropose serve`` (from ``src`` when given, else this checkout's import path)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPOSE_")}
    env["XDG_DATA_HOME"] = tmp
    if src is not None:
        env["PYTHONPATH"] = src
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from neuropose.cli import main; sys.exit(main())",
            "-q",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"Serving on http://([\d.]+):(\d+)/", line)
        if m:
            return proc, m.group(1), int(m.group(2))
    raise SystemExit("the server did not start")


def _best_ms(fn: Callable[[], object], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return 1000 * best


def components(data_dir: Path, status: StatusFile) -> None:
    """In-process cost of each thing :class:`MonitorCache` keeps, with and without it."""
    import json

    from neuropose.datadir.status import read_status
    from neuropose.monitor import render
    from neuropose.monitor.cache import MonitorCache
    from neuropose.monitor.snapshot import job_files, static_view, take_snapshot

    cache = MonitorCache(data_dir, stale_after_s=120, ttl_s=0)
    snap = cache.get()
    rows: list[tuple[str, float, float]] = []
    parse = _best_ms(lambda: read_status(data_dir))
    rows.append(
        ("status: parse all files / check fingerprint", parse, _best_ms(cache.status_fingerprint))
    )
    jobs = list(status.jobs.items())
    every = _best_ms(lambda: [static_view(n, e) for n, e in jobs])
    some = _best_ms(lambda: [static_view(n, e) for n, e in jobs[:50]])
    rows.append(("job views: all 1,000 / the 50 a heartbeat changes", every, some))
    plain = _best_ms(lambda: take_snapshot(data_dir, stale_after_s=120))
    cached = _best_ms(cache.get)
    rows.append(("snapshot: without cache / with cache (unchanged status)", plain, cached))
    body = _best_ms(lambda: json.dumps(snap.view(), ensure_ascii=False).encode())
    page = _best_ms(lambda: render.render_dashboard(snap).encode())
    rows.append(("per snapshot: /status.json body (json.dumps) / dashboard", body, page))
    whole = plain + body + page
    rows.append(
        (
            "a request without snapshot reuse / with (cached body)",
            whole,
            _best_ms(lambda: cache.body(snap, "x", lambda: b"")),
        )
    )
    # results.json of a 10-minute 30 fps video (18,000 frames, BlazePose 33 joints)
    from neuropose.io import load_model
    from neuropose.schemas import JobResults, Skeleton, VideoPredictions
    from neuropose.skeletons import BLAZEPOSE_33

    name = next(iter(status.jobs))
    n = 18_000
    vp = VideoPredictions.empty_for_tests(BLAZEPOSE_33, n)
    rng = np.random.default_rng(0)
    vp = VideoPredictions.model_validate(
        {
            **vp.model_dump(),
            "det_frame": np.arange(n, dtype=np.int32),
            "track_id": np.zeros(n, np.int32),
            "boxes": rng.random((n, 5)).astype(np.float32),
            "poses3d": rng.random((n, 33, 3)).astype(np.float32),
            "poses2d": rng.random((n, 33, 2)).astype(np.float32),
            "confidence": rng.random((n, 33)).astype(np.float32),
        }
    )
    assert isinstance(vp.skeleton, Skeleton)
    results_path = data_dir / "out" / name / "results.json"
    write_model_atomic(
        results_path,
        JobResults(
            job_id=name, created_at="2026-01-01T00:00:00Z", neuropose_version="0", videos=(vp,)
        ),
        indent=None,
    )
    entry = status.jobs[name].model_copy(update={"results_path": f"out/{name}/results.json"})
    parse_results = _best_ms(lambda: load_model(results_path, JobResults), repeat=3)
    cache.results(results_path)
    files = job_files(data_dir, name, entry, cache.results)
    render_page = _best_ms(lambda: render.render_job_page(snap, name, entry, files))
    mib = results_path.stat().st_size / 2**20
    label = f"job page, 18,000-frame result: parse results.json ({mib:.1f} MiB) / render page"
    rows.append((label, parse_results, render_page))
    results_path.unlink()
    print(
        "\n| component (1,000 jobs) | without cache (or first) ms | with (or second) ms | ratio |"
    )
    print("|---|---|---|---|")
    for label, a, b in rows:
        ratio = f"{a / b:.0f}×" if b >= 0.01 else "> 1000×"
        print(f"| {label} | {a:.1f} | {b:.2f} | {ratio} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--no-gzip", action="store_true", help="do not offer gzip")
    parser.add_argument(
        "--compare-src",
        metavar="DIR",
        help="also run every scenario against the `src` folder of another checkout "
        "(e.g. a `git archive` of main), alternating, in the same run",
    )
    parser.add_argument(
        "--components",
        action="store_true",
        help="also time, in this process, each thing the monitor's cache keeps",
    )
    args = parser.parse_args()
    global ACCEPT_GZIP
    ACCEPT_GZIP = not args.no_gzip

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        (data_dir / "out").mkdir(parents=True)
        status = make_status(args.jobs)
        # As the daemon leaves them: one per-job status file each, then the aggregate.
        for name, entry in status.jobs.items():
            (data_dir / "out" / name).mkdir()
            write_model_atomic(data_dir / "out" / name / "status.json", entry)
        write_model_atomic(data_dir / "status.json", status)
        if args.components:
            components(data_dir, status)
        sources: dict[str, str | None] = {"this checkout": None}
        if args.compare_src:
            sources["compared"] = args.compare_src
        servers = {label: _serve(data_dir, tmp, src) for label, src in sources.items()}
        try:
            names = list(status.jobs)
            job_paths = [f"/status.json?job={n}" for n in names[:200]]
            scenarios = {
                "poll": (["/status.json"], [1.0], args.interval),
                "poll+heartbeats": (["/status.json"], [1.0], args.interval),
                "pages": (
                    ["/", "/health", *job_paths],
                    [0.25, 0.25, *[0.5 / len(job_paths)] * len(job_paths)],
                    args.interval,
                ),
                "saturate": (job_paths, [1.0] * len(job_paths), 0.0),
            }
            print(
                f"\nmonitor load: {args.clients} clients x {args.seconds:g} s per scenario, "
                f"{args.jobs} jobs, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
                f"load average {os.getloadavg()[0]:.1f} at start, "
                f"{'gzip offered' if ACCEPT_GZIP else 'no gzip'}"
            )
            print(
                "\n| server | scenario | requests | req/s | mean body KiB | p50 ms | p95 ms "
                "| max ms | errors |\n|---|---|---|---|---|---|---|---|---|"
            )
            for name, (paths, weights, interval) in scenarios.items():
                for label, (_, host, port) in servers.items():
                    stop = threading.Event()
                    beat = threading.Thread(target=_heartbeats, args=(data_dir, status, stop))
                    if name == "poll+heartbeats":
                        beat.start()
                    r = asyncio.run(
                        _scenario(host, port, args.clients, args.seconds, paths, weights, interval)
                    )
                    stop.set()
                    if beat.is_alive():
                        beat.join()
                    print(
                        f"| {label} | {name} | {r['requests']:.0f} | {r['rps']:.0f} | "
                        f"{r['kb']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.0f} | "
                        f"{r['errors']:.0f} |"
                    )
        finally:
            for proc, _, _ in servers.values():
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
