"""Intrinsics from a container's focal length (MP4/QuickTime metadata, image EXIF).

Ground truth: the tests write the tag themselves, three ways: ffmpeg's own
muxer (``-movflags use_metadata_tags``, a UTF-8 value), a ``moov/meta`` atom
assembled byte by byte with the numeric value types phones write, and a JPEG
whose EXIF holds FocalLengthIn35mmFilm (Pillow). The expected focal length in
pixels is ``f35 · hypot(w, h) / hypot(36, 24)``.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from tests.estimator.conftest import run_ffmpeg

from neuropose.cli import main
from neuropose.estimator.camera import from_focal_tag, intrinsics_for
from neuropose.io import load_model
from neuropose.schemas import CameraIntrinsics, JobResults
from neuropose.video.reader import count_frames, probe_video
from neuropose.video.tags import FOCAL_35MM_KEY, FocalTag, read_focal_tag

FAKE = "python:tests.fakes:make_model"
W, H = 64, 48


def _px(f35: float, w: int = W, h: int = H) -> float:
    return f35 * math.hypot(w, h) / math.hypot(36.0, 24.0)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _meta_atom(key: str, data_type: int, value: bytes) -> bytes:
    """A QuickTime ``meta`` (no version/flags) with hdlr 'mdta', keys and one ilst item."""
    hdlr = _box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 12 + b"\0")
    other = b"com.apple.quicktime.make"
    entries = [_box(b"mdta", other), _box(b"mdta", key.encode())]  # our key is index 2
    keys = _box(b"keys", b"\0" * 4 + struct.pack(">I", len(entries)) + b"".join(entries))
    data = _box(b"data", struct.pack(">I", data_type) + b"\0" * 4 + value)
    make = _box(b"data", struct.pack(">I", 1) + b"\0" * 4 + b"Apple")
    ilst = _box(b"ilst", _box(struct.pack(">I", 1), make) + _box(struct.pack(">I", 2), data))
    return _box(b"meta", hdlr + keys + ilst)


def _top_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    buf = path.read_bytes()
    out, pos = [], 0
    while pos + 8 <= len(buf):
        size, kind = struct.unpack_from(">I4s", buf, pos)
        out.append((kind, pos, size))
        pos += size
    return out


def _inject(path: Path, atom: bytes) -> Path:
    """Append ``atom`` inside the file's last top-level box, which must be ``moov``."""
    boxes = _top_boxes(path)
    kind, pos, size = boxes[-1]
    assert kind == b"moov", [b[0] for b in boxes]  # mdat before moov: offsets stay valid
    buf = bytearray(path.read_bytes())
    buf[pos : pos + 4] = struct.pack(">I", size + len(atom))
    path.write_bytes(bytes(buf) + atom)
    return path


@pytest.mark.parametrize(
    ("data_type", "raw", "f35"),
    [
        (23, struct.pack(">f", 26.0), 26.0),  # float32, as iPhones write it
        (21, struct.pack(">h", 24), 24.0),  # signed int
        (1, b"28", 28.0),  # UTF-8
    ],
)
def test_a_crafted_mp4_tag_is_read_and_the_video_still_decodes(
    tmp_path: Path, make_video, data_type: int, raw: bytes, f35: float
) -> None:
    p = _inject(
        make_video(tmp_path / "clip.mp4", [50] * 6), _meta_atom(FOCAL_35MM_KEY, data_type, raw)
    )
    info = probe_video(p)
    assert info.focal == FocalTag(f35, FOCAL_35MM_KEY)
    assert count_frames(p) == 6
    k = from_focal_tag(info)
    assert k is not None and k.fx == pytest.approx(_px(f35)) and k.fy == k.fx
    assert (k.cx, k.cy) == (W / 2, H / 2)
    assert k.source == f"container:{FOCAL_35MM_KEY}={f35:g}mm"


def test_ffmpegs_own_metadata_tag_is_read(tmp_path: Path, make_video, ffmpeg: str) -> None:
    src = make_video(tmp_path / "src.mp4", [80] * 5)
    out = tmp_path / "tagged.mov"
    run_ffmpeg(ffmpeg, "-i", str(src), "-c", "copy", "-movflags", "use_metadata_tags",
               "-metadata", f"{FOCAL_35MM_KEY}=27", str(out))  # fmt: skip
    assert read_focal_tag(out) == FocalTag(27.0, FOCAL_35MM_KEY)
    assert read_focal_tag(src) is None  # no tag, no guess


