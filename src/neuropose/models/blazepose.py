"""The ``blazepose-full`` registry entry and backend (fetching from the MediaPipe wheel).

Weights
-------
BlazePose GHUM 3D (full) ships as two TFLite files inside the PyPI wheel
``mediapipe==0.10.21`` (Apache-2.0)::

    mediapipe/modules/pose_detection/pose_detection.tflite       -> pose_detection.tflite
    mediapipe/modules/pose_landmark/pose_landmark_full.tflite    -> pose_landmark_full.tflite

Fetching runs ``python -m pip download`` for that exact wheel (so the user's
pip configuration, index mirrors and proxies apply), checks the wheel's
sha256, extracts only those two members, checks their sha256 and installs
them atomically in ``<model_cache_dir>/blazepose-full/``. MediaPipe itself is
never installed (it pins ``protobuf<5``, TensorFlow 2.21 needs ``>=6``).
Offline sites copy the wheel over and run
``neuropose models fetch blazepose-full --from-wheel PATH``.

The inference pipeline lives in :mod:`neuropose.models.blazepose_pipeline`
and is imported only when the model is loaded.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from neuropose import wheels
from neuropose.models import registry
from neuropose.models.cache import ModelManifest, combined_digest, file_digests, sha256_file
from neuropose.models.errors import ModelFetchError, ModelIntegrityError, UnknownModelError

if TYPE_CHECKING:
    from neuropose.config import Settings
    from neuropose.models.base import PoseModel

__all__ = [
    "BLAZEPOSE_FULL",
    "DETECTOR_FILE",
    "LANDMARK_FILE",
    "OPTION_TYPES",
    "WHEEL_NAME",
    "BlazePoseBackend",
    "pip_download_command",
]

logger = logging.getLogger(__name__)

WHEEL_NAME = "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
DETECTOR_FILE = "pose_detection.tflite"
LANDMARK_FILE = "pose_landmark_full.tflite"
_MEMBERS = {
    "mediapipe/modules/pose_detection/pose_detection.tflite": DETECTOR_FILE,
    "mediapipe/modules/pose_landmark/pose_landmark_full.tflite": LANDMARK_FILE,
}
_PIP_TIMEOUT_S = 900.0

#: Model-spec options (``blazepose-full?tracking=false``) and their types.
OPTION_TYPES: dict[str, type] = {
    "tracking": bool,
    "heatmap_refinement": bool,
    "heatmap_kernel": int,
    "detector_threshold": float,
    "presence_threshold": float,
    "redetect_every": int,
}

BLAZEPOSE_FULL = registry.ModelEntry(
    name="blazepose-full",
    kind="blazepose",
    source="pip:mediapipe==0.10.21",
    size=35_600_000,
    archive_sha256=WHEEL_SHA256,
    files={
        DETECTOR_FILE: "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        LANDMARK_FILE: "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    },
    licence="Apache-2.0",
    description="BlazePose GHUM 3D full (MediaPipe 0.10.21), 33 landmarks, CPU TFLite",
    offline_hint=f"copy {WHEEL_NAME} here and run "
    "`neuropose models fetch blazepose-full --from-wheel PATH`",
    options={"members": dict(_MEMBERS)},
)


REQUIREMENT = "mediapipe==0.10.21"
#: pip arguments selecting the CPython 3.11 manylinux wheel whatever machine fetches it.
PLATFORM_ARGS = (
    "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp",
)  # fmt: skip


def pip_download_command(dest: Path) -> list[str]:
    """The exact ``pip download`` command used to fetch the wheel into ``dest``."""
    return wheels.pip_download_command(REQUIREMENT, dest, PLATFORM_ARGS)


def _pip_download(dest: Path) -> Path:
    try:
        return wheels.run_pip_download(
            REQUIREMENT,
            dest,
            extra_args=PLATFORM_ARGS,
            timeout_s=_PIP_TIMEOUT_S,
            offline_hint="check network/pip configuration (PIP_INDEX_URL, proxies); or "
            + BLAZEPOSE_FULL.offline_hint,
        )
    except wheels.WheelFetchError as exc:
        raise ModelFetchError(exc.message, hint=exc.hint) from exc


def _extract_members(wheel: Path, staged: Path, members: dict[str, str]) -> None:
    for member, target in members.items():
        try:
            wheels.extract_member(
                wheel, member, staged / target, sha256=BLAZEPOSE_FULL.files[target]
            )
        except wheels.WheelFetchError as exc:
            raise ModelIntegrityError(exc.message, hint=f"use the genuine {WHEEL_NAME}") from exc


class BlazePoseBackend:
    """Fetches BlazePose weights from the MediaPipe wheel and loads the TFLite pipeline."""

    kind = "blazepose"

    def materialize(
        self,
        entry: registry.ModelEntry,
        staged: Path,
        opts: registry.FetchOptions,
        expected_sha256: str | None,
        cache_dir: Path,
    ) -> registry.Staged:
        members: dict[str, str] = dict(entry.options["members"])
        with tempfile.TemporaryDirectory(prefix=".pip-", dir=staged.parent) as tmp:
            if opts.from_path is not None:
                wheel = Path(opts.from_path).expanduser()
                if not wheel.is_file():
                    raise ModelFetchError(
                        f"--from-wheel {wheel}: no such file", hint=f"give the path of {WHEEL_NAME}"
                    )
                source = f"file:{wheel.name}"
            else:
                wheel = _pip_download(Path(tmp))
                source = entry.source
            actual = sha256_file(wheel)
            if expected_sha256 is not None and actual != expected_sha256:
                raise ModelIntegrityError(
                    f"{wheel.name}: sha256 {actual} does not match the pinned {expected_sha256}; "
                    "nothing was installed",
                    hint=f"use the genuine {WHEEL_NAME} from PyPI",
                )
            _extract_members(wheel, staged, members)
        return registry.Staged(source=source, archive_sha256=actual)

    def load(
        self,
        entry: registry.ModelEntry,
        directory: Path,
        manifest: ModelManifest,
        settings: Settings,
        options: Mapping[str, str],
    ) -> PoseModel:
        from neuropose.models.blazepose_pipeline import BlazePoseModel

        return BlazePoseModel.from_files(
            directory / DETECTOR_FILE,
            directory / LANDMARK_FILE,
            name=entry.name,
            expected_sha256=dict(entry.files),
            known_sha256=file_digests(directory, manifest, (DETECTOR_FILE, LANDMARK_FILE)),
            num_threads=settings.num_threads,
            max_persons=settings.max_persons,
            **registry.parse_options(options, OPTION_TYPES, entry.name),
        )

    def load_location(
        self, location: str, settings: Settings, options: Mapping[str, str]
    ) -> PoseModel:
        """``blazepose:<dir>``: a directory holding the two ``.tflite`` files (hashes checked)."""
        from neuropose.models.blazepose_pipeline import BlazePoseModel

        kwargs = registry.parse_options(options, OPTION_TYPES, f"blazepose:{location}")
        directory = Path(location).expanduser()
        if not (directory / DETECTOR_FILE).is_file() or not (directory / LANDMARK_FILE).is_file():
            raise UnknownModelError(
                f"blazepose:{location}: expected {DETECTOR_FILE} and {LANDMARK_FILE} in {directory}"
            )
        return BlazePoseModel.from_files(
            directory / DETECTOR_FILE,
            directory / LANDMARK_FILE,
            name=f"blazepose:{directory.name}",
            expected_sha256=dict(BLAZEPOSE_FULL.files),
            num_threads=settings.num_threads,
            max_persons=settings.max_persons,
            **kwargs,
        )


def weights_digest() -> str:
    """``weights_sha256`` reported by ``blazepose-full`` (see :func:`cache.combined_digest`)."""
    return combined_digest(dict(BLAZEPOSE_FULL.files))


registry.register_backend(BlazePoseBackend())
registry.register_model(BLAZEPOSE_FULL)
