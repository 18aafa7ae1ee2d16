"""``neuropose opensim``: OpenSim scaling + inverse kinematics of a results file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state

__all__ = ["opensim"]


@app.command("opensim")
def opensim(
    ctx: typer.Context,
    results: Annotated[Path, typer.Argument(help="A results.json file (BlazePose-33).")],
    height: Annotated[float, typer.Option("--height", help="Subject height, metres.")],
    mass: Annotated[float, typer.Option("--mass", help="Subject mass, kilograms.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output folder (default: <results dir>/opensim)."),
    ] = None,
    video: Annotated[str | None, typer.Option("--video", help="Only this video.")] = None,
    track: Annotated[int | None, typer.Option("--track", help="Subject track id.")] = None,
    max_gap: Annotated[
        int, typer.Option("--max-gap", min=0, help="Longest gap (frames) interpolated.")
    ] = 5,
    on_long_gap: Annotated[
        str, typer.Option("--on-long-gap", help="refuse, or split (IK on the longest segment).")
    ] = "refuse",
    filter_hz: Annotated[
        float | None,
        typer.Option("--filter-hz", help="Low-pass the markers before IK (Butterworth, Hz)."),
    ] = None,
    unlock: Annotated[
        bool,
        typer.Option(
            "--unlock-feet", help="Solve mtp_angle and subtalar_angle instead of locking them."
        ),
    ] = False,
) -> None:
    """Scale Pose2Sim's full-body model and run inverse kinematics (needs the opensim extra)."""
    from neuropose.datadir.layout import OPENSIM_DIR
    from neuropose.export import ExportOptions, load_tracks
    from neuropose.export.base import require
    from neuropose.export.opensim_run import (
        DEFAULT_LOCKED,
        OpenSimOptions,
        check_track,
        run_opensim,
    )
    from neuropose.export.opensim_setup import fetch_setup_files
    from neuropose.quality import refresh_opensim_summaries

    require("opensim", "opensim", "OpenSim scaling and inverse kinematics")
    options = OpenSimOptions(
        height_m=height,
        mass_kg=mass,
        lock=() if unlock else DEFAULT_LOCKED,
        filter_hz=filter_hz,
        export=ExportOptions(max_gap=max_gap, on_long_gap=on_long_gap),
    )
    tracks = load_tracks(results, video=video, track_id=track)
    for tr in tracks:
        check_track(tr)  # before fetching the setup files
    settings = state(ctx).load().settings
    setup = fetch_setup_files(settings.model_cache_dir.parent / "opensim")
    out_root = output or results.parent / OPENSIM_DIR
    for tr in tracks:
        run = run_opensim(tr, setup, out_root, options)
        s = run.record.summary
        knees = ", ".join(f"{k} {v}" for k, v in s.items() if k.endswith("_knee_rms_deg"))
        out_console.print(
            f"ok      {tr.video}: marker RMS {s['marker_rms_mm_median']} mm (median), "
            f"IK vs 3-point knee: {knees or 'n/a'} deg"
        )
        out_console.print(f"folder  {run.directory}")
    for path in refresh_opensim_summaries(results, out_root):
        out_console.print(f"quality {path}")