def test_an_image_with_exif_gives_its_focal_length(tmp_path: Path) -> None:
    from PIL import Image

    p = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 35  # FocalLengthIn35mmFilm
    Image.fromarray(np.full((H, W, 3), 120, np.uint8)).save(p, exif=exif.tobytes())
    info = probe_video(p)
    assert info.focal == FocalTag(35.0, "EXIF FocalLengthIn35mmFilm")
    k = intrinsics_for(info, fov_degrees=55.0)
    assert k.fx == pytest.approx(_px(35.0)) and k.source == "exif:EXIF FocalLengthIn35mmFilm=35mm"
    plain = tmp_path / "plain.jpg"
    Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(plain)
    assert probe_video(plain).focal is None


def test_garbage_and_truncated_containers_give_no_tag(tmp_path: Path, make_video) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x10moov" + b"\xff" * 5)  # moov claims more than the file
    assert read_focal_tag(junk) is None
    p = make_video(tmp_path / "c.mp4", [10] * 3)
    broken = _meta_atom(FOCAL_35MM_KEY, 23, b"\x00")  # a 1-byte float: not a number
    assert read_focal_tag(_inject(p, broken)) is None


def test_priority_calibration_then_camera_file_then_container_then_fov(
    tmp_path: Path, make_video
) -> None:
    p = _inject(make_video(tmp_path / "c.mp4", [10] * 3),
                _meta_atom(FOCAL_35MM_KEY, 23, struct.pack(">f", 26.0)))  # fmt: skip
    info = probe_video(p)
    cam = tmp_path / "cam.toml"
    cam.write_text("fx = 100\nfy = 101\ncx = 30\ncy = 20\n")
    calib = CameraIntrinsics(fx=90, fy=90, cx=32, cy=24, source="calibration:Calib.qca.txt:cam1")
    assert intrinsics_for(info, fov_degrees=55, camera_file=cam, calibration=calib) == calib
    assert intrinsics_for(info, fov_degrees=55, camera_file=cam).source == "cam.toml"
    assert intrinsics_for(info, fov_degrees=55).source.startswith("container:")
    assert intrinsics_for(info, fov_degrees=55, use_container=False).source == "fov:55"
    untagged = probe_video(make_video(tmp_path / "u.mp4", [10] * 3))
    assert intrinsics_for(untagged, fov_degrees=55).source == "fov:55"


def test_process_records_the_container_focal_length_unless_fov_is_given(
    tmp_path: Path, make_video, capsys
) -> None:
    p = _inject(make_video(tmp_path / "walk.mp4", [60] * 8),
                _meta_atom(FOCAL_35MM_KEY, 23, struct.pack(">f", 26.0)))  # fmt: skip
    out = tmp_path / "a.json"
    assert main(["-q", "process", str(p), "-o", str(out), "--model", FAKE]) == 0, (
        capsys.readouterr().err
    )
    k = load_model(out, JobResults).videos[0].provenance.intrinsics
    assert k.source == f"container:{FOCAL_35MM_KEY}=26mm" and k.fx == pytest.approx(_px(26.0))
    out2 = tmp_path / "b.json"
    assert main(["-q", "process", str(p), "-o", str(out2), "--model", FAKE, "--fov", "70"]) == 0
    assert load_model(out2, JobResults).videos[0].provenance.intrinsics.source == "fov:70"


def test_a_multi_view_trial_records_each_cameras_calibrated_intrinsics(
    tmp_path: Path, capsys
) -> None:
    from tests.multiview.test_cli import _grey_clip, _rig_json

    from neuropose.multiview.synthetic import ring_rig

    clips = [_grey_clip(tmp_path / f"cam{i}.mp4", 4, 30.0) for i in (1, 2)]
    calib = _rig_json(tmp_path / "rig.json", n=2)
    out = tmp_path / "trial.json"
    rc = main(["-q", "process", "--calibration", str(calib), *map(str, clips), "-o", str(out),
               "--model", FAKE])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    rig = ring_rig(2)
    for vp, cam in zip(load_model(out, JobResults).videos, rig.cameras, strict=True):
        k = vp.provenance.intrinsics
        assert k.source == f"calibration:rig.json:{cam.name}"
        assert (k.fx, k.fy, k.cx, k.cy) == pytest.approx(
            (cam.K[0, 0], cam.K[1, 1], cam.K[0, 2], cam.K[1, 2])
        )
        assert k.distortion == pytest.approx(cam.distortion)
