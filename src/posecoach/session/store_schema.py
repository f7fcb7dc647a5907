"""The SQLite schema of the session store, as a list of migrations.

``MIGRATIONS[n]`` brings a database from version n to n + 1 (``PRAGMA user_version``).
Never edit a released step: append a new one. Version 1 holds sessions, reps and the
per-frame series; version 2 adds the live flag, coach events, and JSON columns that
keep fields beyond the analysis contract; version 3 adds each rep's measurement uncertainty
over its hold (what a range test's trend is judged by; NULL in older sessions).
"""

from __future__ import annotations

APPLICATION_ID = 0x50434F41  # "PCOA": marks the file as a posecoach database

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: sessions, reps, per-frame series
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            source_json TEXT NOT NULL,
            protocol_json TEXT NOT NULL,
            model TEXT NOT NULL,
            calibration_json TEXT,
            summary_json TEXT)""",
        """CREATE TABLE reps (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            side TEXT NOT NULL,
            start_s REAL, hold_start_s REAL, hold_end_s REAL, hold_s REAL,
            completed INTEGER NOT NULL,
            peak_separation_deg REAL, mean_hold_separation_deg REAL, max_pelvis_deg REAL,
            faults_json TEXT NOT NULL,
            PRIMARY KEY (session_id, idx)) WITHOUT ROWID""",
        """CREATE TABLE frames (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            i INTEGER NOT NULL,
            t REAL NOT NULL,
            tracked INTEGER NOT NULL,
            trunk_deg REAL, pelvis_deg REAL, separation_deg REAL, confidence REAL,
            phase TEXT,
            PRIMARY KEY (session_id, i)) WITHOUT ROWID""",
    ),
    (  # 2: live flag, coach events, extra fields of documents/reps/frames kept as JSON
        "ALTER TABLE sessions ADD COLUMN live INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sessions ADD COLUMN extra_json TEXT",
        "ALTER TABLE reps ADD COLUMN extra_json TEXT",
        "ALTER TABLE frames ADD COLUMN extra_json TEXT",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            t REAL NOT NULL,
            kind TEXT NOT NULL,
            data_json TEXT)""",
        "CREATE INDEX events_by_session ON events(session_id, t)",
        "CREATE INDEX sessions_by_start ON sessions(started_at)",
    ),
    (  # 3: the estimator's mean uncertainty (~90% half-width) of a rep's separation over its hold
        "ALTER TABLE reps ADD COLUMN mean_hold_err_deg REAL",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
