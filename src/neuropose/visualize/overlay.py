"""2D skeleton drawing: overlay on the original frames, or skeleton only.

Drawing conventions (BGR colours)
---------------------------------
* Joints are filled discs coloured by confidence ``c`` in 0..1:
  ``(0, 255·min(1, 2c), 255·min(1, 2(1−c)))`` — red at 0, yellow at 0.5,
  green at 1 (:func:`confidence_colour`). Models without confidence draw
  white joints. Joints with NaN coordinates are not drawn.
* Bones are the stored ``Skeleton.edges``. The subject (``primary_track_id``)
  is drawn with thick bones — left side blue ``#0072B2``, right side orange
  ``#E69F00`` (Okabe-Ito, colour-blind safe; :mod:`neuropose.visualize.sides`),
  centre cyan — and a thick cyan box labelled ``ID <n> subject``; other
  tracks get thin grey bones, a thin grey box and ``ID <n>``.
* Joint discs scale with the person: radius ``box height / 100`` px, at
  least 2 px and at most 4 × (3 × for others) the frame's line scale, so a
  distant person's limbs stay visible.
* A banner at the top left shows ``t = <timestamp> s  frame <i>/<n>`` (the
  container timestamp of the frame), and ``no prediction`` on frames the
  predictions do not cover.
* Skeleton-only frames start from a uniform neutral grey (``(60, 60, 60)``)
  canvas of the upright frame size; no pixel of the video is read.

Output frames have the size of the upright input and the output video has
one frame per decoded input frame (or per frame of ``--frames``), at the
nominal frame rate of the input, so its frame count and timing match the
input (a variable-frame-rate input is written at its median rate; the banner
still shows each frame's true timestamp).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from neuropose.errors import InputError
from neuropose.schemas.predictions import VideoPredictions
from neuropose.video.reader import FrameReader
from neuropose.video.writer import VideoWriter
from neuropose.visualize.sides import LEFT_BGR, RIGHT_BGR, edge_sides

__all__ = [
    "BACKGROUND_BGR",
    "PRIMARY_BGR",
    "SECONDARY_BGR",
    "FrameRange",
    "confidence_colour",
    "draw_frame",
    "iter_upright_frames",
    "nominal_fps",
    "render_frames",
    "render_overlay",
    "write_png",
]

log = logging.getLogger(__name__)

#: Neutral background of skeleton-only frames.
BACKGROUND_BGR = (60, 60, 60)
#: Bones and box of the subject.
PRIMARY_BGR = (255, 255, 0)
#: Bones and boxes of other people.
SECONDARY_BGR = (170, 170, 170)

#: Inclusive-start, exclusive-stop range of decode indices (None = open end).
FrameRange = tuple[int, int | None]
Progress = Callable[[int, int], None]


def confidence_colour(c: float | None) -> tuple[int, int, int]:
    """BGR colour of a joint with confidence ``c`` (white when None).

    Examples
    --------
    >>> confidence_colour(1.0), confidence_colour(0.5), confidence_colour(0.0)
    ((0, 255, 0), (0, 255, 255), (0, 0, 255))
    """
    if c is None or not np.isfinite(c):
        return (255, 255, 255)
    c = float(np.clip(c, 0.0, 1.0))
    return (0, round(255 * min(1.0, 2 * c)), round(255 * min(1.0, 2 * (1 - c))))


def _scale(frame: np.ndarray) -> int:
    return max(1, round(min(frame.shape[:2]) / 360))


def draw_frame(
    frame: np.ndarray,
    vp: VideoPredictions,
    position: int | None,
    *,
    decode_index: int | None = None,
) -> np.ndarray:
    """Draw the predictions of one frame onto ``frame`` in place and return it.

    Parameters
    ----------
    frame : ndarray, shape (H, W, 3), uint8
        Upright BGR frame (or a neutral canvas).
    vp : VideoPredictions
        Predictions of the video.
    position : int or None
        Position of this frame in ``vp.frame_index``; None when the
        predictions do not cover it (only the banner is drawn).
    decode_index : int, optional
        Decode index shown in the banner (defaults to ``frame_index[position]``).
    """
    s = _scale(frame)
    n = vp.num_frames
    if position is None:
        banner = f"frame {decode_index}  no prediction"
    else:
        # det_frame is sorted (schema invariant): the frame's rows are one slice.
        lo, hi = np.searchsorted(vp.det_frame, [position, position + 1])
        found = list(range(int(lo), int(hi)))
        # Others first so the subject is drawn on top.
        for r in sorted(found, key=lambda r: int(vp.track_id[r]) == vp.primary_track_id):
            _draw_person(frame, vp, r, s)
        idx = int(vp.frame_index[position]) if decode_index is None else decode_index
        banner = f"t = {float(vp.timestamp_s[position]):.3f} s  frame {idx + 1}/{n}"
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = 0.5 * s
    (tw, th), base = cv2.getTextSize(banner, font, scale, s)
    cv2.rectangle(frame, (0, 0), (tw + 8 * s, th + base + 8 * s), (0, 0, 0), -1)
    cv2.putText(frame, banner, (4 * s, th + 4 * s), font, scale, (255, 255, 255), s, cv2.LINE_AA)
    return frame


def _draw_person(frame: np.ndarray, vp: VideoPredictions, row: int, s: int) -> None:
    tid = int(vp.track_id[row])
    primary = vp.primary_track_id is not None and tid == vp.primary_track_id
    bone_col = PRIMARY_BGR if primary else SECONDARY_BGR
    bone_w = (3 if primary else 1) * s
    pose = vp.poses2d[row]
    conf = None if vp.confidence is None else vp.confidence[row]
    x, y, w, h, _score = (float(v) for v in vp.boxes[row])
    if all(np.isfinite(v) for v in (x, y, w, h)) and w > 0 and h > 0:
        cv2.rectangle(
            frame, (round(x), round(y)), (round(x + w), round(y + h)), bone_col, bone_w, cv2.LINE_AA
        )
        label = f"ID {tid} subject" if primary else f"ID {tid}"
        font = cv2.FONT_HERSHEY_SIMPLEX
        (tw, th), base = cv2.getTextSize(label, font, 0.5 * s, s)
        ty = max(th + base, round(y) - 2)
        cv2.rectangle(frame, (round(x), ty - th - base), (round(x) + tw + 4, ty), bone_col, -1)
        cv2.putText(frame, label, (round(x) + 2, ty - base), font, 0.5 * s, (0, 0, 0), s,
                    cv2.LINE_AA)  # fmt: skip
    ok = np.all(np.isfinite(pose), axis=1).tolist()
    pts = [tuple(p) for p in np.rint(np.nan_to_num(pose)).astype(np.int64).tolist()]
    side_colour = {"left": LEFT_BGR, "right": RIGHT_BGR, None: bone_col}
    sides = edge_sides(vp.skeleton) if primary else [None] * len(vp.skeleton.edges)
    for (a, b), side in zip(vp.skeleton.edges, sides, strict=True):
        if ok[a] and ok[b]:
            cv2.line(frame, pts[a], pts[b], side_colour[side], bone_w, cv2.LINE_AA)
    largest = (4 if primary else 3) * s
    radius = largest
    if np.isfinite(h) and h > 0:
        radius = int(np.clip(round(h / 100), 2, largest))
    colours = (
        [confidence_colour(float(c)) for c in conf.tolist()]
        if conf is not None
        else [confidence_colour(None)] * len(pts)
    )
    for j, p in enumerate(pts):
        if ok[j]:
            cv2.circle(frame, p, radius, colours[j], -1, cv2.LINE_AA)


def nominal_fps(vp: VideoPredictions) -> float:
    """Frame rate for output videos: the container's, else the median timestamp step."""
    if vp.metadata.fps_reported:
        return float(vp.metadata.fps_reported)
    if vp.num_frames >= 2:
        step = float(np.median(np.diff(vp.timestamp_s)))
        if step > 0:
            return 1.0 / step
    return 30.0


