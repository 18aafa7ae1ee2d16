"""``neuropose export``: write a results file as OpenSim, C3D, NWB or CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console

__all__ = ["export"]


@app.command("export")
def export(
    results: Annotated[Path, typer.Argument(help="A results.json file.")],
    formats: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Comma-separated formats: csv-long, csv-wide, trc, mot, c3d, nwb "
            "(c3d and nwb need the export extra).",
        ),
    ] = "csv-long,trc,mot",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Output directory (default: <results dir>/export)."),
    ] = None,
    video: Annotated[
        str | None, typer.Option("--video", help="Only this video of the results.")
    ] = None,
    track: Annotated[
        int | None, typer.Option("--track", help="Subject track id (default: primary subject).")
    ] = None,
    max_gap: Annotated[
        int,
        typer.Option("--max-gap", min=0, help="Longest gap (frames) interpolated in .trc/.mot."),
    ] = 5,
    on_long_gap: Annotated[
        str,
        typer.Option("--on-long-gap", help="Longer gaps in .trc/.mot: refuse or split."),
    ] = "refuse",
    up: Annotated[
        str,
        typer.Option("--up", help="Up axis for .trc: auto, ground_plane, body_axis or camera."),
    ] = "auto",
) -> None:
    """Export poses to files biomechanics tools open (one set per video)."""
    from neuropose.datadir.layout import EXPORT_DIR
    from neuropose.export import ExportOptions, export_tracks, load_tracks, parse_formats

    names = parse_formats(formats)
    options = ExportOptions(max_gap=max_gap, on_long_gap=on_long_gap, up=up)
    out_dir = output or results.parent / EXPORT_DIR
    tracks = load_tracks(results, video=video, track_id=track)
    for res in export_tracks(tracks, out_dir, names, options):
        for path in res.files:
            out_console.print(f"wrote   {path}")
        out_console.print(f"record  {res.record_path}")
