"""The monitor's HTTP server (stdlib ``http.server``, one thread per connection).

Routes (GET and HEAD only; anything else is 405, unknown paths 404)::

    /                              dashboard (HTML, live via /status.json): counts of every
                                   job, the unfinished and the 100 most recently changed ones
    /jobs/<job>                    job page (HTML); <job> is looked up in the status (any job)
    /jobs/<job>/preview/<index>    the visualize stage's preview PNG of video <index>
    /jobs/<job>/results.json       the job's results (download)
    /jobs/<job>/<name>.report.json an analyze report (and its .csv tables) in out/<job>/
    /jobs/<job>/visualize/<file>   a file of out/<job>/visualize/ (videos with byte ranges)
    /jobs/<job>/export/<file>      a file of out/<job>/export/
    /status.json[?job=NAME]        dashboard data / one job (404 JSON for an unknown job)
    /status.json?limit=N[&offset=M][&state=S]
                                   a page of every job, most recently changed first
                                   (N <= 1000; 400 JSON for a bad parameter)
    /compare[.json]?angle=A&jobs=J one joint angle across jobs (inline SVG / JSON)
    /workers[.json]                the Ray worker pool (executor = ray; 404 without one)
    /live[.json][?session=NAME]    a neuropose live session: signals, events, counters
    /health                        server liveness + daemon lock state (JSON, always 200)
    /metrics                       Prometheus text exposition

Security
--------
* Binds ``127.0.0.1`` by default. A non-loopback bind needs a token
  (:func:`check_bind`); with a token every request must carry it as
  ``Authorization: Bearer <token>`` or ``?token=<token>``, compared with
  :func:`hmac.compare_digest`.
* Without a token (loopback only) the ``Host`` header must name a loopback
  host (``localhost``, ``127.0.0.1``, ``[::1]``; any port, so SSH tunnels work),
  which stops DNS-rebinding pages from reading the dashboard.
* Every response carries ``Content-Security-Policy`` (hashed script and style
  only), ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store``,
  ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``.
* A missing, half-written or invalid status file answers 503 (HTML or JSON)
  and the server keeps serving; an unexpected exception answers 500 and is
  logged; the connection is never just dropped.
* Files are served only from a status-file job's own output folders, by
  resolved path, with a content type fixed by extension
  (:mod:`neuropose.monitor.files`); documents other than videos and PNGs are
  sent as attachments. One byte range per request (``Range``, ``If-Range``);
  several ranges, a malformed one or one past the end answer 416.

Request logs go to the ``neuropose.monitor.server`` logger at DEBUG level.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from neuropose import __version__
from neuropose.errors import BusyError, ConfigError, NeuroPoseError, ResourceError
from neuropose.interrupts import handle_signals
from neuropose.monitor import compare, jobpage, live, render, study, workers
from neuropose.monitor.cache import MonitorCache
from neuropose.monitor.files import OpenFile, open_job_file
from neuropose.monitor.jobfiles import (
    SERVED_FOLDERS,
    job_files,
    job_output_dir,
    served_at_job_root,
)
from neuropose.monitor.paging import lookup, page_params, prepared, status_page
from neuropose.monitor.responses import (
    JSON,
    Response,
    cached_response,
    dashboard_response,
    dumps,
    file_response,
    html_response,
    json_response,
    status_json_response,
    warm,
)
from neuropose.monitor.snapshot import Snapshot
from neuropose.schemas import StatusFile

__all__ = [
    "MonitorBindError",
    "MonitorConfigError",
    "MonitorServer",
    "check_bind",
    "is_loopback",
    "run_until_signal",
]

logger = logging.getLogger(__name__)

_PROM = "text/plain; version=0.0.4; charset=utf-8"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


class MonitorConfigError(ConfigError):
    """The monitor's settings are unsafe or invalid (exit code 2)."""


class MonitorBindError(BusyError):
    """The address/port cannot be bound, usually because it is in use (exit code 3)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind without a token.

    Raises
    ------
    MonitorConfigError
        ``host`` is not loopback and ``token`` is empty.
    """
    if token is not None and not token.strip():
        raise MonitorConfigError(
            "monitor_token is empty", hint="set a long random token or leave it unset"
        )
    if not is_loopback(host) and not token:
        raise MonitorConfigError(
            f"refusing to serve on non-loopback address {host!r} without a token: "
            "anyone who can reach it could read job names and progress",
            hint="set a token with --token, NEUROPOSE_MONITOR_TOKEN or monitor_token in the "
            "config file (e.g. `export NEUROPOSE_MONITOR_TOKEN=$(openssl rand -hex 24)`), "
            "or bind 127.0.0.1 and use an SSH tunnel",
        )


