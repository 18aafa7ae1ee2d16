"""Schemas: round-trips, strictness, array encoding, versioning and migration.

The fixture document (``_results``) is a job with one video of 3 frames at
30 fps and a 3-joint skeleton. Detections (rows sorted by frame):

====  =====  =====  ===============================================
row   frame  track  poses3d (mm)
====  =====  =====  ===============================================
0     0      1      [[0, 0, 2000], [0, -500, 2000], [NaN, NaN, NaN]]
1     0      2      all 100.0
2     2      1      all 2.0
====  =====  =====  ===============================================

So track 1 is absent on frame 1, and joint 2 of row 0 was not estimated.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from neuropose.errors import FutureSchemaError, InvalidDocumentError
from neuropose.io import load_model, write_model_atomic
from neuropose.schemas import (
    AttemptRecord,
    CameraIntrinsics,
    Document,
    JobResults,
    JobState,
    JobStatusEntry,
    PerformanceMetrics,
    Provenance,
    Segment,
    Segmentation,
    Skeleton,
    StageTiming,
    StatusFile,
    VideoMetadata,
    VideoPredictions,
    VideoProgress,
    migrations,
)
from neuropose.schemas.base import array_field

SKELETON = Skeleton(name="toy_3", joints=("root", "head", "foot"), edges=((0, 1), (0, 2)))
NAN = float("nan")


def _poses3d() -> np.ndarray:
    p = np.zeros((3, 3, 3), np.float32)
    p[0] = [[0, 0, 2000], [0, -500, 2000], [NAN, NAN, NAN]]
    p[1] = 100.0
    p[2] = 2.0
    return p


def _video(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments of a valid VideoPredictions (see the module docstring)."""
    kwargs: dict[str, Any] = dict(
        video="walk.mp4",
        skeleton=SKELETON,
        metadata=VideoMetadata(
            width=640,
            height=480,
            codec="avc1",
            declared_frame_count=3,
            decoded_frame_count=3,
            fps_reported=30.0,
            duration_s=0.1,
        ),
        provenance=Provenance(
            model_name="fake",
            model_sha256="a" * 64,
            root_relative=False,
            options={"batch_size": 8, "max_persons": 2, "threshold": 0.5, "note": None},
            intrinsics=CameraIntrinsics.from_fov(640, 480, 55.0),
            versions={"neuropose": "0.1.0", "numpy": np.__version__},
            platform="Linux",
            input_sha256="b" * 64,
            input_name="walk.mp4",
            created_at="2026-01-01T00:00:00Z",
        ),
        metrics=PerformanceMetrics(
            stages={"infer": StageTiming(count=3, total_s=0.3, mean_s=0.1, p50_s=0.1, p95_s=0.1)},
            bottleneck="infer",
            frames=3,
            wall_s=0.5,
            fps=6.0,
            peak_rss_bytes=1000,
            cpu_percent_mean=50.0,
        ),
        primary_track_id=1,
        frame_index=np.arange(3, dtype=np.int32),
        timestamp_s=np.array([0.0, 1 / 30, 2 / 30]),
        det_frame=np.array([0, 0, 2], np.int32),
        track_id=np.array([1, 2, 1], np.int32),
        boxes=np.array([[10, 20, 30, 40, 0.9], [1, 2, 3, 4, 0.5], [11, 21, 30, 40, 0.8]]),
        poses3d=_poses3d(),
        poses2d=np.full((3, 3, 2), 5.0, np.float32),
        confidence=np.array([[0.9, 0.8, 0.0], [0.5, 0.5, 0.5], [1, 1, 1]], np.float32),
        segmentations={
            "reps": Segmentation(
                method="valley_to_valley",
                signal={"joint": "root", "axis": "y"},
                parameters={"prominence": 10.0},
                segments=(Segment(start_frame=0, end_frame=2, start_s=0.0, end_s=2 / 30),),
                created_at="2026-01-01T00:00:00Z",
                neuropose_version="0.1.0",
            )
        },
    )
    kwargs.update(overrides)
    return kwargs


def _results(**video_overrides: Any) -> JobResults:
    return JobResults(
        job_id="job-1",
        created_at="2026-01-01T00:00:01Z",
        neuropose_version="0.1.0",
        videos=(VideoPredictions(**_video(**video_overrides)),),
    )


