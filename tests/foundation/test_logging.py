"""Log output: human lines or one JSON object per line on stderr."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from neuropose.logs import configure_logging


@pytest.fixture
def restore_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("neuropose")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved


def test_json_format_is_one_object_per_line_with_fields(
    restore_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO, "json")
    log = logging.getLogger("neuropose.interfacer")
    log.info("job %s started", "j1", extra={"fields": {"job": "j1", "frames": 3}})
    log.debug("hidden at INFO")
    try:
        raise ValueError("bad frame")
    except ValueError:
        log.exception("video failed")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "job j1 started"
    assert (first["level"], first["logger"], first["job"], first["frames"]) == (
        "info",
        "neuropose.interfacer",
        "j1",
        3,
    )
    assert first["time"].endswith("Z")
    assert second["level"] == "error" and "ValueError: bad frame" in second["traceback"]


def test_human_format_and_quiet_level(
    restore_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.WARNING, "human")
    log = logging.getLogger("neuropose.estimator")
    log.info("not shown")
    log.warning("short read: 98 of 100 frames")
    err = capsys.readouterr().err
    assert "not shown" not in err
    assert "WARNING neuropose.estimator: short read: 98 of 100 frames" in err


def test_handler_follows_a_replaced_stderr(
    restore_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO, "human")
    with capsys.disabled():
        pass  # stderr swapped away and back
    logging.getLogger("neuropose").info("still captured")
    assert "still captured" in capsys.readouterr().err
