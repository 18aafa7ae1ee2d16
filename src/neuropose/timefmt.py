"""Times (and sizes) as NeuroPose writes and shows them: UTC ISO-8601 with a ``Z`` suffix.

Every timestamp in a file NeuroPose writes comes from :func:`utc_now` or
:func:`utc_iso`; every reader parses with :func:`parse_time`, which accepts
``Z`` or an offset and takes naive times as UTC.

Examples
--------
>>> parse_time("2026-01-02T03:04:05Z").isoformat()
'2026-01-02T03:04:05+00:00'
>>> format_duration(65), format_age(42)
('1 min 05 s', '42 s ago')

Byte counts are shown by :func:`format_bytes` (binary units), the one
formatter behind ``config show``, ``ingest`` and the ingest errors.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = [
    "format_age",
    "format_bytes",
    "format_duration",
    "format_time",
    "parse_time",
    "parse_time_or_none",
    "utc_iso",
    "utc_now",
]


def utc_iso(when: datetime | None = None, *, timespec: str = "seconds") -> str:
    """``when`` (default: now) in UTC as ISO-8601 with a ``Z`` suffix.

    Naive datetimes are taken as UTC.

    Examples
    --------
    >>> utc_iso(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    '2026-01-02T03:04:05Z'
    >>> utc_iso(datetime(2026, 1, 2, 3, 4, 5, 678901), timespec="microseconds")
    '2026-01-02T03:04:05.678901Z'
    """
    value = datetime.now(UTC) if when is None else when
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def utc_now() -> str:
    """The current UTC time as ISO-8601 with microseconds and a ``Z`` suffix.

    Examples
    --------
    >>> t = utc_now()
    >>> t.endswith("Z") and len(t) == len("2026-01-02T03:04:05.678901Z")
    True
    """
    return utc_iso(timespec="microseconds")


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 time written by NeuroPose (``Z`` or offset; naive = UTC).

    Raises
    ------
    ValueError
        ``text`` is not an ISO-8601 time.

    Examples
    --------
    >>> parse_time("2026-01-02T03:04:05+02:00").astimezone(UTC).hour
    1
    >>> parse_time("2026-01-02T03:04:05").tzinfo
    datetime.timezone.utc
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_time_or_none(text: str | None) -> datetime | None:
    """:func:`parse_time`, or ``None`` for an empty or unparseable text (for display).

    Examples
    --------
    >>> parse_time_or_none("yesterday") is None, parse_time_or_none(None) is None
    (True, True)
    """
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def format_duration(seconds: float | None) -> str:
    """Human duration: ``"45 s"``, ``"3 min 05 s"``, ``"2 h 07 min"``; ``"–"`` if unknown.

    Examples
    --------
    >>> format_duration(65), format_duration(7620), format_duration(None)
    ('1 min 05 s', '2 h 07 min', '–')
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min" if s % 60 == 0 else f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def format_age(seconds: float | None) -> str:
    """Age of a timestamp: ``"just now"``, ``"42 s ago"``, ``"3 min ago"``, ``"2 h ago"``.

    Examples
    --------
    >>> format_age(0.4), format_age(42), format_age(200), format_age(90000)
    ('just now', '42 s ago', '3 min ago', '1 d ago')
    """
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 1:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def format_time(text: str | None) -> str:
    """``YYYY-MM-DD HH:MM:SS UTC`` of an ISO time; the text itself when unparseable.

    Examples
    --------
    >>> format_time("2026-01-02T05:04:05+02:00"), format_time("soon"), format_time(None)
    ('2026-01-02 03:04:05 UTC', 'soon', '–')
    """
    t = parse_time_or_none(text)
    if t is None:
        return text or "–"
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_bytes(n: float) -> str:
    """A byte count in binary units (1 KiB = 1024 B), whole when exact.

    Parameters
    ----------
    n : float
        Number of bytes (non-negative).

    Returns
    -------
    str
        ``"512 B"``, ``"1.5 KiB"``, ``"200 GiB"``: one decimal unless the
        value is a whole number of the unit; TiB is the largest unit.

    Examples
    --------
    >>> format_bytes(200 * 1024**3), format_bytes(1536), format_bytes(512)
    ('200 GiB', '1.5 KiB', '512 B')
    >>> format_bytes(3 * 1024**2 + 1)
    '3.0 MiB'
    """
    value = float(n)
    unit = "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    if unit == "B" or value == int(value):
        return f"{value:.0f} {unit}"
    return f"{value:.1f} {unit}"
