"""The study view over a real socket: ``/`` and ``/status.json`` filtered and sorted."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.monitor.studydata import N_STUDY, write_study

from neuropose.monitor import MonitorServer

Get = Callable[..., tuple[int, dict[str, str], bytes]]
COUNTS = {"processing": 0, "queued": 4, "interrupted": 0, "failed": 4, "completed": 12}


@pytest.fixture
def base(data_dir: Path, server: Callable[..., MonitorServer]) -> str:
    return server(write_study(data_dir)).url


def _doc(http_get: Get, url: str) -> tuple[int, Any]:
    status, _, body = http_get(url)
    return status, json.loads(body)


def _names(doc: dict[str, Any]) -> list[str]:
    return [j["name"] for j in doc["jobs"]]


def test_name_filter_is_case_insensitive_and_sorts_by_name(base: str, http_get: Get) -> None:
    status, doc = _doc(http_get, base + "status.json?q=post&sort=name&order=asc")
    assert status == 200 and doc["total"] == 10
    assert _names(doc) == [f"P{p:02d}-POST" for p in range(1, 11)]
    assert doc["counts"] == COUNTS and doc["total_jobs"] == N_STUDY
    assert (doc["q"], doc["sort"], doc["order"]) == ("post", "name", "asc")
    _, doc = _doc(http_get, base + "status.json?q=POST&sort=name&order=desc&limit=3&offset=1")
    assert _names(doc) == ["P09-POST", "P08-POST", "P07-POST"] and doc["total"] == 10


def test_state_and_name_filters_sorted_by_last_change(base: str, http_get: Get) -> None:
    # failed: i = 0, 5, 10, 15 changed at 0, 15, 10, 5 s.
    status, doc = _doc(http_get, base + "status.json?state=failed&q=p0&sort=updated")
    assert status == 200 and doc["order"] == "desc"
    assert _names(doc) == ["P03-POST", "P06-pre", "P08-POST", "P01-pre"]
    _, doc = _doc(http_get, base + "status.json?state=failed&state=queued&q=P1&order=asc")
    assert _names(doc) == []  # P10 is i = 18, 19: completed
    _, doc = _doc(http_get, base + "status.json?q=&state=&sort=updated&order=asc&limit=2")
    assert _names(doc) == ["P01-pre", "P02-POST"]  # i = 0 at 0 s, i = 3 at 1 s
    assert doc["total"] == N_STUDY


def test_sort_by_state_follows_the_dashboard_order_then_name(base: str, http_get: Get) -> None:
    status, doc = _doc(http_get, base + "status.json?sort=state&limit=7")
    assert status == 200
    assert _names(doc) == [
        "P01-POST", "P04-pre", "P06-POST", "P09-pre",  # queued
        "P01-pre", "P03-POST", "P06-pre",  # failed (P08-POST next)
    ]  # fmt: skip
    _, doc = _doc(http_get, base + "status.json?sort=state&order=desc&limit=1")
    assert _names(doc) == ["P10-pre"]  # completed, last name ("pre" > "post")


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("sort=size", "sort"),
        ("sort=name&order=up", "order"),
        ("q=a&state=done", "state"),
        ("q=" + "x" * 201, "q"),
        ("q=a&limit=0", "limit"),
        ("sort=name&offset=-3", "offset"),
    ],
)
def test_bad_study_parameters_are_400_naming_the_parameter(
    base: str, http_get: Get, query: str, param: str
) -> None:
    status, doc = _doc(http_get, base + "status.json?" + query)
    assert status == 400 and doc["error"].startswith(param + " ")
    status, headers, page = http_get(base + "?" + query)
    assert status == 400 and headers["content-type"].startswith("text/html")
    assert f"{param} " in page.decode()


def _rows(page: bytes) -> list[str]:
    return re.findall(r'<tr class="job" data-job="([^"]+)"', page.decode())


def test_dashboard_filters_and_sorts_with_the_counts_of_every_job(base: str, http_get: Get) -> None:
    status, _, page = http_get(base + "?q=PRE&state=&sort=name&order=desc")
    assert status == 200
    assert _rows(page) == [f"P{p:02d}-pre" for p in range(10, 0, -1)]
    text = page.decode()
    assert "10 of 10 matching jobs shown" in text
    assert '<div class="n" data-count="completed">12</div>' in text
    assert 'id="f-q" name="q" value="PRE"' in text and '<option value="name" selected>' in text
    assert 'type="checkbox" name="jobs" form="compare" value="P10-pre"' in text
    assert '<form id="compare" class="study" method="get" action="/compare">' in text
    # The page script polls exactly these filters (and the page's 200-row limit).
    polled = "q=PRE&amp;sort=name&amp;order=desc&amp;limit=200&amp;offset=0"
    assert f'data-status-query="{polled}"' in text
    # The plain dashboard has the forms too and every listed job.
    status, _, page = http_get(base)
    assert status == 200 and len(_rows(page)) == N_STUDY and 'id="filter"' in page.decode()


def test_forms_carry_the_token_and_csp_allows_only_same_origin_forms(
    data_dir: Path, server: Callable[..., MonitorServer], http_get: Get
) -> None:
    srv = server(write_study(data_dir), token="s3cret")
    status, headers, page = http_get(srv.url + "?token=s3cret&state=queued&sort=name")
    assert status == 200 and _rows(page) == ["P01-POST", "P04-pre", "P06-POST", "P09-pre"]
    assert page.decode().count('<input type="hidden" name="token" value="s3cret">') == 2
    assert "form-action 'self'" in headers["content-security-policy"]
    assert http_get(srv.url + "?state=queued")[0] == 401