def _status_entry() -> JobStatusEntry:
    return JobStatusEntry(
        job_id="job-1",
        state=JobState.PROCESSING,
        attempts=1,
        history=(AttemptRecord(attempt=1, started_at="2026-01-01T00:00:00Z", pid=42),),
        queued_at="2026-01-01T00:00:00Z",
        started_at="2026-01-01T00:00:00Z",
        last_update="2026-01-01T00:00:05Z",
        videos=(VideoProgress(name="walk.mp4", state=JobState.PROCESSING, frames_done=10),),
        current_video="walk.mp4",
        frames_done=10,
        frames_expected=100,
        fps=12.5,
        eta_s=7.2,
    )


# --- round trips -----------------------------------------------------------------------


def test_job_results_round_trip_through_disk_preserves_arrays_and_nan(tmp_path: Path) -> None:
    original = _results()
    path = tmp_path / "results.json"
    write_model_atomic(path, original)
    loaded = load_model(path, JobResults)
    assert loaded == original
    v = loaded.video("walk.mp4")
    assert v.poses3d.dtype == np.float32 and v.poses3d.shape == (3, 3, 3)
    assert np.isnan(v.poses3d[0, 2]).all()
    np.testing.assert_array_equal(v.poses3d[0, :2], [[0, 0, 2000], [0, -500, 2000]])
    assert v.timestamp_s[1] == 1 / 30  # float64 timestamps survive bit-exactly
    assert v.provenance.options["note"] is None
    assert v.segmentations["reps"].segments[0].end_frame == 2
    # Arrays are stored in the compact base64 encoding, not as nested lists.
    raw = json.loads(path.read_text())
    enc = raw["videos"][0]["poses3d"]
    assert set(enc) == {"dtype", "shape", "data"}
    assert enc["dtype"] == "float32" and enc["shape"] == [3, 3, 3]
    assert raw["schema_version"] == JobResults.SCHEMA_VERSION


def test_loaded_arrays_are_read_only() -> None:
    v = _results().videos[0]
    with pytest.raises(ValueError, match="read-only"):
        v.poses3d[0, 0, 0] = 1.0


def test_track_returns_dense_arrays_with_nan_where_absent() -> None:
    poses, rows = _results().videos[0].track()  # primary track 1
    assert rows.tolist() == [0, -1, 2]
    assert np.isnan(poses[1]).all()
    assert poses[2].tolist() == [[2.0, 2.0, 2.0]] * 3


@pytest.mark.parametrize(
    "model",
    [
        _status_entry(),
        StatusFile(
            updated_at="2026-01-01T00:00:06Z", daemon_pid=42, jobs={"job-1": _status_entry()}
        ),
        StatusFile(updated_at="2026-01-01T00:00:06Z"),
    ],
    ids=["JobStatusEntry", "StatusFile", "empty StatusFile"],
)
def test_status_documents_round_trip(tmp_path: Path, model: Document) -> None:
    path = tmp_path / "status.json"
    write_model_atomic(path, model)
    assert load_model(path, type(model)) == model


def _schema_classes() -> list[type[BaseModel]]:
    """Every pydantic model class defined in a module of ``neuropose.schemas``."""
    import importlib
    import inspect
    import pkgutil

    import neuropose.schemas as package

    found: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__.startswith(package.__name__):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


def test_every_schema_is_frozen() -> None:
    classes = _schema_classes()
    names = {c.__name__ for c in classes}
    assert {"JobResults", "StatusFile", "JobStatusEntry", "VideoCheckpoint"} <= names
    assert len(classes) >= 15, names
    for cls in classes:
        assert cls.model_config.get("frozen") is True, f"{cls.__name__} is not frozen"
        assert cls.model_config.get("extra") == "forbid", f"{cls.__name__} accepts extra fields"
        if not cls.model_fields:
            continue
        instance = cls.model_construct()
        field = next(iter(cls.model_fields))
        with pytest.raises(ValidationError, match="frozen"):
            setattr(instance, field, None)
    entry = _status_entry()
    with pytest.raises(ValidationError, match="frozen"):
        entry.state = JobState.COMPLETED  # type: ignore[misc]


# --- the array encoding ---------------------------------------------------------------


def test_nested_lists_and_base64_are_both_accepted() -> None:
    doc = json.loads(_results().model_dump_json())
    v = doc["videos"][0]
    as_lists = dict(v)
    as_lists["poses2d"] = [[[5.0, 5.0]] * 3] * 3
    as_lists["frame_index"] = [0, 1, 2]
    as_lists["poses3d"] = [
        [[0, 0, 2000], [0, -500, 2000], [None, None, None]],
        [[100.0] * 3] * 3,
        [[2.0] * 3] * 3,
    ]
    from_lists = VideoPredictions.model_validate(as_lists)
    from_b64 = VideoPredictions.model_validate(v)
    assert from_lists == from_b64
    assert np.isnan(from_lists.poses3d[0, 2]).all()  # null in a float list means NaN


