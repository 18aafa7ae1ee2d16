"""Export orchestration: prepare every format, then save, then record."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neuropose import __version__
from neuropose.errors import NeuroPoseError, UsageError
from neuropose.export.base import ExportOptions, Output, get_writer
from neuropose.export.record import ExportedFile, ExportRecord
from neuropose.export.track import PoseTrack, track_from_predictions
from neuropose.io import sha256_file, write_model_atomic
from neuropose.schemas import JobResults

__all__ = ["ExportResult", "export_job", "export_track", "parse_formats"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_track` wrote: every file and the record's path."""

    files: tuple[Path, ...]
    record_path: Path
    record: ExportRecord


def parse_formats(spec: str | Sequence[str]) -> list[str]:
    """Format names from ``"trc,mot"`` or a list; validated, duplicates removed.

    Examples
    --------
    >>> parse_formats("trc, mot,trc")
    ['trc', 'mot']
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        get_writer(name)  # raises UsageError naming the known formats
        if name not in names:
            names.append(name)
    if not names:
        raise UsageError("no export format given", hint="e.g. --format trc,mot,csv-long")
    return names


def export_track(
    track: PoseTrack,
    out_dir: Path | str,
    formats: str | Sequence[str],
    options: ExportOptions | None = None,
) -> ExportResult:
    """Write ``formats`` of ``track`` into ``out_dir`` plus ``<stem>.export.json``.

    Every format is checked (optional libraries) and converted before any
    file is written, so a refused export leaves nothing behind; if saving
    fails midway, the files this call already wrote are removed.

    Raises
    ------
    neuropose.export.MissingExtraError
        A format's optional library is not installed (exit code 4).
    neuropose.export.LongGapError
        ``.trc``/``.mot`` refused a long gap (exit code 2).
    """
    options = options or ExportOptions()
    names = parse_formats(formats)
    writers = [get_writer(n) for n in names]
    for w in writers:
        w.check()
    prepared: list[tuple[str, Output]] = []
    for w in writers:
        prepared += [(w.name, o) for o in w.prepare(track, options)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    entries: list[ExportedFile] = []
    try:
        for fmt, o in prepared:
            path = out / o.filename
            o.save(path)
            written.append(path)
            entries.append(
                ExportedFile(
                    format=fmt, file=o.filename, sha256=sha256_file(path), details=o.record
                )
            )
        record = ExportRecord(
            created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            neuropose_version=__version__,
            source=track.describe(),
            options=options.record(),
            files=tuple(entries),
        )
        record_path = out / f"{track.stem}.export.json"
        write_model_atomic(record_path, record)
    except BaseException:
        for p in written:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        raise
    logger.info("exported %s: %s", track.video, ", ".join(p.name for p in written))
    return ExportResult(files=tuple(written), record_path=record_path, record=record)


def export_job(
    results: JobResults, out_dir: Path, formats: str, options: ExportOptions | None = None
) -> list[str]:
    """The daemon's exports of a finished job; never raises (exports are derived data).

    Each format of each video is written on its own, so one refused format
    (a long gap in a ``.trc``, a missing extra, an unknown name) does not
    stop the others. Returns the failures, each also logged as a warning
    naming the job, video and format.
    """
    failures: list[str] = []
    try:
        names = parse_formats(formats)
    except NeuroPoseError as exc:
        failures.append(f"job {results.job_id}: export_formats: {exc}")
        names = []
    for vp in results.videos if names else ():
        try:
            track = track_from_predictions(vp, job_id=results.job_id)
        except NeuroPoseError as exc:
            failures.append(f"job {results.job_id}, {vp.video}: no export: {exc.message}")
            continue
        good = []
        for name in names:  # find the formats that convert, so one refusal spares the rest
            try:
                writer = get_writer(name)
                writer.check()
                writer.prepare(track, options or ExportOptions())
                good.append(name)
            except (NeuroPoseError, ValueError) as exc:
                failures.append(f"job {results.job_id}, {vp.video}: {name} not exported: {exc}")
        try:
            if good:
                export_track(track, out_dir, good, options)
        except (NeuroPoseError, OSError, ValueError) as exc:
            failures.append(f"job {results.job_id}, {vp.video}: exports not written: {exc}")
    for msg in failures:
        logger.warning("%s", msg)
    return failures
