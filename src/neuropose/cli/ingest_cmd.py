"""``neuropose ingest``: queue videos from a zip archive, folders or files.

See :mod:`neuropose.ingest` for the validation rules, job naming and the
crash-safety contract with the daemon.
"""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from neuropose.cli.app import app, err_console, out_console, state
from neuropose.cli.options import DataDirOption
from neuropose.errors import Interrupted, UsageError
from neuropose.interrupts import handle_signals
from neuropose.logs import printable
from neuropose.timefmt import format_bytes

if TYPE_CHECKING:  # the ingest package and rich's progress bars load when the command runs
    from rich.progress import Progress

    from neuropose.ingest import IngestReport, ProgressCallback

#: Inputs at least this large get a progress bar on a terminal (bytes).
PROGRESS_MIN_BYTES = 64 * 1024**2

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int:
    """Parse ``"500M"``, ``"2G"``, ``"2GiB"`` or plain bytes into bytes (binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise typer.BadParameter(f"{text!r} is not a size; use bytes or e.g. 500M, 20G")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def _print_report(report: IngestReport) -> None:
    """The report as tables; every name escaped (:func:`neuropose.logs.printable`) and
    shown as plain text (never as rich markup)."""
    verb = "that would be queued" if report.dry_run else "queued"
    title = Text(f"Jobs {verb} in {printable(report.data_dir)}/in")
    table = Table("job", "video", "size", title=title)
    for job in report.jobs:
        for i, video in enumerate(job.videos):
            name = printable(job.name) if i == 0 else ""
            table.add_row(Text(name), Text(printable(video.file)), format_bytes(video.size_bytes))
    out_console.print(table)
    for job in report.jobs:
        if job.calibration is not None:
            out_console.print(
                f"multi-view job {printable(job.name)}: {len(job.videos)} views, calibration "
                f"{printable(job.calibration)} (triangulated by the daemon)",
                markup=False,
            )
        if job.replaced or job.previous_state is not None:
            what = printable(", ".join(job.replaced)) or "nothing on disk"
            prev = f" (status was {job.previous_state.value})" if job.previous_state else ""
            action = "would replace" if report.dry_run else "replaced"
            removed = "would remove" if report.dry_run else "removed"
            out_console.print(
                f"{action} {printable(job.name)}: {removed} {what}{prev}", markup=False
            )
    if report.skipped:
        skipped = Table("member", "reason", title="Skipped")
        for s in report.skipped:
            skipped.add_row(Text(printable(s.member)), s.reason.value)
        out_console.print(skipped)
    videos = sum(len(j.videos) for j in report.jobs)
    if report.dry_run:
        size = sum(j.size_bytes for j in report.jobs)
        out_console.print(
            f"dry run: {len(report.jobs)} job(s), {videos} video(s), {format_bytes(size)} would be "
            f"written ({report.mode}); {len(report.skipped)} skipped; nothing was written",
            markup=False,
        )
        return
    written = format_bytes(report.bytes_written)
    out_console.print(
        f"{len(report.jobs)} job(s), {videos} video(s), {written} written"
        f" ({report.mode}); {len(report.skipped)} skipped",
        markup=False,
    )


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    sources: Annotated[
        list[Path],
        typer.Argument(help="A .zip archive, or folders and video files.", show_default=False),
    ],
    job: Annotated[
        str | None,
        typer.Option("--job", help="Put every video into this one job (default: one per video)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing jobs of the same names.")
    ] = False,
    move: Annotated[
        bool, typer.Option("--move", help="Remove the source files after queueing them.")
    ] = False,
    link: Annotated[
        bool, typer.Option("--link", help="Hard-link instead of copying (same filesystem).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check everything and show the jobs; write nothing."),
    ] = False,
    follow_symlinks: Annotated[
        bool,
        typer.Option(
            "--follow-symlinks",
            help="Read the target of a source that is a symbolic link (refused otherwise).",
        ),
    ] = False,
    data_dir: DataDirOption = None,
    max_members: Annotated[
        int | None,
        typer.Option("--max-members", help="Most archive members (ingest_max_members)."),
    ] = None,
    max_total_bytes: Annotated[
        str | None,
        typer.Option(
            "--max-total-bytes",
            help="Most bytes written, e.g. 50G (ingest_max_total_bytes).",
        ),
    ] = None,
    max_ratio: Annotated[
        float | None,
        typer.Option("--max-ratio", help="Largest compression ratio (ingest_max_ratio)."),
    ] = None,
) -> None:
    """Validate and queue videos as jobs in DATA_DIR/in (one job per video by default).

    Exit codes: 0 queued; 2 refused input (unsafe archive, limit, collision, no
    videos, truncated video, symbolic link without --follow-symlinks); 3 busy
    (another ingest, or a job being processed); 4 not enough disk.
    """
    from neuropose.ingest import IngestLimits, ingest_archive, ingest_paths

    if move and link:
        raise UsageError("--move and --link exclude each other", hint="choose one")
    loaded = state(ctx).load(
        data_dir=data_dir,
        ingest_max_members=max_members,
        ingest_max_total_bytes=parse_size(max_total_bytes) if max_total_bytes else None,
        ingest_max_ratio=max_ratio,
    )
    settings = loaded.settings
    limits = IngestLimits.from_settings(settings)
    archives = [s for s in sources if s.suffix.lower() == ".zip"]
    if archives and len(sources) > 1:
        raise UsageError(
            "give one .zip archive at a time, without other paths",
            hint=f"run `neuropose ingest` once per archive ({len(archives)} given)",
        )
    if archives and (move or link):
        raise UsageError("--move and --link apply to folders and files, not to archives")

    total = 0
    if not as_json and err_console.is_terminal:
        total = sum(_size_of(s) for s in sources)
    with _stop_on_sigterm(), _progress(total) as callback:
        if archives:
            report = ingest_archive(
                archives[0],
                settings.data_dir,
                job=job,
                force=force,
                limits=limits,
                progress=callback,
                dry_run=dry_run,
                follow_symlinks=follow_symlinks,
            )
        else:
            report = ingest_paths(
                sources,
                settings.data_dir,
                job=job,
                force=force,
                mode="move" if move else "link" if link else "copy",
                limits=limits,
                progress=callback,
                dry_run=dry_run,
                follow_symlinks=follow_symlinks,
            )
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print_report(report)


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`Interrupted` so the ingest rolls back and cleans up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted("ingest stopped by SIGTERM; nothing was queued")

    with handle_signals(handler, (signal.SIGTERM,)):
        yield


def _size_of(path: Path) -> int:
    try:
        if path.is_file():
            return path.stat().st_size
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return 0
    return 0


class _progress:
    """A rich progress bar on a terminal for inputs of at least ``PROGRESS_MIN_BYTES``."""

    def __init__(self, total: int) -> None:
        self.bar: Progress | None = None
        if total >= PROGRESS_MIN_BYTES:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )

    def __enter__(self) -> ProgressCallback | None:
        if self.bar is None:
            return None
        bar = self.bar
        bar.start()
        task = bar.add_task("ingesting", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
