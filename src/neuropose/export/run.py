"""Export orchestration: prepare every format, then save, then record."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neuropose import __version__
from neuropose.errors import InputError, NeuroPoseError, UsageError
from neuropose.export.base import ExportOptions, get_writer
from neuropose.export.record import ExportedFile, ExportRecord
from neuropose.export.track import PoseTrack, track_from_predictions
from neuropose.io import sha256_file, write_model_atomic
from neuropose.schemas import JobResults

__all__ = ["ExportResult", "export_job", "export_track", "export_tracks", "parse_formats"]

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

    See :func:`export_tracks` (this is the one-track case).
    """
    return export_tracks([track], out_dir, formats, options)[0]


def export_tracks(
    tracks: Sequence[PoseTrack],
    out_dir: Path | str,
    formats: str | Sequence[str],
    options: ExportOptions | None = None,
) -> list[ExportResult]:
    """Write ``formats`` of every track into ``out_dir``, each with its ``<stem>.export.json``.

    Every format of every track is checked (optional libraries) and converted
    before any file is written, so a refused export leaves nothing behind; if
    saving fails midway, the files this call already wrote are removed.

    Raises
    ------
    neuropose.export.MissingExtraError
        A format's optional library is not installed (exit code 4).
    neuropose.export.LongGapError
        ``.trc``/``.mot`` refused a long gap (exit code 2).
    InputError
        Two videos would export to the same file names.
    """
    options = options or ExportOptions()
    writers = [get_writer(n) for n in parse_formats(formats)]
    stems = [t.stem for t in tracks]
    if len(set(stems)) != len(stems):
        raise InputError(
            f"videos {', '.join(t.video for t in tracks)} share a file-name stem",
            hint="export them one at a time with --video and different --output folders",
        )
    for w in writers:
        w.check()
    plan = [(t, [(w.name, o) for w in writers for o in w.prepare(t, options)]) for t in tracks]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    results: list[ExportResult] = []
    try:
        for track, prepared in plan:
            entries: list[ExportedFile] = []
            files: list[Path] = []
            for fmt, o in prepared:
                path = out / o.filename
                o.save(path)
                written.append(path)
                files.append(path)
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
            written.append(record_path)
            results.append(ExportResult(tuple(files), record_path, record))
            logger.info("exported %s: %s", track.video, ", ".join(p.name for p in files))
    except BaseException:
        for p in written:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        raise
    return results


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
