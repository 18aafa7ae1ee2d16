"""The TFLite runtime: LiteRT by default, bit-identical to TensorFlow's interpreter.

Ground truth is TensorFlow's own ``tf.lite.Interpreter`` running the same two
BlazePose files on the same frames of the real lab clip: every output array
of both engines (raw network outputs, and the decoded 3D/2D poses, boxes and
confidences of the whole pipeline) must be equal bit for bit. The
end-to-end test runs ``neuropose process`` in a fresh interpreter and reads
its ``sys.modules`` afterwards: TensorFlow must never have been imported.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from neuropose.io import load_model
from neuropose.models.blazepose import DETECTOR_FILE, LANDMARK_FILE
from neuropose.models.blazepose_pipeline import BlazePoseModel
from neuropose.models.errors import ModelLoadError, RuntimeMissingError
from neuropose.models.tflite import TFLiteRunner
from neuropose.schemas import CameraIntrinsics, JobResults

N_FRAMES = 12


def _frames(video: Path, n: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    assert len(frames) == n, f"{video} gave {len(frames)} frames"
    return np.stack(frames)


def _model(directory: Path, engine: str) -> BlazePoseModel:
    det = TFLiteRunner(directory / DETECTOR_FILE, 2, engine=engine)  # type: ignore[arg-type]
    lm = TFLiteRunner(directory / LANDMARK_FILE, 2, engine=engine)  # type: ignore[arg-type]
    return BlazePoseModel(det, lm, name="blazepose-full", weights_sha256="x", num_threads=2)


@pytest.fixture(scope="module")
def blazepose_dir(blazepose_model, model_cache_dir: Path) -> Path:  # type: ignore[no-untyped-def]
    return model_cache_dir / "blazepose-full"


def test_default_engine_is_litert_and_loads_both_files(blazepose_dir: Path) -> None:
    det = TFLiteRunner(blazepose_dir / DETECTOR_FILE, 1)
    lm = TFLiteRunner(blazepose_dir / LANDMARK_FILE, 1)
    assert det.engine == "litert"
    assert det.input_shape == (1, 224, 224, 3)
    assert lm.input_shape == (1, 256, 256, 3)
    assert sorted(int(np.prod(s)) for s in lm.output_shapes)[:3] == [1, 117, 195]
    out = lm.run(np.zeros(lm.input_shape, np.float32))
    assert [o.shape for o in out] == lm.output_shapes


def test_not_a_tflite_file_is_a_load_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"not a flatbuffer" * 64)
    with pytest.raises(ModelLoadError, match=r"broken\.tflite is not a loadable TFLite model"):
        TFLiteRunner(bad, 1)


def test_missing_litert_names_the_package(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(RuntimeMissingError, match=r"ai-edge-litert") as info:
        TFLiteRunner(tmp_path / "m.tflite", 1)
    assert info.value.exit_code == 4


@pytest.mark.media
def test_litert_matches_tensorflow_bit_for_bit(blazepose_dir: Path, shared_media: Path) -> None:
    pytest.importorskip("tensorflow", reason="the reference engine (neuropose[metrabs])")
    frames = _frames(shared_media / "lab_single_person" / "cam01.mp4", N_FRAMES)
    intr = CameraIntrinsics.from_fov(frames.shape[2], frames.shape[1], 55.0)

    rng = np.random.default_rng(0)
    x = rng.random((1, 256, 256, 3), dtype=np.float32)
    raw_lite = TFLiteRunner(blazepose_dir / LANDMARK_FILE, 2).run(x)
    raw_tf = TFLiteRunner(blazepose_dir / LANDMARK_FILE, 2, engine="tensorflow").run(x)
    for a, b in zip(raw_lite, raw_tf, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)

    outputs = {}
    for engine in ("litert", "tensorflow"):
        model = _model(blazepose_dir, engine)
        outputs[engine] = [model.predict(f[None], intr)[0] for f in frames]
    persons = [d.num_persons for d in outputs["litert"]]
    assert persons == [1] * N_FRAMES
    for lite, ref in zip(outputs["litert"], outputs["tensorflow"], strict=True):
        for field in ("boxes", "poses3d", "poses2d", "confidence"):
            assert np.array_equal(getattr(lite, field), getattr(ref, field)), field


_PROBE = """
import json, sys
from neuropose.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(
    m for m in ("tensorflow", "tensorflow_hub", "ai_edge_litert", "matplotlib") if m in sys.modules
)}))
"""


@pytest.mark.media
def test_process_with_the_default_model_never_imports_tensorflow(
    blazepose_dir: Path, model_cache_dir: Path, shared_media: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cam01.json"
    env = dict(os.environ, NEUROPOSE_MODEL_CACHE_DIR=str(model_cache_dir))
    env.pop("NEUROPOSE_DEFAULT_MODEL", None)
    clip = shared_media / "lab_single_person" / "cam01.mp4"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, "-q", "process", str(clip), "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, proc.stderr
    assert report["modules"] == ["ai_edge_litert"]
    results = load_model(out, JobResults)
    assert results.videos[0].num_frames == 100
    assert results.videos[0].provenance.model_name == "blazepose-full"


@pytest.mark.media
def test_provenance_names_the_runtime_that_ran_the_model(
    blazepose_model, shared_media: Path, tmp_path: Path
) -> None:
    from neuropose.config import load_settings
    from neuropose.estimator import Estimator

    settings = load_settings(flags={"num_threads": 2}, environ={}).settings
    vp = Estimator(blazepose_model, settings).process_video(shared_media / "messi5.jpg")
    versions = vp.provenance.versions
    assert versions["ai-edge-litert"] == importlib.metadata.version("ai-edge-litert")
    assert ("tensorflow" in versions) is ("tensorflow" in sys.modules)
