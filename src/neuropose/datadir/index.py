"""The status index ``status.db``: one SQLite row per job holding its newest entry.

::

    meta(key, value)                      schema_version, seq (bumped by every write)
    jobs(job_id, state, seq, finished, entry)
                                          entry = JobStatusEntry JSON; seq of its last
                                          write; finished = finished_at or last_update
    counts(state, n)                      jobs per state, kept by triggers

The daemon (and operator commands holding its lock) write it; every other
process opens it read-only. SQLite's write-ahead log (``status.db-wal``)
makes each write one transaction that survives ``kill -9``; a reader never
sees half of one. The per-job files ``out/<job>/status.json`` hold the same
entries, so the index can always be rebuilt from them
(:func:`neuropose.datadir.status.sync_index`).

Costs do not depend on the number of jobs: a write is one B-tree upsert and
a trigger on ``counts``; the most recent K rows come from the ``seq`` index
and the unfinished ones from the ``(state, seq)`` index.

Examples
--------
>>> import tempfile, pathlib
>>> from neuropose.schemas.status import JobState, JobStatusEntry
>>> db = pathlib.Path(tempfile.mkdtemp()) / "status.db"
>>> e = JobStatusEntry(job_id="walk1", state=JobState.QUEUED, last_update="2026-01-01T00:00:00Z")
>>> create_index(db, [e])
>>> with StatusIndex.open(db) as index:
...     index.counts()[JobState.QUEUED], index.get("walk1").state.value
(1, 'queued')
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from neuropose.errors import FutureSchemaError, InvalidDocumentError
from neuropose.io import DiskFullError, format_validation_error, fsync_directory, temp_path_for
from neuropose.schemas.status import JobState, JobStatusEntry

__all__ = [
    "INDEX_SCHEMA_VERSION",
    "UNFINISHED",
    "StatusIndex",
    "StatusIndexError",
    "close_connections",
    "create_index",
]

#: Version of the index's tables (``meta.schema_version``).
INDEX_SCHEMA_VERSION = 1

#: States of jobs that are not finished (always listed in the aggregate).
UNFINISHED: tuple[JobState, ...] = (JobState.QUEUED, JobState.PROCESSING, JobState.INTERRUPTED)

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value NOT NULL);
CREATE TABLE jobs(
    job_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    seq INTEGER NOT NULL,
    finished TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_seq ON jobs(seq);
CREATE INDEX jobs_state_seq ON jobs(state, seq);
CREATE TABLE counts(state TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER jobs_insert AFTER INSERT ON jobs BEGIN
    UPDATE counts SET n = n + 1 WHERE state = NEW.state;
END;
CREATE TRIGGER jobs_delete AFTER DELETE ON jobs BEGIN
    UPDATE counts SET n = n - 1 WHERE state = OLD.state;
END;
CREATE TRIGGER jobs_state AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state BEGIN
    UPDATE counts SET n = n - 1 WHERE state = OLD.state;
    UPDATE counts SET n = n + 1 WHERE state = NEW.state;
END;
"""

_HINT = (
    "stop `neuropose watch` and start it again: it rebuilds the index from "
    "out/<job>/status.json (or delete {path} and its -wal/-shm files while no daemon runs)"
)


class StatusIndexError(InvalidDocumentError):
    """``status.db`` is not a readable status index (exit code 2); the message names it."""


def _error(path: Path, problem: str) -> StatusIndexError:
    return StatusIndexError(f"{path}: {problem}", hint=_HINT.format(path=path))


def _row_values(entry: JobStatusEntry) -> tuple[str, str, str, str]:
    return (
        entry.job_id,
        entry.state.value,
        entry.finished_at or entry.last_update,
        entry.model_dump_json(),
    )


