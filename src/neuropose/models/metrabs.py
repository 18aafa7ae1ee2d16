"""MeTRAbs (research-grade absolute 3D poses): registry entries, fetching, loading, inference.

Weights
-------
MeTRAbs is published as TensorFlow SavedModel tarballs. Registry entries:

``metrabs-eff2l-384-28ds``
    EfficientNetV2-L, 384 px crops, 28 datasets; ≈2.2 GB; sha256 pinned.
``metrabs-eff2s-256-28ds``
    EfficientNetV2-S, 256 px crops — faster; no published sha256, so it is
    fetched only with ``--sha256 HASH`` or ``--trust-unpinned`` (warned).

Fetching streams the tarball into ``<cache>/.downloads/`` with progress,
resumes an interrupted download with HTTP ``Range``, verifies size and
sha256, extracts it with :func:`~neuropose.models.download.safe_extract_tar`
(no member may escape the target, no links) into a staging directory and
renames it into ``<cache>/<name>/model/`` under the model's file lock.
``--from-file`` installs a local tarball the same way (hash checked).

A SavedModel can also be used without the registry, as
``metrabs:<directory>``, ``metrabs:<tarball>`` (extracted once into
``<cache>/.local/<sha256>/``) or ``metrabs:<TF Hub handle>`` (resolved with
``tensorflow_hub.resolve``). Models are loaded with
``tf.saved_model.load`` (``hub.load`` fails under Keras 3). TensorFlow and
TensorFlow Hub are the optional extra ``neuropose[metrabs]``: they are
imported only here, when a MeTRAbs model loads or resolves a handle, and a
missing one is a :class:`~neuropose.models.errors.RuntimeMissingError`
naming the extra.

Inference
---------
:meth:`MetrabsModel.predict` calls the SavedModel's ``detect_poses_batched``
with the frames (uint8), the estimator's intrinsic matrix for every frame,
and the options ``skeleton``, ``num_aug``, ``detector_threshold``,
``max_detections`` (= ``max_persons``) and ``internal_batch_size``. Outputs
are ragged per frame: ``boxes`` (x, y, w, h, score px), ``poses3d`` (J, 3)
millimetres in the camera frame (x right, y down, z forward; *absolute*,
not root-relative) and ``poses2d`` (J, 2) pixels.

Per-joint confidence: **reported as absent** (``confidence=None``). MeTRAbs
outputs no per-joint score; deriving one from the spread of test-time
augmentations would need a calibration we have not done, and an
uncalibrated number would look more trustworthy than it is.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuropose.models import registry
from neuropose.models.base import FrameDetections
from neuropose.models.cache import (
    ModelManifest,
    combined_digest,
    fetch_lock,
    hash_tree,
    sha256_file,
    staging_dir,
)
from neuropose.models.download import download, safe_extract_tar
from neuropose.models.errors import (
    ModelFetchError,
    ModelIntegrityError,
    ModelLoadError,
    RuntimeMissingError,
)
from neuropose.schemas import CameraIntrinsics, Skeleton
from neuropose.skeletons import SKELETONS

if TYPE_CHECKING:
    from neuropose.config import Settings
    from neuropose.models.base import PoseModel

__all__ = ["METRABS_EFF2L", "METRABS_EFF2S", "MetrabsBackend", "MetrabsModel"]

logger = logging.getLogger(__name__)

_BASE = "https://omnomnom.vision.rwth-aachen.de/data/metrabs/"
_OFFLINE = "download the tarball elsewhere and run `neuropose models fetch {name} --from-file PATH`"
DEFAULT_SKELETON = "smpl+head_30"

METRABS_EFF2L = registry.ModelEntry(
    name="metrabs-eff2l-384-28ds",
    kind="metrabs",
    source=_BASE + "metrabs_eff2l_y4_384px_800k_28ds.tar.gz",
    size=2_200_000_000,
    archive_sha256="fa31b5b043f227588c3d224e56db89307d021bfbbb52e36028919f90e1f96c89",
    files={},
    licence="MIT (code); research use, see MeTRAbs README for dataset terms",
    description="MeTRAbs EfficientNetV2-L 384 px, 28 datasets (≈2.2 GB), absolute 3D",
    offline_hint=_OFFLINE.format(name="metrabs-eff2l-384-28ds"),
    options={"skeleton": DEFAULT_SKELETON},
)

METRABS_EFF2S = registry.ModelEntry(
    name="metrabs-eff2s-256-28ds",
    kind="metrabs",
    source=_BASE + "metrabs_eff2s_y4_256px_1600k_28ds.tar.gz",
    size=None,
    archive_sha256=None,
    files={},
    licence="MIT (code); research use, see MeTRAbs README for dataset terms",
    description="MeTRAbs EfficientNetV2-S 256 px, 28 datasets (faster), absolute 3D; unpinned",
    offline_hint=_OFFLINE.format(name="metrabs-eff2s-256-28ds"),
    options={"skeleton": DEFAULT_SKELETON},
)

MODEL_SUBDIR = "model"
#: The pip extra that installs MeTRAbs' runtime (TensorFlow, TensorFlow Hub).
EXTRA = "neuropose[metrabs]"


def import_tensorflow(module: str = "tensorflow") -> Any:
    """``tensorflow`` (or ``tensorflow_hub``), or an error naming the extra that installs it.

    Raises
    ------
    RuntimeMissingError
        The module is not installed (exit 4); the hint is the pip command.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeMissingError(
            f"MeTRAbs models need {module.replace('_', '-')}, which is not installed: {exc}",
            hint=f"pip install '{EXTRA}' (the default model, blazepose-full, does not need it)",
        ) from exc


