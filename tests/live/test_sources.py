"""Sources: order, pacing, skipped-frame counts, timestamps from the source's clock."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from tests.live.conftest import write_arm_results

from neuropose.live.sources import (
    CameraSource,
    ResultsReplay,
    SourceError,
    VideoReplay,
    open_source,
)
from neuropose.video.writer import VideoWriter


def _drain(source, limit_s: float = 20.0):  # type: ignore[no-untyped-def]
    got, skipped = [], 0
    source.start()
    deadline = time.perf_counter() + limit_s
    while not source.done() and time.perf_counter() < deadline:
        cap, n = source.poll()
        skipped += n
        if cap is not None:
            got.append(cap)
        elif source.paced:
            time.sleep(0.002)
    return got, skipped


def _grey_video(path: Path, n: int = 20, fps: float = 30.0) -> Path:
    with VideoWriter(path, (64, 48), fps) as w:
        for k in range(n):
            w.write(np.full((48, 64, 3), 10 * k, np.uint8))
    return path


def test_results_replay_at_max_speed_gives_every_frame_in_order(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_arm_results(path, cycles=1, fs=30.0, missing=(3,))
    src = open_source(str(path), speed=0)
    assert isinstance(src, ResultsReplay) and not src.paced
    caps, skipped = _drain(src)
    assert [c.index for c in caps] == list(range(31)) and skipped == 0
    assert [c.time_s for c in caps] == pytest.approx(np.arange(31) / 30.0)
    assert np.isnan(caps[3].pose).all() and np.isfinite(caps[4].pose).all()
    assert src.skeleton is not None and "left_wrist" in src.skeleton.joints


def test_results_replay_at_real_time_releases_frames_on_the_source_clock(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    write_arm_results(path, cycles=1, fs=30.0)  # 31 frames, 1.0 s
    src = ResultsReplay(path, speed=2.0)
    src.start()
    cap, skipped = src.poll()
    assert cap is not None and cap.index == 0 and skipped == 0
    time.sleep(0.3)  # 0.6 s of source time at speed 2: frames 1..18 are due
    cap, skipped = src.poll()
    assert cap is not None and cap.index >= 18 and skipped == cap.index - 1
    # the capture's wall time is when the frame became due, not when it was polled
    assert cap.wall_s == pytest.approx(src._clock.w0 + cap.time_s / 2.0)


def test_video_replay_uses_container_timestamps(tmp_path: Path) -> None:
    video = _grey_video(tmp_path / "grey.mp4")
    src = open_source(str(video), speed=0)
    assert isinstance(src, VideoReplay) and src.skeleton is None
    caps, skipped = _drain(src)
    src.close()
    assert len(caps) == 20 and skipped == 0
    assert [c.time_s for c in caps] == pytest.approx(np.arange(20) / 30.0, abs=1e-3)
    means = [float(c.rgb.mean()) for c in caps]
    assert means == pytest.approx([10.0 * k for k in range(20)], abs=3)


def test_video_replay_at_real_time_skips_frames_the_loop_missed(tmp_path: Path) -> None:
    video = _grey_video(tmp_path / "grey.mp4", n=20)
    src = VideoReplay(video, speed=1.0)
    src.start()
    time.sleep(0.3)  # frames 0..9 are due; the loop took none of them
    caps = []
    while not src.done():
        cap, skipped = src.poll()
        if cap is not None:
            caps.append((cap, skipped))
        time.sleep(0.05)  # a slow loop: about 1 frame in 3 is taken
    src.close()
    first, skipped = caps[0]
    assert first.index >= 3 and skipped == first.index  # newest wins, the rest counted
    assert sum(1 + n for _c, n in caps) == 20  # every frame taken or counted as skipped
    assert caps[-1][0].index == 19
    # capture time = due time on the source clock: 1/30 s per frame after the start
    assert [c.wall_s - src._clock.w0 for c, _n in caps] == pytest.approx(
        [c.time_s for c, _n in caps], abs=1e-6
    )


def test_camera_source_reads_a_stream_on_a_thread(tmp_path: Path) -> None:
    video = _grey_video(tmp_path / "grey.mp4", n=20)
    src = CameraSource(str(video))  # OpenCV opens a file like a stream
    caps, skipped = _drain(src)
    src.close()
    assert caps, "no frame read"
    assert len(caps) + skipped == 20
    assert all(b.index > a.index for a, b in itertools.pairwise(caps))
    assert all(b.time_s >= a.time_s for a, b in itertools.pairwise(caps))


def test_open_source_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        open_source(str(tmp_path / "nope.mp4"))
    assert "nope.mp4: no such file" in info.value.message
    assert info.value.exit_code == 2


def test_an_unopenable_stream_is_named() -> None:
    with pytest.raises(SourceError) as info:
        open_source("rtsp://127.0.0.1:9/none")
    assert "rtsp://127.0.0.1:9/none: cannot open the stream" in info.value.message
