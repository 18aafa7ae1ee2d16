"""Status documents with known ground truth for the monitor tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from neuropose.io import write_bytes_atomic, write_json_atomic, write_model_atomic
from neuropose.schemas import (
    AttemptRecord,
    JobResults,
    JobState,
    JobStatusEntry,
    PerformanceMetrics,
    Skeleton,
    StageTiming,
    StatusFile,
    VideoPredictions,
    VideoProgress,
)

HOSTILE = "<img src=x onerror=alert(1)>"


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def make_entry(name: str, state: JobState, *, age_s: float = 2.0, **kw: Any) -> JobStatusEntry:
    """A status entry whose heartbeat is ``age_s`` seconds old."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "job_id": name,
        "state": state,
        "last_update": iso(now - timedelta(seconds=age_s)),
        "queued_at": iso(now - timedelta(minutes=10)),
    }
    fields.update(kw)
    return JobStatusEntry(**fields)


def sample_jobs() -> dict[str, JobStatusEntry]:
    """One job per state (ground truth used by the tests).

    * ``walk-01`` processing: 250 of 1000 frames (25 %), 12.5 fps, ETA 60 s,
      current video ``cam01.mp4``, attempt 1, fresh heartbeat.
    * ``walk-02`` queued, ``walk-03`` completed (400/400 frames),
    * ``walk-04`` failed with error ``ProcessingError: decoder stalled at frame 17``,
      2 attempts, * ``walk-05`` interrupted at 10/100 frames.
    """
    now = datetime.now(UTC)
    return {
        "walk-01": make_entry(
            "walk-01",
            JobState.PROCESSING,
            frames_done=250,
            frames_expected=1000,
            fps=12.5,
            eta_s=60.0,
            current_video="cam01.mp4",
            attempts=1,
            started_at=iso(now),
            videos=(
                VideoProgress(
                    name="cam01.mp4",
                    state=JobState.PROCESSING,
                    frames_done=250,
                    frames_expected=500,
                ),
                VideoProgress(name="cam02.mp4", state=JobState.QUEUED, frames_expected=500),
            ),
            history=(AttemptRecord(attempt=1, started_at=iso(now), pid=4242),),
        ),
        "walk-02": make_entry("walk-02", JobState.QUEUED),
        "walk-03": make_entry(
            "walk-03",
            JobState.COMPLETED,
            frames_done=400,
            frames_expected=400,
            attempts=1,
            results_path="out/walk-03/results.json",
        ),
        "walk-04": make_entry(
            "walk-04",
            JobState.FAILED,
            attempts=2,
            error="ProcessingError: decoder stalled at frame 17",
            history=(
                AttemptRecord(
                    attempt=1,
                    started_at=iso(now),
                    outcome=JobState.FAILED,
                    error="ProcessingError: decoder stalled at frame 17",
                ),
                AttemptRecord(
                    attempt=2,
                    started_at=iso(now),
                    outcome=JobState.FAILED,
                    error="ProcessingError: decoder stalled at frame 17",
                ),
            ),
        ),
        "walk-05": make_entry(
            "walk-05", JobState.INTERRUPTED, frames_done=10, frames_expected=100, attempts=1
        ),
    }


def write_status(data_dir: Path, jobs: dict[str, JobStatusEntry]) -> Path:
    path = data_dir / "status.json"
    write_model_atomic(
        path, StatusFile(updated_at=iso(datetime.now(UTC)), daemon_pid=4242, jobs=jobs)
    )
    return path