def test_base64_decoding_is_little_endian_c_order() -> None:
    arr = np.array([[1.5, -2.0], [3.25, np.nan]], dtype="<f4")
    enc = {"dtype": "float32", "shape": [2, 2], "data": base64.b64encode(arr.tobytes()).decode()}
    adapter = TypeAdapter(array_field("float32", 2, (2,)))
    got = adapter.validate_python(enc)
    np.testing.assert_array_equal(got, arr)  # NaN compares equal here
    assert adapter.dump_python(got, mode="json") == enc
    empty = adapter.validate_python({"dtype": "float32", "shape": [0, 2], "data": ""})
    assert empty.shape == (0, 2)
    assert adapter.validate_python([]).shape == (0, 2)  # an empty list gets the tail shape


@pytest.mark.parametrize(
    ("poses3d", "message"),
    [
        ({"dtype": "float32", "shape": [3, 3, 3], "data": "!!!"}, "base64 'data'"),
        ({"dtype": "float32", "shape": [3, 3, 3], "data": "AAAA"}, "needs 108"),
        ({"dtype": "complex64", "shape": [3, 3, 3], "data": ""}, "unsupported array dtype"),
        ({"shape": [3, 3, 3], "data": ""}, "needs 'dtype'"),
        ([[[1, 2, 3]], [[1, 2]]], "rectangular"),
        ("1,2,3", "expected an array, got str"),
    ],
    ids=["bad-base64", "wrong-byte-count", "bad-dtype", "missing-key", "ragged", "string"],
)
def test_malformed_arrays_are_rejected_with_a_reason(poses3d: Any, message: str) -> None:
    doc = json.loads(_results().model_dump_json())
    doc["videos"][0]["poses3d"] = poses3d
    with pytest.raises(ValidationError, match=message):
        JobResults.model_validate(doc)


# --- strictness -----------------------------------------------------------------------


def test_extra_fields_are_rejected_at_every_level() -> None:
    doc = json.loads(_results().model_dump_json())
    for target in (
        doc,
        doc["videos"][0],
        doc["videos"][0]["metadata"],
        doc["videos"][0]["provenance"]["intrinsics"],
    ):
        target["surprise"] = 1
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            JobResults.model_validate(doc)
        del target["surprise"]
    JobResults.model_validate(doc)  # and without them it is valid again