#: A video index in a preview URL: plain ASCII digits, at most this many.
_MAX_INDEX_DIGITS = 6


class _Handler(BaseHTTPRequestHandler):
    server: MonitorServer
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # error replies to garbage still carry headers
    server_version = f"NeuroPose-monitor/{__version__}"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    # Headers and body are two writes: with Nagle's algorithm a small body waits for
    # the client's delayed ACK (~40 ms per response, measured on /metrics).
    disable_nagle_algorithm = True

    # -- plumbing ---------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", render.content_security_policy())
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        super().end_headers()

    def _send(self, resp: Response, head: bool) -> None:
        if resp.file is not None:
            try:
                self._send_file(resp, resp.file, head)
            finally:
                resp.file.close()
            return
        body = resp.body
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        if resp.gzipped is not None:
            self.send_header("Vary", "Accept-Encoding")
            if "gzip" in (self.headers.get("Accept-Encoding") or "").lower():
                body = resp.gzipped()
                self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        if resp.status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "GET, HEAD")
        for k, v in resp.extra.items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_file(self, resp: Response, handle: OpenFile, head: bool) -> None:
        start, stop = resp.span
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(stop - start))
        for k, v in resp.extra.items():
            self.send_header(k, v)
        self.end_headers()
        if not head and stop > start:
            try:  # os.sendfile: the bytes never pass through Python
                self.connection.sendfile(handle.file, start, stop - start)
            except OSError:  # client gone or stalled (timeout): drop the connection
                self.close_connection = True

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._send(
            json_response(405, {"error": "method not allowed", "allowed": ["GET", "HEAD"]}), False
        )

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def _serve(self, head: bool) -> None:
        try:
            resp = self._route()
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception:
            logger.exception("monitor: unexpected error answering %s", self.path)
            resp = json_response(500, {"error": "internal error; see the monitor's log"})
        try:
            self._send(resp, head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # -- routing ----------------------------------------------------------------
    def _route(self) -> Response:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        auth = self._authorize(query)
        if auth is not None:
            return auth
        token_query = (
            f"?token={quote(query['token'][0], safe='')}"
            if self.server.token and "token" in query
            else ""
        )
        path = parts.path
        if path == "/health":
            return self._health()
        cache = self.server.snapshots
        snap = cache.get()
        if path == "/":
            if snap.status is None:
                return self._unavailable_html(snap, token_query)
            token = query["token"][0] if token_query else None
            if study.is_study(query):
                return html_response(*study.dashboard_page(snap, query, token_query, token))
            return dashboard_response(cache, snap, token_query, token)
        if path == "/status.json":
            return self._status_json(cache, snap, query)
        if path in ("/compare", "/compare.json"):
            return self._compare(snap, query, token_query, path.endswith(".json"))
        if path in ("/workers", "/workers.json"):
            return workers.workers_response(snap, token_query, as_json=path.endswith(".json"))
        if path in ("/live", "/live.json"):
            return live.live_response(self.server.data_dir, query, token_query, path[5:] == ".json")
        if path == "/metrics":
            text = cache.body(snap, "metrics", lambda: render.render_metrics(snap).encode())
            return Response(200, _PROM, text)
        segments = path.split("/")
        if len(segments) >= 3 and segments[0] == "" and segments[1] == "jobs":
            return self._job_route(cache, snap, segments[2:], token_query)
        return self._not_found(snap, token_query, f"There is no page at {path!r}.")

    def _job_route(
        self, cache: MonitorCache, snap: Snapshot, rest: list[str], token_query: str
    ) -> Response:
        """``/jobs/<job>``, its preview and its files; anything else under it is 404."""
        if snap.status is None:
            return self._unavailable_html(snap, token_query)
        name = unquote(rest[0], errors="replace") if rest[0] else ""
        try:
            entry = lookup(snap, name)
        except NeuroPoseError as exc:
            return html_response(
                503,
                render.render_error_page(
                    snap, 503, "Job status unavailable", exc.message, token_query
                ),
            )
        if entry is None:
            return self._not_found(snap, token_query, f"No job named {name!r} in the status file.")
        if len(rest) == 1:
            files = job_files(snap.data_dir, name, entry, cache.results)
            return html_response(
                200, jobpage.render_job_page(snap, name, entry, files, token_query)
            )
        if len(rest) == 3 and rest[1] == "preview":
            index = rest[2]
            if not (index.isascii() and index.isdigit() and len(index) <= _MAX_INDEX_DIGITS):
                return self._not_found(
                    snap, token_query, f"{index[:40]!r} is not a video number (0, 1, 2, ...)."
                )
            files = job_files(snap.data_dir, name, entry, cache.results)
            preview = files.previews.get(int(index))
            if preview is not None:
                try:
                    data = preview.read_bytes()
                except OSError:
                    data = b""
                if data.startswith(b"\x89PNG\r\n\x1a\n"):
                    return Response(200, "image/png", data)
            return json_response(404, {"error": "no preview for this video", "job": name})
        folder = rest[1] if len(rest) == 3 and rest[1] in SERVED_FOLDERS else None
        file_name = unquote(rest[-1], errors="replace")
        if (len(rest) == 2 and served_at_job_root(file_name)) or folder is not None:
            job_dir = job_output_dir(snap.data_dir, name)
            handle = None if job_dir is None else open_job_file(job_dir, folder, file_name)
            if handle is not None:
                return file_response(
                    handle, self.headers.get("Range"), self.headers.get("If-Range")
                )
            return json_response(404, {"error": "no such file of this job", "job": name})
        return self._not_found(snap, token_query, f"There is no page at {self.path!r}.")

    def _compare(
        self, snap: Snapshot, query: dict[str, list[str]], token_query: str, as_json: bool
    ) -> Response:
        """``/compare`` (HTML) and ``/compare.json``: one angle across the ``jobs`` given."""
        if snap.status is None:
            if as_json:
                return json_response(503, {**snap.view(), "error": snap.error})
            return self._unavailable_html(snap, token_query)
        angle = (query.get("angle") or [compare.DEFAULT_ANGLE])[0]
        jobs = [j for value in query.get("jobs", []) for j in value.split(",") if j]
        try:
            cmp = compare.compare_data(snap, angle, jobs, self.server.snapshots.results)
        except KeyError:
            return json_response(
                400,
                {
                    "error": f"unknown angle {angle[:80]!r}",
                    "angles": list(compare.ANGLE_NAMES),
                },
            )
        if as_json:
            return json_response(200, cmp.as_json())
        return html_response(200, compare.render_compare_page(snap, cmp, token_query))

    def _authorize(self, query: dict[str, list[str]]) -> Response | None:
        token = self.server.token
        if token is None:
            host = (self.headers.get("Host") or "").strip()
            if host.startswith("[") and "]" in host:
                hostname = host[: host.index("]") + 1]
            else:
                hostname = host.split(":", 1)[0]
            if host and hostname.lower() not in _LOOPBACK_NAMES:
                return json_response(
                    421,
                    {
                        "error": f"Host {host!r} is not served: this monitor answers only to "
                        "localhost / 127.0.0.1 / [::1] unless a token is configured"
                    },
                )
            return None
        presented = ""
        header = self.headers.get("Authorization") or ""
        if header[:7].lower() == "bearer ":
            presented = header[7:].strip()
        elif "token" in query:
            presented = query["token"][0]
        if hmac.compare_digest(presented.encode("utf-8"), token.encode("utf-8")):
            return None
        resp = json_response(
            401,
            {
                "error": "a valid token is required: send 'Authorization: Bearer "
                "<token>' or add ?token=<token> to the URL"
            },
        )
        resp.extra["WWW-Authenticate"] = 'Bearer realm="neuropose"'
        return resp

    def _health(self) -> Response:
        snap = self.server.snapshots.get()
        return json_response(
            200,
            {
                "ok": True,
                "version": __version__,
                "daemon": snap.daemon_view(),
                "status_available": snap.status is not None,
                "error": snap.error,
                "generated_at": snap.generated_at(),
            },
        )

    def _status_json(
        self, cache: MonitorCache, snap: Snapshot, query: dict[str, list[str]]
    ) -> Response:
        if snap.status is None:
            return json_response(503, {**snap.view(), "error": snap.error})
        try:
            if "job" in query:
                name = query["job"][0]
                entry = lookup(snap, name)
                if entry is None:
                    return json_response(404, {"error": "unknown job", "job": name})
                return json_response(
                    200, {**render.job_status_json(snap), "job": prepared(snap, entry).view()}
                )
            if {"q", "sort", "order"} & query.keys():
                return json_response(*study.status_json(snap, query))
            if not {"limit", "offset", "state"} & query.keys():
                return status_json_response(cache, snap)
            params = page_params(query)
            if isinstance(params, str):
                return json_response(400, {"error": params})
            limit, offset, states = params

            def make() -> bytes:
                return dumps(status_page(snap, limit, offset, states))

            if offset == 0 and len(states or ()) <= 1:  # first pages are polled: one per snapshot
                key = ("page", limit, tuple(states or ()))
                return cached_response(cache, snap, key, JSON, make)
            return Response(200, JSON, make())
        except NeuroPoseError as exc:
            return json_response(
                503, {**snap.summary(), "status_available": False, "error": exc.message}
            )

    def _unavailable_html(self, snap: Snapshot, token_query: str) -> Response:
        return html_response(
            503,
            render.render_error_page(
                snap,
                503,
                "Job status unavailable",
                f"{snap.error} The monitor keeps running and will show jobs as soon as the status "
                "file is readable again.",
                token_query,
            ),
        )

    def _not_found(self, snap: Snapshot, token_query: str, message: str) -> Response:
        return html_response(
            404, render.render_error_page(snap, 404, "Not found", message, token_query)
        )


class MonitorServer(ThreadingHTTPServer):
    """The monitor HTTP server for one data directory.

    Parameters
    ----------
    data_dir : Path
        Data directory to show (read only).
    host, port : str, int
        Bind address; port 0 picks a free port (see :attr:`url`).
    token : str, optional
        Required from every client when set; mandatory for non-loopback hosts.
    stale_after_s : float
        Heartbeat age that flags a processing job as stale, seconds.
    reader : callable, optional
        ``reader(data_dir) -> StatusFile``; defaults to
        :func:`neuropose.datadir.status.read_status` (the aggregate merged
        with live per-job files). It is only called when a status file changed
        (see :class:`~neuropose.monitor.cache.MonitorCache`).
    cache_ttl_s : float
        How long one reading of the status is reused across requests.

    Raises
    ------
    MonitorConfigError
        Non-loopback host without a token.
    MonitorBindError
        The port is in use.
    ResourceError
        The address cannot be bound for another reason (permission, unknown address).

    Examples
    --------
    >>> import tempfile, threading, pathlib
    >>> srv = MonitorServer(pathlib.Path(tempfile.mkdtemp()), port=0)
    >>> t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    >>> srv.url.startswith("http://127.0.0.1:")
    True
    >>> srv.shutdown(); srv.server_close()
    """

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 8765,
        *,
        token: str | None = None,
        stale_after_s: float = 120.0,
        reader: Callable[[Path], StatusFile] | None = None,
        cache_ttl_s: float = 1.0,
    ) -> None:
        check_bind(host, token)
        self.data_dir = Path(data_dir)
        self.token = token or None
        self.stale_after_s = stale_after_s
        self.snapshots = MonitorCache(
            self.data_dir, stale_after_s=stale_after_s, reader=reader, ttl_s=cache_ttl_s, warm=warm
        )
        bind_host = host.strip("[]")
        self.address_family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
        try:
            super().__init__((bind_host, port), _Handler)
        except OSError as exc:
            import errno

            if exc.errno == errno.EADDRINUSE:
                raise MonitorBindError(
                    f"cannot serve on {host}:{port}: the port is already in use",
                    hint="stop the other process or choose another port with --port",
                ) from None
            raise ResourceError(
                f"cannot serve on {host}:{port}: {exc.strerror or exc}",
                hint="check --host (an address of this machine) and --port (>= 1024 "
                "unless privileged)",
            ) from None

    @property
    def url(self) -> str:
        """Base URL of the dashboard, e.g. ``http://127.0.0.1:8765/``."""
        host, port = self.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}/"

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            with contextlib.suppress(OSError, AttributeError):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def run_until_signal(server: MonitorServer, stop: threading.Event | None = None) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly.

    Returns the signal number that stopped the server (0 when ``stop`` was set).
    Open requests are allowed to finish their current write; the listening
    socket is closed before returning.
    """
    stop = stop or threading.Event()
    received = {"sig": 0}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received["sig"] = signum
        stop.set()

    server.snapshots.get()  # read and render once before the first client arrives
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.2},
        name="neuropose-monitor",
        daemon=True,
    )
    with handle_signals(on_signal):
        thread.start()
        try:
            while not stop.wait(0.5):
                pass
        finally:
            server.shutdown()
            thread.join(timeout=5)
            server.server_close()
    logger.info("monitor stopped (signal %s)", received["sig"] or "none")
    return received["sig"]
