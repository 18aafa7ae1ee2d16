"""``neuropose triangulate`` and the multi-view mode of ``neuropose process``.

``process --calibration CALIB cam01.mp4 cam02.mp4 -o trial.json`` runs each
view through the estimator, then triangulates the primary subject, and
writes one :class:`~neuropose.schemas.JobResults` holding every view's
predictions and the :class:`~neuropose.schemas.triangulation.Triangulation`.
``triangulate`` re-runs only the triangulation, from such a trial file or
from per-view results files, with other parameters or another calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from neuropose.cli.app import app, err_console, out_console
from neuropose.errors import InputError, UsageError

if TYPE_CHECKING:
    from neuropose.multiview.trial import TrialOptions
    from neuropose.schemas import CameraIntrinsics, JobResults, VideoPredictions
    from neuropose.schemas.rig import CameraRig
    from neuropose.schemas.triangulation import Triangulation

__all__ = ["MultiViewArgs", "process_trial", "triangulate"]

CalibrationOption = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="Camera calibration (.qca.txt, Calib.toml, .json, .yml): multi-view mode.",
    ),
]
CameraMapOption = Annotated[
    list[str] | None,
    typer.Option("--camera-map", help="VIDEO=CAMERA when file names do not name the camera."),
]
OffsetOption = Annotated[
    list[str] | None,
    typer.Option("--offset", help="CAMERA=FRAMES: that view's frame f+k is reference frame f."),
]
SyncSearchOption = Annotated[
    int, typer.Option("--sync-search", min=0, help="Search residual offsets within +-N frames.")
]
GateOption = Annotated[
    float, typer.Option("--gate-px", min=0.1, help="Reprojection gate for a view to agree, px.")
]
MinConfOption = Annotated[
    float, typer.Option("--min-confidence", min=0.0, max=1.0, help="Ignore weaker 2D keypoints.")
]
SwapOption = Annotated[
    bool, typer.Option("--swaps/--no-swaps", help="Test left/right-swapped labels per view.")
]
PlausibilityOption = Annotated[
    bool,
    typer.Option(
        "--plausibility/--no-plausibility",
        help="Exclude joints whose limb lengths are implausible (NaN, listed in the results).",
    ),
]
LengthToleranceOption = Annotated[
    float,
    typer.Option(
        "--length-tolerance",
        min=0.01,
        help="A limb segment off the trial's median length by more than this fraction "
        "is implausible.",
    ),
]


def _pairs(items: Sequence[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"{what} {item!r} is not KEY=VALUE", hint=f"e.g. {what} cam02=3")
        out[key] = value
    return out


class MultiViewArgs:
    """Parsed multi-view options shared by ``process`` and ``triangulate``."""

    def __init__(
        self,
        calibration: Path | None,
        camera_map: Sequence[str] | None,
        offset: Sequence[str] | None,
        sync_search: int,
        gate_px: float,
        min_confidence: float,
        swaps: bool,
        *,
        plausibility: bool = True,
        length_tolerance: float | None = None,
    ) -> None:
        self.calibration = calibration
        self.camera_map = _pairs(camera_map, "--camera-map")
        raw = _pairs(offset, "--offset")
        try:
            self.offsets = {k: int(v) for k, v in raw.items()}
        except ValueError:
            raise UsageError(f"--offset values must be whole frames, got {raw}") from None
        self.sync_search = sync_search
        self.gate_px = gate_px
        self.min_confidence = min_confidence
        self.swaps = swaps
        self.plausibility = plausibility
        self.length_tolerance = length_tolerance

    def rig(self, stored: CameraRig | None = None) -> CameraRig:
        """The calibration given, else ``stored`` (from a trial file)."""
        from neuropose.multiview.calibration import load_calibration

        if self.calibration is not None:
            return load_calibration(self.calibration)
        if stored is None:
            raise UsageError("no calibration", hint="give --calibration CALIB")
        return stored

    def options(self) -> TrialOptions:
        """The :class:`TrialOptions` these flags describe."""
        from neuropose.multiview.qc import LENGTH_TOLERANCE
        from neuropose.multiview.trial import TrialOptions
        from neuropose.multiview.triangulate import TriangulationOptions

        return TrialOptions(
            triangulation=TriangulationOptions(
                gate_px=self.gate_px, min_confidence=self.min_confidence, detect_swaps=self.swaps
            ),
            offsets=self.offsets,
            sync_search=self.sync_search,
            plausibility=self.plausibility,
            length_tolerance=self.length_tolerance or LENGTH_TOLERANCE,
        )

    def cameras(self, videos: Sequence[str], rig: CameraRig) -> list[str]:
        """Camera of each video (fails before any processing when one cannot be paired)."""
        from neuropose.multiview.trial import pair_videos_with_cameras

        return pair_videos_with_cameras(videos, rig, self.camera_map)


def _trial_output(inputs: Sequence[Path], output: Path | None) -> Path:
    if output is None:
        return Path.cwd() / f"{inputs[0].stem}.trial.json"
    if output.suffix.lower() != ".json":
        raise UsageError(f"-o {output}: a multi-view trial is one file", hint="use -o trial.json")
    return output


def _report(tri: Triangulation, out: Path) -> None:
    out_console.print(f"trial   -> {out} ({tri.points_mm.shape[0]} frames)", markup=False)
    for v in tri.views:
        med = "n/a" if v.median_reprojection_px is None else f"{v.median_reprojection_px:.1f} px"
        out_console.print(
            f"  {v.camera:<12} {v.video}: median reprojection {med}, swaps {v.swaps}, "
            f"offset {v.offset_frames:+d} ({v.offset_source})"
            + (
                f", subject off its primary track in {v.reassigned_frames} frames"
                if v.reassigned_frames
                else ""
            ),
            markup=False,
        )
    before = tri.bone_length_cv_before_exclusion
    cv = ", ".join(
        f"{k} {100 * v:.1f}%"
        + (
            f" ({100 * b:.1f}% before exclusion)"
            if (b := before.get(k)) is not None and b != v
            else ""
        )
        for k, v in tri.bone_length_cv.items()
        if v is not None
    )
    out_console.print(f"  bone-length CV: {cv}", markup=False)
    if tri.options.get("plausibility"):
        flagged = ", ".join(f"{k} {n}" for k, n in tri.implausible.items() if n)
        out_console.print(
            f"  implausible limb lengths (frames): {flagged or 'none'}; "
            f"{len(tri.excluded)} joint position(s) excluded",
            markup=False,
        )
    else:
        out_console.print("  limb-length plausibility check: off", markup=False)
    for w in tri.warnings:
        err_console.print(f"warning: {w}", markup=False)


def _write(
    views: Sequence[VideoPredictions], tri: Triangulation, out: Path, job_id: str
) -> JobResults:
    from neuropose import __version__
    from neuropose.io import write_model_atomic
    from neuropose.schemas import JobResults
    from neuropose.timefmt import utc_iso

    results = JobResults(
        job_id=job_id,
        created_at=utc_iso(),
        neuropose_version=__version__,
        videos=tuple(views),
        triangulation=tri,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_model_atomic(out, results)
    _report(tri, out)
    return results


def process_trial(
    args: MultiViewArgs,
    inputs: Sequence[Path],
    output: Path | None,
    run_view: Callable[[Path, CameraIntrinsics], VideoPredictions],
) -> None:
    """``process --calibration``: validate pairing first, run each view, triangulate, write."""
    from neuropose.multiview.trial import triangulate_trial

    if len(inputs) < 2:
        raise UsageError("multi-view processing needs at least two videos")
    out = _trial_output(inputs, output)
    rig = args.rig()
    cams = args.cameras([p.name for p in inputs], rig)
    opts = args.options()
    views = [run_view(p, _calibrated(rig, c, p)) for p, c in zip(inputs, cams, strict=True)]
    tri = triangulate_trial(views, rig, cameras=cams, options=opts)
    _write(views, tri, out, out.name.split(".")[0])


def _calibrated(rig: CameraRig, camera: str, video: Path) -> CameraIntrinsics:
    """The calibration's intrinsics of ``camera``, fitted to ``video`` (provenance, MeTRAbs)."""
    from neuropose.estimator.camera import from_rig_camera
    from neuropose.multiview.job import fitted_camera

    return from_rig_camera(fitted_camera(rig, camera, video), rig.source_name or "calibration")