def test_status_rejects_unknown_state_and_extra_field() -> None:
    raw = _status_entry().model_dump(mode="json")
    with pytest.raises(ValidationError, match="state"):
        JobStatusEntry.model_validate(raw | {"state": "exploded"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        JobStatusEntry.model_validate(raw | {"progress": 0.5})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"poses3d": np.zeros((3, 3, 2), np.float32)}, r"expected shape \['\*', '\*', 3\]"),
        ({"poses2d": np.zeros((3, 3, 3), np.float32)}, r"expected shape \['\*', '\*', 2\]"),
        (
            {"poses3d": np.zeros((3, 4, 3), np.float32)},
            "poses3d has 4 joints, skeleton 'toy_3' has 3",
        ),
        ({"poses3d": np.zeros((2, 3, 3), np.float32)}, "poses3d has 2 rows, det_frame has 3"),
        ({"boxes": np.zeros((3, 4))}, r"expected shape \['\*', 5\]"),
        ({"confidence": np.zeros((3, 2), np.float32)}, r"confidence has shape \[3, 2\]"),
        ({"frame_index": np.array([0, 2, 1], np.int32)}, "frame_index must be strictly increasing"),
        ({"timestamp_s": np.zeros(2)}, "timestamp_s has 2 entries, expected 3"),
        ({"timestamp_s": np.array([0, np.nan, 1.0])}, "timestamp_s must be finite"),
        ({"det_frame": np.array([2, 0, 0], np.int32)}, "detections must be sorted by frame"),
        ({"det_frame": np.array([0, 0, 3], np.int32)}, "det_frame refers to a frame outside"),
        ({"frame_index": np.zeros((3, 1), np.int32)}, "expected a 1-D array"),
    ],
    ids=[
        "3d-joint-with-2-coords",
        "2d-joint-with-3-coords",
        "joint-count-vs-skeleton",
        "row-count-mismatch",
        "box-with-4-values",
        "confidence-shape",
        "unsorted-frames",
        "timestamps-length",
        "nan-timestamp",
        "unsorted-detections",
        "det-frame-out-of-range",
        "frame-index-rank",
    ],
)
def test_wrong_shapes_are_rejected(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        VideoPredictions(**_video(**overrides))


def test_decoded_frame_count_must_match_frames() -> None:
    meta = _video()["metadata"].model_copy(update={"decoded_frame_count": 4})
    with pytest.raises(ValidationError, match="decoded_frame_count is 4 but there are 3 frames"):
        VideoPredictions(**_video(metadata=meta))


def test_skeleton_rejects_duplicate_joints_and_dangling_edges() -> None:
    with pytest.raises(ValidationError, match="joint names must be unique"):
        Skeleton(name="s", joints=("a", "a"))
    with pytest.raises(ValidationError, match=r"edge \(0, 2\) refers to a joint outside 0..1"):
        Skeleton(name="s", joints=("a", "b"), edges=((0, 2),))


def test_job_results_rejects_duplicate_video_names_and_empty_jobs() -> None:
    v = VideoPredictions(**_video())
    with pytest.raises(ValidationError, match="video names within a job must be unique"):
        JobResults(job_id="j", created_at="t", neuropose_version="0", videos=(v, v))
    with pytest.raises(ValidationError, match="at least 1"):
        JobResults(job_id="j", created_at="t", neuropose_version="0", videos=())


def test_intrinsics_from_fov_matches_pinhole_formula() -> None:
    # 90 degrees across 1000 px: f = 500 / tan(45 deg) = 500 px.
    k = CameraIntrinsics.from_fov(1000, 600, 90.0)
    assert k.fx == pytest.approx(500.0) and k.fy == pytest.approx(500.0)
    assert (k.cx, k.cy) == (500.0, 300.0)
    with pytest.raises(ValueError, match=r"fov_degrees must be in \(0, 180\)"):
        CameraIntrinsics.from_fov(1000, 600, 180.0)


def test_metadata_rejects_impossible_values() -> None:
    with pytest.raises(ValidationError, match="rotation_degrees"):
        VideoMetadata(width=1, height=1, decoded_frame_count=0, duration_s=0, rotation_degrees=45)
    with pytest.raises(ValidationError, match="timestamp_source"):
        VideoMetadata(
            width=1, height=1, decoded_frame_count=0, duration_s=0, timestamp_source="guess"
        )


# --- versions and migrations -----------------------------------------------------------


def test_future_schema_version_asks_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    doc = json.loads(_results().model_dump_json())
    doc["schema_version"] = JobResults.SCHEMA_VERSION + 1
    path.write_text(json.dumps(doc))
    with pytest.raises(FutureSchemaError, match="upgrade NeuroPose") as info:
        load_model(path, JobResults)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("bad", [0, -1, "1", True, 1.5])
def test_invalid_schema_version_is_named(tmp_path: Path, bad: Any) -> None:
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"schema_version": bad, "updated_at": "t"}))
    with pytest.raises(InvalidDocumentError, match=r"field 'schema_version': must be a positive"):
        load_model(path, StatusFile)


def test_documents_without_version_are_version_1(tmp_path: Path) -> None:
    # Read as version 1, then migrated: a v1 status.json lists every job (counts None).
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"updated_at": "2026-01-01T00:00:00Z"}))
    doc = load_model(path, StatusFile)
    assert doc.schema_version == StatusFile.SCHEMA_VERSION == 2
    assert doc.counts is None and doc.seq is None


class _Report(Document):
    """A document at schema version 3: v1 had ``name``; v2 renamed it to ``title``;
    v3 added ``pages`` (count, default 1 for migrated files)."""

    SCHEMA_VERSION: ClassVar[int] = 3
    schema_version: int = 3
    title: str
    pages: int


@pytest.fixture
def report_registry(monkeypatch: pytest.MonkeyPatch) -> migrations.MigrationRegistry:
    reg = migrations.MigrationRegistry()
    monkeypatch.setattr(migrations, "registry", reg)

    @reg.register("_Report", 1)
    def _rename(d: dict[str, Any]) -> dict[str, Any]:
        d["title"] = d.pop("name")
        return d

    @reg.register("_Report", 2)
    def _pages(d: dict[str, Any]) -> dict[str, Any]:
        d.setdefault("pages", 1)
        return d

    return reg


def test_old_document_is_migrated_step_by_step_on_load(
    tmp_path: Path, report_registry: migrations.MigrationRegistry
) -> None:
    v1 = tmp_path / "v1.json"
    v1.write_text(json.dumps({"schema_version": 1, "name": "gait"}))
    v2 = tmp_path / "v2.json"
    v2.write_text(json.dumps({"schema_version": 2, "title": "sit-to-stand"}))
    assert load_model(v1, _Report) == _Report(title="gait", pages=1)
    assert load_model(v2, _Report) == _Report(title="sit-to-stand", pages=1)
    # Saving writes the current version; loading it again needs no migration.
    write_model_atomic(v1, load_model(v1, _Report))
    assert json.loads(v1.read_text()) == {"schema_version": 3, "title": "gait", "pages": 1}


