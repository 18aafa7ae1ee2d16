"""The study view: jobs filtered by state and name and sorted, on ``/`` and ``/status.json``.

``?state=S`` (repeatable), ``?q=TEXT`` (case-insensitive substring of the job
name), ``?sort=name|state|updated`` and ``?order=asc|desc`` (default: most
recently changed first) select and order the jobs; ``limit``/``offset`` page
them (:func:`neuropose.monitor.paging.page_params`). Empty values (what a
plain GET form sends for "any") mean no filter. The dashboard's filter form
and its "compare selected" form (row checkboxes submitting to ``/compare``)
are plain GET forms: no script needed.

Examples
--------
>>> p = study_params({"q": ["Walk"], "sort": ["name"], "order": ["asc"]})
>>> (p.q, p.sort, p.descending, p.states)
('Walk', 'name', False, None)
>>> study_params({"sort": ["size"]})
"sort must be one of name, state, updated, got 'size'"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from neuropose.analyzer.angles import ANGLE_NAMES
from neuropose.datadir.status import query_jobs
from neuropose.errors import NeuroPoseError
from neuropose.monitor.compare import DEFAULT_ANGLE, MAX_JOBS
from neuropose.monitor.paging import page_params, prepared
from neuropose.monitor.render import esc, render_dashboard, render_error_page
from neuropose.monitor.snapshot import STATE_ORDER, PreparedJob, Snapshot
from neuropose.schemas import JobState, JobStatusEntry
from neuropose.timefmt import parse_time_or_none

__all__ = [
    "SORTS",
    "StudyQuery",
    "dashboard_page",
    "is_study",
    "select_jobs",
    "status_json",
    "study_forms",
    "study_params",
]

#: Sort keys of ``?sort=``.
SORTS = ("name", "state", "updated")
#: Query parameters that make a request a study query.
STUDY_KEYS = frozenset({"q", "sort", "order", "state", "limit", "offset"})
#: Longest ``?q=`` accepted (characters).
MAX_Q = 200
#: Rows of a filtered dashboard when the URL names no ``limit``.
DASHBOARD_LIMIT = 200


@dataclass(frozen=True)
class StudyQuery:
    """A validated study query (``q`` as typed; matched case-insensitively)."""

    states: list[JobState] | None = None
    q: str = ""
    sort: str = "updated"
    descending: bool = True
    limit: int = 50
    offset: int = 0

    def query_string(self) -> str:
        """The ``/status.json`` query string of this study query (every parameter spelled).

        Examples
        --------
        >>> StudyQuery([JobState.FAILED], "p01", "name", False, 10, 0).query_string()
        'state=failed&q=p01&sort=name&order=asc&limit=10&offset=0'
        """
        pairs = [("state", s.value) for s in self.states or ()] + [
            ("q", self.q),
            ("sort", self.sort),
            ("order", "desc" if self.descending else "asc"),
            ("limit", str(self.limit)),
            ("offset", str(self.offset)),
        ]
        return urlencode(pairs)


def is_study(query: dict[str, list[str]]) -> bool:
    """Whether the query string names any study parameter."""
    return bool(STUDY_KEYS & query.keys())


def study_params(query: dict[str, list[str]], default_limit: int = 50) -> StudyQuery | str:
    """The :class:`StudyQuery` of a query string, or why a parameter is invalid."""
    q = {k: [x for x in v if x] for k, v in query.items() if k in STUDY_KEYS}
    q = {k: v for k, v in q.items() if v}
    q.setdefault("limit", [str(default_limit)])
    paged = page_params(q)
    if isinstance(paged, str):
        return paged
    limit, offset, states = paged
    text = q.get("q", [""])[0]
    if len(text) > MAX_Q:
        return f"q must be at most {MAX_Q} characters, got {len(text)}"
    sort = q.get("sort", ["updated"])[0]
    if sort not in SORTS:
        return f"sort must be one of {', '.join(SORTS)}, got {sort[:40]!r}"
    order = q.get("order", ["desc" if sort == "updated" else "asc"])[0]
    if order not in ("asc", "desc"):
        return f"order must be asc or desc, got {order[:40]!r}"
    return StudyQuery(states, text, sort, order == "desc", limit, offset)


def _updated(entry: JobStatusEntry) -> float:
    when = parse_time_or_none(entry.last_update)
    return float("-inf") if when is None else when.timestamp()


def select_jobs(snap: Snapshot, sq: StudyQuery) -> tuple[int, list[PreparedJob]]:
    """``(number of matching jobs, the requested page of them)``, among every job.

    Reads every index row in the chosen states (cost grows with the number of
    jobs; names and states only are compared, the page alone is prepared).

    Raises
    ------
    NeuroPoseError
        The status index cannot be read.
    """
    _, entries = query_jobs(snap.data_dir, states=sq.states, limit=None)
    if sq.q:
        needle = sq.q.casefold()
        entries = [e for e in entries if needle in e.job_id.casefold()]
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    if sq.sort == "name":
        entries.sort(key=lambda e: (e.job_id.casefold(), e.job_id), reverse=sq.descending)
    elif sq.sort == "state":
        entries.sort(key=lambda e: (rank[e.state], e.job_id.casefold()), reverse=sq.descending)
    else:
        entries.sort(key=_updated, reverse=sq.descending)
    page = entries[sq.offset : sq.offset + sq.limit]
    return len(entries), [prepared(snap, e) for e in page]


def study_json(snap: Snapshot, sq: StudyQuery) -> dict[str, Any]:
    """Body of ``/status.json?q=&sort=&order=&state=``: the summary (counts of every job),
    ``total`` matching, ``limit``, ``offset``, ``q``, ``sort``, ``order`` and ``jobs``."""
    total, jobs = select_jobs(snap, sq)
    return {
        **snap.summary(),
        "total": total,
        "limit": sq.limit,
        "offset": sq.offset,
        "q": sq.q,
        "sort": sq.sort,
        "order": "desc" if sq.descending else "asc",
        "jobs": [j.view() for j in jobs],
    }


def _options(values: list[tuple[str, str]], chosen: str) -> str:
    return "".join(
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(label)}</option>'
        for v, label in values
    )


def _select(name: str, label: str, values: list[tuple[str, str]], chosen: str) -> str:
    return (
        f'<label for="f-{name}">{esc(label)}</label> '
        f'<select id="f-{name}" name="{name}">{_options(values, chosen)}</select> '
    )


def study_forms(sq: StudyQuery | None, token: str | None, matched: str = "") -> str:
    """The filter form (GET ``/``) and the compare form (GET ``/compare``, fed by the rows'
    ``form="compare"`` checkboxes); ``matched`` is a sentence on what the table shows."""
    sq = sq or StudyQuery()
    hidden = f'<input type="hidden" name="token" value="{esc(token)}">' if token else ""
    state = sq.states[0].value if sq.states and len(sq.states) == 1 else ""
    states = [("", "any state")] + [(s.value, s.value) for s in STATE_ORDER]
    sorts = [("updated", "last change"), ("name", "name"), ("state", "state")]
    orders = [("desc", "descending"), ("asc", "ascending")]
    angles = [(a, a.replace("_", " ")) for a in ANGLE_NAMES]
    return (
        '<form id="filter" class="study" method="get" action="/" role="search">'
        f"{hidden}"
        '<label for="f-q">Name contains</label> '
        f'<input type="search" id="f-q" name="q" value="{esc(sq.q)}" maxlength="{MAX_Q}"> '
        f"{_select('state', 'State', states, state)}{_select('sort', 'Sort by', sorts, sq.sort)}"
        f"{_select('order', 'Order', orders, 'desc' if sq.descending else 'asc')}"
        '<button type="submit">Show jobs</button> <a href="/'
        f'{esc("?token=" + token if token else "")}">clear</a></form>'
        f'<form id="compare" class="study" method="get" action="/compare">{hidden}'
        f"{_select('angle', 'Angle', angles, DEFAULT_ANGLE)}"
        '<button type="submit">Compare selected jobs</button> '
        f'<span class="sub">tick up to {MAX_JOBS} jobs in the table</span>'
        f"{' · ' + esc(matched) if matched else ''}</form>"
    )


def status_json(snap: Snapshot, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, body)`` of ``/status.json?q=&sort=&order=&state=`` (400 names the
    invalid parameter; 503 when the status index cannot be read).

    Raises
    ------
    NeuroPoseError
        The status index cannot be read.
    """
    sq = study_params(query)
    if isinstance(sq, str):
        return 400, {"error": sq}
    return 200, study_json(snap, sq)


def dashboard_page(
    snap: Snapshot, query: dict[str, list[str]], token_query: str, token: str | None
) -> tuple[int, str]:
    """``(HTTP status, page)`` of ``/?state=&q=&sort=&order=``: the dashboard with the
    matching jobs (counts stay those of every job); a 400 page names a bad parameter."""
    sq = study_params(query, DASHBOARD_LIMIT)
    if isinstance(sq, str):
        return 400, render_error_page(snap, 400, "Bad filter", sq, token_query)
    try:
        total, jobs = select_jobs(snap, sq)
    except NeuroPoseError as exc:
        return 503, render_error_page(snap, 503, "Status unavailable", exc.message, token_query)
    forms = study_forms(sq, token, f"{len(jobs):,} of {total:,} matching jobs shown")
    page = render_dashboard(
        snap, token_query, controls=forms, jobs=jobs, status_query=sq.query_string()
    )
    return 200, page
