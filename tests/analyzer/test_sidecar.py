"""Results stay sealed: segmentations live in a sidecar tied to the results' SHA-256.

Ground truth: a synthetic arm-raise trial of 10 cycles (10 complete
repetitions with ``--min-distance 0.5``), and an older-style results file
that embeds a segmentation named ``legacy``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from tests.analyzer.conftest import make_arm, make_results

from neuropose.analyzer.load import load_results, load_segmentations, segmentations_path
from neuropose.cli import main
from neuropose.schemas import Segmentation

SEGMENT = ["--signal", "angle:left_elbow_flexion", "--min-distance", "0.5"]


@pytest.fixture
def results(tmp_path: Path) -> Path:
    trial, _ = make_arm(cycles=10, jitter=0.0)
    path = tmp_path / "results.json"
    path.write_text(make_results(trial, video="arm.mp4").model_dump_json())
    return path


def test_sidecar_records_the_results_hash_and_accumulates_names(results: Path, capsys) -> None:
    assert main(["segment", str(results), *SEGMENT, "--name", "a"]) == 0
    assert main(["segment", str(results), *SEGMENT, "--name", "b", "--polarity", "min"]) == 0
    out = capsys.readouterr().out
    side = segmentations_path(results)
    assert f"{side}: arm.mp4: segmentation 'b'" in out
    stored = load_segmentations(results)
    assert stored is not None
    assert stored.results_sha256 == hashlib.sha256(results.read_bytes()).hexdigest()
    assert stored.results_file == "results.json"
    assert sorted(stored.videos["arm.mp4"]) == ["a", "b"]
    assert len(load_results(results).videos[0].segmentations["a"].segments) == 10


def test_stale_sidecar_is_ignored_with_a_warning(results: Path, capsys) -> None:
    assert main(["segment", str(results), *SEGMENT, "--name", "a"]) == 0
    results.write_text(results.read_text() + "\n")  # the results changed after segmenting
    capsys.readouterr()
    doc = load_results(results)  # logs through the handler main() configured (stderr)
    assert doc.videos[0].segmentations == {}
    assert "results.json changed after it was segmented" in capsys.readouterr().err
    # Segmenting again starts a fresh sidecar bound to the new bytes.
    assert main(["segment", str(results), *SEGMENT, "--name", "b"]) == 0
    assert sorted(load_results(results).videos[0].segmentations) == ["b"]


def test_segmentations_embedded_by_older_versions_stay_readable(results: Path) -> None:
    data = json.loads(results.read_text())
    legacy = Segmentation(
        method="valley_to_valley", signal={}, created_at="2025-01-01T00:00:00Z",
        neuropose_version="0.0.9",
    )  # fmt: skip
    data["videos"][0]["segmentations"] = {"legacy": legacy.model_dump(mode="json")}
    results.write_text(json.dumps(data))
    assert main(["segment", str(results), *SEGMENT, "--name", "legacy"]) == 2  # no --force
    assert main(["segment", str(results), *SEGMENT, "--name", "new"]) == 0
    merged = load_results(results).videos[0].segmentations
    assert sorted(merged) == ["legacy", "new"]
    assert merged["legacy"].neuropose_version == "0.0.9"
