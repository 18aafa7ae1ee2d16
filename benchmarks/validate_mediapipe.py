"""Compare NeuroPose's BlazePose pipeline with MediaPipe 0.10.21 frame by frame.

MediaPipe pins a protobuf that conflicts with the project's, so it runs in a
separate virtual environment, called by this script as a subprocess::

    python3 -m venv /tmp/mpenv
    /tmp/mpenv/bin/pip install mediapipe==0.10.21
    python benchmarks/validate_mediapipe.py --mediapipe-python /tmp/mpenv/bin/python \\
        [--write-reference tests/data/mediapipe_reference.npz] [--json OUT.json]

Inputs: ``lab_single_person/cam01.mp4`` and ``cam02.mp4`` (video mode, every
frame) and ``messi5.jpg``, ``basketball1.png`` (image mode) from
``../shared/media``, decoded once here and handed to MediaPipe as arrays (the
two environments' OpenCV builds decode ``cam02.mp4`` differently). MediaPipe
runs its legacy ``solutions.pose`` graph (``model_complexity=1`` = the same
``pose_landmark_full.tflite`` and ``pose_detection.tflite`` NeuroPose fetches
from the same wheel, landmark smoothing off, which still smooths the auxiliary ROI landmarks; its
simulated clock runs at 30 fps). NeuroPose runs ``blazepose-full`` with one
person. Per frame where both find the person: median over the 33 landmarks of
the 2D distance (pixels, and % of the reference's body height = vertical
extent of its 33 landmarks) and of the 3D distance (mm, both hip-centred).

``--write-reference`` stores MediaPipe's landmarks (float32) so
``tests/models/test_mediapipe_fidelity.py`` checks fidelity without MediaPipe.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MEDIA = Path("../shared/media")
INPUTS = {
    "cam01": "lab_single_person/cam01.mp4",
    "cam02": "lab_single_person/cam02.mp4",
    "messi5": "messi5.jpg",
    "basketball1": "basketball1.png",
}


def read_frames(path: Path, limit: int | None = None) -> list[np.ndarray]:
    """RGB frames of a video or image (OpenCV decode), at most ``limit``."""
    import cv2

    if path.suffix.lower() in {".jpg", ".png"}:
        return [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)]
    cap = cv2.VideoCapture(str(path))
    frames = []
    while limit is None or len(frames) < limit:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return frames


def dump_mediapipe(frames_dir: Path, out: Path, graph_options: bool) -> None:
    """Run MediaPipe (in its own environment) on ``frames_dir/<input>.npy``; save landmarks.

    The frames are decoded once, by NeuroPose's environment: the two
    environments' OpenCV builds decode ``cam02.mp4`` differently (mean 1
    level, up to 21), which alone moved MediaPipe's landmarks by pixels.

    ``graph_options``: import the heatmap-refinement options module first, so
    the graph's own ``kernel_size: 7`` survives (see ``heatmap_kernel`` in
    ``neuropose.models.blazepose_pipeline``); without it ``solutions.pose``
    runs the calculator's default 9, as every user of the legacy API does.
    """
    import mediapipe as mp

    if graph_options:
        import mediapipe.calculators.util.refine_landmarks_from_heatmap_calculator_pb2

    arrays = {}
    for path in sorted(frames_dir.glob("*.npy")):
        key = path.stem
        frames = np.load(path, mmap_mode="r")
        still = len(frames) == 1
        lm2 = np.full((len(frames), 33, 2), np.nan, np.float32)
        lm3 = np.full((len(frames), 33, 3), np.nan, np.float32)
        with mp.solutions.pose.Pose(
            static_image_mode=still, model_complexity=1, smooth_landmarks=False
        ) as pose:
            for i, rgb in enumerate(frames):
                res = pose.process(np.ascontiguousarray(rgb))
                if res.pose_landmarks is None:
                    continue
                h, w = rgb.shape[:2]
                lm2[i] = [(p.x * w, p.y * h) for p in res.pose_landmarks.landmark]
                lm3[i] = [
                    (p.x * 1000, p.y * 1000, p.z * 1000) for p in res.pose_world_landmarks.landmark
                ]
        arrays[f"{key}_2d"] = lm2
        arrays[f"{key}_3d"] = lm3
    np.savez_compressed(out, **arrays)


#: Crops written by ``--write-crop-reference``: (cx, cy, w, h, rotation) in pixels
#: of the synthetic 240×320 image, or None for the detector's whole-image letterbox.
CROP_CASES = (
    (150.0, 120.0, 180.0, 180.0, 0.0),
    (101.3, 140.7, 213.9, 213.9, 0.4137),  # rotated, crossing the left edge
    (260.2, 30.9, 150.5, 150.5, -2.7),  # mostly outside: replicated borders
    None,
)


def synthetic_image() -> np.ndarray:
    """A smooth, asymmetric 240×320 RGB test image (uint8)."""
    y, x = np.mgrid[0:240, 0:320].astype(np.float64)
    chans = [
        127 + 100 * np.sin(x / 9.0) * np.cos(y / 13.0),
        (x * 0.7 + y * 0.3) % 256,
        127 + 120 * np.sin((x + 2 * y) / 17.0),
    ]
    return np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8)


def dump_crops(out: Path) -> None:
    """MediaPipe's ``ImageToTensorCalculator`` crops of :func:`synthetic_image` (uint8)."""
    import mediapipe as mp
    from google.protobuf import text_format
    from mediapipe.calculators.tensor import image_to_tensor_calculator_pb2  # noqa: F401
    from mediapipe.framework import calculator_pb2
    from mediapipe.framework.formats import rect_pb2
    from mediapipe.python import packet_creator, packet_getter
    from mediapipe.python._framework_bindings import calculator_graph

    node = """node {{ calculator: "ImageToTensorCalculator" input_stream: "IMAGE:image" {roi}
      output_stream: "TENSORS:t" options {{ [mediapipe.ImageToTensorCalculatorOptions.ext] {{
      output_tensor_width: {n} output_tensor_height: {n} keep_aspect_ratio: true
      output_tensor_float_range {{ min: {lo} max: 1.0 }} {border} }} }} }}
    node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:t"
      output_stream: "FLOATS:f" }}
    input_stream: "image" output_stream: "f" {roi_in}"""
    img = synthetic_image()
    h, w = img.shape[:2]
    crops = []
    for case in CROP_CASES:
        landmark = case is not None
        cfg = node.format(
            roi='input_stream: "NORM_RECT:roi"' if landmark else "",
            roi_in='input_stream: "roi"' if landmark else "",
            n=256 if landmark else 224,
            lo=0.0 if landmark else -1.0,
            border="" if landmark else "border_mode: BORDER_ZERO",
        )
        graph = calculator_graph.CalculatorGraph(
            graph_config=text_format.Parse(cfg, calculator_pb2.CalculatorGraphConfig())
        )
        got: list[np.ndarray] = []
        graph.observe_output_stream(
            "f", lambda _s, p, got=got: got.append(np.array(packet_getter.get_float_list(p)))
        )
        graph.start_run()
        frame = packet_creator.create_image_frame(img, image_format=mp.ImageFormat.SRGB)
        graph.add_packet_to_input_stream("image", frame.at(0))
        if landmark:
            cx, cy, rw, rh, rot = case
            rect = rect_pb2.NormalizedRect(
                x_center=cx / w, y_center=cy / h, width=rw / w, height=rh / h, rotation=rot
            )
            graph.add_packet_to_input_stream("roi", packet_creator.create_proto(rect).at(0))
        graph.close()
        n = 256 if landmark else 224
        values = (
            got[0].reshape(n, n, 3) * 255 if landmark else (got[0].reshape(n, n, 3) + 1) * 127.5
        )
        crops.append(np.rint(values).astype(np.uint8))
    rois = np.array([c if c is not None else [np.nan] * 5 for c in CROP_CASES])
    np.savez_compressed(out, image=img, rois=rois, **{f"crop{i}": c for i, c in enumerate(crops)})


