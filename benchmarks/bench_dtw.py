"""Benchmark: exact banded DTW vs fastdtw on two 5,000-frame sequences of 33 joints x 3.

Run with ``.venv/bin/python benchmarks/bench_dtw.py [--frames 5000] [--repeats 3]``.
All figures come from one run, with the methods interleaved in every repeat,
and are reported as medians and as ratios to the exact banded engine, so
machine load affects them alike. Two data sets, both a (5,000 frames) vs
b (4,700 frames) of 33 joints x 3 in mm:

* ``warped copy`` — smooth synthetic joint trajectories (sums of sinusoids)
  and a non-linearly time-warped, noisy copy: what DTW is used for;
* ``unrelated`` — two independent smooth trajectories, where the optimal
  path wanders and fastdtw's coarse-to-fine projection can miss it.

Methods
-------
* ``exact band 10%`` — :func:`neuropose.analyzer.exact_dtw` with a
  Sakoe–Chiba band of 10 % (numba backend, compiled once before timing);
* ``exact band 10% (numpy)`` — the same with the vectorised NumPy backend;
* ``fastdtw r=1 (fast dist)`` — ``fastdtw(x, y, radius=1, dist=<plain
  Python Euclidean>)``;
* ``fastdtw r=1 (scipy euclidean)`` — ``fastdtw(..., dist=scipy.spatial.
  distance.euclidean)``, how the package is commonly called;
* ``exact full`` — unbanded exact DTW (O(NM)).

Exactness: the banded and full exact distances are compared with each other
(the band contains the optimum here) and across backends; fastdtw's excess
over the exact optimum is reported.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from neuropose.analyzer.dtw import exact_dtw, fast_dtw


def make_sequences(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, n / 60.0, n)  # 60 fps
    freqs = rng.uniform(0.2, 2.0, size=(4, 33, 3))
    amps = rng.uniform(20, 200, size=(4, 33, 3))
    phase = rng.uniform(0, 2 * math.pi, size=(4, 33, 3))

    def motion(tt: np.ndarray) -> np.ndarray:
        return (
            amps[None] * np.sin(2 * math.pi * freqs[None] * tt[:, None, None, None] + phase[None])
        ).sum(axis=1)

    a = motion(t)
    u = np.linspace(0, 1, m)
    warped = t[-1] * (u + 0.05 * np.sin(2 * math.pi * 3 * u) / (2 * math.pi * 3))
    b = motion(warped) + rng.normal(0, 5, size=(m, 33, 3))
    return a, b


def _fastdtw_scipy(a: np.ndarray, b: np.ndarray) -> float:
    from fastdtw import fastdtw
    from scipy.spatial.distance import euclidean

    d, _ = fastdtw(a.reshape(len(a), -1), b.reshape(len(b), -1), radius=1, dist=euclidean)
    return float(d)


def run(label: str, a: np.ndarray, b: np.ndarray, repeats: int, skip_full: bool) -> None:
    n, m = len(a), len(b)
    methods: dict[str, Callable[[], float]] = {
        "exact band 10%": lambda: exact_dtw(a, b, band=0.1, backend="numba").distance,
        "exact band 10% (numpy)": lambda: exact_dtw(a, b, band=0.1, backend="numpy").distance,
        "fastdtw r=1 (fast dist)": lambda: fast_dtw(a, b, radius=1).distance,
        "fastdtw r=1 (scipy euclidean)": lambda: _fastdtw_scipy(a, b),
    }
    if not skip_full:
        methods["exact full"] = lambda: exact_dtw(a, b, backend="numba").distance
    times: dict[str, list[float]] = {k: [] for k in methods}
    dists: dict[str, float] = {}
    for _ in range(repeats):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            dists[name] = fn()
            times[name].append(time.perf_counter() - t0)
    ref = statistics.median(times["exact band 10%"])
    best = dists.get("exact full", dists["exact band 10%"])
    rows: list[dict[str, Any]] = []
    for name in methods:
        med = statistics.median(times[name])
        rows.append(
            {
                "method": name,
                "median_s": med,
                "ratio": med / ref,
                "distance": dists[name],
                "excess": dists[name] / best - 1,
            }
        )
    print(
        f"\n#### {label}: a = {n} x 33 x 3, b = {m} x 33 x 3 frames, "
        f"{repeats} interleaved repeats (medians)\n"
    )
    print(
        "| method | median time (s) | time / exact band | distance (mm) | excess over exact full |"
    )
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        excess = 100 * r["excess"] if abs(r["excess"]) > 1e-9 else 0.0
        print(
            f"| {r['method']} | {r['median_s']:.3f} | {r['ratio']:.2f} | {r['distance']:.1f} "
            f"| {excess:+.3f} % |"
        )
    same = math.isclose(dists["exact band 10%"], dists["exact band 10% (numpy)"], rel_tol=1e-9)
    print(f"\nnumba and numpy backends agree (rel. 1e-9): {same}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-full", action="store_true", help="skip the unbanded exact DTW")
    args = ap.parse_args()
    n = args.frames
    m = round(n * 0.94)
    a, b = make_sequences(n, m)
    exact_dtw(a[:50], b[:40], band=0.1, backend="numba")  # compile the numba kernels
    run("warped copy", a, b, args.repeats, args.skip_full)
    _, b2 = make_sequences(n, m, seed=1)
    run("unrelated", a, b2, args.repeats, args.skip_full)


if __name__ == "__main__":
    main()