#: Model-spec options (``metrabs-eff2l-384-28ds?skeleton=h36m_17&num_aug=5``) and their types.
OPTION_TYPES: dict[str, type] = {
    "skeleton": str,
    "num_aug": int,
    "detector_threshold": float,
    "internal_batch_size": int,
}


def _find_saved_model(root: Path) -> Path:
    found = sorted(p.parent for p in root.rglob("saved_model.pb"))
    if len(found) != 1:
        raise ModelFetchError(
            f"expected exactly one SavedModel (saved_model.pb) in the archive, found {len(found)}"
        )
    return found[0]


def _install_tar(archive: Path, staged: Path) -> None:
    unpack = staged / ".unpack"
    unpack.mkdir()
    safe_extract_tar(archive, unpack)
    os_model = _find_saved_model(unpack)
    os_model.rename(staged / MODEL_SUBDIR)
    shutil.rmtree(unpack, ignore_errors=True)


class MetrabsBackend:
    """Fetches MeTRAbs tarballs and loads SavedModels."""

    kind = "metrabs"

    def materialize(
        self,
        entry: registry.ModelEntry,
        staged: Path,
        opts: registry.FetchOptions,
        expected_sha256: str | None,
        cache_dir: Path,
    ) -> registry.Staged:
        if opts.from_path is not None:
            src = Path(opts.from_path).expanduser()
            if src.is_dir():
                raise ModelFetchError(
                    f"--from-file {src} is a directory, which cannot be checked against the "
                    "tarball's sha256",
                    hint=f"give the .tar.gz, or use the directory directly as metrabs:{src}",
                )
            if not src.is_file():
                raise ModelFetchError(f"--from-file {src}: no such file")
            actual = sha256_file(src)
            if expected_sha256 is not None and actual != expected_sha256:
                raise ModelIntegrityError(
                    f"{src.name}: sha256 {actual} does not match the expected {expected_sha256}; "
                    "nothing was installed"
                )
            _install_tar(src, staged)
            return registry.Staged(source=f"file:{src.name}", archive_sha256=actual)
        part, actual = download(
            entry.source,
            Path(cache_dir) / ".downloads",
            expected_sha256=expected_sha256,
            file_name=entry.name + ".tar.gz",
            progress=opts.progress,
        )
        try:
            _install_tar(part, staged)
        finally:
            part.unlink(missing_ok=True)
        return registry.Staged(source=entry.source, archive_sha256=actual)

    def load(
        self,
        entry: registry.ModelEntry,
        directory: Path,
        manifest: ModelManifest,
        settings: Settings,
        options: Mapping[str, str],
    ) -> PoseModel:
        kwargs = registry.parse_options(options, OPTION_TYPES, entry.name)
        kwargs.setdefault("skeleton", str(entry.options.get("skeleton", DEFAULT_SKELETON)))
        return MetrabsModel.from_saved_model(
            directory / MODEL_SUBDIR,
            name=entry.name,
            weights_sha256=combined_digest(manifest.files),
            max_detections=settings.max_persons,
            max_batch_size=settings.batch_size,
            num_threads=settings.num_threads,
            **kwargs,
        )

    def load_location(
        self, location: str, settings: Settings, options: Mapping[str, str]
    ) -> PoseModel:
        kwargs = registry.parse_options(options, OPTION_TYPES, f"metrabs:{location}")
        kwargs.setdefault("skeleton", DEFAULT_SKELETON)
        path = Path(location).expanduser()
        if path.is_file():
            directory = _extract_local_tarball(path, Path(settings.model_cache_dir))
        elif path.is_dir():
            directory = path
        else:
            directory = _resolve_hub(location)
        files, _ = hash_tree(directory)
        return MetrabsModel.from_saved_model(
            directory,
            name=f"metrabs:{location}",
            weights_sha256=combined_digest(files),
            max_detections=settings.max_persons,
            max_batch_size=settings.batch_size,
            num_threads=settings.num_threads,
            **kwargs,
        )


