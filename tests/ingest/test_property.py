"""Property: whatever the member names and nesting, ingest writes only complete jobs in ``in/``.

Hypothesis generates archives whose member names mix safe and hostile
components (``..``, ``.``, empty, absolute, backslashes, drive letters,
unicode, hidden names, very long names), several extensions (videos,
archives, others) and contents (including empty). For every archive either
ingest refuses it with an :class:`~neuropose.errors.NeuroPoseError` and the
whole tree is unchanged, or:

* nothing changed outside ``data_dir/in/`` (no staging left behind, the
  archive's folder and the data directory's parent untouched);
* exactly the reported jobs were added to ``in/``, each holding exactly the
  reported videos (plus ``READY``) with the bytes of their source members;
* the reported jobs plus skipped members account for every file member.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.ingest.zipcraft import Member, build_zip, tree_state

from neuropose.errors import NeuroPoseError
from neuropose.ingest import READY_MARKER, ingest_archive

HOSTILE_COMPONENTS = st.one_of(
    st.sampled_from(["..", ".", "", "C:", "x\\y", "\x01", "n" * 210]),
    st.text(alphabet="abc019 ._-/\\:", min_size=1, max_size=12),
)
SAFE_COMPONENTS = st.one_of(
    st.sampled_from(["a", "b", "A b", "__MACOSX", ".hidden", "é", "p(1)", "trial-01"]),
    st.text(alphabet="abcXYZ019 ._-()é漢", min_size=1, max_size=12).filter(
        lambda t: t not in (".", "..")
    ),
)
EXTENSIONS = st.sampled_from([".mp4", ".MOV", ".mkv", ".avi", ".txt", ".zip", "", ".tar.gz"])


@st.composite
def member_lists(draw: st.DrawFn) -> list[Member]:
    """1-6 members; each is hostile with probability 1/8 (bad components, absolute, empty)."""
    members = []
    for _ in range(draw(st.integers(1, 6))):
        hostile = draw(st.sampled_from([False] * 7 + [True]))
        parts = draw(
            st.lists(HOSTILE_COMPONENTS if hostile else SAFE_COMPONENTS, min_size=1, max_size=4)
        )
        name = "/".join(parts) + draw(EXTENSIONS)
        if hostile and draw(st.booleans()):
            name = "/" + name
        data = draw(st.binary(min_size=0 if hostile else 1, max_size=40))
        members.append(Member(name, data, draw(st.sampled_from([0, 8]))))
    return members


def _outside_in(state: dict[str, tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    return {k: v for k, v in state.items() if not k.startswith("data/in/")}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(members=member_lists(), single_job=st.booleans())
def test_ingest_writes_exactly_the_reported_jobs_and_nothing_else(
    members: list[Member], single_job: bool
) -> None:
    root = Path(tempfile.mkdtemp(prefix="np-ingest-prop-"))
    try:
        (root / "data" / "in" / "existing").mkdir(parents=True)
        (root / "data" / "in" / "existing" / "x.mp4").write_bytes(b"old")
        archive = build_zip(root / "batch.zip", members)
        before = tree_state(root)
        try:
            report = ingest_archive(archive, root / "data", job="one" if single_job else None)
        except NeuroPoseError as exc:
            event(f"refused: {type(exc).__name__}")
            assert tree_state(root) == before
            return
        event(f"accepted: {len(report.jobs)} job(s), {len(report.skipped)} skipped")
        after = tree_state(root)
        assert _outside_in(after) == _outside_in(before)
        new_jobs = {k.split("/")[2] for k in after if k.startswith("data/in/")} - {"existing"}
        assert new_jobs == {j.name for j in report.jobs}
        with zipfile.ZipFile(archive) as zf:
            contents = {i.orig_filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
        reported_sources = []
        for job in report.jobs:
            job_dir = root / "data" / "in" / job.name
            assert job_dir.resolve().parent == (root / "data" / "in").resolve()
            on_disk = {p.name: p.read_bytes() for p in job_dir.iterdir()}
            assert on_disk.pop(READY_MARKER) == b""
            assert on_disk == {v.file: contents[v.source] for v in job.videos}
            assert all(v.size_bytes == len(contents[v.source]) for v in job.videos)
            reported_sources += [v.source for v in job.videos]
        skipped = [s.member for s in report.skipped]
        assert sorted(reported_sources + skipped) == sorted(contents)
        assert existing_untouched(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def existing_untouched(root: Path) -> bool:
    return (root / "data" / "in" / "existing" / "x.mp4").read_bytes() == b"old"