def _positions(vp: VideoPredictions) -> dict[int, int]:
    return {int(f): p for p, f in enumerate(vp.frame_index.tolist())}


def _in_range(index: int, frames: FrameRange | None) -> bool:
    if frames is None:
        return True
    start, stop = frames
    return index >= start and (stop is None or index < stop)


def iter_upright_frames(path: Path, rotation_degrees: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Decode ``path`` and yield ``(decode_index, upright BGR frame)``.

    Uses :class:`~neuropose.video.reader.FrameReader` (the same decoding and
    rotation that produced the predictions) and converts its RGB frames to
    BGR for drawing.

    Parameters
    ----------
    path : Path
        Video file.
    rotation_degrees : {0, 90, 180, 270}
        Clockwise rotation the predictions were made with
        (``VideoMetadata.rotation_degrees``).

    Raises
    ------
    InputError
        The file is missing or unreadable, or its rotation tag differs from
        the one recorded with the predictions.
    """
    if not Path(path).is_file():
        raise InputError(f"{path}: video not found", hint="pass the original video with --video")
    with FrameReader(path) as reader:
        if reader.info.rotation_degrees != rotation_degrees:
            raise InputError(
                f"{path}: rotation tag is {reader.info.rotation_degrees} degrees but the "
                f"predictions were made with {rotation_degrees}",
                hint="pass the video these results were computed from with --video",
            )
        for index, _ts, rgb in reader:
            yield index, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _canvas_frames(vp: VideoPredictions) -> Iterator[tuple[int, np.ndarray]]:
    w, h = vp.metadata.width, vp.metadata.height
    for f in vp.frame_index.tolist():
        yield int(f), np.full((h, w, 3), BACKGROUND_BGR, np.uint8)


def render_overlay(
    vp: VideoPredictions,
    out_path: Path,
    *,
    video: Path | None = None,
    skeleton_only: bool = False,
    frames: FrameRange | None = None,
    progress: Progress | None = None,
    preview_path: Path | None = None,
    preset: str = "ultrafast",
) -> int:
    """Render the overlay (or skeleton-only) MP4 of one video.

    Parameters
    ----------
    vp : VideoPredictions
        Predictions to draw.
    out_path : Path
        Destination ``.mp4`` (written atomically).
    video : Path, optional
        Original video; required unless ``skeleton_only``. Its upright frame
        size must equal ``vp.metadata`` width × height.
    skeleton_only : bool
        Draw on a neutral canvas; the video is never opened.
    frames : (start, stop), optional
        Decode-index range to render (stop exclusive, None = to the end).
    progress : callable, optional
        ``progress(done, total)`` after each frame (total is an estimate).
    preview_path : Path, optional
        Also save a representative frame as PNG here (the frame with the most
        confident subject, see :func:`pick_preview_position`).
    preset : str
        x264 preset.

    Returns
    -------
    int
        Frames written.

    Raises
    ------
    InputError
        The video is missing, cannot be decoded, or its frame size does not
        match the predictions; or ``frames`` selects no frame.
    """
    if not skeleton_only and video is None:
        raise InputError(
            f"the overlay of {vp.video} needs the original video",
            hint="pass it with --video, or use --skeleton-only",
        )
    preview_pos = pick_preview_position(vp, frames) if preview_path is not None else None
    return render_frames(
        vp,
        out_path,
        lambda frame, p, index: draw_frame(frame, vp, p, decode_index=index),
        video=None if skeleton_only else video,
        frames=frames,
        progress=progress,
        preview=(preview_path, preview_pos) if preview_path is not None else None,
        preset=preset,
    )


#: ``draw(frame, position, decode_index)`` draws onto an upright BGR frame in place.
DrawFn = Callable[[np.ndarray, int | None, int], object]


def render_frames(
    vp: VideoPredictions,
    out_path: Path,
    draw: DrawFn,
    *,
    video: Path | None = None,
    frames: FrameRange | None = None,
    progress: Progress | None = None,
    preview: tuple[Path, int | None] | None = None,
    preset: str = "ultrafast",
) -> int:
    """The one frame loop of every 2D video output: decode (or canvas), draw, encode.

    Parameters
    ----------
    vp : VideoPredictions
        The video's predictions (frame size, rate, decode indices).
    out_path : Path
        Destination ``.mp4`` (written atomically).
    draw : callable
        ``draw(frame, position, decode_index)``; ``position`` indexes
        ``vp.frame_index`` (None where the predictions do not cover the frame).
    video : Path, optional
        Original video; None draws on a neutral grey canvas (no pixel read).
    frames : (start, stop), optional
        Decode-index range (stop exclusive).
    progress : callable, optional
        ``progress(done, total)``.
    preview : (path, position), optional
        Save the frame at ``position`` as a PNG at ``path``.
    preset : str
        x264 preset.

    Returns
    -------
    int
        Frames written.

    Raises
    ------
    InputError
        Undecodable video, a frame size that differs from the predictions',
        or no frame in ``frames``.
    """
    pos = _positions(vp)
    w, h = vp.metadata.width, vp.metadata.height
    source: Iterator[tuple[int, np.ndarray]] = (
        _canvas_frames(vp)
        if video is None
        else iter_upright_frames(video, vp.metadata.rotation_degrees)
    )
    total = vp.num_frames
    if frames is not None:
        start, stop = frames
        total = max(0, min(total, stop if stop is not None else total) - start)
    written = 0
    with VideoWriter(out_path, (w, h), nominal_fps(vp), preset=preset) as writer:
        for index, frame in source:
            if frames is not None and frames[1] is not None and index >= frames[1]:
                break
            if not _in_range(index, frames):
                continue
            if frame.shape[:2] != (h, w):
                raise InputError(
                    f"{video}: upright frames are {frame.shape[1]}x{frame.shape[0]} but the "
                    f"predictions of {vp.video} were made on {w}x{h}",
                    hint="pass the video these results were computed from with --video",
                )
            p = pos.get(index)
            draw(frame, p, index)
            writer.write(frame)
            if preview is not None and p is not None and p == preview[1]:
                write_png(preview[0], frame)
            written += 1
            if progress is not None:
                progress(written, total)
        if written == 0:
            raise InputError(
                f"no frame of {vp.video} falls in the requested range {_fmt_range(frames)}",
                hint=f"the video has frames 0..{max(0, vp.num_frames - 1)}",
            )
    if video is not None and written < total:
        log.warning(
            "%s decoded %d frames but the predictions have %d", video, written, vp.num_frames
        )
    return written


def _fmt_range(frames: FrameRange | None) -> str:
    if frames is None:
        return "all"
    return f"{frames[0]}:{'' if frames[1] is None else frames[1]}"


def pick_preview_position(vp: VideoPredictions, frames: FrameRange | None = None) -> int | None:
    """Position of a representative frame: highest mean subject confidence.

    Falls back to the frame with the most detections, then the middle frame.
    Only frames inside ``frames`` are considered.
    """
    if vp.num_frames == 0:
        return None
    allowed = np.array([_in_range(int(f), frames) for f in vp.frame_index.tolist()])
    if not allowed.any():
        return None
    _, rows = vp.track()
    score = np.full(vp.num_frames, -1.0)
    present = (rows >= 0) & allowed
    if present.any():
        if vp.confidence is not None:
            c = np.nan_to_num(vp.confidence[rows[present]].astype(np.float64), nan=0.0)
            score[present] = c.mean(axis=1)
        else:
            score[present] = 1.0
        return int(np.argmax(score))
    counts = np.bincount(vp.det_frame, minlength=vp.num_frames).astype(np.float64)
    counts[~allowed] = -1
    if counts.max() > 0:
        return int(np.argmax(counts))
    idx = np.nonzero(allowed)[0]
    return int(idx[len(idx) // 2])


def write_png(path: Path, frame: np.ndarray) -> None:
    from neuropose.io import write_bytes_atomic

    ok, buf = cv2.imencode(".png", frame)
    if not ok:  # pragma: no cover - imencode of a uint8 BGR image does not fail
        raise InputError(f"cannot encode {path.name}")
    write_bytes_atomic(path, buf.tobytes())
