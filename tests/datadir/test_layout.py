"""The layout: every path of a data directory, and which job names it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuropose.datadir import (
    DataDir,
    InvalidJobNameError,
    UnknownJobError,
    check_job_name,
    is_job_name,
    retry_job,
)


def test_daemon_files_and_job_folders_are_separate_namespaces(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    daemon_files = {d.status, d.lock, d.staging}
    assert {p.parent for p in daemon_files} == {tmp_path}
    # A job named like any daemon file gets paths that differ from all of them.
    for name in ("status.json", "neuropose.lock", "results.json", "partial", "in", "out"):
        job = d.job(name)
        paths = {job.input, job.output, job.failed, job.status, job.results, job.partial}
        assert paths.isdisjoint(daemon_files)
        assert {p.parent.parent for p in (job.input, job.output, job.failed)} == {tmp_path}
        assert job.status.parent == job.output == tmp_path / "out" / name
    assert d.legacy_status == tmp_path / "out" / "status.json"


def test_output_jobs_lists_only_job_folders(tmp_path: Path) -> None:
    d = DataDir(tmp_path)
    assert d.output_jobs() == []
    for name in ("b", "a", ".hidden"):
        (d.out_dir / name).mkdir(parents=True)
    (d.out_dir / "status.json").write_text("{}")  # an old-layout aggregate is not a job
    (d.out_dir / "link").symlink_to(d.out_dir / "a")
    assert d.output_jobs() == ["a", "b"]
    assert d.has_legacy_status()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "is empty"),
        ("..", "is empty or a relative path"),
        ("a/b", "contains a path separator"),
        ("a\\b", "contains a path separator"),
        ("bell\x07", "contains a control character"),
        ("x" * 256, "longer than 255 bytes"),
        ("é" * 128, "longer than 255 bytes"),  # 256 bytes of UTF-8
        (".staging", "starts with '.'"),
        (".status.json.0123456789abcdef.tmp", "starts with '.'"),
    ],
)
def test_check_job_name_refuses_with_the_reason_and_the_fix(name: str, problem: str) -> None:
    with pytest.raises(InvalidJobNameError, match="job name") as info:
        check_job_name(name, source="in/x")
    assert problem in info.value.message
    assert info.value.message.startswith("in/x: ")
    assert info.value.hint is not None and "rename" in info.value.hint
    assert info.value.exit_code == 2
    assert not is_job_name(name)


@pytest.mark.parametrize(
    "name", ["status.json", "results.json", "partial", "neuropose.lock", "é" * 127, "x" * 255]
)
def test_check_job_name_accepts_daemon_file_names_and_long_names(name: str) -> None:
    assert check_job_name(name) == name and is_job_name(name)


def test_retry_refuses_a_name_that_would_leave_the_job_folders(tmp_path: Path) -> None:
    (tmp_path / "failed").mkdir()
    (tmp_path / "secret").mkdir()
    with pytest.raises(InvalidJobNameError, match="path separator"):
        retry_job(tmp_path, "../secret")
    assert (tmp_path / "secret").is_dir() and not (tmp_path / "in").exists()
    with pytest.raises(UnknownJobError, match="no failed job 'ghost'"):
        retry_job(tmp_path, "ghost")