def make_results(job: str, videos: tuple[str, ...] = ("cam01.mp4",)) -> JobResults:
    """A valid results.json for ``job`` with known metadata per video.

    Every video: 1080 × 1920 after a 90° rotation, 59.94 fps declared, variable
    frame rate, 100 frames decoded of 120 declared (short read), model
    ``blazepose-full`` (sha256 ``ab…``), 25.0 fps throughput over 4.0 s,
    bottleneck ``infer``, peak RSS 512 MiB.
    """
    skeleton = Skeleton(name="toy", joints=("a", "b"), edges=((0, 1),))
    base = VideoPredictions.empty_for_tests(skeleton, n_frames=100)
    timing = StageTiming(count=100, total_s=3.0, mean_s=0.03, p50_s=0.029, p95_s=0.041)
    out = []
    for name in videos:
        metadata = base.metadata.model_copy(
            update={
                "width": 1080,
                "height": 1920,
                "rotation_degrees": 90,
                "codec": "avc1",
                "declared_frame_count": 120,
                "fps_reported": 59.94,
                "variable_frame_rate": True,
                "short_read": True,
            }
        )
        provenance = base.provenance.model_copy(
            update={
                "model_name": "blazepose-full",
                "model_sha256": "ab" * 32,
                "input_name": name,
                "options": {"batch_size": 8},
                "versions": {"neuropose": "0.1.0"},
            }
        )
        metrics = PerformanceMetrics(
            stages={"decode": timing, "infer": timing, "collect": timing},
            bottleneck="infer",
            frames=100,
            wall_s=4.0,
            fps=25.0,
            peak_rss_bytes=512 * 2**20,
            cpu_percent_mean=180.0,
        )
        out.append(
            base.model_copy(
                update={
                    "video": name,
                    "metadata": metadata,
                    "provenance": provenance,
                    "metrics": metrics,
                }
            )
        )
    return JobResults(
        job_id=job, created_at="2026-11-22T03:00:00Z", neuropose_version="0.1.0", videos=tuple(out)
    )


def _png(width: int, height: int) -> bytes:
    """A valid RGB PNG: a blue-to-green horizontal gradient."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = bytes(
        c for x in range(width) for c in (40, 80 + 150 * x // width, 200 - 150 * x // width)
    )
    raw = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


#: A 320 × 180 gradient PNG standing in for a rendered preview.
PNG_BYTES = _png(320, 180)


def write_job_outputs(
    data_dir: Path,
    job: str,
    videos: tuple[str, ...] = ("cam01.mp4",),
    quality: dict[str, Any] | None = None,
    preview: bool = True,
) -> Path:
    """results.json, visualize/<stem>.quality.json and .preview.png for ``job``."""
    job_dir = data_dir / "out" / job
    (job_dir / "visualize").mkdir(parents=True, exist_ok=True)
    write_model_atomic(job_dir / "results.json", make_results(job, videos))
    for v in videos:
        stem = Path(v).stem
        if quality is not None:
            write_json_atomic(job_dir / "visualize" / f"{stem}.quality.json", quality)
        if preview:
            write_bytes_atomic(job_dir / "visualize" / f"{stem}.preview.png", PNG_BYTES)
    return job_dir


def make_quality(job: str, video: str) -> dict[str, Any]:
    """A valid QualityReport (JSON form) with known figures.

    100 frames, subject missing on 4 (detected 96 %), mean confidences 0.9 and
    0.7 (mean 0.8), limb segment CVs 0.02 and 0.12 (median 7 %, worst 12 % on
    ``left_thigh``), a 0.7 mm face edge with CV 0.26 (never in the headline),
    jitter 1.0 / 3.0 mm (median 2.0 mm) above 8 Hz, one warning.
    """
    from neuropose.schemas.quality import QualityReport

    report = QualityReport(
        job_id=job,
        video=video,
        skeleton="toy",
        model_name="blazepose-full",
        n_frames=100,
        frame_rate_hz=59.94,
        n_tracks=2,
        primary_track_id=0,
        detection_rate=1.0,
        subject_detection_rate=0.96,
        frames_subject_missing=4,
        subject_missing_ranges=((10, 13),),
        mean_confidence={"hip": 0.9, "knee": 0.7},
        bone_length_cv={"hip-knee": 0.12, "knee-ankle": 0.02, "eye_inner-eye": 0.26},
        bone_length_mm={"hip-knee": 410.0, "knee-ankle": 395.0, "eye_inner-eye": 0.7},
        segment_length_cv={"left_thigh": 0.12, "left_shank": 0.02},
        segment_length_mm={"left_thigh": 410.0, "left_shank": 395.0},
        jitter_cutoff_hz=8.0,
        jitter_mm={"hip": 1.0, "knee": 3.0},
        jitter_px={"hip": 0.5, "knee": 1.5},
        id_switches=0,
        subject_fragments=2,
        warnings=("1 limb segment length(s) vary by more than 10%: left_thigh",),
        created_at="2026-11-22T03:00:00Z",
        neuropose_version="0.1.0",
    )
    return report.model_dump(mode="json")
