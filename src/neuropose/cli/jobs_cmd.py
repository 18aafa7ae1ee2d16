"""Operator commands on a data directory: status, retry, prune, reset, doctor."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from neuropose.cli.app import app, out_console, state
from neuropose.cli.options import DataDirOption, existing_data_dir
from neuropose.errors import NeuroPoseError
from neuropose.logs import printable

if TYPE_CHECKING:
    from neuropose.schemas.status import JobStatusEntry


def _age(entry: JobStatusEntry, now: datetime) -> str:
    """Age of the entry's last update, worded exactly as on the dashboard."""
    from neuropose.datadir.liveness import heartbeat_age
    from neuropose.timefmt import format_age

    age = heartbeat_age(entry, now)
    return entry.last_update if age is None else format_age(age)


@app.command("status")
def status(
    ctx: typer.Context,
    job: Annotated[str | None, typer.Argument(help="Show only this job.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Show the N most recently changed jobs (0: all).")
    ] = 50,
    state_filter: Annotated[
        str | None,
        typer.Option(
            "--state", help="Only jobs in this state (queued, processing, completed, ...)."
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show job counts and the most recently changed jobs (or one job)."""
    from neuropose.datadir import UnknownJobError, query_jobs, read_job_status, read_status
    from neuropose.errors import UsageError
    from neuropose.schemas.status import JobState

    loaded = state(ctx).load(data_dir=data_dir)
    existing_data_dir(loaded)
    settings = loaded.settings
    doc = read_status(settings.data_dir)
    counts = doc.state_counts()
    if job is not None:
        entry = read_job_status(settings.data_dir, job)
        if entry is None:
            raise UnknownJobError(
                f"no job {job!r} in {settings.data_dir}",
                hint="run `neuropose status` to list jobs",
            )
        jobs = {job: entry}
        matching = 1
    else:
        try:
            states = None if state_filter is None else [JobState(state_filter)]
        except ValueError:
            raise UsageError(
                f"--state {state_filter!r} is not a job state",
                hint="one of " + ", ".join(s.value for s in JobState),
            ) from None
        matching, page = query_jobs(settings.data_dir, states=states, limit=limit or None)
        jobs = {e.job_id: e for e in page}
    if as_json:
        payload = doc.model_dump(mode="json")
        payload["counts"] = {s.value: n for s, n in counts.items()}
        payload["jobs"] = {k: v.model_dump(mode="json") for k, v in jobs.items()}
        out_console.print_json(json.dumps(payload))
        return
    if not jobs:
        out_console.print(f"no jobs in {settings.data_dir}")
        return
    _print_table(settings, jobs)
    if job is None:
        shown = ", ".join(f"{n:,} {s.value}" for s, n in counts.items() if n)
        what = f" {state_filter}" if state_filter else ""
        out_console.print(
            f"{sum(counts.values()):,} job(s): {shown}; showing the {len(jobs):,} most recently "
            f"changed of {matching:,}{what} (--limit N, --state STATE)",
            markup=False,
        )
    if job is not None:
        from neuropose.datadir import DataDir

        _print_cameras(jobs[job])
        _print_quality(DataDir(settings.data_dir).job(job).output)


def _print_cameras(entry: JobStatusEntry) -> None:
    """A multi-view job's per-camera reprojection figures and warnings (from its status entry).

    ``!`` marks a camera that a warning names.
    """
    from neuropose.multiview.summary import names_camera

    if entry.cameras:
        out_console.print("cameras (multi-view):", markup=False)
    for c in entry.cameras:
        flag = " !" if any(names_camera(w, c.camera) for w in entry.warnings) else ""
        med = "n/a" if c.median_reprojection_px is None else f"{c.median_reprojection_px:.1f} px"
        line = (
            f"  {c.camera}{flag} ({c.video}): median reprojection {med}, swaps {c.swaps}, "
            f"offset {c.offset_frames:+d}"
        )
        out_console.print(printable(line), markup=False, soft_wrap=True)
    for w in entry.warnings:
        out_console.print(printable(f"warning: {w}"), markup=False, soft_wrap=True)


def _print_table(settings: Any, jobs: dict[str, Any]) -> None:
    """The jobs table, their errors and notes about stale or orphaned jobs."""
    from neuropose.datadir import DataDir, probe_lock
    from neuropose.datadir.liveness import is_stale
    from neuropose.timefmt import format_duration

    daemon = probe_lock(DataDir(settings.data_dir).lock)
    table = Table("job", "state", "attempts", "frames", "fps", "eta", "updated")
    now = datetime.now(UTC)
    notes: list[str] = []
    for job_id, e in jobs.items():
        expected = e.frames_expected if e.frames_expected is not None else "?"
        shown = e.state.value
        if e.state.value == "processing":
            if not daemon.held:
                shown += " *"
                notes.append(
                    f"* {job_id}: no daemon is running; it resumes from its last "
                    "checkpoint when `neuropose watch` starts"
                )
            elif is_stale(e, now, settings.stale_after_seconds):
                shown += " *"
                notes.append(
                    f"* {job_id}: no heartbeat for over {settings.stale_after_seconds:g} s; "
                    "the daemon may be stuck"
                )
        table.add_row(
            job_id,
            shown,
            str(e.attempts),
            "waiting"
            if e.state.value == "queued" and not e.frames_done
            else f"{e.frames_done}/{expected}",
            f"{e.fps:.1f}" if e.fps else "-",
            format_duration(e.eta_s) if e.state.value == "processing" else "-",
            _age(e, now),
        )
    out_console.print(table)
    for job_id, e in jobs.items():
        if e.error:
            out_console.print(printable(f"{job_id}: {e.error}"), markup=False)
    for note in notes:
        out_console.print(note, markup=False)


def _print_quality(job_out: Path) -> None:
    """Quality summary of each video of a job, when its reports exist."""
    from neuropose.quality import load_quality_reports, summarize_quality

    for video, report in load_quality_reports(job_out).items():
        quality = Table("quality", video, show_header=True)
        for label, value in summarize_quality(report)[1:]:
            quality.add_row(label, value)
        out_console.print(quality)


@app.command("retry")
def retry(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="Failed job to process again.")],
    data_dir: DataDirOption = None,
    render_only: Annotated[
        bool, typer.Option("--render-only", help="Render a completed job's visuals again.")
    ] = False,
) -> None:
    """Move a failed job back to in/ (its attempt history is kept)."""
    from neuropose.datadir.operations import retry_job

    loaded = state(ctx).load(data_dir=data_dir)
    existing_data_dir(loaded)
    settings = loaded.settings
    if render_only:
        from neuropose.cli.visualize_cmd import render_job_again

        render_job_again(Path(settings.data_dir), job)
        return
    entry = retry_job(Path(settings.data_dir), job)
    if entry is None:
        out_console.print(f"moved failed/{job} to in/{job}; the running daemon will queue it")
    else:
        out_console.print(
            f"moved failed/{job} to in/{job}; queued (attempts so far: {entry.attempts})"
        )


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        float, typer.Option("--older-than", help="Forget jobs finished more than DAYS ago.")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Forget old completed/failed jobs in status files (inputs and results are kept)."""
    from neuropose.datadir.operations import plan_prune

    loaded = state(ctx).load(data_dir=data_dir)
    existing_data_dir(loaded)
    settings = loaded.settings
    plan = plan_prune(Path(settings.data_dir), older_than, dry_run=dry_run)
    verb = "would forget" if dry_run else "forgot"
    out_console.print(f"{verb} {len(plan.jobs)} job(s)" + (":" if plan.jobs else ""))
    for job_id in plan.jobs:
        out_console.print(f"  {job_id}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete (default: dry run).")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Delete the daemon's status files and checkpoints of this data directory.

    Inputs (in/, failed/) and results.json files are kept; the next `watch`
    re-queues jobs in in/ without results. Without --yes nothing is deleted.
    """
    from neuropose.datadir.operations import plan_reset

    loaded = state(ctx).load(data_dir=data_dir)
    existing_data_dir(loaded)
    settings = loaded.settings
    root = Path(settings.data_dir)
    plan = plan_reset(root, yes=yes)
    verb = "deleted" if plan.executed else "would delete"
    out_console.print(f"{verb} {len(plan.paths)} path(s) in {root}:")
    for p in plan.paths:
        out_console.print(f"  {p.relative_to(root)}")
    if not yes:
        out_console.print("dry run: nothing changed; run again with --yes to delete")


@app.command("doctor")
def doctor(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    model: Annotated[str | None, typer.Option("--model", help="Model to verify.")] = None,
) -> None:
    """Check the data directory, disk, lock, model cache and the model's runtime (exit 0/1)."""
    from neuropose.interfacer.doctor import run_all_checks

    loaded = state(ctx).load(data_dir=data_dir)
    existing_data_dir(loaded)
    settings = loaded.settings
    checks = run_all_checks(settings, model)
    for c in checks:
        mark = "[green]ok  [/green]" if c.ok else "[red]FAIL[/red]"
        out_console.print(f"{mark} {c.name}: {c.detail}", markup=True)
        if not c.ok and c.fix:
            out_console.print(f"       fix: {c.fix}", markup=False)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise DoctorFailed(f"{len(failed)} check(s) failed: {', '.join(failed)}")


class DoctorFailed(NeuroPoseError):
    """At least one doctor check failed (exit code 1)."""

    exit_code = 1
