"""``neuropose demo``: the whole pipeline on a real clip, from nothing.

Fetches the default model (``blazepose-full``, from the pinned MediaPipe
wheel) and the demo clip (from the pinned ``pose2sim`` wheel), ingests the
clip as a job into a demo data directory, runs the daemon until the job is
done (``watch --once``), renders the overlay, plots and quality report, and
says where everything is and how to open the dashboard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from neuropose.cli.app import app, out_console, state

DEMO_JOB = "demo_cam01"


@app.command("demo")
def demo(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory for the demo job (default: a 'demo' directory beside the "
            "configured data_dir, so real jobs are never touched).",
        ),
    ] = None,
) -> None:
    """Fetch the default model and a real lab clip, process it and render the results."""
    from neuropose.datadir import DataDir, read_status
    from neuropose.ingest import ingest_paths
    from neuropose.interfacer import Interfacer, build_processor
    from neuropose.io import load_model
    from neuropose.models import fetch_model
    from neuropose.samples import DEMO_CLIP, fetch_sample
    from neuropose.schemas import JobResults, JobState
    from neuropose.visualize.pipeline import visualize_results

    base = state(ctx).load().settings
    target = data_dir if data_dir is not None else base.data_dir.parent / "demo"
    settings = state(ctx).load(data_dir=target, settle_seconds=0.0).settings

    out_console.print(f"[bold]1/5[/] model {settings.default_model} → {settings.model_cache_dir}")
    fetch_model(settings.default_model, settings.model_cache_dir)

    samples_dir = settings.model_cache_dir.parent / "samples"
    out_console.print(f"[bold]2/5[/] demo clip ({DEMO_CLIP.requirement}) → {samples_dir}")
    clip = fetch_sample(DEMO_CLIP, samples_dir)

    out_console.print(f"[bold]3/5[/] ingest {clip.name} as job {DEMO_JOB} into {target}")
    ingest_paths([clip], target, job=DEMO_JOB, force=True)

    out_console.print("[bold]4/5[/] processing (neuropose watch --once)")
    Interfacer(settings, lambda: build_processor(settings, settings.default_model), once=True).run()
    entry = read_status(target).jobs[DEMO_JOB]
    if entry.state is not JobState.COMPLETED:
        from neuropose.errors import ProcessingError

        raise ProcessingError(f"demo job ended {entry.state.value}: {entry.error}")
    results_path = DataDir(target).job(DEMO_JOB).results
    results = load_model(results_path, JobResults)
    video = results.videos[0]

    out_console.print("[bold]5/5[/] rendering overlay, 3D view, plots and quality report")
    vis = visualize_results(results_path)

    detected = len(set(video.det_frame.tolist()))
    metrics = video.metrics
    out_console.print()
    out_console.print(
        f"[green]done[/]: {video.num_frames} frames of {video.video}, a person in {detected} "
        f"({100 * detected / max(video.num_frames, 1):.0f} %)"
        + (f", {metrics.fps:.1f} frames/s" if metrics is not None else "")
    )
    out_console.print(f"results:   {results_path}")
    out_console.print(f"visuals:   {vis.out_dir}")
    exe = _self_command()
    out_console.print(
        f"dashboard: {exe} serve --data-dir {target}   then open http://"
        f"{settings.monitor_host}:{settings.monitor_port}/",
        markup=False,
    )
    out_console.print(
        "The demo ran the daemon once (watch --once) and stopped it, so the dashboard shows "
        f"no daemon running; `{exe} watch --data-dir {target}` keeps one running.",
        markup=False,
    )


def _self_command() -> str:
    """How to run this same ``neuropose`` without activating its virtual environment."""
    import shutil
    import sys

    script = Path(sys.argv[0])
    if script.name != "neuropose" or not script.is_file():
        return "neuropose"
    if shutil.which("neuropose") == str(script.absolute()):
        return "neuropose"  # already on PATH (an activated venv, or installed globally)
    path = script.absolute()
    try:
        return str(path.relative_to(Path.cwd()))  # e.g. .venv/bin/neuropose after `make demo`
    except ValueError:
        return str(path)
