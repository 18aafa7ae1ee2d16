"""MeTRAbs path end to end against a loopback HTTP server and a tiny SavedModel.

The SavedModel (``tests/models/metrabs_fake.py``) has MeTRAbs' function names,
signature and ragged outputs with known ground truth; the server
(:class:`Server`) serves its tarball with optional faults: truncation of the
first or every response, ignoring ``Range``, slowness.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from tests.models.conftest import make_settings

from neuropose.cli import main
from neuropose.models import (
    FetchOptions,
    ModelFetchError,
    ModelIntegrityError,
    ModelLoadError,
    RuntimeMissingError,
    UnpinnedModelError,
    fetch_model,
    load_pose_model,
    registry,
    verify_model,
)
from neuropose.models.metrabs import MetrabsModel
from neuropose.schemas import CameraIntrinsics

pytestmark = pytest.mark.slow

ENTRY = "metrabs-loopback"


class Server:
    """Loopback HTTP server for one payload at ``/model.tar.gz``."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.mode = "ok"  # ok | truncate_first | truncate_always | no_range | slow | very_slow
        self.requests: list[str | None] = []  # Range header of each GET
        self.full_gets = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                outer.requests.append(rng)
                data = outer.payload
                start = 0
                if rng and outer.mode != "no_range":
                    start = int(rng.split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    outer.full_gets += 1
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                truncate = outer.mode == "truncate_always" or (
                    outer.mode == "truncate_first" and len(outer.requests) == 1
                )
                if truncate:
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if outer.mode in ("slow", "very_slow"):
                    step, pause = (4096, 0.01) if outer.mode == "slow" else (1024, 0.1)
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i : i + step])
                        self.wfile.flush()
                        threading.Event().wait(pause)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/model.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _tar_dir(directory: Path, top: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(directory, arcname=top)
    return buf.getvalue()


@pytest.fixture(scope="module")
def fake_saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.models.metrabs_fake import build_fake_metrabs

    return build_fake_metrabs(tmp_path_factory.mktemp("fake") / "metrabs_fake")


@pytest.fixture(scope="module")
def tarball(fake_saved_model: Path) -> bytes:
    return _tar_dir(fake_saved_model, "metrabs_fake_y4_256px")


@pytest.fixture
def server(tarball: bytes) -> Iterator[Server]:
    s = Server(tarball)
    yield s
    s.close()


def _register(url: str, sha: str | None) -> None:
    registry.register_model(
        registry.ModelEntry(
            name=ENTRY, kind="metrabs", source=url, size=None, archive_sha256=sha, files={},
            licence="test", description="loopback", options={"skeleton": "h36m_17"},
        )
    )  # fmt: skip


@pytest.fixture
def entry(server: Server, tarball: bytes) -> Iterator[Server]:
    _register(server.url, hashlib.sha256(tarball).hexdigest())
    yield server
    registry._ENTRIES.pop(ENTRY, None)


def _frames() -> np.ndarray:
    return np.stack(
        [
            np.zeros((48, 64, 3), np.uint8),  # nobody
            np.full((48, 64, 3), 100, np.uint8),  # one person, m = 100
            np.full((48, 64, 3), 250, np.uint8),  # two people (if allowed), m = 250
        ]
    )


def _check_inference(model: MetrabsModel, max_persons: int) -> None:
    intr = CameraIntrinsics(fx=500.0, fy=400.0, cx=32.0, cy=24.0)
    dets = model.predict(_frames(), intr)
    assert [d.num_persons for d in dets] == [0, 1, min(2, max_persons)]
    d = dets[1]
    assert d.confidence is None, "MeTRAbs confidence is reported as absent"
    assert d.poses3d.shape == (1, 17, 3)
    np.testing.assert_allclose(d.poses3d[0, 3], [300.0, 100.0, 3000.0])
    np.testing.assert_allclose(d.poses2d[0, 3], [500 * 300 / 3000 + 32, 400 * 100 / 3000 + 24])
    np.testing.assert_allclose(d.boxes[0], [10, 20, 30, 40, 0.9])


def test_fetch_verify_load_and_batched_inference(entry: Server, tmp_path: Path) -> None:
    progress: list[tuple[int, int | None]] = []
    manifest = fetch_model(
        ENTRY, tmp_path, FetchOptions(progress=lambda d, t: progress.append((d, t)))
    )
    assert manifest.pinned and manifest.archive_sha256 == hashlib.sha256(entry.payload).hexdigest()
    assert (tmp_path / ENTRY / "model" / "saved_model.pb").is_file()
    assert progress[-1] == (len(entry.payload), len(entry.payload))
    assert not list((tmp_path / ".downloads").iterdir()), "the tarball is not kept"
    verify_model(ENTRY, tmp_path)
    model = load_pose_model(ENTRY, make_settings(tmp_path, max_persons=2, batch_size=4))
    assert isinstance(model, MetrabsModel)
    assert model.skeleton.name == "h36m_17" and model.skeleton.joints[:2] == ("pelv", "rhip")
    assert model.skeleton.edges, "edges come from per_skeleton_joint_edges"
    assert model.root_relative is False and model.max_batch_size == 4
    assert model.options["confidence"].startswith("absent")
    assert len(model.weights_sha256) == 64
    _check_inference(model, max_persons=2)
    one = load_pose_model(ENTRY, make_settings(tmp_path, max_persons=1))
    _check_inference(one, max_persons=1)  # type: ignore[arg-type]
    smpl = load_pose_model(f"{ENTRY}?skeleton=smpl+head_30&num_aug=2", make_settings(tmp_path))
    assert smpl.skeleton.name == "smpl+head_30" and len(smpl.skeleton.joints) == 30
    assert smpl.options["num_aug"] == 2
    dets = smpl.predict(_frames(), CameraIntrinsics(fx=500.0, fy=400.0, cx=32.0, cy=24.0))
    assert dets[1].poses3d.shape == (1, 30, 3)


def test_sha_mismatch_installs_nothing(server: Server, tmp_path: Path) -> None:
    _register(server.url, "f" * 64)
    try:
        pattern = r"sha256 .* does not match the expected f{64}"
        with pytest.raises(ModelIntegrityError, match=pattern):
            fetch_model(ENTRY, tmp_path)
    finally:
        registry._ENTRIES.pop(ENTRY, None)
    assert not (tmp_path / ENTRY).exists()
    assert not list((tmp_path / ".downloads").iterdir()), "bad bytes are not kept"


def test_truncated_download_fails_then_resumes_with_range(entry: Server, tmp_path: Path) -> None:
    entry.mode = "truncate_always"
    with pytest.raises(ModelFetchError, match=r"truncated: \d+ of \d+ bytes") as info:
        fetch_model(ENTRY, tmp_path)
    assert "run the same command again to resume" in str(info.value)
    assert not (tmp_path / ENTRY).exists()
    part = tmp_path / ".downloads" / f"{ENTRY}.tar.gz.part"
    kept = part.stat().st_size
    assert 0 < kept < len(entry.payload)
    entry.mode = "ok"
    entry.requests.clear()
    fetch_model(ENTRY, tmp_path)
    assert entry.requests == [f"bytes={kept}-"], "the second run resumed, not restarted"
    verify_model(ENTRY, tmp_path)


def test_interrupted_response_is_resumed_within_one_fetch(entry: Server, tmp_path: Path) -> None:
    entry.mode = "truncate_first"
    fetch_model(ENTRY, tmp_path)
    assert entry.requests[0] is None and entry.requests[1].startswith("bytes=")
    assert entry.full_gets == 1


def test_server_without_range_support_restarts_cleanly(entry: Server, tmp_path: Path) -> None:
    part = tmp_path / ".downloads" / f"{ENTRY}.tar.gz.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"garbage that is not a prefix")
    entry.mode = "no_range"
    fetch_model(ENTRY, tmp_path)
    assert entry.full_gets == 1
    verify_model(ENTRY, tmp_path)


def test_unreachable_server(tmp_path: Path) -> None:
    _register("http://127.0.0.1:9/none.tar.gz", "a" * 64)
    try:
        with pytest.raises(ModelFetchError, match=r"cannot reach http://127\.0\.0\.1:9"):
            fetch_model(ENTRY, tmp_path)
    finally:
        registry._ENTRIES.pop(ENTRY, None)


def _hostile(kind: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model/saved_model.pb")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
        if kind == "dotdot":
            evil = tarfile.TarInfo("model/../../evil.txt")
            evil.size = 4
            tar.addfile(evil, io.BytesIO(b"evil"))
        elif kind == "absolute":
            evil = tarfile.TarInfo("/tmp/neuropose-evil.txt")
            evil.size = 4
            tar.addfile(evil, io.BytesIO(b"evil"))
        else:
            link = tarfile.TarInfo("model/link")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tar.addfile(link)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_hostile_tarball_is_refused(tmp_path: Path, kind: str) -> None:
    payload = _hostile(kind)
    server = Server(payload)
    _register(server.url, hashlib.sha256(payload).hexdigest())
    try:
        with pytest.raises(ModelFetchError, match="refusing member"):
            fetch_model(ENTRY, tmp_path / "cache")
    finally:
        registry._ENTRIES.pop(ENTRY, None)
        server.close()
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "cache" / "evil.txt").exists()
    assert not (tmp_path / "cache" / ENTRY).exists()
    assert not list((tmp_path / "cache" / ".staging").iterdir())


def test_unpinned_entry_needs_sha_or_trust(server: Server, tarball: bytes, tmp_path: Path) -> None:
    _register(server.url, None)
    try:
        with pytest.raises(UnpinnedModelError, match="no published sha256"):
            fetch_model(ENTRY, tmp_path)
        sha = hashlib.sha256(tarball).hexdigest()
        assert fetch_model(ENTRY, tmp_path, FetchOptions(sha256=sha)).pinned is True
        m = fetch_model(ENTRY, tmp_path, FetchOptions(trust_unpinned=True, force=True))
        assert m.pinned is False
    finally:
        registry._ENTRIES.pop(ENTRY, None)
    with pytest.raises(UnpinnedModelError, match="no published sha256"):
        fetch_model("metrabs-eff2s-256-28ds", tmp_path)


_CONCURRENT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from neuropose.models import fetch_model, registry
    registry.register_model(registry.ModelEntry(
        name="metrabs-loopback", kind="metrabs", source=sys.argv[1], size=None,
        archive_sha256=sys.argv[2], files={}, licence="t", description="t"))
    m = fetch_model("metrabs-loopback", Path(sys.argv[3]))
    print(m.fetched_at)
    """
)


def test_concurrent_fetchers_download_once(server: Server, tarball: bytes, tmp_path: Path) -> None:
    server.mode = "slow"
    sha = hashlib.sha256(tarball).hexdigest()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CONCURRENT, server.url, sha, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    assert outs[0][0] == outs[1][0], "both report the same single installation"
    assert server.full_gets == 1
    _register(server.url, sha)
    try:
        verify_model(ENTRY, tmp_path)
    finally:
        registry._ENTRIES.pop(ENTRY, None)


def test_load_local_directory_and_tarball(fake_saved_model: Path, tarball: bytes, tmp_path):
    settings = make_settings(tmp_path / "cache")
    model = load_pose_model(f"metrabs:{fake_saved_model}", settings)
    assert model.skeleton.name == "smpl+head_30" and len(model.skeleton.joints) == 30
    tar = tmp_path / "m.tar.gz"
    tar.write_bytes(tarball)
    from_tar = load_pose_model(f"metrabs:{tar}", settings)
    assert from_tar.weights_sha256 == model.weights_sha256
    assert (tmp_path / "cache" / ".local" / hashlib.sha256(tarball).hexdigest()).is_dir()
    with pytest.raises(ModelLoadError, match="no such file or directory, and not a TF Hub"):
        load_pose_model(f"metrabs:{tmp_path / 'missing'}", settings)


def test_missing_tensorflow_names_the_extra(fake_saved_model: Path, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as if the extra were not installed
    with pytest.raises(RuntimeMissingError, match=r"pip install 'neuropose\[metrabs\]'") as info:
        load_pose_model(f"metrabs:{fake_saved_model}", make_settings(tmp_path / "cache"))
    assert info.value.exit_code == 4


def test_cli_from_file_checks_the_pinned_hash(tarball: bytes, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("NEUROPOSE_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    tar = tmp_path / "fake.tar.gz"
    tar.write_bytes(tarball)
    assert main(["models", "fetch", "metrabs-eff2l-384-28ds", "--from-file", str(tar)]) == 4
    assert "does not match the expected fa31b5b0" in capsys.readouterr().err
    assert main(["models", "fetch", "metrabs-eff2s-256-28ds", "--from-file", str(tar),
                 "--trust-unpinned"]) == 0  # fmt: skip
    assert "NOT verified (unpinned)" in capsys.readouterr().out
    assert main(["models", "verify", "metrabs-eff2s-256-28ds"]) == 0
    assert main(["models", "fetch", "metrabs-eff2s-256-28ds", "--from-wheel", str(tar)]) == 2


def test_sigkill_mid_download_leaves_nothing_installed_and_resumes(
    server: Server, tarball: bytes, tmp_path: Path
) -> None:
    import os
    import signal
    import time

    server.mode = "very_slow"  # 1 KiB per 0.1 s
    sha = hashlib.sha256(tarball).hexdigest()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CONCURRENT, server.url, sha, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    part = tmp_path / ".downloads" / f"{ENTRY}.tar.gz.part"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 2048):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    kept = part.stat().st_size
    assert 0 < kept < len(tarball)
    assert not (tmp_path / ENTRY).exists(), "nothing half-installed"
    server.mode = "ok"
    server.requests.clear()
    _register(server.url, sha)
    try:
        fetch_model(ENTRY, tmp_path)  # the dead process's lock is gone; the download resumes
        assert server.requests[0] is not None and server.requests[0].startswith("bytes=")
        verify_model(ENTRY, tmp_path)
    finally:
        registry._ENTRIES.pop(ENTRY, None)


def test_daemon_path_estimator_runs_the_metrabs_model(
    entry: Server, tmp_path: Path, fake_saved_model: Path
) -> None:
    """The estimator (what the daemon runs per video) drives the loaded MeTRAbs model."""
    import cv2

    from neuropose.estimator import Estimator

    video = tmp_path / "grey.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for _ in range(8):
        writer.write(np.full((48, 64, 3), 100, np.uint8))
    writer.release()
    fetch_model(ENTRY, tmp_path / "cache")
    model = load_pose_model(ENTRY, make_settings(tmp_path / "cache", batch_size=4))
    vp = Estimator(model).process_video(video)
    assert vp.num_frames == 8
    assert sorted(set(vp.det_frame.tolist())) == list(range(8))
    assert vp.skeleton.name == "h36m_17"
    assert vp.provenance.model_sha256 == model.weights_sha256
    assert vp.provenance.root_relative is False
    np.testing.assert_allclose(vp.poses3d[:, 3, 0], 300.0)
    np.testing.assert_allclose(vp.poses3d[:, 3, 2], 3000.0)
    np.testing.assert_allclose(vp.poses3d[:, 3, 1], 100.0, atol=3.0)  # mean grey after MJPG
