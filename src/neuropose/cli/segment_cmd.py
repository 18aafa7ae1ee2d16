"""``neuropose segment``: store a named repetition segmentation beside a results file.

The results file is never rewritten (its SHA-256 is the provenance of every
later analysis): segmentations go to ``<results>.segmentations.json``, which
records that hash; ``analyze``, ``visualize`` and the Python API
(:func:`neuropose.analyzer.load.load_results`) read them from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console
from neuropose.cli.inputs import RESULTS_EXPECTED, RESULTS_KINDS, require

__all__ = ["segment"]


@app.command("segment")
def segment(
    results: Annotated[Path, typer.Argument(help="results.json to add the segmentation to.")],
    signal: Annotated[
        str,
        typer.Option(
            "--signal",
            help="Signal: angle:NAME, angle:A,B,C, axis:JOINT[:x|y|z|up], distance:A,B, "
            "speed:JOINT (canonical joint names), or signal:NODE:SPEC (a derived-signal node).",
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Name to store it under.")] = "repetitions",
    video: Annotated[
        str | None, typer.Option("--video", help="Video in the file (if several).")
    ] = None,
    track: Annotated[
        int | None, typer.Option("--track", help="Subject track id (default: primary).")
    ] = None,
    prominence: Annotated[
        float | None,
        typer.Option("--prominence", help="Minimum peak prominence in signal units."),
    ] = None,
    min_distance: Annotated[
        float, typer.Option("--min-distance", help="Minimum seconds between repetitions.")
    ] = 0.3,
    smoothing_hz: Annotated[
        float | None, typer.Option("--smoothing-hz", help="Low-pass cut-off before detection.")
    ] = None,
    polarity: Annotated[
        str, typer.Option("--polarity", help="A repetition is a 'max' or a 'min' of the signal.")
    ] = "max",
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing segmentation.")
    ] = False,
) -> None:
    """Find repetitions (valley to valley); store them beside RESULTS (results stay unchanged)."""
    from pydantic import ValidationError

    from neuropose.analyzer.load import (
        load_results,
        load_segmentations,
        load_trial,
        segmentations_path,
    )
    from neuropose.analyzer.segment import segment_trial
    from neuropose.errors import UsageError
    from neuropose.io import sha256_file, write_model_atomic
    from neuropose.schemas import SegmentationFile
    from neuropose.schemas.analysis import SegmentationSignal

    try:
        spec = SegmentationSignal.parse(signal)
    except ValidationError as exc:
        raise UsageError(f"--signal {signal!r}: {exc.errors()[0]['msg']}") from None
    except ValueError as exc:
        raise UsageError(f"--signal: {exc}") from None
    if polarity not in {"max", "min"}:
        raise UsageError(f"--polarity must be 'max' or 'min', got {polarity!r}")
    require(results, "segment", RESULTS_KINDS, RESULTS_EXPECTED)
    doc = load_results(results)
    trial = load_trial(doc, video=video, track_id=track)
    vp = doc.video(trial.video)  # load_trial has checked the name / the single video
    if name in vp.segmentations and not force:
        raise UsageError(
            f"{results}: video {vp.video!r} already has a segmentation named {name!r}",
            hint="pass --force to replace it, or choose another --name",
        )
    seg = segment_trial(
        trial,
        spec,
        prominence=prominence,
        min_distance_s=min_distance,
        smoothing_hz=smoothing_hz,
        polarity=polarity,
    )
    digest = sha256_file(results)
    stored = load_segmentations(results)
    kept = dict(stored.videos) if stored is not None and stored.results_sha256 == digest else {}
    kept[vp.video] = {**kept.get(vp.video, {}), name: seg}
    side = segmentations_path(results)
    write_model_atomic(
        side, SegmentationFile(results_file=results.name, results_sha256=digest, videos=kept)
    )
    n_complete = sum(s.complete for s in seg.segments)
    out_console.print(
        f"{side}: {vp.video}: segmentation {name!r}: {len(seg.segments)} repetitions "
        f"({n_complete} complete) on {signal}",
        markup=False,
    )
    for k, s in enumerate(seg.segments):
        flag = "" if s.complete else "  (incomplete)"
        out_console.print(
            f"  {k:3d}  frames {s.start_frame}-{s.end_frame}  {s.start_s:.3f}-{s.end_s:.3f} s{flag}"
        )