def _load_views(paths: Sequence[Path]) -> tuple[list[VideoPredictions], Triangulation | None, str]:
    from neuropose.io import load_model
    from neuropose.schemas import JobResults

    docs = [load_model(p, JobResults) for p in paths]
    views = [v for d in docs for v in d.videos]
    names = [v.video for v in views]
    if len(set(names)) != len(names):
        raise InputError(f"the same video appears twice in {', '.join(map(str, paths))}")
    stored = docs[0].triangulation if len(docs) == 1 else None
    return views, stored, docs[0].job_id if len(docs) == 1 else paths[0].name.split(".")[0]


@app.command("triangulate")
def triangulate(
    results: Annotated[
        list[Path], typer.Argument(help="A trial file, or one results file per view.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Trial FILE.json to write.")],
    calibration: CalibrationOption = None,
    camera_map: CameraMapOption = None,
    offset: OffsetOption = None,
    sync_search: SyncSearchOption = 0,
    gate_px: GateOption = 20.0,
    min_confidence: MinConfOption = 0.3,
    swaps: SwapOption = True,
    plausibility: PlausibilityOption = True,
    length_tolerance: LengthToleranceOption = 0.3,
) -> None:
    """Re-run triangulation from existing per-view results (other parameters or calibration)."""
    from neuropose.multiview.trial import triangulate_trial

    if output.suffix.lower() != ".json":
        raise UsageError(f"-o {output}: expected a FILE.json")
    args = MultiViewArgs(
        calibration,
        camera_map,
        offset,
        sync_search,
        gate_px,
        min_confidence,
        swaps,
        plausibility=plausibility,
        length_tolerance=length_tolerance,
    )
    views, stored, job_id = _load_views(results)
    rig = args.rig(stored.rig if stored is not None else None)
    if stored is not None and not args.camera_map:
        by_video = {x.video: x.camera for x in stored.views}
        args.camera_map = {v.video: by_video[v.video] for v in views if v.video in by_video}
    cams = args.cameras([v.video for v in views], rig)
    tri = triangulate_trial(views, rig, cameras=cams, options=args.options())
    _write(views, tri, output, job_id)
