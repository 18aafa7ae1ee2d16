"""``neuropose benchmark``: end-to-end vs model-only throughput, measured in one run.

See :mod:`neuropose.estimator.bench` for what each figure means.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state
from neuropose.cli.options import (
    BatchSizeOption,
    DecodeThreadsOption,
    ModelOption,
    OpenCVThreadsOption,
    PrefetchOption,
)
from neuropose.cli.process_cmd import load_timed_model

__all__ = ["benchmark"]


@app.command("benchmark")
def benchmark(
    ctx: typer.Context,
    input: Annotated[Path, typer.Argument(help="Video to benchmark on.")],
    repeats: Annotated[
        int, typer.Option("--repeats", min=1, help="Measured passes after one warm-up pass.")
    ] = 3,
    warmup_frames: Annotated[
        int, typer.Option("--warmup-frames", min=0, help="Model calls before model-only timing.")
    ] = 10,
    model_only_frames: Annotated[
        int, typer.Option("--model-only-frames", min=1, help="Pre-decoded frames for model-only.")
    ] = 60,
    compare_sequential: Annotated[
        bool, typer.Option("--compare-sequential", help="Also measure sequential mode.")
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
    model: ModelOption = None,
    batch_size: BatchSizeOption = None,
    prefetch: PrefetchOption = None,
    decode_threads: DecodeThreadsOption = None,
    opencv_threads: OpenCVThreadsOption = None,
) -> None:
    """End-to-end latency/throughput vs model-only throughput measured in the same run."""
    settings = state(ctx).load(batch_size=batch_size, prefetch_frames=prefetch).settings
    from neuropose.estimator import Estimator
    from neuropose.estimator.bench import run_benchmark
    from neuropose.io import write_json_atomic
    from neuropose.video.reader import probe_video

    probe_video(input)  # clear error for a bad input before loading the model
    pose_model, load_s = load_timed_model(model or settings.default_model, settings)
    est = Estimator(
        pose_model,
        settings,
        decode_threads=decode_threads,
        opencv_threads=opencv_threads,
        model_load_s=load_s,
    )
    res = run_benchmark(
        est,
        input,
        repeats=repeats,
        warmup_frames=warmup_frames,
        model_only_frames=model_only_frames,
        compare_sequential=compare_sequential,
    )
    res["model_load_s"] = load_s
    thr = res["threaded"]
    lat = thr["latency_ms"]
    lines = [
        f"input            {input.name} ({res['repeats']} passes after 1 warm-up)",
        f"model            {res['model']} (load {load_s:.2f} s, batch {res['batch_size']})",
        f"throughput       {thr['fps_median']:.1f} fps end-to-end (median of passes)",
        f"latency ms       mean {lat['mean']:.1f}  p50 {lat['p50']:.1f}  "
        f"p95 {lat['p95']:.1f}  p99 {lat['p99']:.1f}",
        "stages ms/frame  "
        + "  ".join(f"{k} {v:.2f}" for k, v in thr["stages_ms_per_frame"].items()),
        f"peak RSS         {thr['peak_rss_bytes'] / 2**20:.0f} MiB",
        f"model only       {res['model_only']['fps']:.1f} fps on "
        f"{res['model_only']['frames']} pre-decoded frames",
        f"overlap ratio    {res['overlap_ratio']:.3f} (end-to-end / model-only)",
    ]
    if "sequential" in res:
        lines.append(
            f"sequential       {res['sequential']['fps_median']:.1f} fps; threaded/sequential "
            f"{res['threaded_vs_sequential']:.3f}"
        )
    for line in lines:
        out_console.print(line, markup=False)
    if json_out is not None:
        write_json_atomic(json_out, json.loads(json.dumps(res)))
        out_console.print(f"json             {json_out}", markup=False)