def _extract_local_tarball(archive: Path, cache_dir: Path) -> Path:
    sha = sha256_file(archive)
    local = cache_dir / ".local" / sha
    if (local / MODEL_SUBDIR / "saved_model.pb").is_file():
        return local / MODEL_SUBDIR
    local.parent.mkdir(parents=True, exist_ok=True)
    with fetch_lock(cache_dir, f"local-{sha}"), staging_dir(cache_dir, f"local-{sha}") as staged:
        if not (local / MODEL_SUBDIR / "saved_model.pb").is_file():
            _install_tar(archive, staged)
            shutil.rmtree(local, ignore_errors=True)
            staged.rename(local)
            staged.mkdir()
    return local / MODEL_SUBDIR


def _resolve_hub(handle: str) -> Path:
    if "://" not in handle and not handle.startswith(("@", "tfhub.dev/", "kaggle")):
        raise ModelLoadError(
            f"metrabs:{handle}: no such file or directory, and not a TF Hub handle",
            hint="give the path of a SavedModel directory or tarball, or a https:// handle",
        )
    hub = import_tensorflow("tensorflow_hub")
    try:
        resolved = Path(hub.resolve(handle))
    except Exception as exc:
        raise ModelLoadError(
            f"metrabs:{handle} is neither a local SavedModel directory/tarball nor a "
            f"resolvable TF Hub handle: {exc}",
            hint="give a local path, or fetch a registry model with `neuropose models fetch`",
        ) from exc
    return resolved


