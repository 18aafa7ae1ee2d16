"""Ingest throughput and memory compared with unvalidated stdlib extraction/copying.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--videos 16] [--mib 16]``

Builds, in a temporary directory on the same filesystem as the data
directory, an archive of ``videos`` random (incompressible, like real video)
members of ``mib`` MiB each, stored and deflated, plus a folder of the same
files, then times (median of 3):

* ``ingest_archive`` vs ``zipfile.ZipFile.extractall`` (no validation, no
  fsync, no atomic placement) and vs ``extractall`` followed by an fsync of
  every file and directory (the durability ingest pays for);
* ``ingest_paths`` copy mode vs ``shutil.copytree`` (with and without
  fsync), and link mode;

and records the peak Python heap allocation during ``ingest_archive``
(``tracemalloc``), which shows that memory does not grow with the archive.
Prints a Markdown table for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

from neuropose.ingest import IngestLimits, ingest_archive, ingest_paths

MiB = 1024 * 1024


def _median_time(run: Callable[[Path], object], scratch: Path, repeats: int = 3) -> float:
    times = []
    for i in range(repeats):
        target = scratch / f"run{i}"
        start = time.perf_counter()
        run(target)
        times.append(time.perf_counter() - start)
        shutil.rmtree(target)
    return statistics.median(times)


def _fsync_tree(target: Path) -> None:
    for p in sorted(target.rglob("*"), reverse=True):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=16)
    parser.add_argument("--mib", type=int, default=16)
    args = parser.parse_args()
    total = args.videos * args.mib * MiB
    limits = IngestLimits(max_total_bytes=10 * total)

    with tempfile.TemporaryDirectory(prefix="np-bench-ingest-", dir=Path.cwd()) as tmp:
        root = Path(tmp)
        folder = root / "folder"
        for i in range(args.videos):
            d = folder / f"patient_{i:02d}"
            d.mkdir(parents=True)
            (d / "trial.mp4").write_bytes(os.urandom(args.mib * MiB))
        archives = {}
        for label, method in (("stored", zipfile.ZIP_STORED), ("deflated", zipfile.ZIP_DEFLATED)):
            path = root / f"{label}.zip"
            with zipfile.ZipFile(path, "w", method) as zf:
                for f in sorted(folder.rglob("*.mp4")):
                    zf.write(f, f.relative_to(folder).as_posix())
            archives[label] = path

        rows = []
        for label, path in archives.items():
            t_ingest = _median_time(lambda t, p=path: ingest_archive(p, t, limits=limits), root)

            def extract(t: Path, p: Path = path) -> None:
                with zipfile.ZipFile(p) as zf:
                    zf.extractall(t)

            def extract_sync(t: Path, p: Path = path) -> None:
                extract(t, p)
                _fsync_tree(t)

            t_base = _median_time(extract, root)
            t_sync = _median_time(extract_sync, root)
            rows.append((f"zip ({label})", "ZipFile.extractall", t_ingest, t_base))
            rows.append((f"zip ({label})", "extractall + fsync", t_ingest, t_sync))
        t_copy = _median_time(lambda t: ingest_paths([folder], t, limits=limits), root)
        t_tree = _median_time(lambda t: shutil.copytree(folder, t), root)
        t_tree_sync = _median_time(lambda t: (shutil.copytree(folder, t), _fsync_tree(t)), root)
        rows.append(("folder, copy", "shutil.copytree", t_copy, t_tree))
        rows.append(("folder, copy", "copytree + fsync", t_copy, t_tree_sync))
        t_link = _median_time(lambda t: ingest_paths([folder], t, mode="link", limits=limits), root)
        rows.append(("folder, link", "shutil.copytree", t_link, t_tree))

        tracemalloc.start()
        ingest_archive(archives["deflated"], root / "mem", limits=limits)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    print(f"{args.videos} videos x {args.mib} MiB = {total / MiB:.0f} MiB\n")
    print("| input | baseline | ingest (s) | baseline (s) | ingest / baseline |")
    print("|---|---|---|---|---|")
    for label, base, t_i, t_b in rows:
        print(f"| {label} | {base} | {t_i:.2f} | {t_b:.2f} | {t_i / t_b:.2f}x |")
    print(f"\nPeak Python heap during ingest of the deflated archive: {peak / MiB:.1f} MiB")


if __name__ == "__main__":
    main()
