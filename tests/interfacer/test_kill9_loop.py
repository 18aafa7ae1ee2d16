"""Kill -9 loop: ``neuropose watch`` SIGKILLed at random moments, restarted each time."""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.datadir.status_checks import assert_status_consistent
from tests.interfacer.fake_processor import expected
from tests.interfacer.test_signals_subprocess import start_watch

from neuropose.datadir.lock import probe_lock
from neuropose.datadir.status import read_status
from neuropose.io import TEMP_FILE_PATTERN, load_model
from neuropose.schemas import JobResults
from neuropose.schemas.status import JobState

KILLS = 22


@pytest.mark.slow
def test_sigkill_loop_completes_every_job_exactly_once(
    data_dir: Path, add_job: Callable[..., Path], daemon_env: dict[str, str]
) -> None:
    jobs = {f"job{i}": add_job(f"job{i}", frames=(30, 25, 20), seed=i) for i in range(4)}
    env = {**daemon_env, "FAKE_PROC_COST_S": "0.01", "NEUROPOSE_MAX_ATTEMPTS": "1000"}
    lock = data_dir / "neuropose.lock"
    rng = random.Random(20261122)
    logs: list[str] = []
    kills = 0
    runs = 0
    while kills < KILLS:
        proc = start_watch(data_dir, env)
        runs += 1
        if rng.random() < 0.8:
            # Most kills land while the daemon works: wait until it holds the lock.
            deadline = time.monotonic() + 60
            while not probe_lock(lock).held and proc.poll() is None:
                assert time.monotonic() < deadline, "daemon never took the lock"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.6))
        else:
            time.sleep(rng.uniform(0.0, 1.0))  # sometimes during start-up
        alive = proc.poll() is None
        if alive:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        _, err = proc.communicate(timeout=30)
        logs.append(err)
        assert alive or proc.returncode == 0, err
        # After every kill the status parses (raises otherwise), and the status index,
        # the per-job files and status.json agree (one write may be in flight).
        read_status(data_dir)
        if (data_dir / "status.db").exists():
            assert_status_consistent(data_dir, settled=False)
        if runs > 3 * KILLS:
            pytest.fail("daemon kept exiting on its own instead of being killed")
    final = start_watch(data_dir, env, "--once")
    _, err = final.communicate(timeout=120)
    logs.append(err)
    assert final.returncode == 0, err

    status = read_status(data_dir)
    assert_status_consistent(data_dir, settled=True)
    completions: Counter[str] = Counter()
    for log in logs:
        for line in log.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("event") == "transition" and rec.get("to") == "completed":
                completions[rec["job"]] += 1
    for job_id, job_dir in jobs.items():
        entry = status.jobs[job_id]
        assert entry.state is JobState.COMPLETED, (job_id, entry)
        outcomes = [h.outcome for h in entry.history]
        assert outcomes.count(JobState.COMPLETED) == 1, (job_id, outcomes)
        # At most one "-> completed" line (a kill can land after the durable
        # write and before the log line; the history above is authoritative).
        assert completions[job_id] <= 1, (job_id, completions)
        results = load_model(data_dir / "out" / job_id / "results.json", JobResults)
        assert [v.video for v in results.videos] == ["v0.mp4", "v1.mp4", "v2.mp4"]
        for v in results.videos:
            np.testing.assert_array_equal(v.poses3d, expected(job_dir / v.video))
            np.testing.assert_array_equal(v.frame_index, np.arange(v.num_frames))
        assert not (data_dir / "out" / job_id / "partial").exists()
    assert not [p for p in data_dir.rglob("*") if TEMP_FILE_PATTERN.match(p.name)]
    assert kills >= KILLS
    # The kills really landed mid-job: attempts that ended without an outcome.
    crashed = sum(1 for e in status.jobs.values() for h in e.history if h.outcome is None)
    print(f"kills={kills} runs={runs} crashed attempts={crashed}")
    assert crashed >= 5