def _to_numpy_ragged(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(flat values, row splits) of a ragged batch output."""
    return value.flat_values.numpy(), value.row_splits.numpy()


class MetrabsModel:
    """A loaded MeTRAbs SavedModel as a :class:`~neuropose.models.base.PoseModel`.

    Parameters
    ----------
    module : object
        The loaded SavedModel (``detect_poses_batched``,
        ``per_skeleton_joint_names``, ``per_skeleton_joint_edges``).
    skeleton : str
        MeTRAbs skeleton name (``smpl+head_30``, ``h36m_17``, ...).
    num_aug : int
        Test-time augmentations per detection (1 = fastest).
    detector_threshold : float
        Person-detector score threshold.
    max_detections : int
        Most people per frame (``max_persons``).
    internal_batch_size : int
        Crops per internal network batch.
    max_batch_size : int
        Frames per :meth:`predict` call the estimator should send.
    """

    root_relative = False

    def __init__(
        self,
        module: Any,
        *,
        name: str,
        weights_sha256: str,
        skeleton: str = DEFAULT_SKELETON,
        num_aug: int = 1,
        detector_threshold: float = 0.3,
        max_detections: int = 1,
        internal_batch_size: int = 64,
        max_batch_size: int = 8,
        warm_up: bool = True,
    ) -> None:
        self._module = module
        self.name = name
        self.weights_sha256 = weights_sha256
        self.num_aug = num_aug
        self.detector_threshold = detector_threshold
        self.max_detections = max_detections
        self.internal_batch_size = internal_batch_size
        self.max_batch_size = max_batch_size
        self.skeleton = self._skeleton(skeleton)
        self.options: dict[str, Any] = {
            "skeleton": skeleton,
            "num_aug": num_aug,
            "detector_threshold": detector_threshold,
            "max_detections": max_detections,
            "internal_batch_size": internal_batch_size,
            "confidence": "absent (MeTRAbs gives no per-joint confidence)",
            "poses3d": "absolute camera frame, mm",
        }
        if warm_up:
            black = np.zeros((1, 256, 256, 3), np.uint8)
            self.predict(black, CameraIntrinsics.from_fov(256, 256, 55.0))

    def _skeleton(self, name: str) -> Skeleton:
        try:
            names_t = self._module.per_skeleton_joint_names[name]
        except (KeyError, TypeError) as exc:
            raise ModelLoadError(f"{self.name}: the model has no skeleton {name!r}") from exc
        joints = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names_t.numpy())
        edges: tuple[tuple[int, int], ...] = ()
        try:
            raw = np.asarray(self._module.per_skeleton_joint_edges[name].numpy())
            edges = tuple((int(a), int(b)) for a, b in raw.reshape(-1, 2))
        except (KeyError, AttributeError, TypeError, ValueError):
            known = SKELETONS.get(name)
            if known is not None and known.joints == joints:
                edges = known.edges
        return Skeleton(name=name, joints=joints, edges=edges)

    @classmethod
    def from_saved_model(
        cls,
        directory: Path,
        *,
        name: str,
        weights_sha256: str,
        skeleton: str = DEFAULT_SKELETON,
        max_detections: int,
        max_batch_size: int,
        num_threads: int,
        **kwargs: Any,
    ) -> MetrabsModel:
        """Load a SavedModel directory with ``tf.saved_model.load`` and warm it up."""
        tf = import_tensorflow()

        try:
            tf.config.threading.set_intra_op_parallelism_threads(num_threads)
        except RuntimeError:  # already initialised in this process
            logger.debug("TensorFlow threads already configured")
        try:
            module = tf.saved_model.load(str(directory))
        except (OSError, ValueError, tf.errors.OpError) as exc:
            raise ModelLoadError(
                f"{directory} is not a loadable SavedModel: {exc}",
                hint=f"re-fetch it with `neuropose models fetch {name} --force`",
            ) from exc
        if not hasattr(module, "detect_poses_batched"):
            raise ModelLoadError(f"{directory}: SavedModel has no detect_poses_batched function")
        return cls(
            module,
            name=name,
            weights_sha256=weights_sha256,
            skeleton=skeleton,
            max_detections=max_detections,
            max_batch_size=max_batch_size,
            **kwargs,
        )

    def reset(self) -> None:
        """MeTRAbs keeps no state between frames."""

    def predict(self, frames: np.ndarray, intrinsics: CameraIntrinsics) -> list[FrameDetections]:
        """Detections for each of ``frames`` (N, H, W, 3) uint8 RGB (absolute 3D, mm)."""
        tf = import_tensorflow()

        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(
                f"frames must be (N, H, W, 3) uint8 RGB, got {frames.shape} {frames.dtype}"
            )
        n = frames.shape[0]
        k = np.array(
            [[intrinsics.fx, 0, intrinsics.cx], [0, intrinsics.fy, intrinsics.cy], [0, 0, 1]],
            np.float32,
        )
        kwargs: dict[str, Any] = {
            "intrinsic_matrix": tf.constant(np.repeat(k[None], n, axis=0)),
            "skeleton": self.skeleton.name,
            "num_aug": self.num_aug,
            "detector_threshold": self.detector_threshold,
            "max_detections": self.max_detections,
            "internal_batch_size": self.internal_batch_size,
        }
        if intrinsics.distortion:
            d = np.zeros(5, np.float32)
            d[: min(5, len(intrinsics.distortion))] = intrinsics.distortion[:5]
            kwargs["distortion_coeffs"] = tf.constant(np.repeat(d[None], n, axis=0))
        try:
            out = self._module.detect_poses_batched(tf.constant(frames), **kwargs)
        except (tf.errors.OpError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"{self.name}: detect_poses_batched failed: {exc}") from exc
        boxes, splits = _to_numpy_ragged(out["boxes"])
        p3, _ = _to_numpy_ragged(out["poses3d"])
        p2, _ = _to_numpy_ragged(out["poses2d"])
        j = len(self.skeleton.joints)
        result = []
        for i in range(n):
            a, b = int(splits[i]), int(splits[i + 1])
            result.append(
                FrameDetections(
                    boxes=boxes[a:b].astype(np.float32).reshape(-1, 5),
                    poses3d=p3[a:b].astype(np.float32).reshape(-1, j, 3),
                    poses2d=p2[a:b].astype(np.float32).reshape(-1, j, 2),
                    confidence=None,
                )
            )
        return result


registry.register_backend(MetrabsBackend())
registry.register_model(METRABS_EFF2L)
registry.register_model(METRABS_EFF2S)