def run_neuropose(
    media: Path, key: str, limit: int | None, spec: str = "blazepose-full"
) -> tuple[np.ndarray, np.ndarray]:
    """NeuroPose's landmarks (F, 33, 2) px and (F, 33, 3) mm for model ``spec``, NaN where none."""
    from neuropose.config import load_settings
    from neuropose.models import load_pose_model
    from neuropose.schemas import CameraIntrinsics

    model = _model_cache.get(spec)
    if model is None:
        settings = load_settings().settings
        model = _model_cache.setdefault(spec, load_pose_model(spec, settings))
    model.reset()
    frames = read_frames(media / INPUTS[key], limit)
    k = CameraIntrinsics.from_fov(frames[0].shape[1], frames[0].shape[0], 55.0)
    p2 = np.full((len(frames), 33, 2), np.nan)
    p3 = np.full((len(frames), 33, 3), np.nan)
    for i, rgb in enumerate(frames):
        det = model.predict(rgb[None], k)[0]
        if det.num_persons:
            p2[i], p3[i] = det.poses2d[0], det.poses3d[0]
    return p2, p3


_model_cache: dict[str, object] = {}


def compare(ref2: np.ndarray, ref3: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> dict:
    """Per-input figures: frames found by each, median 2D px / % body height, median 3D mm."""
    both = np.isfinite(ref2[:, 0, 0]) & np.isfinite(p2[:, 0, 0])
    height = np.ptp(ref2[both][:, :, 1], axis=1)
    d2 = np.median(np.linalg.norm(p2[both] - ref2[both], axis=2), axis=1)
    d3 = np.median(np.linalg.norm(p3[both] - ref3[both], axis=2), axis=1)
    return {
        "frames": int(ref2.shape[0]),
        "found_mediapipe": int(np.isfinite(ref2[:, 0, 0]).sum()),
        "found_neuropose": int(np.isfinite(p2[:, 0, 0]).sum()),
        "median_2d_px": round(float(np.median(d2)), 2) if both.any() else None,
        "median_2d_pct_height": round(float(np.median(100 * d2 / height)), 3)
        if both.any()
        else None,
        "median_3d_mm": round(float(np.median(d3)), 1) if both.any() else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, default=MEDIA)
    ap.add_argument("--mediapipe-python", type=Path, help="python of the MediaPipe venv")
    ap.add_argument("--reference", type=Path, help="existing MediaPipe dump (.npz) to reuse")
    ap.add_argument("--dump-mediapipe", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--frames-dir", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump-crops", type=Path, help=argparse.SUPPRESS)
    ap.add_argument(
        "--write-crop-reference",
        type=Path,
        help="write MediaPipe's crops of a synthetic image (tests/data/mediapipe_crops.npz)",
    )
    ap.add_argument("--write-reference", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--frames", type=int, help="only the first N frames of each video")
    ap.add_argument("--model", default="blazepose-full", help="NeuroPose model spec")
    ap.add_argument(
        "--graph-options",
        action="store_true",
        help="MediaPipe with its graph's own heatmap kernel (7) instead of what "
        "solutions.pose runs (9); compare with --model 'blazepose-full?heatmap_kernel=7'",
    )
    ap.add_argument("--inputs", nargs="+", choices=list(INPUTS), default=list(INPUTS))
    args = ap.parse_args(argv)
    if args.dump_crops:
        dump_crops(args.dump_crops)
        return 0
    if args.write_crop_reference:
        if args.mediapipe_python is None:
            ap.error("--write-crop-reference needs --mediapipe-python")
        cmd = [str(args.mediapipe_python), __file__, "--dump-crops", str(args.write_crop_reference)]
        subprocess.run(cmd, check=True)
        return 0
    if args.dump_mediapipe:
        dump_mediapipe(args.frames_dir, args.dump_mediapipe, args.graph_options)
        return 0
    ref_path = args.reference
    if ref_path is None:
        if args.mediapipe_python is None:
            ap.error("give --mediapipe-python (a venv with mediapipe==0.10.21) or --reference")
        ref_path = Path(tempfile.mkdtemp()) / "mediapipe.npz"
        with tempfile.TemporaryDirectory() as tmp:
            for key in args.inputs:
                np.save(
                    Path(tmp) / f"{key}.npy",
                    np.stack(read_frames(args.media / INPUTS[key], args.frames)),
                )
            cmd = [str(args.mediapipe_python), __file__, "--frames-dir", tmp]
            if args.graph_options:
                cmd.append("--graph-options")
            subprocess.run([*cmd, "--dump-mediapipe", str(ref_path)], check=True)
    ref = dict(np.load(ref_path))
    report = {}
    for key in args.inputs:
        p2, p3 = run_neuropose(args.media, key, args.frames, args.model)
        n = len(p2)
        report[key] = compare(ref[f"{key}_2d"][:n], ref[f"{key}_3d"][:n], p2, p3)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    if args.write_reference:
        np.savez_compressed(args.write_reference, **ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
