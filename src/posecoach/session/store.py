"""The session store: one SQLite file (WAL mode) holding sessions, reps, frames, events.

Every public write is its own transaction and is committed before the method returns,
so a crash or ``kill -9`` loses at most what had not been handed to the store yet (the
rep in progress and the frames of the current batch). The schema version lives in
``PRAGMA user_version`` and is brought up to date by ``store_schema.MIGRATIONS``, each step
in one transaction. Every SQLite failure a user can meet (locked, read-only, disk full,
damaged file, newer schema) becomes a one-line :class:`~posecoach.errors.StoreError`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from posecoach.analysis.range_test import RangeTestResult, RangeTrend, TrendPoint, range_trend, result_from_document
from posecoach.analysis.summary import Summary, source_label, summarize_reps
from posecoach.errors import StoreError
from posecoach.session.store_codec import DOC_KEYS, FRAME_COLS, REP_COLS, dumps, extras, frame_from_row, loads, num, rep_from_row
from posecoach.session.store_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

DB_ENV = "POSECOACH_DB"
ANALYSIS_SCHEMA = "posecoach.analysis/1"



def default_db_path() -> Path:
    """Return ``$POSECOACH_DB`` if set, else ``sessions.sqlite3`` in the user data dir."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("posecoach")) / "sessions.sqlite3"


@dataclass(frozen=True)
class SessionSummary:
    """One row of the history: session metadata and per-side aggregates."""

    id: int
    started_at: str
    ended_at: str | None
    source: str  # short label: file name or "camera N"
    source_path: str | None
    protocol: str
    model: str
    live: bool
    duration_s: float | None  # time of the last stored frame
    summary: Summary
    range_test: RangeTestResult | None = None  # for a range test: its scored trials

    @property
    def finished(self) -> bool:
        """False for a session that is still running or ended in a crash."""
        return self.ended_at is not None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (used by ``posecoach history --json``)."""
        return {
            "id": self.id, "started_at": self.started_at, "ended_at": self.ended_at,
            "finished": self.finished, "live": self.live, "source": self.source,
            "source_path": self.source_path, "protocol": self.protocol,
            "model": self.model, "duration_s": self.duration_s,
            **self.summary.to_dict(), "faults": self.summary.faults,
            **({"range_test": self.range_test.to_dict()} if self.range_test is not None else {}),
        }


@dataclass(frozen=True)
class SessionVideo:
    """The video file a stored session's frames came from, as far as the store knows."""

    session_id: int
    path: str | None  # None: a camera session that was not recorded
    protocol: str
    live: bool


def session_video_path(source: Mapping[str, Any]) -> str | None:
    """The video file of a stored ``source``: ``file`` (absolute, kept since sessions
    remember their recording) or, for older sessions, a file ``path`` as it was given."""
    file = source.get("file")
    if file:
        return str(file)
    path = str(source.get("path") or "")
    return None if not path or path.startswith("camera") else path