def create_index(path: Path, entries: Iterable[JobStatusEntry]) -> None:
    """Build a new index holding ``entries`` and put it at ``path`` atomically.

    The index is built in a temporary file beside ``path`` (named like every
    temporary file of :func:`neuropose.io.atomic_write`, so an interrupted
    build is cleaned up), ``fsync``'d and renamed over ``path``; SQLite's
    ``-wal``/``-shm`` files of a previous index are removed first. Call it
    holding the daemon lock.
    """
    tmp = temp_path_for(path)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("BEGIN")
            for statement in _statements():
                conn.execute(statement)
            conn.executemany("INSERT INTO counts VALUES (?, 0)", [(s.value,) for s in JobState])
            seq = 0
            rows = []
            for entry in entries:
                seq += 1
                job_id, state, finished, text = _row_values(entry)
                rows.append((job_id, state, seq, finished, text))
            conn.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?, ?)", rows)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("schema_version", INDEX_SCHEMA_VERSION), ("seq", seq)],
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        for stale in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        os.replace(tmp, path)
        fsync_directory(path.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    _forget_connections(path)


def _statements() -> list[str]:
    """``_SCHEMA`` split into statements (triggers keep their inner ``;``)."""
    out, current = [], []
    for line in _SCHEMA.strip().splitlines():
        current.append(line)
        text = "\n".join(current)
        if line.endswith(";") and (
            not text.lstrip().startswith("CREATE TRIGGER") or line == "END;"
        ):
            out.append(text)
            current = []
    return out


# One connection per process, index file and mode, shared by threads under a lock.
_CONNECTIONS: dict[tuple[int, str, bool], tuple[int, sqlite3.Connection, threading.Lock]] = {}
_CONNECTIONS_LOCK = threading.Lock()


def _forget_connections(path: Path) -> None:
    """Drop the cached connections to ``path``; each closes when its last user is done
    (closing one another thread is using would break that thread's query)."""
    with _CONNECTIONS_LOCK:
        for key in [k for k in _CONNECTIONS if k[1] == str(path)]:
            del _CONNECTIONS[key]


def close_connections() -> None:
    """Close this process's cached connections (at exit, where SQLite then folds and
    removes its -wal file; or where a caller needs the next use to open the file anew)."""
    with _CONNECTIONS_LOCK:
        for _, conn, _ in _CONNECTIONS.values():
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        _CONNECTIONS.clear()


def _connect(path: Path, write: bool) -> tuple[sqlite3.Connection, threading.Lock] | None:
    """The cached connection to ``path`` (re-opened when the file was replaced);
    ``None`` when ``path`` does not exist."""
    try:
        inode = os.stat(path).st_ino
    except (FileNotFoundError, NotADirectoryError):
        _forget_connections(path)
        return None
    key = (os.getpid(), str(path), write)
    with _CONNECTIONS_LOCK:
        cached = _CONNECTIONS.get(key)
        if cached is not None and cached[0] == inode:
            return cached[1], cached[2]
        uri = f"file:{path.as_posix()}?mode={'rw' if write else 'ro'}"
        try:
            conn = sqlite3.connect(
                uri, uri=True, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            if write:
                conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise _error(path, f"cannot open the status index ({exc})") from exc
        lock = threading.Lock()
        if not _CONNECTIONS:
            atexit.unregister(close_connections)
            atexit.register(close_connections)
        _CONNECTIONS[key] = (inode, conn, lock)
        return conn, lock


class StatusIndex:
    """An open status index (use :meth:`open`; a context manager).

    Every method raises :class:`StatusIndexError` naming the file when
    SQLite reports the file damaged or a row does not validate.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: threading.Lock) -> None:
        self.path = path
        self._conn = conn
        self._lock = lock

    @classmethod
    def open(cls, path: Path | str, *, write: bool = False) -> StatusIndex | None:
        """Open ``path``; ``None`` when it does not exist.

        Raises
        ------
        StatusIndexError
            The file is not a status index (or is damaged).
        FutureSchemaError
            A newer NeuroPose made it.
        """
        p = Path(path)
        found = _connect(p, write)
        if found is None:
            return None
        index = cls(p, *found)
        version = index._meta("schema_version")
        if version > INDEX_SCHEMA_VERSION:
            raise FutureSchemaError(
                f"{p}: status index schema version {version}, this NeuroPose reads up "
                f"to version {INDEX_SCHEMA_VERSION}",
                hint="upgrade NeuroPose",
            )
        return index

    def __enter__(self) -> StatusIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None  # the connection stays cached for the next use

    @contextlib.contextmanager
    def _cursor(self, *, transaction: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                if transaction:
                    self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    if transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                if transaction:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _forget_connections(self.path)
                if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
                    full = DiskFullError(
                        f"{self.path}: cannot write, no space left on device; the index "
                        "is unchanged",
                        hint=f"free space on the filesystem holding {self.path.parent}",
                    )
                    full.errno = errno.ENOSPC
                    raise full from exc
                raise _error(self.path, f"cannot use the status index ({exc})") from exc

    def _meta(self, key: str) -> int:
        with self._cursor() as c:
            row = c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None or not isinstance(row[0], int):
            raise _error(self.path, f"table 'meta' has no integer {key!r}")
        return int(row[0])

    def _entry(self, job_id: str, text: str) -> JobStatusEntry:
        try:
            entry = JobStatusEntry.model_validate_json(text)
        except ValidationError as exc:
            raise _error(self.path, f"row {job_id!r}: {format_validation_error(exc)}") from exc
        if entry.job_id != job_id:
            raise _error(self.path, f"row {job_id!r} holds the entry of job {entry.job_id!r}")
        return entry

    # ------------------------------------------------------------- reads
    def seq(self) -> int:
        """Sequence number of the last write (changes with every write)."""
        return self._meta("seq")

    def counts(self) -> dict[JobState, int]:
        """Jobs per state (every state present)."""
        with self._cursor() as c:
            rows = c.execute("SELECT state, n FROM counts").fetchall()
        out = dict.fromkeys(JobState, 0)
        for state, n in rows:
            try:
                out[JobState(state)] = int(n)
            except ValueError as exc:
                raise _error(self.path, f"table 'counts' has unknown state {state!r}") from exc
        return out

    def get(self, job_id: str) -> JobStatusEntry | None:
        """The entry of ``job_id``, or ``None``."""
        with self._cursor() as c:
            row = c.execute("SELECT entry FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if row is None else self._entry(job_id, row[0])

    def entries(
        self,
        *,
        states: Iterable[JobState] | None = None,
        limit: int | None = None,
        offset: int = 0,
        after_seq: int | None = None,
    ) -> list[JobStatusEntry]:
        """Entries, most recently written first, optionally of some states only."""
        sql = "SELECT job_id, entry FROM jobs"
        where, args = self._where(states, after_seq)
        sql += where + " ORDER BY seq DESC LIMIT ? OFFSET ?"
        with self._cursor() as c:
            rows = c.execute(sql, (*args, -1 if limit is None else limit, offset)).fetchall()
        return [self._entry(job_id, text) for job_id, text in rows]

    def count(self, states: Iterable[JobState] | None = None) -> int:
        """Number of jobs (of ``states``); from ``counts``, not a scan."""
        counts = self.counts()
        return sum(counts[s] for s in (JobState if states is None else states))

    @staticmethod
    def _where(
        states: Iterable[JobState] | None, after_seq: int | None
    ) -> tuple[str, tuple[object, ...]]:
        clauses: list[str] = []
        args: list[object] = []
        if states is not None:
            chosen = [JobState(s).value for s in states]
            clauses.append(f"state IN ({', '.join('?' * len(chosen))})" if chosen else "0")
            args += chosen
        if after_seq is not None:
            clauses.append("seq > ?")
            args.append(after_seq)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)

    def finish_times(self, states: Iterable[JobState]) -> list[tuple[str, str]]:
        """``(job_id, finished_at or last_update)`` of every job in ``states``."""
        where, args = self._where(states, None)
        with self._cursor() as c:
            return [
                (str(a), str(b))
                for a, b in c.execute(f"SELECT job_id, finished FROM jobs{where}", args)
            ]

    def names(self) -> set[str]:
        """Every job id in the index."""
        with self._cursor() as c:
            return {str(r[0]) for r in c.execute("SELECT job_id FROM jobs")}

    def check(self) -> None:
        """Raise :class:`StatusIndexError` when SQLite's ``quick_check`` or the counts fail."""
        with self._cursor() as c:
            result = [r[0] for r in c.execute("PRAGMA quick_check")]
            total = c.execute("SELECT count(*) FROM jobs").fetchone()[0]
        if result != ["ok"]:
            raise _error(self.path, f"damaged: {'; '.join(map(str, result[:3]))}")
        if sum(self.counts().values()) != total:
            raise _error(self.path, "table 'counts' does not match table 'jobs'")

    # ------------------------------------------------------------ writes
    def put(self, entries: Iterable[JobStatusEntry]) -> int:
        """Insert or replace ``entries`` in one transaction; returns the new ``seq``."""
        with self._cursor(transaction=True) as c:
            seq = int(c.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
            for entry in entries:
                seq += 1
                job_id, state, finished, text = _row_values(entry)
                c.execute(
                    "INSERT INTO jobs VALUES (?, ?, ?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET "
                    "state = excluded.state, seq = excluded.seq, finished = excluded.finished, "
                    "entry = excluded.entry",
                    (job_id, state, seq, finished, text),
                )
            c.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (seq,))
        return seq

    def delete(self, job_ids: Iterable[str]) -> list[JobStatusEntry]:
        """Remove the rows of ``job_ids`` in one transaction; returns the removed entries."""
        removed = []
        with self._cursor(transaction=True) as c:
            for job_id in job_ids:
                row = c.execute("SELECT entry FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
                if row is None:
                    continue
                removed.append(self._entry(job_id, row[0]))
                c.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
            c.execute("UPDATE meta SET value = value + 1 WHERE key = 'seq'")
        return removed
