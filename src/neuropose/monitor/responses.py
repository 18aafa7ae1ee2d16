"""HTTP responses of the monitor: JSON, HTML, cached bodies (gzip on demand) and file ranges.

A :class:`Response` is built by a route and sent by the request handler
(:mod:`neuropose.monitor.server`); bodies of ``/`` and ``/status.json`` are
rendered once per snapshot through the monitor's one cache
(:class:`~neuropose.monitor.cache.MonitorCache`).

Examples
--------
>>> r = json_response(404, {"error": "no such job"})
>>> r.status, r.content_type, r.body
(404, 'application/json; charset=utf-8', b'{"error": "no such job"}')
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

from neuropose.monitor import render, study
from neuropose.monitor.cache import MonitorCache
from neuropose.monitor.files import OpenFile, RangeNotSatisfiable, answer_range
from neuropose.monitor.snapshot import Snapshot

__all__ = [
    "HTML",
    "JSON",
    "Response",
    "cached_response",
    "dashboard_response",
    "dumps",
    "file_response",
    "html_response",
    "json_response",
    "status_json_response",
    "warm",
]

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


class Response:
    __slots__ = ("body", "content_type", "extra", "file", "gzipped", "span", "status")

    def __init__(
        self,
        status: int,
        content_type: str,
        body: bytes,
        extra: dict[str, str] | None = None,
        gzipped: Callable[[], bytes] | None = None,
    ) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body
        self.extra = extra or {}
        self.gzipped = gzipped  # the body gzip-compressed (cached), for large cached bodies
        self.file: OpenFile | None = None  # a file's bytes [span) are sent instead of body
        self.span = (0, 0)


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def json_response(status: int, data: Any) -> Response:
    return Response(status, JSON, dumps(data))


def html_response(status: int, text: str) -> Response:
    return Response(status, HTML, text.encode("utf-8"))


def cached_response(
    cache: MonitorCache, snap: Snapshot, key: Any, content_type: str, make: Callable[[], bytes]
) -> Response:
    """A 200 response whose body (and its gzip form, on demand) is computed once per snapshot."""
    body = cache.body(snap, key, make)
    return Response(
        200,
        content_type,
        body,
        gzipped=lambda: cache.body(
            snap, ("gzip", key), lambda: gzip.compress(body, compresslevel=3, mtime=0)
        ),
    )


def status_json_response(cache: MonitorCache, snap: Snapshot) -> Response:
    return cached_response(
        cache, snap, "status.json", JSON, lambda: render.render_status_json_bytes(snap)
    )


def dashboard_response(
    cache: MonitorCache, snap: Snapshot, token_query: str, token: str | None = None
) -> Response:
    """``/`` unfiltered (with the study forms; ``token`` is the query token they carry)."""
    forms = study.study_forms(None, token)
    return cached_response(
        cache,
        snap,
        ("dashboard", token_query),
        HTML,
        lambda: render.render_dashboard(snap, token_query, controls=forms).encode("utf-8"),
    )


def warm(cache: MonitorCache, snap: Snapshot) -> None:
    """Pre-render ``/status.json`` and ``/`` (gzipped) before handing out ``snap``.

    The refreshing request pays for them, so no other request waits for a
    render (measured: rendering ``/`` on its first request instead raised the
    p95 of the mixed-pages scenario about 4×).
    """
    if snap.status is not None:
        for resp in (status_json_response(cache, snap), dashboard_response(cache, snap, "")):
            assert resp.gzipped is not None
            resp.gzipped()


def file_response(handle: OpenFile, range_header: str | None, if_range: str | None) -> Response:
    """200 (whole file), 206 (one range) or 416 for an open file (closed on 416)."""
    answer = answer_range(handle, range_header, if_range)
    if isinstance(answer, RangeNotSatisfiable):
        handle.close()
        resp = json_response(
            416, {"error": f"range not satisfiable: {answer.reason}", "size": handle.size}
        )
        resp.extra.update({"Content-Range": f"bytes */{handle.size}", "Accept-Ranges": "bytes"})
        return resp
    status, headers, span = answer
    resp = Response(status, handle.content_type, b"", headers)
    resp.file, resp.span = handle, span
    return resp
