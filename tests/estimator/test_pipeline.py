"""Estimator pipeline: order, timestamps, batching, bounds, failures, checkpoints.

Ground truth: synthetic grey videos whose frame ``i`` has a known value, the
deterministic :class:`tests.fakes.FakeModel` (root z = 2000 + 10 × frame
mean, in mm) and OpenCV decoding done independently in the test.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tests.estimator.conftest import decoded_means
from tests.fakes import FakeModel, FakeModelError

from neuropose.estimator import (
    CheckpointMismatchError,
    EstimationInterrupted,
    Estimator,
    ModelFailedError,
    StageFailedError,
    StallError,
    without_run_details,
)
from neuropose.io import load_model, write_model_atomic
from neuropose.schemas import VideoCheckpoint

N = 40
VALUES = [(17 * i) % 230 + 10 for i in range(N)]  # non-monotonic: catches reordering


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("neuropose-")]


@pytest.fixture
def clip(tmp_path: Path, make_video) -> Path:
    return make_video(tmp_path / "clip.mp4", VALUES, fps=30.0)


def test_frames_timestamps_and_order_are_exact(clip: Path) -> None:
    vp = Estimator(FakeModel(), batch_size=4, prefetch_frames=5).process_video(clip)
    assert vp.frame_index.tolist() == list(range(N))
    np.testing.assert_allclose(vp.timestamp_s, np.arange(N) / 30.0, atol=1e-9)
    assert vp.metadata.decoded_frame_count == N
    assert vp.metadata.declared_frame_count == N
    assert vp.metadata.timestamp_source == "container"
    assert vp.metadata.variable_frame_rate is False
    assert vp.metadata.fps_reported == pytest.approx(30.0)
    assert vp.metadata.duration_s == pytest.approx(N / 30.0)
    # Detections in decode order: the model's root z (kept raw) encodes each frame's mean value.
    means = decoded_means(clip)
    assert vp.det_frame.tolist() == list(range(N))
    np.testing.assert_allclose(vp.poses3d_raw[:, 0, 2], 2000 + 10 * means, rtol=1e-6)
    assert _threads() == []


@pytest.mark.parametrize(("batch", "prefetch", "persons"), [(1, 1, 1), (4, 3, 2), (8, 16, 3)])
def test_threaded_equals_sequential(clip: Path, batch: int, prefetch: int, persons: int) -> None:
    def run(sequential: bool):
        model = FakeModel(num_persons=persons, max_batch_size=8)
        est = Estimator(
            model,
            batch_size=batch,
            prefetch_frames=prefetch,
            max_persons=3,
            sequential=sequential,
        )
        return est, model, est.process_video(clip)

    est_t, model_t, threaded = run(False)
    _, model_s, sequential = run(True)
    assert without_run_details(threaded) == without_run_details(sequential)
    assert threaded.metrics is not None and threaded.metrics.mode == "threaded"
    assert sequential.metrics is not None and sequential.metrics.mode == "sequential"
    eff = min(batch, prefetch)
    assert max(model_t.batch_sizes) == eff
    assert sum(model_t.batch_sizes) == N
    assert model_t.threads == {"neuropose-infer"}
    assert model_s.threads == {threading.current_thread().name}
    assert est_t.peak_frames_in_flight <= prefetch
    assert threaded.det_frame.shape[0] == N * persons


def test_frames_in_flight_never_exceed_prefetch(clip: Path) -> None:
    # A slow model makes decode run ahead until the prefetch cap stops it.
    est = Estimator(FakeModel(cost_s=0.01), batch_size=1, prefetch_frames=3)
    vp = est.process_video(clip)
    assert vp.num_frames == N
    assert est.peak_frames_in_flight == 3


def test_metrics_report_stages_and_bottleneck(clip: Path) -> None:
    vp = Estimator(FakeModel(cost_s=0.01, max_batch_size=4), batch_size=4).process_video(clip)
    m = vp.metrics
    assert m is not None
    assert set(m.stages) == {"decode", "infer", "collect"}
    assert m.stages["decode"].count == N
    assert m.stages["infer"].count == N // 4
    assert m.stages["infer"].total_s >= N * 0.01
    assert m.bottleneck == "infer"
    assert m.frames == N and m.fps == pytest.approx(N / m.wall_s)
    assert m.peak_rss_bytes > 10_000_000
    assert m.stages["infer"].p95_s >= m.stages["infer"].p50_s > 0


def test_progress_called_per_frame_with_declared_total(clip: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    Estimator(FakeModel()).process_video(clip, progress=lambda d, e: seen.append((d, e)))
    assert seen == [(i, N) for i in range(1, N + 1)]


def test_provenance_records_model_input_and_options(clip: Path) -> None:
    model = FakeModel()
    vp = Estimator(model, batch_size=1, prefetch_frames=7).process_video(clip)
    prov = vp.provenance
    assert prov.input_sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert prov.input_name == "clip.mp4"
    assert prov.model_name == "fake" and prov.model_sha256 == model.weights_sha256
    assert prov.options["prefetch_frames"] == 7
    assert prov.options["max_persons"] == 1
    assert prov.options["model.mode"] == "intensity"
    assert {"numpy", "python", "opencv-python-headless"} <= set(prov.versions)
    assert prov.intrinsics.source == "fov:55"
    assert prov.intrinsics.cx == 32.0 and prov.intrinsics.cy == 24.0


def test_model_failure_stops_pipeline_and_chains(clip: Path) -> None:
    model = FakeModel(fail_at=7)
    with pytest.raises(ModelFailedError, match=r"model fake failed on frames 7\.\.7") as info:
        Estimator(model, batch_size=1, prefetch_frames=4).process_video(clip)
    assert isinstance(info.value.__cause__, FakeModelError)
    assert info.value.exit_code == 1
    assert _threads() == []


def test_model_failure_in_sequential_mode(clip: Path) -> None:
    with pytest.raises(ModelFailedError, match=r"frames 8\.\.11") as info:
        Estimator(
            FakeModel(fail_at=9, max_batch_size=4), batch_size=4, sequential=True
        ).process_video(clip)
    assert isinstance(info.value.__cause__, FakeModelError)


def test_decode_failure_stops_pipeline_and_chains(clip: Path, monkeypatch) -> None:
    import neuropose.video.reader as video_mod

    real = video_mod.cv2.cvtColor
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 12:
            raise OSError("simulated decoder fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(video_mod.cv2, "cvtColor", flaky)
    with pytest.raises(StageFailedError, match="decode stage failed after 11 frames") as info:
        Estimator(FakeModel(), prefetch_frames=4).process_video(clip)
    assert isinstance(info.value.__cause__, OSError)
    assert _threads() == []


def test_collect_failure_from_callback_stops_pipeline(clip: Path) -> None:
    def progress(done: int, expected: int | None) -> None:
        if done == 5:
            raise ValueError("callback bug")

    with pytest.raises(StageFailedError, match="collect stage failed on frame 4") as info:
        Estimator(FakeModel()).process_video(clip, progress=progress)
    assert isinstance(info.value.__cause__, ValueError)
    assert _threads() == []


def test_stall_watchdog_raises_promptly(clip: Path) -> None:
    model = FakeModel(hang_at=5, hang_s=30.0)
    est = Estimator(model, batch_size=1, prefetch_frames=4, stall_timeout_s=0.4)
    t0 = time.monotonic()
    try:
        with pytest.raises(StallError, match=r"no frame moved .* model call on frames 5\.\.5"):
            est.process_video(clip)
        # Raised after the timeout plus a join grace of stall_timeout_s, not after 30 s.
        assert time.monotonic() - t0 < 3.0
    finally:
        model.release()
    deadline = time.monotonic() + 2.0
    while _threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _threads() == []


def test_stall_watchdog_not_triggered_by_slow_but_moving_model(clip: Path) -> None:
    vp = Estimator(FakeModel(cost_s=0.02), stall_timeout_s=0.3).process_video(clip)
    assert vp.num_frames == N


@pytest.mark.parametrize("sequential", [False, True])
def test_stop_event_checkpoints_and_resume_is_exact(clip: Path, tmp_path: Path, sequential):
    reference = Estimator(FakeModel(num_persons=2), max_persons=2).process_video(clip)
    stop = threading.Event()
    saved: list[VideoCheckpoint] = []

    def progress(done: int, expected: int | None) -> None:
        if done == 17:
            stop.set()

    est = Estimator(FakeModel(num_persons=2), max_persons=2, sequential=sequential)
    with pytest.raises(EstimationInterrupted, match="stopped after 17 frames") as info:
        est.process_video(clip, progress=progress, stop_event=stop, on_checkpoint=saved.append)
    assert info.value.exit_code == 130
    assert _threads() == []
    cp = info.value.checkpoint
    assert saved == [cp] and cp.next_frame == 17
    assert cp.det_frame.max() == 16
    # The checkpoint survives a round trip through disk.
    write_model_atomic(tmp_path / "cp.json", cp)
    loaded = load_model(tmp_path / "cp.json", VideoCheckpoint)
    model = FakeModel(num_persons=2)
    resumed = Estimator(model, max_persons=2, sequential=sequential).process_video(
        clip, resume=loaded
    )
    assert without_run_details(resumed) == without_run_details(reference)
    assert model.frames_seen == N - 17  # frames before the checkpoint were not re-inferred


def test_periodic_checkpoints_resume_exactly(tmp_path: Path, make_blob_video) -> None:
    scenes = [[(5 + 3 * i, 10, 20, 40), (100, 20 + i, 30, 60)] for i in range(30)]
    video = make_blob_video(tmp_path / "two.mp4", scenes)
    kwargs = {"max_persons": 2, "subject_rule": "longest_track"}
    reference = Estimator(FakeModel(mode="blobs", num_persons=2), **kwargs).process_video(video)
    saved: list[VideoCheckpoint] = []
    Estimator(FakeModel(mode="blobs", num_persons=2), **kwargs).process_video(
        video, checkpoint_every_frames=10, on_checkpoint=saved.append
    )
    assert [c.next_frame for c in saved] == [10, 20, 30]
    assert len(saved[1].tracker.tracks) == 2
    resumed = Estimator(FakeModel(mode="blobs", num_persons=2), **kwargs).process_video(
        video, resume=saved[1]
    )
    assert without_run_details(resumed) == without_run_details(reference)
    assert sorted(set(resumed.track_id.tolist())) == [0, 1]


def test_resume_refuses_changed_file(clip: Path, tmp_path: Path, make_video) -> None:
    saved: list[VideoCheckpoint] = []
    Estimator(FakeModel()).process_video(
        clip, checkpoint_every_frames=10, on_checkpoint=saved.append
    )
    other = make_video(tmp_path / "clip.mp4", [v + 1 for v in VALUES])
    with pytest.raises(CheckpointMismatchError, match="the file changed") as info:
        Estimator(FakeModel()).process_video(other, resume=saved[0])
    assert info.value.exit_code == 2


def test_resume_refuses_other_options_and_model(clip: Path) -> None:
    saved: list[VideoCheckpoint] = []
    Estimator(FakeModel()).process_video(
        clip, checkpoint_every_frames=10, on_checkpoint=saved.append
    )
    with pytest.raises(CheckpointMismatchError, match=r"max_persons=1 \(now 2\)"):
        Estimator(FakeModel(), max_persons=2).process_video(clip, resume=saved[0])
    with pytest.raises(CheckpointMismatchError, match="made with model fake"):
        Estimator(FakeModel(num_persons=2)).process_video(clip, resume=saved[0])
