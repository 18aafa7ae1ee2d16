"""The monitor's /live page: HTTP answers, security headers, and in headless Chromium the
plot values change without a reload while a replay runs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.live.conftest import WristHeight, write_arm_results
from tests.monitor.conftest import _http_get

from neuropose.live import LiveLoop, RepetitionDetector
from neuropose.live.session import StatusWriter, open_session
from neuropose.live.sources import ResultsReplay
from neuropose.live.states import StateMachine


class Replay:
    """A real-time replay of the arm raise writing live.json, on a thread."""

    def __init__(self, data_dir: Path, name: str = "s1", cycles: int = 30) -> None:
        src = data_dir.parent / f"{name}.arm.json"
        write_arm_results(src, cycles=cycles)
        paths = open_session(data_dir, name)
        self.machine = StateMachine()
        self.machine.start()
        self.status = StatusWriter(
            paths, self.machine, str(src), plot=["wrist_height", "wrist_y"], every_s=0.2
        )
        self.stop = threading.Event()
        reach = RepetitionDetector("wrist_height", low=20.0, high=150.0)
        self.loop = LiveLoop(
            ResultsReplay(src, speed=1.0),
            WristHeight(),
            consumers=[reach],
            sinks=[self.status],
            stop_event=self.stop,
        )
        self.thread = threading.Thread(target=self.loop.run, daemon=True)

    def __enter__(self) -> Replay:
        self.thread.start()
        deadline = time.monotonic() + 30
        while self.status.writes < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "data"
    d.mkdir()
    yield d


def test_live_json_and_page_answer_with_the_session(
    data_dir: Path, server: Callable[..., Any]
) -> None:
    srv = server(data_dir)
    status, _h, body = _http_get(srv.url + "live.json")
    assert status == 404 and "no live session" in json.loads(body)["error"]
    with Replay(data_dir):
        status, headers, body = _http_get(srv.url + "live.json")
        doc = json.loads(body)
        assert status == 200 and doc["session"] == "s1" and doc["sessions"] == ["s1"]
        assert set(doc["signals"]) == {"wrist_height", "wrist_y"}
        assert doc["frames_predicted"] > 0
        status, headers, body = _http_get(srv.url + "live?session=s1")
        assert status == 200 and b'data-signal="wrist_height"' in body
        csp = headers["content-security-policy"]
        assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        status, _h, body = _http_get(srv.url + "live?session=..%2Fx")
        assert status == 404 and b"no live session named" in body
        status, _h, _b = _http_get(srv.url + "live.json", headers={"Host": "evil.example"})
        assert status == 421  # misdirected: not a loopback Host


def test_token_is_required_for_the_live_page(data_dir: Path, server: Callable[..., Any]) -> None:
    srv = server(data_dir, token="s3cret")
    with Replay(data_dir):
        assert _http_get(srv.url + "live.json")[0] == 401
        assert _http_get(srv.url + "live.json?token=s3cret")[0] == 200


@pytest.mark.browser
@pytest.mark.slow
def test_live_page_plot_updates_without_reload(
    page: Any, data_dir: Path, server: Callable[..., Any], artifacts_dir: Path
) -> None:
    srv = server(data_dir)
    with Replay(data_dir):
        page.goto(srv.url + "live")
        page.evaluate("window.__loadedOnce = 'yes'")
        read = (
            "() => [document.querySelector('[data-signal=\"wrist_height\"] polyline')"
            ".getAttribute('points'), document.querySelector('[data-signal=\"wrist_height\"]"
            ' [data-f="last"]\').textContent, document.querySelector('
            "'#live-counters [data-f=\"frames_predicted\"]').textContent]"
        )
        first = page.evaluate(read)
        deadline = time.monotonic() + 15
        while True:  # the page redraws every 0.5 s from live.json (rewritten every 0.2 s)
            page.wait_for_timeout(300)
            second = page.evaluate(read)
            events = page.locator("#live-events li").all_text_contents()
            changed = all(a != b for a, b in zip(first, second, strict=True))
            if (changed and events) or time.monotonic() > deadline:
                break
        page.screenshot(path=str(artifacts_dir / "live_page.png"), full_page=True)
        assert page.evaluate("window.__loadedOnce") == "yes"  # no reload happened
    assert first[0] and second[0] and first[0] != second[0]
    assert first[1] != second[1]
    assert int(second[2]) > int(first[2]) > 0
    assert events and "repetition 1 of wrist_height" in events[-1]  # newest first
    assert page.console_errors == []
