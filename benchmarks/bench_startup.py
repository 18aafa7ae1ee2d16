"""Start-up and whole-process cost of NeuroPose commands, as ratios within one run.

Run::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_startup.py [--repeats 7]
        [--baseline-src ../main/src] [--mediapipe-python /tmp/mpenv/bin/python]
        [--media ../shared/media] [--model-cache-dir .cache/models]

Every measurement is a fresh process started with this interpreter,
``python -c "from neuropose.cli import main; ..."`` with ``PYTHONPATH``
pointing at the source tree under test; configurations are interleaved
(round-robin, ``--repeats`` rounds) so the load other jobs put on the shared
machine hits every configuration alike, and the median wall time is reported
with its ratio to ``python -c pass`` measured in the same rounds. Peak RSS is
the child's own ``ru_maxrss`` (``os.wait4``), not the benchmark's. Bytecode
caches are enabled (``PYTHONDONTWRITEBYTECODE`` is dropped from the children's
environment; an uncounted warm-up run writes them under the run's temporary
``PYTHONPYCACHEPREFIX``), as for an installed package.

Sections:

* **start-up** (no inference): ``--help``, ``status``, ``config show``,
  ``doctor``, ``import neuropose.analyzer``, and ``process`` of a missing
  file (the time until the user is told);
* **whole process** (needs the media and the cached ``blazepose-full``):
  ``process`` of the 100-frame lab clip and of one image, by this tree
  (LiteRT), by ``--baseline-src`` (e.g. the main branch before LiteRT,
  TensorFlow's interpreter) and by MediaPipe 0.10.21's own pipeline
  (``mp.solutions.pose``, model_complexity=1 = the same two model files) run
  by ``--mediapipe-python``, an interpreter of a separate environment
  (``python3 -m venv /tmp/mpenv && /tmp/mpenv/bin/pip install mediapipe==0.10.21``;
  MediaPipe pins protobuf<5 and cannot share NeuroPose's environment).

Prints Markdown tables for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = "import sys; from neuropose.cli import main; sys.exit(main())"

_MEDIAPIPE_SCRIPT = """
import sys, cv2, mediapipe as mp
path = sys.argv[1]
pose = mp.solutions.pose.Pose(static_image_mode=path.endswith(('.jpg', '.png')),
                              model_complexity=1, enable_segmentation=False)
def frames():
    if path.endswith(('.jpg', '.png')):
        yield cv2.imread(path)
        return
    cap = cv2.VideoCapture(path)
    while True:
        ok, bgr = cap.read()
        if not ok:
            return
        yield bgr
n = found = 0
for bgr in frames():
    res = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    n += 1
    found += res.pose_world_landmarks is not None
print(n, found)
"""


@dataclass
class Config:
    """One command line, run ``repeats`` times."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    expect_code: int = 0
    wall: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)

    def run(self) -> None:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        self.wall.append(time.perf_counter() - t0)
        self.rss_mib.append(usage.ru_maxrss / 1024)
        self.cpu_s.append(usage.ru_utime + usage.ru_stime)
        if proc.returncode != self.expect_code:
            raise SystemExit(
                f"{self.name}: exit {proc.returncode}, expected {self.expect_code}: "
                f"{err.decode(errors='replace')[-800:]}"
            )

    @property
    def median(self) -> float:
        return statistics.median(self.wall)


def _env(src: Path, data_home: Path, cache: Path | None) -> dict[str, str]:
    # Bytecode caches on, as in an installed package (pip compiles at install):
    # with PYTHONDONTWRITEBYTECODE set, every run would recompile the source tree.
    # They go under the run's temp dir, never into the trees measured.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEUROPOSE_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPYCACHEPREFIX"] = str(data_home.parent / "pycache")
    env["PYTHONPATH"] = str(src)
    env["XDG_DATA_HOME"] = str(data_home)
    if cache is not None:
        env["NEUROPOSE_MODEL_CACHE_DIR"] = str(cache)
    return env


def _rounds(configs: list[Config], repeats: int) -> None:
    for c in configs:  # warm the page cache once; not counted
        c.run()
        c.wall.clear()
        c.rss_mib.clear()
        c.cpu_s.clear()
    for _ in range(repeats):
        for c in configs:
            c.run()


#: (name, argv after the interpreter, expected exit code)
STARTUP = [
    ("neuropose --help", ["-c", CLI, "--help"], 0),
    ("neuropose status", ["-c", CLI, "status"], 0),
    ("neuropose config show", ["-c", CLI, "config", "show"], 0),
    ("neuropose process --help", ["-c", CLI, "process", "--help"], 0),
    ("neuropose doctor", ["-c", CLI, "doctor"], 0),
    ("import neuropose.analyzer", ["-c", "import neuropose.analyzer"], 0),
    ("neuropose process missing.mp4", ["-c", CLI, "process", "missing.mp4"], 2),
]