def test_missing_migration_step_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "registry", migrations.MigrationRegistry())
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"schema_version": 1, "name": "gait"}))
    with pytest.raises(
        InvalidDocumentError, match="no migration for _Report from schema version 1"
    ):
        load_model(path, _Report)


def test_registering_a_step_twice_is_refused(
    report_registry: migrations.MigrationRegistry,
) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        report_registry.register("_Report", 1)(lambda d: d)


def test_constructing_an_old_version_directly_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"load the file with neuropose\.io\.load_model"):
        _Report(schema_version=2, title="x", pages=1)


class _Entry(Document):
    """Version 2 of an embedded document: v1 stored ``n`` as a string."""

    SCHEMA_VERSION: ClassVar[int] = 2
    schema_version: int = 2
    n: int


class _Outer(Document):
    """Version 1 of a document embedding ``_Entry`` in every supported way."""

    by_name: dict[str, _Entry] = Field(default_factory=dict)
    in_order: tuple[_Entry, ...] = ()
    main: _Entry | None = None


def test_embedded_documents_are_migrated_with_their_own_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = migrations.MigrationRegistry()
    monkeypatch.setattr(migrations, "registry", reg)
    reg.register("_Entry", 1)(lambda d: d | {"n": int(d["n"])})
    old = {"schema_version": 1, "n": "7"}
    path = tmp_path / "outer.json"
    path.write_text(
        json.dumps(
            {
                "by_name": {"a": old, "b": {"schema_version": 2, "n": 8}},
                "in_order": [old],
                "main": old,
            }
        )
    )
    loaded = load_model(path, _Outer)
    assert loaded.by_name == {"a": _Entry(n=7), "b": _Entry(n=8)}
    assert loaded.in_order == (_Entry(n=7),) and loaded.main == _Entry(n=7)
    path.write_text(json.dumps({"by_name": {"a": {"schema_version": 3, "n": 1}}}))
    with pytest.raises(FutureSchemaError, match="_Entry schema version 3"):
        load_model(path, _Outer)


def test_status_file_migrates_its_job_entries(tmp_path: Path) -> None:
    """A JobStatusEntry at a future version inside status.json is named, not misread."""
    entry = _status_entry().model_dump(mode="json") | {"schema_version": 99}
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"updated_at": "t", "jobs": {"job-1": entry}}))
    with pytest.raises(FutureSchemaError, match="JobStatusEntry schema version 99"):
        load_model(path, StatusFile)


@given(
    arr=hnp.arrays(
        dtype=st.sampled_from(["float32", "float64", "int32", "int64", "uint8", "bool"]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
        elements=None,
    )
)
@settings(max_examples=100, deadline=None)
def test_array_encoding_round_trips_any_array_bit_exactly(arr: np.ndarray) -> None:
    adapter = TypeAdapter(array_field(arr.dtype.name, arr.ndim))
    encoded = adapter.dump_python(adapter.validate_python(arr), mode="json")
    decoded = adapter.validate_python(json.loads(json.dumps(encoded)))
    assert decoded.dtype == arr.dtype and decoded.shape == arr.shape
    assert decoded.tobytes() == np.ascontiguousarray(arr).tobytes()  # NaN payloads included


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("frame_index", [0, 1.5, 2], "expected whole numbers for a int32 array"),
        ("track_id", [float("nan"), 1, 1], "expected whole numbers"),
        ("det_frame", [0, 0, 2**40], r"do not fit in int32"),
    ],
    ids=["fraction", "nan", "overflow"],
)
def test_integer_arrays_never_change_values_silently(field: str, value: Any, message: str) -> None:
    doc = json.loads(_results().model_dump_json())
    doc["videos"][0][field] = value
    with pytest.raises(ValidationError, match=message):
        JobResults.model_validate(doc)
    doc["videos"][0][field] = {"frame_index": [0.0, 1.0, 2.0]}.get(field, [0, 0, 2])
    JobResults.model_validate(doc)  # whole floats are fine


def test_old_document_that_does_not_fit_its_old_schema_is_named(
    tmp_path: Path, report_registry: migrations.MigrationRegistry
) -> None:
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"schema_version": 1, "title": "no 'name' in a v1 file"}))
    with pytest.raises(
        InvalidDocumentError, match=r"cannot migrate _Report from schema version 1: KeyError"
    ) as info:
        load_model(path, _Report)
    assert str(path) in str(info.value)