def _store_error(exc: BaseException, path: Path) -> StoreError:
    """Translate a sqlite3/OS failure into a one-line message for the user."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    low = text.lower()
    fix = f"choose another file with --db PATH or the {DB_ENV} environment variable"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        msg = (f"the session database {path} is locked by another program "
               "(is another posecoach running?); close it and try again")
    elif name.startswith("SQLITE_FULL") or "disk is full" in low or "no space" in low:
        msg = f"the disk holding {path} is full; the last change was not saved ({text})"
    elif name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "not a database" in low:
        msg = f"{path} is damaged or not a posecoach session database; {fix}"
    elif (name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM",
                           "SQLITE_IOERR", "SQLITE_AUTH"))
          or isinstance(exc, OSError) or "readonly" in low or "unable to open" in low):
        msg = f"cannot write the session database {path} ({text}); {fix}"
    else:
        msg = f"session database {path}: {text}"
    return StoreError(msg)


class SessionStore:
    """Sessions in one SQLite database; use as a context manager or call :meth:`close`.

    Parameters
    ----------
    path
        Database file; created with its directory unless ``create`` is False.
    timeout
        Seconds to wait for another program's lock before giving up.
    create
        If False, a missing file raises StoreError instead of being created.

    The store may be created in one thread and used from another (calls are serialised
    by a lock), so a GUI can hand it to its worker thread.
    """

    def __init__(self, path: Path | str, *, timeout: float = 2.0, create: bool = True) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        if not self.path.exists():
            if not create:
                raise StoreError(f"no session database at {self.path} yet; record a session first")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the data directory {self.path.parent} ({exc.strerror or exc}); "
                    f"choose another file with --db PATH or the {DB_ENV} environment variable"
                ) from exc
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                         check_same_thread=False)
            self._open()
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise _store_error(exc, self.path) from exc
        except StoreError:
            self.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------
    def _open(self) -> None:
        conn = self._connection()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the session database {self.path} was written by a newer posecoach "
                f"(schema {version}, this version knows up to {SCHEMA_VERSION}); "
                "upgrade posecoach or use another --db"
            )
        foreign = (version > 0 and app_id != APPLICATION_ID) or (
            version == 0
            and conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        )
        if foreign:
            raise StoreError(f"{self.path} is not a posecoach session database; use another --db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction() as c:
                if c.execute("PRAGMA user_version").fetchone()[0] >= target:
                    continue  # another program (a second posecoach) migrated it meanwhile
                for statement in MIGRATIONS[target - 1]:
                    c.execute(statement)
                c.execute(f"PRAGMA application_id={APPLICATION_ID}")
                c.execute(f"PRAGMA user_version={target}")

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the session database {self.path} is closed")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction; map failures to StoreError."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path) from exc

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path) from exc

    # -- writing -----------------------------------------------------------------------
    def begin_session(self, *, source: dict, protocol: dict, started_at: str, model: str,
                      calibration: dict | None, live: bool,
                      extra: Mapping[str, Any] | None = None) -> int:
        """Create a session and return its id (committed at once)."""
        with self._transaction() as conn:
            return self._insert_session(conn, source, protocol, started_at, model,
                                        calibration, live, extra)

    def add_frames(self, session_id: int, frames: Sequence[Mapping[str, Any]]) -> None:
        """Store a batch of per-frame samples in one transaction."""
        with self._transaction() as conn:
            self._insert_frames(conn, session_id, frames)

    def add_rep(self, session_id: int, rep: Mapping[str, Any]) -> None:
        """Store one finished rep (committed at once)."""
        with self._transaction() as conn:
            self._insert_rep(conn, session_id, rep)

    def add_events(self, session_id: int, events: Sequence[Mapping[str, Any]]) -> None:
        """Store coach events; each needs ``t`` and ``kind``, other keys go to JSON."""
        with self._transaction() as conn:
            self._insert_events(conn, session_id, events)

    def finish_session(self, session_id: int, summary: Mapping[str, Any], ended_at: str) -> None:
        """Mark a session finished and store its summary."""
        with self._transaction() as conn:
            cur = conn.execute("UPDATE sessions SET summary_json=?, ended_at=? WHERE id=?",
                               (dumps(dict(summary)), ended_at, session_id))
            if cur.rowcount == 0:
                raise StoreError(f"there is no session {session_id} in {self.path}")

    def save_analysis(self, doc: Mapping[str, Any], *, started_at: str, model: str,
                      live: bool = False, ended_at: str | None = None) -> int:
        """Store a complete analysis document in one transaction; return the session id.

        The document's ``calibration`` (if any) goes to the calibration column, other
        top-level fields beyond the contract are kept and returned by :meth:`load_session`.
        """
        with self._transaction() as conn:
            sid = self._insert_session(
                conn, doc["source"], doc["protocol"], started_at, model,
                doc.get("calibration"), live, {k: v for k, v in doc.items() if k not in DOC_KEYS})
            self._insert_frames(conn, sid, doc.get("frames") or ())
            for rep in doc.get("reps") or ():
                self._insert_rep(conn, sid, rep)
            self._insert_events(conn, sid, doc.get("events") or ())
            summary = doc.get("summary")
            if summary is None:
                summary = summarize_reps(doc.get("reps") or ()).to_dict()
            conn.execute("UPDATE sessions SET summary_json=?, ended_at=? WHERE id=?",
                         (dumps(summary), ended_at or started_at, sid))
            return sid

    @staticmethod
    def _insert_session(conn: sqlite3.Connection, source: Mapping, protocol: Mapping,
                        started_at: str, model: str, calibration: Mapping | None, live: bool,
                        extra: Mapping[str, Any] | None) -> int:
        cur = conn.execute(
            "INSERT INTO sessions (started_at, source_json, protocol_json, model,"
            " calibration_json, live, extra_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (started_at, dumps(dict(source)), dumps(dict(protocol)), model,
             dumps(calibration), int(bool(live)), dumps(dict(extra)) if extra else None))
        return int(cur.lastrowid)

    @staticmethod
    def _insert_frames(conn: sqlite3.Connection, sid: int,
                       frames: Sequence[Mapping[str, Any]]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO frames (session_id, i, t, tracked, trunk_deg, pelvis_deg,"
            " separation_deg, confidence, phase, extra_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((sid, int(f["i"]), float(f["t"]), int(bool(f.get("tracked"))),
              num(f.get("trunk_deg")), num(f.get("pelvis_deg")),
              num(f.get("separation_deg")), num(f.get("confidence")), f.get("phase"),
              extras(f, FRAME_COLS)) for f in frames))

    @staticmethod
    def _insert_rep(conn: sqlite3.Connection, sid: int, rep: Mapping[str, Any]) -> None:
        if rep.get("side") not in ("right", "left"):
            raise ValueError(f"a rep's side must be 'right' or 'left', not {rep.get('side')!r}")
        conn.execute(
            "INSERT INTO reps (session_id, idx, side, start_s, hold_start_s, hold_end_s, hold_s,"
            " completed, peak_separation_deg, mean_hold_separation_deg, max_pelvis_deg,"
            " faults_json, mean_hold_err_deg, extra_json) VALUES (?, (SELECT COALESCE(MAX(idx) + 1, 0)"
            " FROM reps WHERE session_id = ?), ?,?,?,?,?,?,?,?,?,?,?,?)",
            (sid, sid, rep["side"], *(num(rep.get(k)) for k in REP_COLS[1:5]),
             int(bool(rep.get("completed"))), *(num(rep.get(k)) for k in REP_COLS[6:9]),
             dumps([str(f) for f in rep.get("faults") or ()]), num(rep.get("mean_hold_err_deg")),
             extras(rep, REP_COLS)))

    @staticmethod
    def _insert_events(conn: sqlite3.Connection, sid: int,
                       events: Sequence[Mapping[str, Any]]) -> None:
        conn.executemany(
            "INSERT INTO events (session_id, t, kind, data_json) VALUES (?, ?, ?, ?)",
            ((sid, float(e["t"]), str(e["kind"]), extras(e, ("t", "kind"))) for e in events))

    # -- reading -----------------------------------------------------------------------
    def resolve(self, ref: str | int) -> int:
        """Return the session id for ``ref``: an id or ``latest``."""
        with self._reading() as conn:
            text = str(ref).strip().lower()
            if text == "latest":
                row = conn.execute(
                    "SELECT id FROM sessions ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()
                if row is None:
                    raise StoreError(f"no sessions recorded yet in {self.path}")
                return int(row[0])
            if not text.isdigit():
                raise StoreError(f"{ref!r} is not a session id; give a number or 'latest'")
            if conn.execute("SELECT 1 FROM sessions WHERE id=?", (int(text),)).fetchone() is None:
                raise StoreError(f"there is no session {text} in {self.path} "
                                 "(see 'posecoach history')")
            return int(text)

    def session_video(self, session_id: int) -> SessionVideo:
        """Where the video of session ``session_id`` is (see :func:`session_video_path`)."""
        with self._reading() as conn:
            row = conn.execute("SELECT source_json, protocol_json, live FROM sessions WHERE id=?",
                               (session_id,)).fetchone()
        if row is None:
            raise StoreError(f"there is no session {session_id} in {self.path}")
        source, protocol = json.loads(row[0]), json.loads(row[1])
        return SessionVideo(session_id, session_video_path(source), str(protocol.get("name") or ""), bool(row[2]))

    def list_sessions(self) -> list[SessionSummary]:
        """Return all sessions, oldest first, with per-side aggregates from their reps."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT id, started_at, ended_at, source_json, protocol_json, model, live,"
                " (SELECT t FROM frames f WHERE f.session_id = s.id ORDER BY i DESC LIMIT 1)"
                " FROM sessions s ORDER BY started_at, id").fetchall()
            reps: dict[int, list[dict[str, Any]]] = {}
            for sid, side, completed, peak, mean, hold_s, faults, pelvis, err in conn.execute(
                    "SELECT session_id, side, completed, peak_separation_deg,"
                    " mean_hold_separation_deg, hold_s, faults_json, max_pelvis_deg,"
                    " mean_hold_err_deg FROM reps ORDER BY session_id, idx"):
                reps.setdefault(sid, []).append({
                    "side": side, "completed": bool(completed), "peak_separation_deg": peak,
                    "mean_hold_separation_deg": mean, "hold_s": hold_s,
                    "faults": json.loads(faults), "max_pelvis_deg": pelvis, "mean_hold_err_deg": err})
        out = []
        for sid, started, ended, source_json, protocol_json, model, live, last_t in rows:
            source, protocol = json.loads(source_json), json.loads(protocol_json)
            out.append(SessionSummary(
                id=sid, started_at=started, ended_at=ended, source=source_label(source),
                source_path=source.get("path"), protocol=str(protocol.get("name", "?")),
                model=model, live=bool(live), duration_s=last_t,
                summary=summarize_reps(reps.get(sid, ())),
                range_test=result_from_document(protocol, reps.get(sid, ()))))
        return out

    def range_trend(self, until: int | None = None) -> RangeTrend:
        """The range tests recorded so far (up to and including session ``until``), as a trend."""
        sessions = self.list_sessions()
        if until is not None:
            last = next((s.started_at for s in sessions if s.id == until), None)
            sessions = [s for s in sessions if last is not None and (s.started_at, s.id) <= (last, until)]
        return range_trend(TrendPoint(s.id, s.started_at, s.range_test)
                           for s in sessions if s.range_test is not None)

    def load_session(self, session_id: int) -> dict[str, Any]:
        """Return a stored session as an analysis document plus ``session`` metadata.

        An unfinished session (still running, or ended by a crash) gets a summary
        recomputed from its stored reps.
        """
        with self._reading() as conn:
            row = conn.execute(
                "SELECT started_at, ended_at, source_json, protocol_json, model,"
                " calibration_json, summary_json, live, extra_json FROM sessions WHERE id=?",
                (session_id,)).fetchone()
            if row is None:
                raise StoreError(f"there is no session {session_id} in {self.path}")
            (started, ended, source_json, protocol_json, model, cal_json, summary_json,
             live, extra_json) = row
            frames = [frame_from_row(r) for r in conn.execute(
                "SELECT i, t, tracked, trunk_deg, pelvis_deg, separation_deg, confidence, phase,"
                " extra_json FROM frames WHERE session_id=? ORDER BY i", (session_id,))]
            reps = [rep_from_row(r) for r in conn.execute(
                "SELECT side, start_s, hold_start_s, hold_end_s, hold_s, completed,"
                " peak_separation_deg, mean_hold_separation_deg, max_pelvis_deg, faults_json,"
                " mean_hold_err_deg, extra_json FROM reps WHERE session_id=? ORDER BY idx", (session_id,))]
            events = [{"t": t, "kind": kind, **(loads(data) or {})} for t, kind, data in
                      conn.execute("SELECT t, kind, data_json FROM events WHERE session_id=?"
                                   " ORDER BY t, id", (session_id,))]
        extra = loads(extra_json) or {}
        summary = loads(summary_json)
        if summary is None or ended is None:
            summary = summarize_reps(reps).to_dict()
        doc: dict[str, Any] = {"schema": extra.pop("schema", ANALYSIS_SCHEMA),
                               "source": json.loads(source_json),
                               "protocol": json.loads(protocol_json),
                               "frames": frames, "reps": reps, "summary": summary}
        if cal_json is not None:
            doc["calibration"] = json.loads(cal_json)
        doc.update(extra)
        doc["events"] = events
        doc["session"] = {"id": session_id, "started_at": started, "ended_at": ended,
                          "model": model, "live": bool(live), "finished": ended is not None}
        return doc