def startup(srcs: dict[str, Path], work: Path, cache: Path, repeats: int) -> list[Config]:
    py = sys.executable
    (work / "xdg" / "neuropose" / "jobs").mkdir(parents=True, exist_ok=True)  # default data_dir
    cfgs = [Config("python -c pass", [py, "-c", "pass"], dict(os.environ), work)]
    for name, argv, code in STARTUP:
        for label, src in srcs.items():
            env = _env(src, work / "xdg", cache)
            cfgs.append(Config(f"{name}|{label}", [py, *argv], env, work, expect_code=code))
    _rounds(cfgs, repeats)
    return cfgs


def whole_process(
    srcs: dict[str, Path],
    media: Path,
    cache: Path,
    mediapipe_python: Path | None,
    work: Path,
    repeats: int,
) -> list[Config]:
    py = sys.executable
    inputs = {
        "clip (100 frames)": media / "lab_single_person" / "cam01.mp4",
        "image": media / "messi5.jpg",
    }
    cfgs = []
    for label, path in inputs.items():
        for name, src in srcs.items():
            env = _env(src, work / "xdg", cache)
            out = work / f"{name}-{path.stem}.json"
            argv = [py, "-c", CLI, "-q", "process", str(path), "-o", str(out)]
            cfgs.append(Config(f"{label}: {name}", argv, env, work))
        if mediapipe_python is not None:
            argv = [str(mediapipe_python), "-c", _MEDIAPIPE_SCRIPT, str(path)]
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            cfgs.append(Config(f"{label}: MediaPipe 0.10.21", argv, env, work))
    _rounds(cfgs, repeats)
    return cfgs


def _table_startup(cfgs: list[Config], labels: list[str]) -> str:
    base = cfgs[0].median
    head = " | ".join(f"{lb}: wall (s), × pass, RSS (MiB)" for lb in labels)
    rows = [f"| command | {head} |", "|---" * (1 + len(labels)) + "|"]
    rss = statistics.median(cfgs[0].rss_mib)
    rows.append(f"| `python -c pass` | {base:.3f}, 1×, {rss:.0f} |")
    by_name: dict[str, dict[str, Config]] = {}
    for c in cfgs[1:]:
        name, label = c.name.split("|")
        by_name.setdefault(name, {})[label] = c
    for name, per in by_name.items():
        cells = [
            f"{per[lb].median:.3f}, {per[lb].median / base:.1f}×, "
            f"{statistics.median(per[lb].rss_mib):.0f}"
            for lb in labels
        ]
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _table_whole(cfgs: list[Config]) -> str:
    """Medians per input; ratios to the MediaPipe row of the input (else its first row).

    CPU is the child's user + system time: unlike wall time it hardly moves
    with the load other jobs put on the machine, and shows how much of a
    wall-time lead comes from using both cores.
    """
    rows = [
        "| input: runner | median wall (s) | CPU (s) | peak RSS (MiB) "
        "| wall / ref | CPU / ref | RSS / ref |",
        "|---|---|---|---|---|---|---|",
    ]
    groups: dict[str, list[Config]] = {}
    for c in cfgs:
        groups.setdefault(c.name.split(":")[0], []).append(c)
    for group in groups.values():
        ref = next((c for c in group if "MediaPipe" in c.name), group[0])
        ref_wall, ref_cpu = ref.median, statistics.median(ref.cpu_s)
        ref_rss = statistics.median(ref.rss_mib)
        for c in group:
            rss, cpu = statistics.median(c.rss_mib), statistics.median(c.cpu_s)
            rows.append(
                f"| {c.name} | {c.median:.2f} | {cpu:.2f} | {rss:.0f} | "
                f"{c.median / ref_wall:.2f}× | {cpu / ref_cpu:.2f}× | {rss / ref_rss:.2f}× |"
            )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--src", type=Path, default=REPO / "src", help="tree under test")
    parser.add_argument("--baseline-src", type=Path, default=None)
    parser.add_argument("--mediapipe-python", type=Path, default=None)
    parser.add_argument("--media", type=Path, default=REPO.parent / "shared" / "media")
    parser.add_argument("--model-cache-dir", type=Path, default=REPO / ".cache" / "models")
    parser.add_argument("--skip-whole", action="store_true", help="start-up section only")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        srcs = {"this tree": args.src.resolve()}
        if args.baseline_src is not None:
            srcs["baseline"] = args.baseline_src.resolve()
        cfgs = startup(srcs, work, args.model_cache_dir.resolve(), args.repeats)
        print(f"## start-up ({args.repeats} interleaved rounds, load average {load[0]:.1f})\n")
        print(_table_startup(cfgs, list(srcs)))
        if args.skip_whole:
            return
        if not (args.model_cache_dir / "blazepose-full").is_dir() or not args.media.is_dir():
            print("\n(whole-process section skipped: media or cached blazepose-full missing)")
            return
        whole = whole_process(
            srcs,
            args.media,
            args.model_cache_dir.resolve(),
            args.mediapipe_python,
            work,
            max(3, args.repeats // 2),
        )
        end = os.getloadavg()
        print(f"\n## whole process (load average {load[0]:.1f} at start, {end[0]:.1f} at end)\n")
        print(_table_whole(whole))


if __name__ == "__main__":
    main()
