"""Multi-view jobs at ingest: videos + one calibration in a folder become one validated job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.conftest import REPO_PYTHONPATH
from tests.ingest.zipcraft import tree_state
from tests.multiview.mvjob_helpers import write_rig_json, write_video

from neuropose.errors import InputError
from neuropose.ingest import SkipReason, ingest_archive, ingest_paths
from neuropose.multiview.job import find_spec
from neuropose.multiview.synthetic import ring_rig

SIZE = (64, 48)
_CLI = [sys.executable, "-c", "import sys; from neuropose.cli import main; sys.exit(main())"]
RIG = ring_rig(3, size=SIZE, f=60.0, distortion=())


def _trial(root: Path, *, names=("cam1", "cam2", "cam3"), fps=(30.0, 30.0, 30.0)) -> Path:
    root.mkdir(parents=True)
    for name, rate in zip(names, fps, strict=True):
        write_video(root / f"{name}.mp4", fps=rate, size=SIZE)
    write_rig_json(RIG, root / "rig.json")
    return root


def _refused(tmp_path: Path, call, match: str) -> InputError:
    before = tree_state(tmp_path)
    with pytest.raises(InputError, match=match) as info:
        call()
    assert tree_state(tmp_path) == before, "a refused ingest wrote something"
    return info.value


def test_a_folder_with_a_calibration_is_one_job_with_its_calibration(
    data_dir: Path, src_dir: Path
) -> None:
    trial = _trial(src_dir / "s01_walk")
    (trial / "notes.json").write_text('{"subject": "s01"}')
    report = ingest_paths([trial], data_dir)
    [job] = report.jobs
    assert (job.name, job.calibration) == ("s01_walk", "rig.json")
    assert [v.file for v in job.videos] == ["cam1.mp4", "cam2.mp4", "cam3.mp4"]
    assert [(Path(s.member).name, s.reason) for s in report.skipped] == [
        ("notes.json", SkipReason.NOT_VIDEO)
    ]
    placed = data_dir / "in" / "s01_walk"
    assert sorted(p.name for p in placed.iterdir()) == [
        "READY",
        "cam1.mp4",
        "cam2.mp4",
        "cam3.mp4",
        "rig.json",
    ]
    assert (placed / "rig.json").read_bytes() == (trial / "rig.json").read_bytes()
    spec = find_spec(placed, ["cam1.mp4", "cam2.mp4", "cam3.mp4"])  # what the daemon reads
    assert spec is not None and spec.cameras["cam2.mp4"] == "cam2"


def test_trials_in_an_archive_each_become_a_job_with_camera_map(
    data_dir: Path, src_dir: Path
) -> None:
    a = _trial(src_dir / "session" / "trial_a")
    b = _trial(src_dir / "session" / "trial_b", names=("front", "left", "right"))
    (b / "cameras.toml").write_text(
        'sync_search = 5\n[cameras]\nfront = "cam2"\nleft = "cam1"\n"right.mp4" = "cam3"\n'
        "[offsets]\ncam3 = 2\n"
    )
    single = src_dir / "session" / "single"
    single.mkdir()
    write_video(single / "walk.mp4", size=SIZE)
    archive = src_dir / "session.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted((src_dir / "session").rglob("*")):
            zf.write(f, f.relative_to(src_dir).as_posix())
    report = ingest_archive(archive, data_dir)
    assert [(j.name, j.calibration, len(j.videos)) for j in report.jobs] == [
        ("session_single_walk", None, 1),
        ("session_trial_a", "rig.json", 3),
        ("session_trial_b", "rig.json", 3),
    ]
    job_b = data_dir / "in" / "session_trial_b"
    assert (job_b / "cameras.toml").read_text() == (b / "cameras.toml").read_text()
    spec = find_spec(job_b, ["front.mp4", "left.mp4", "right.mp4"])
    assert spec is not None
    assert spec.cameras == {"front.mp4": "cam2", "left.mp4": "cam1", "right.mp4": "cam3"}
    assert spec.options.offsets == {"cam3": 2} and spec.options.sync_search == 5
    assert (data_dir / "in" / "session_trial_a" / "rig.json").is_file()
    del a


def test_calibration_at_the_top_of_a_zip_names_the_job_after_the_archive(
    data_dir: Path, src_dir: Path
) -> None:
    trial = _trial(src_dir / "t")
    archive = src_dir / "patient 7.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(trial.iterdir()):
            zf.write(f, f.name)
    [job] = ingest_archive(archive, data_dir).jobs
    assert (job.name, job.calibration) == ("patient_7", "rig.json")


def test_files_on_the_command_line_need_a_job_name(data_dir: Path, src_dir: Path) -> None:
    trial = _trial(src_dir / "t")
    files = [trial / "cam1.mp4", trial / "cam2.mp4", trial / "rig.json"]
    _refused(
        data_dir.parent,
        lambda: ingest_paths(files, data_dir),
        r"rig.json: a calibration named with video files needs --job NAME",
    )
    [job] = ingest_paths(files, data_dir, job="walk_2cams").jobs
    assert (job.name, job.calibration, len(job.videos)) == ("walk_2cams", "rig.json", 2)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda t: (t / "cam3.mp4").rename(t / "side.mp4"),
            r"video side.mp4: cannot tell which camera",
        ),
        (
            lambda t: write_rig_json(ring_rig(2, size=SIZE), t / "second.json"),
            r"several calibration files in one folder",
        ),
        (
            lambda t: (t / "cameras.toml").write_text("[offsets]\ncam1 = 'x'\n"),
            r"cameras.toml: field 'offsets.cam1'",
        ),
        (
            lambda t: write_video(t / "cam2.mp4", fps=25.0, size=SIZE),
            r"frame rates differ: cam1.mp4 runs at 30 fps but cam2.mp4 25 fps",
        ),
        (lambda t: write_video(t / "cam1.mp4", size=(96, 64)), r"cam1.mp4: .*cam1.*96"),
        (
            lambda t: (t / "rig.json").write_text('{"cameras": {"cam1": {"size": [64, 48]}}}'),
            r"rig.json: cameras.cam1.*'K'",
        ),
        (
            lambda t: (t / "sub").mkdir() or write_video(t / "sub" / "cam4.mp4", size=SIZE),
            r"videos in sub-folders below the calibration",
        ),
        (
            lambda t: [(t / f"cam{i}.mp4").unlink() for i in (2, 3)],
            r"at least two videos next to its calibration, found 1",
        ),
    ],
)
def test_inconsistent_multiview_folders_are_refused_before_anything_is_written(
    data_dir: Path, src_dir: Path, change, match: str
) -> None:
    trial = _trial(src_dir / "trial")
    change(trial)
    err = _refused(data_dir.parent, lambda: ingest_paths([trial], data_dir), match)
    assert err.exit_code == 2


def test_a_camera_map_without_calibration_is_refused(data_dir: Path, src_dir: Path) -> None:
    folder = src_dir / "f"
    folder.mkdir()
    write_video(folder / "a.mp4", size=SIZE)
    (folder / "cameras.toml").write_text("[cameras]\na = 'cam1'\n")
    _refused(
        data_dir.parent,
        lambda: ingest_paths([folder], data_dir),
        r"cameras.toml: a camera map without a calibration file",
    )


def test_an_archive_whose_views_differ_in_frame_rate_is_refused_after_extraction(
    data_dir: Path, src_dir: Path
) -> None:
    trial = _trial(src_dir / "trial", fps=(30.0, 30.0, 60.0))
    archive = src_dir / "trial.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(trial.iterdir()):
            zf.write(f, f"trial/{f.name}")
    err = _refused(
        data_dir.parent,
        lambda: ingest_archive(archive, data_dir),
        r"job trial: frame rates differ: cam1.mp4 runs at 30 fps but cam3.mp4 60 fps",
    )
    assert not list((data_dir / ".staging").glob("*")) if (data_dir / ".staging").exists() else True
    del err


def test_cli_refusal_names_the_file_and_field_without_traceback(
    data_dir: Path, src_dir: Path
) -> None:
    trial = _trial(src_dir / "trial")
    (trial / "cam2.mp4").rename(trial / "side.mp4")
    env = {**os.environ, "PYTHONPATH": REPO_PYTHONPATH, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        [*_CLI, "ingest", str(trial), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "side.mp4: cannot tell which camera filmed it" in proc.stderr
    assert "cameras.toml" in proc.stderr and "Traceback" not in proc.stderr
    assert not (data_dir / "in" / "trial").exists()
    (trial / "cameras.toml").write_text("[cameras]\nside = 'cam2'\n")
    proc = subprocess.run(
        [*_CLI, "ingest", str(trial), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "multi-view job trial: 3 views, calibration rig.json" in proc.stdout
    assert sorted(p.name for p in (data_dir / "in" / "trial").iterdir()) == [
        "READY",
        "cam1.mp4",
        "cam3.mp4",
        "cameras.toml",
        "rig.json",
        "side.mp4",
    ]


@pytest.mark.media
def test_real_lab_folder_with_a_foreign_video_is_refused(
    shared_media: Path, data_dir: Path, src_dir: Path
) -> None:
    lab = src_dir / "lab"
    lab.mkdir()
    for name in ("cam01.mp4", "Calib.qca.txt"):
        shutil.copy(shared_media / "lab_single_person" / name, lab / name)
    shutil.copy(shared_media / "vtest.avi", lab / "cam03.avi")
    _refused(
        data_dir.parent,
        lambda: ingest_paths([lab], data_dir),
        r"(?s)job lab: cam03.avi: .*cam03.*768.*frame rates differ: cam01.mp4 runs at 60 fps "
        r"but cam03.avi 10 fps",
    )


def test_other_config_files_do_not_make_a_multiview_job(data_dir: Path, src_dir: Path) -> None:
    folder = src_dir / "batch"
    folder.mkdir()
    write_video(folder / "walk.mp4", size=SIZE)
    (folder / "pyproject.toml").write_text("[tool.x]\na = 1\n")
    (folder / "notes.json").write_text("[1, 2]")
    (folder / "meta.yml").write_text("subject: s01\n")
    report = ingest_paths([folder], data_dir)
    assert [(j.name, j.calibration) for j in report.jobs] == [("walk", None)]
    assert sorted(Path(s.member).name for s in report.skipped) == [
        "meta.yml",
        "notes.json",
        "pyproject.toml",
    ]


def test_a_broken_file_named_calib_is_reported_not_ignored(data_dir: Path, src_dir: Path) -> None:
    trial = _trial(src_dir / "trial")
    (trial / "rig.json").unlink()
    (trial / "Calib.toml").write_text("[cam_1]\nname = 'cam1'\nsize = [64, 48]\n")
    _refused(
        data_dir.parent,
        lambda: ingest_paths([trial], data_dir),
        r"Calib.toml.*matrix",
    )


def test_a_folder_name_with_spaces_gives_a_sanitised_job_name(
    data_dir: Path, src_dir: Path
) -> None:
    trial = _trial(src_dir / "Walk (fast) 2")
    [job] = ingest_paths([trial], data_dir).jobs
    assert job.name == "Walk__fast__2"
    assert (data_dir / "in" / "Walk__fast__2" / "rig.json").is_file()
