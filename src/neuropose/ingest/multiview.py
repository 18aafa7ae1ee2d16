"""Multi-view jobs at ingest: a folder holding videos and ONE calibration file.

The folder (in an archive, under a folder given, or the files named on the
command line with ``--job``) becomes one job holding its videos, the
calibration and an optional ``cameras.toml``; the file rules are
:mod:`neuropose.multiview.job`'s, the ones the daemon applies. Checked
before anything is written, every problem listed:

* one calibration per folder, and it parses (the message names the camera
  and field); a ``cameras.toml`` only next to a calibration;
* every video next to the calibration pairs with a distinct camera; no
  video in a sub-folder below it (it would silently become a single-view
  job); with ``--job`` every video of the input is in that folder;
* frame rates are equal and every video's size fits its camera (probed
  with OpenCV, no decoding). Folder and file inputs are probed before
  staging; archive members once extracted into the staging directory,
  before anything reaches ``in/`` (a dry run of an archive skips this).

The job is named after the folder's path (parts joined with ``_``), or
after the folder given / the archive when the calibration is at its top.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from neuropose.errors import NeuroPoseError
from neuropose.ingest.errors import IngestError
from neuropose.ingest.naming import check_name, listing, sanitize_name
from neuropose.ingest.report import SkipReason
from neuropose.multiview.job import (
    CAMERA_MAP_NAME,
    MAX_SIDE_FILE_BYTES,
    MultiviewSpec,
    check_videos,
    find_spec,
    is_calibration,
    resolve_spec,
    side_file_kind,
)

if TYPE_CHECKING:
    from neuropose.ingest.collisions import JobPlan
    from neuropose.ingest.plan import Item, Planner

__all__ = ["check_staged_jobs", "plan_multiview"]

#: Reads a side file's bytes (at most :data:`MAX_SIDE_FILE_BYTES`).
Reader = Callable[["Item"], bytes]


def _read_path(item: Item) -> bytes:
    assert item.path is not None
    with item.path.open("rb") as f:
        return f.read(MAX_SIDE_FILE_BYTES)


def plan_multiview(planner: Planner, *, probe: bool, read: Reader = _read_path) -> None:
    """Turn folders holding a calibration into multi-view jobs, adding problems to ``planner``.

    Parameters
    ----------
    planner : Planner
        Its videos and side-file candidates (``planner.side_files``) are final.
    probe : bool
        Probe the videos' frame rates and sizes now (their ``path`` is set).
    read : callable
        Reads a side file (default: from its ``path``).
    """
    if not planner.side_files:
        return
    with tempfile.TemporaryDirectory(prefix="neuropose-ingest-") as tmp:
        cals: dict[tuple[str, ...], list[tuple[Item, Path]]] = {}
        maps: dict[tuple[str, ...], tuple[Item, Path]] = {}
        for i, item in enumerate(planner.side_files):
            kind = side_file_kind(item.file)
            if item.size > MAX_SIDE_FILE_BYTES:
                if kind == "maybe":
                    planner.skip(item.source, SkipReason.NOT_VIDEO)
                else:
                    planner.problems.append(
                        f"{item.source}: {item.size} bytes is too large for a calibration "
                        f"or camera map (at most {MAX_SIDE_FILE_BYTES})"
                    )
                continue
            data = read(item)
            if kind == "maybe" and not is_calibration(item.file, data.decode("utf-8", "replace")):
                planner.skip(item.source, SkipReason.NOT_VIDEO)
                continue
            local = item.path
            if local is None:  # an archive member: parsed from a private copy
                local = Path(tmp) / str(i) / item.file
                local.parent.mkdir()
                local.write_bytes(data)
            if kind == "camera_map":
                maps[item.group] = (item, local)
            else:
                cals.setdefault(item.group, []).append((item, local))
        for group, (item, _) in maps.items():
            if group not in cals:
                planner.problems.append(
                    f"{item.source}: a camera map without a calibration file in its folder"
                )
        for group, found in cals.items():
            if len(found) > 1:
                names = ", ".join(i.source for i, _ in found)
                planner.problems.append(
                    f"several calibration files in one folder ({names}); a multi-view job "
                    "holds exactly one"
                )
                continue
            _plan_job(planner, group, found[0], maps.get(group), probe)


def _plan_job(
    planner: Planner,
    group: tuple[str, ...],
    cal: tuple[Item, Path],
    cmap: tuple[Item, Path] | None,
    probe: bool,
) -> None:
    cal_item, cal_path = cal
    items = planner.plan.items
    videos = [it for it in items if it.group == group]
    below = [
        it.source for it in items if len(it.group) > len(group) and it.group[: len(group)] == group
    ]
    if below:
        planner.problems.append(
            f"{cal_item.source}: videos in sub-folders below the calibration would not be "
            f"part of its multi-view job ({', '.join(below[:5])}); put the calibration "
            "next to the videos of each trial"
        )
        return
    if planner.job is not None:
        outside = [it.source for it in items if it.group != group]
        if outside:
            planner.problems.append(
                f"--job {planner.job} with calibration {cal_item.source}: every video must be "
                f"in the calibration's folder; not: {', '.join(outside[:5])}"
            )
            return
    name = planner.job or (
        sanitize_name("_".join(group[1:])) if len(group) > 1 else planner.root_names[group[0]]
    )
    if name is None:
        planner.problems.append(
            f"{cal_item.source}: a calibration named with video files needs --job NAME "
            "(the multi-view job's name)"
        )
        return
    bad = check_name(name, f"{cal_item.source} (multi-view job name)")
    if bad:
        planner.problems.append(bad + "; use --job NAME")
        return
    for it in videos:
        it.job, it.multiview = name, True
        it.file = sanitize_name(PurePosixPath(it.source.replace("\\", "/")).name)
    cal_item.job, cal_item.kind, cal_item.multiview = name, "calibration", True
    cal_item.file = sanitize_name(cal_item.file)
    extra = [cal_item]
    labels = {cal_path: cal_item.source}
    if cmap is not None:
        map_item, map_path = cmap
        map_item.job, map_item.kind, map_item.multiview = name, "camera_map", True
        map_item.file = CAMERA_MAP_NAME
        extra.append(map_item)
        labels[map_path] = map_item.source
    items.extend(extra)
    try:
        spec = resolve_spec(
            cal_path,
            [it.file for it in videos],
            cmap[1] if cmap else None,
            labels=labels,
        )
    except NeuroPoseError as exc:
        planner.problems.append(exc.message + (f" (fix: {exc.hint})" if exc.hint else ""))
        return
    if probe:
        paths = {it.file: it.path for it in videos if it.path is not None}
        planner.problems.extend(f"job {name}: {p}" for p in _probe_problems(spec, paths))


def _probe_problems(spec: MultiviewSpec, paths: dict[str, Path]) -> list[str]:
    """Frame-rate and size problems of the job's videos (OpenCV probe, no decoding)."""
    from neuropose.video.reader import probe_video  # OpenCV: only when a job is multi-view

    probes: dict[str, tuple[int, int, float | None]] = {}
    problems: list[str] = []
    for file, path in sorted(paths.items()):
        try:
            info = probe_video(path)
        except NeuroPoseError as exc:
            problems.append(f"{file}: {exc.message}")
            continue
        probes[file] = (info.width, info.height, info.fps_reported)
    return problems + check_videos(spec, probes)


def check_staged_jobs(staged: Path, jobs: list[JobPlan]) -> None:
    """Probe the extracted videos of multi-view jobs in ``staged`` (archive input).

    Raises
    ------
    IngestError
        Frame rates differ or a size does not fit its camera; nothing was placed.
    """
    problems = []
    for job in jobs:
        if not any(it.kind == "calibration" for it in job.items):
            continue
        job_dir = staged / job.name
        videos = sorted(it.file for it in job.items if it.kind == "video")
        try:
            spec = find_spec(job_dir, videos)
        except NeuroPoseError as exc:
            problems.append(f"job {job.name}: {exc.message}")
            continue
        assert spec is not None
        paths = {v: job_dir / v for v in videos}
        problems.extend(f"job {job.name}: {p}" for p in _probe_problems(spec, paths))
    if problems:
        raise IngestError(
            f"refusing the multi-view job(s) ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}):\n{listing(problems)}",
            hint="nothing was written; resample the videos to one frame rate or use the "
            "calibration of the cameras that filmed them",
        )
