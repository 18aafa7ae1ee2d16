"""The Ray executor: scaling with the pool size, and its per-video overhead on BlazePose.

Run: ``.venv/bin/python benchmarks/bench_ray.py [--videos 16] [--frames 50]
[--cost-ms 20] [--model-cache-dir DIR] [--repeats 3]``

1. **Scaling** (a fake model whose cost is a sleep, so N workers do not compete
   for the cores): one job of ``videos`` fake videos of ``frames`` frames,
   ``cost_ms`` per frame, run by ``neuropose watch --executor ray`` with
   N = 1, 2, 4, 8 workers on a local Ray instance (8 logical CPUs, 1 per
   worker). Throughput is the job's frames divided by its processing time
   (the attempt's ``started_at`` to ``finished_at`` in ``status.json``: pool
   start-up and model loading excluded); printed relative to N = 1
   (target >= 0.9 N). The same job on the local executor gives the Ray
   path's per-video overhead without competition for the cores.
   The same with a **queue of N one-video jobs** on N workers (jobs run at
   the same time): frames over the span from the first start to the last
   finish, relative to N = 1.
2. **Overhead** (real BlazePose on ``cam01.mp4`` and ``cam02.mp4``,
   100 frames of 1080x1920 each): the same job run by the local executor and
   by the Ray executor with one worker (2 CPUs), alternated ``repeats`` times;
   the per-video time ratio Ray / local of the medians (target <= 1.05).

Prints Markdown for ``docs/benchmarks.md``. Ratios only: absolute times on a
shared machine are not comparable between runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import ray  # noqa: E402
from tests.interfacer.fake_processor import write_fake_video  # noqa: E402

from neuropose.config import load_settings  # noqa: E402
from neuropose.interfacer import Interfacer, build_executor  # noqa: E402
from neuropose.timefmt import parse_time  # noqa: E402

MEDIA = REPO.parent / "shared" / "media" / "lab_single_person"
#: The daemon tests' fake processor; its per-frame sleep comes from FAKE_PROC_COST_S.
SLEEP_SPEC = "python:tests.interfacer.fake_processor:make_processor"


def run_job(data_dir: Path, model: str, **flags: Any) -> tuple[float, int]:
    """Run ``watch --once`` on ``data_dir``; (processing seconds, frames) of all its jobs.

    The span runs from the first job's last attempt start to the last job's
    finish (``status.json`` of each job): pool start-up and model loading excluded.
    """
    settings = load_settings(
        None,
        {"data_dir": data_dir, "settle_seconds": 0.0, "poll_interval_s": 0.05,
         "render_after_job": False, **flags},
        environ={},
    ).settings  # fmt: skip
    summary = Interfacer(settings, lambda: build_executor(settings, model), once=True).run()
    jobs = sorted(p.name for p in (data_dir / "in").iterdir())
    assert sorted(summary.completed) == jobs and not summary.failed, summary
    starts, ends, frames = [], [], 0
    for job in jobs:
        entry = json.loads((data_dir / "out" / job / "status.json").read_text())
        last = entry["history"][-1]
        starts.append(parse_time(last["started_at"]))
        ends.append(parse_time(last["finished_at"]))
        frames += int(entry["frames_done"])
    return (max(ends) - min(starts)).total_seconds(), frames


def scaling(videos: int, frames: int, root: Path) -> list[tuple[int, float]]:
    """(workers, frames/s) for N = 1, 2, 4, 8, and the local executor as N = 0."""
    rows = []
    local = root / "scale-local"
    for i in range(videos):
        write_fake_video(local / "in" / "queue" / f"v{i:02d}.mp4", frames, seed=i)
    seconds, done = run_job(local, SLEEP_SPEC, checkpoint_every_frames=25)
    rows.append((0, done / seconds))
    print(f"  local: {done} frames in {seconds:.2f} s", file=sys.stderr)
    for n in (1, 2, 4, 8):
        data = root / f"scale{n}"
        for i in range(videos):
            write_fake_video(data / "in" / "queue" / f"v{i:02d}.mp4", frames, seed=i)
        seconds, done = run_job(
            data, SLEEP_SPEC, executor="ray", ray_workers=n, ray_cpus_per_worker=1.0,
            checkpoint_every_frames=25,
        )  # fmt: skip
        rows.append((n, done / seconds))
        print(f"  N={n}: {done} frames in {seconds:.2f} s", file=sys.stderr)
    return rows


def queue_scaling(frames: int, root: Path) -> list[tuple[int, float]]:
    """(N, frames/s) for a queue of N one-video jobs on N workers, N = 1, 2, 4, 8."""
    rows = []
    for n in (1, 2, 4, 8):
        data = root / f"queue{n}"
        for i in range(n):
            write_fake_video(data / "in" / f"job{i:02d}" / "v.mp4", frames, seed=i)
        seconds, done = run_job(
            data, SLEEP_SPEC, executor="ray", ray_workers=n, ray_cpus_per_worker=1.0,
            checkpoint_every_frames=25,
        )  # fmt: skip
        rows.append((n, done / seconds))
        print(f"  {n} one-video jobs, N={n}: {done} frames in {seconds:.2f} s", file=sys.stderr)
    return rows


def overhead(cache: Path, repeats: int, root: Path) -> tuple[float, float]:
    """Median per-video seconds (local, ray) on real BlazePose."""
    local, remote = [], []
    common = {"model_cache_dir": cache, "num_threads": 2, "checkpoint_every_frames": 300}
    for r in range(repeats):
        for executor, out in (("local", local), ("ray", remote)):
            data = root / f"bp-{executor}-{r}"
            (data / "in" / "bp").mkdir(parents=True)
            for cam in ("cam01.mp4", "cam02.mp4"):
                shutil.copy(MEDIA / cam, data / "in" / "bp" / cam)
            extra = {"executor": "ray", "ray_workers": 1, "ray_cpus_per_worker": 2.0}
            seconds, _ = run_job(data, "blazepose-full", **common,
                                 **(extra if executor == "ray" else {}))  # fmt: skip
            out.append(seconds / 2)
            print(f"  {executor} run {r}: {seconds / 2:.2f} s per video", file=sys.stderr)
    return statistics.median(local), statistics.median(remote)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--cost-ms", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model-cache-dir", type=Path, default=REPO / ".cache" / "models")
    parser.add_argument("--skip-blazepose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # 8 logical CPUs: the fake model sleeps, so 8 actors fit on a 2-core machine.
    ray.init(
        num_cpus=8,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={
            "env_vars": {
                "PYTHONPATH": f"{REPO / 'src'}:{REPO}",
                "FAKE_PROC_COST_S": str(args.cost_ms / 1000),
            }
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        root = Path(tmp)
        os.environ["FAKE_PROC_COST_S"] = str(args.cost_ms / 1000)  # the local executor's
        (_, local_fps), *rows = scaling(args.videos, args.frames, root)
        base = rows[0][1]
        print(f"\nScaling ({args.videos} videos x {args.frames} frames, "
              f"{args.cost_ms:g} ms/frame sleep, one job):\n")  # fmt: skip
        print("| workers N | frames/s | relative to N = 1 | target 0.9 N |")
        print("|---|---|---|---|")
        for n, fps in rows:
            print(f"| {n} | {fps:.1f} | {fps / base:.2f} | {0.9 * n:.1f} |")
        queue_rows = queue_scaling(args.frames * 4, root)
        qbase = queue_rows[0][1]
        print(f"\nQueue of N one-video jobs ({args.frames * 4} frames each, N workers; "
              "jobs run at the same time):\n")  # fmt: skip
        print("| one-video jobs = workers N | frames/s | relative to N = 1 | target 0.9 N |")
        print("|---|---|---|---|")
        for n, fps in queue_rows:
            print(f"| {n} | {fps:.1f} | {fps / qbase:.2f} | {0.9 * n:.1f} |")
        ideal = 1000 / args.cost_ms
        print(f"\nSame job, one video at a time (sleep model: {ideal:.1f} frames/s at zero "
              "overhead):\n")  # fmt: skip
        print("| executor | frames/s | per-video time relative to local |")
        print("|---|---|---|")
        print(f"| local | {local_fps:.1f} | 1.000 |")
        print(f"| ray, 1 worker | {base:.1f} | {local_fps / base:.3f} |")
        if args.skip_blazepose:
            return
        local, remote = overhead(args.model_cache_dir, args.repeats, root)
        print(f"\nPer-video time, real BlazePose (cam01 + cam02, median of {args.repeats}):\n")
        print("| executor | per video (ratio to local) |")
        print("|---|---|")
        print("| local | 1.00 |")
        print(f"| ray, 1 worker, videos by path | {remote / local:.3f} |")
    ray.shutdown()


if __name__ == "__main__":
    main()
