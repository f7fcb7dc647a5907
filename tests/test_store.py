"""The SQLite session store: round trips, migrations, crash safety, user-facing errors."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

import posecoach
from posecoach.errors import StoreError
from posecoach.session import store as store_mod
from posecoach.session.store import SCHEMA_VERSION, SessionStore, default_db_path

SRC_DIR = str(Path(posecoach.__file__).resolve().parents[1])
PROTOCOL = {"name": "standing-rotation", "hold_s": 7.0, "holds_per_side": 7}


def frame(i: int, sep: float | None = 10.0, pelvis: float | None = 1.0) -> dict:
    tracked = sep is not None
    return {"i": i, "t": i / 30.0, "tracked": tracked,
            "trunk_deg": sep + pelvis if tracked else None,
            "pelvis_deg": pelvis if tracked else None,
            "separation_deg": sep, "confidence": 0.9 if tracked else 0.0, "phase": "neutral"}


def rep(side: str, peak: float, mean: float, *, completed: bool = True,
        faults: list[str] | None = None, start: float = 1.0) -> dict:
    return {"side": side, "start_s": start, "hold_start_s": start + 1.5,
            "hold_end_s": start + 8.5, "hold_s": 7.0 if completed else 4.0,
            "completed": completed, "peak_separation_deg": peak,
            "mean_hold_separation_deg": mean, "max_pelvis_deg": 3.1, "faults": faults or []}


def make_doc() -> dict:
    frames = [frame(i, sep=None if i == 5 else 10.0 + i) for i in range(60)]
    frames[7]["cue"] = "exhale"  # an extra per-frame field must survive
    reps = [rep("right", 44.8, 43.9, start=2.1), rep("left", -41.2, -40.0, start=12.0),
            rep("right", 45.0, 43.1, start=22.0),
            rep("left", -39.0, -38.5, completed=False, faults=["pelvis_rotation"], start=32.0)]
    reps[0]["set"] = 1  # an extra per-rep field
    return {"schema": "posecoach.analysis/1",
            "source": {"path": "/videos/drill.mp4", "fps": 30.0, "frames": 60,
                       "width": 640, "height": 480},
            "protocol": PROTOCOL, "frames": frames, "reps": reps,
            "summary": {"right": {"holds_completed": 2, "reps": 2, "max_separation_deg": 45.0,
                                  "mean_hold_separation_deg": 43.5},
                        "left": {"holds_completed": 1, "reps": 2, "max_separation_deg": 41.2,
                                 "mean_hold_separation_deg": 39.25},
                        "asymmetry_pct": 8.4},
            "calibration": {"shoulder_width": 0.31},
            "events": [{"t": 3.6, "kind": "hold_started", "side": "right"}],
            "pipeline": {"version": "0.1.0"}}


def strip_session(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "session"}


def test_default_db_path(monkeypatch, tmp_path):
    monkeypatch.setenv("POSECOACH_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("POSECOACH_DB")
    monkeypatch.setattr(store_mod.platformdirs, "user_data_dir", lambda app: f"/data/{app}")
    assert default_db_path() == Path("/data/posecoach/sessions.sqlite3")


def test_save_analysis_round_trip(tmp_path):
    doc = make_doc()
    with SessionStore(tmp_path / "s.db") as st:
        sid = st.save_analysis(doc, started_at="2024-05-01T18:00:00+02:00", model="full")
        loaded = st.load_session(sid)
    assert strip_session(loaded) == doc
    assert loaded["session"] == {"id": sid, "started_at": "2024-05-01T18:00:00+02:00",
                                 "ended_at": "2024-05-01T18:00:00+02:00", "model": "full",
                                 "live": False, "finished": True}
    assert loaded["frames"][5]["tracked"] is False and loaded["frames"][5]["pelvis_deg"] is None


def test_database_is_wal_and_versioned(tmp_path):
    SessionStore(tmp_path / "s.db").close()
    with closing(sqlite3.connect(tmp_path / "s.db")) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_live_session_and_history(tmp_path):
    with SessionStore(tmp_path / "s.db") as st:
        sid = st.begin_session(source={"path": "camera:0", "fps": 30.0}, protocol=PROTOCOL,
                               started_at="2024-05-02T07:30:00", model="lite",
                               calibration={"torso": 0.5}, live=True)
        st.add_frames(sid, [frame(i) for i in range(30)])
        st.add_rep(sid, rep("right", 40.0, 38.0))
        st.add_frames(sid, [frame(i) for i in range(30, 90)])
        st.add_rep(sid, rep("left", -30.0, -29.0, faults=["too_fast", "hold_broken"],
                            completed=False))
        st.add_events(sid, [{"t": 2.0, "kind": "fault", "fault": "too_fast"}])
        (row,) = st.list_sessions()
        assert not row.finished and row.live and row.source == "camera 0"
        st.finish_session(sid, {"note": "pipeline summary"}, "2024-05-02T07:31:00")
        doc = st.load_session(sid)
        (row,) = st.list_sessions()
    assert [f["i"] for f in doc["frames"]] == list(range(90))
    assert [r["side"] for r in doc["reps"]] == ["right", "left"]
    assert doc["summary"] == {"note": "pipeline summary"}  # a finished session's own summary
    assert doc["calibration"] == {"torso": 0.5}
    assert doc["events"] == [{"t": 2.0, "kind": "fault", "fault": "too_fast"}]
    assert row.finished and row.protocol == "standing-rotation" and row.model == "lite"
    assert row.duration_s == pytest.approx(89 / 30.0)
    s = row.summary
    assert (s.right.reps, s.right.holds_completed, s.right.max_separation_deg) == (1, 1, 40.0)
    assert (s.left.reps, s.left.holds_completed, s.left.max_separation_deg) == (1, 0, 30.0)
    assert s.left.mean_hold_separation_deg == 29.0
    assert s.asymmetry_pct == pytest.approx(25.0)
    assert s.faults == {"hold_broken": 1, "too_fast": 1}
    assert json.loads(json.dumps(row.to_dict()))["left"]["max_separation_deg"] == 30.0


def test_numpy_values_are_stored(tmp_path):
    f = frame(0)
    f.update(separation_deg=np.float32(12.5), t=np.float64(0.0), i=np.int64(0),
             cues=np.array([1.0, 2.0]))
    with SessionStore(tmp_path / "s.db") as st:
        sid = st.begin_session(source={}, protocol=PROTOCOL, started_at="2024-01-01T00:00:00",
                               model="m", calibration=None, live=True)
        st.add_frames(sid, [f])
        st.add_rep(sid, {**rep("right", 1.0, 1.0), "peak_separation_deg": np.float32(20.0),
                         "completed": np.bool_(True)})
        doc = st.load_session(sid)
    assert doc["frames"][0]["separation_deg"] == 12.5 and doc["frames"][0]["cues"] == [1.0, 2.0]
    assert doc["reps"][0]["peak_separation_deg"] == 20.0 and doc["reps"][0]["completed"] is True


def test_unfinished_session_summary_is_recomputed(tmp_path):
    with SessionStore(tmp_path / "s.db") as st:
        sid = st.begin_session(source={"path": "camera:0"}, protocol=PROTOCOL,
                               started_at="2024-05-02T07:30:00", model="m", calibration=None,
                               live=True)
        st.add_rep(sid, rep("right", 44.0, 42.0))
        st.add_rep(sid, rep("left", -33.0, -32.0))
        doc = st.load_session(sid)
    assert doc["session"]["finished"] is False and doc["session"]["ended_at"] is None
    assert doc["summary"]["right"]["max_separation_deg"] == 44.0
    assert doc["summary"]["left"]["mean_hold_separation_deg"] == 32.0
    assert doc["summary"]["asymmetry_pct"] == pytest.approx(25.0)


def test_resolve(tmp_path):
    with SessionStore(tmp_path / "s.db") as st:
        with pytest.raises(StoreError, match="no sessions"):
            st.resolve("latest")
        a = st.save_analysis(make_doc(), started_at="2024-05-03T10:00:00", model="m")
        b = st.save_analysis(make_doc(), started_at="2024-05-01T10:00:00", model="m")
        assert st.resolve("latest") == a  # latest by start time, not by id
        assert st.resolve(str(b)) == b and st.resolve(" LATEST ") == a
        with pytest.raises(StoreError, match="no session 99"):
            st.resolve("99")
        with pytest.raises(StoreError, match="not a session id"):
            st.resolve("yesterday")
        with pytest.raises(StoreError, match="no session 99"):
            st.load_session(99)
        assert [s.id for s in st.list_sessions()] == [b, a]


def test_store_can_move_to_a_worker_thread(tmp_path):
    st = SessionStore(tmp_path / "s.db")
    errors = []

    def work() -> None:
        try:
            sid = st.begin_session(source={}, protocol=PROTOCOL, started_at="2024-01-01",
                                   model="m", calibration=None, live=True)
            st.add_rep(sid, rep("right", 30.0, 29.0))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    with st:
        assert not errors and st.list_sessions()[0].summary.right.reps == 1


# -- migrations ----------------------------------------------------------------------------
V1_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT,
  source_json TEXT NOT NULL, protocol_json TEXT NOT NULL, model TEXT NOT NULL,
  calibration_json TEXT, summary_json TEXT);
CREATE TABLE reps (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL, side TEXT NOT NULL, start_s REAL, hold_start_s REAL, hold_end_s REAL,
  hold_s REAL, completed INTEGER NOT NULL, peak_separation_deg REAL,
  mean_hold_separation_deg REAL, max_pelvis_deg REAL, faults_json TEXT NOT NULL,
  PRIMARY KEY (session_id, idx)) WITHOUT ROWID;
CREATE TABLE frames (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  i INTEGER NOT NULL, t REAL NOT NULL, tracked INTEGER NOT NULL, trunk_deg REAL,
  pelvis_deg REAL, separation_deg REAL, confidence REAL, phase TEXT,
  PRIMARY KEY (session_id, i)) WITHOUT ROWID;
INSERT INTO sessions VALUES (1, '2024-03-01T09:00:00', '2024-03-01T09:05:00',
  '{"path": "/v/old.mp4", "fps": 30.0}', '{"name": "standing-rotation", "hold_s": 7.0}',
  'full', NULL, '{"asymmetry_pct": 10.0}');
INSERT INTO reps VALUES (1, 0, 'right', 1.0, 2.0, 9.0, 7.0, 1, 40.0, 39.0, 2.0, '[]');
INSERT INTO reps VALUES (1, 1, 'left', 11.0, 12.0, 19.0, 7.0, 1, -36.0, -35.0, 2.0, '[]');
INSERT INTO frames VALUES (1, 0, 0.0, 1, 1.0, 0.5, 0.5, 0.9, 'neutral');
INSERT INTO frames VALUES (1, 1, 0.0333, 0, NULL, NULL, NULL, 0.0, 'neutral');
PRAGMA application_id = 1346588481;
PRAGMA user_version = 1;
"""


def test_migrates_a_version_1_database(tmp_path):
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as conn:  # as written by posecoach schema 1
        conn.executescript(V1_SCHEMA)
    with SessionStore(path) as st:
        doc = st.load_session(1)
        assert [r["peak_separation_deg"] for r in doc["reps"]] == [40.0, -36.0]
        assert doc["frames"][1] == {"i": 1, "t": 0.0333, "tracked": False, "trunk_deg": None,
                                    "pelvis_deg": None, "separation_deg": None,
                                    "confidence": 0.0, "phase": "neutral"}
        assert doc["session"]["live"] is False and doc["events"] == []
        assert doc["summary"] == {"asymmetry_pct": 10.0}
        st.add_events(1, [{"t": 1.0, "kind": "note"}])  # a table that schema 1 lacked
        new = st.save_analysis(make_doc(), started_at="2024-05-01T10:00:00", model="m")
        assert [s.id for s in st.list_sessions()] == [1, new]
        assert st.list_sessions()[0].summary.asymmetry_pct == pytest.approx(10.0)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "future.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(f"CREATE TABLE x (a); PRAGMA application_id = "
                           f"{store_mod.APPLICATION_ID}; PRAGMA user_version = 99;")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"newer posecoach.*upgrade posecoach") as info:
        SessionStore(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", ["foreign-db", "text"])
def test_foreign_file_is_refused(tmp_path, content):
    path = tmp_path / "other.db"
    if content == "text":
        path.write_text("this is not a database at all, just some text " * 50)
    else:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE photos (id)")
            conn.commit()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a posecoach session database"):
        SessionStore(path)
    assert path.read_bytes() == before


# -- crash safety ----------------------------------------------------------------------------
CHILD = """
import os, signal, sys
from posecoach.session.store import SessionStore
st = SessionStore(sys.argv[1])
sid = st.begin_session(source={"path": "camera:0", "fps": 30.0},
                       protocol={"name": "standing-rotation", "hold_s": 7.0},
                       started_at="2024-05-02T07:30:00", model="m", calibration=None, live=True)
for k in range(3):
    st.add_frames(sid, [{"i": i, "t": i / 30, "tracked": True, "trunk_deg": 1.0,
                         "pelvis_deg": 0.0, "separation_deg": 1.0, "confidence": 1.0,
                         "phase": "holding"} for i in range(k * 300, (k + 1) * 300)])
    st.add_rep(sid, {"side": ("right", "left")[k % 2], "start_s": 10.0 * k, "hold_s": 7.0,
                     "completed": True, "peak_separation_deg": 40.0 + k,
                     "mean_hold_separation_deg": 39.0 + k, "max_pelvis_deg": 2.0,
                     "faults": []})
print(sid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # mid-session: the fourth rep never arrives
"""


def test_killed_process_leaves_committed_reps_readable(tmp_path):
    path = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": SRC_DIR + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    sid = int(proc.stdout.strip())
    with SessionStore(path) as st:
        doc = st.load_session(sid)
        (row,) = st.list_sessions()
    assert [r["peak_separation_deg"] for r in doc["reps"]] == [40.0, 41.0, 42.0]
    assert len(doc["frames"]) == 900
    assert doc["session"]["finished"] is False
    assert doc["summary"]["right"]["holds_completed"] == 2
    assert doc["summary"]["right"]["max_separation_deg"] == 42.0
    assert not row.finished and row.summary.left.max_separation_deg == 41.0
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- user-facing errors ----------------------------------------------------------------------
HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.close()
"""


def test_database_locked_by_another_process(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = st.save_analysis(make_doc(), started_at="2024-05-01T10:00:00", model="m")
    with SessionStore(path, timeout=0.2) as st:
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "locked"
            with pytest.raises(StoreError, match="locked by another program") as info:
                st.add_rep(sid, rep("right", 50.0, 49.0))
            assert "\n" not in str(info.value)
        finally:
            holder.communicate("", timeout=30)
            holder.stdout.close()
        st.add_rep(sid, rep("right", 50.0, 49.0))  # works again once the lock is gone
        assert len(st.load_session(sid)["reps"]) == 5


def test_parent_is_not_a_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match=r"cannot create the data directory.*--db.*POSECOACH_DB"):
        SessionStore(tmp_path / "file" / "sessions.sqlite3")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a user that file permissions apply to")
def test_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(StoreError, match=r"cannot write .*--db"):
            SessionStore(ro / "sessions.sqlite3")
    finally:
        ro.chmod(0o755)


def test_missing_database_without_create(tmp_path):
    with pytest.raises(StoreError, match="no session database"):
        SessionStore(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()


def test_disk_full_is_reported_and_nothing_is_half_written(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = st.save_analysis(make_doc(), started_at="2024-05-01T10:00:00", model="m")
        pages = st._conn.execute("PRAGMA page_count").fetchone()[0]
        st._conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # the disk is nearly full
        with pytest.raises(StoreError, match="full") as info:
            st.add_frames(sid, [frame(i) for i in range(1000, 6000)])
        assert "\n" not in str(info.value)
        st.add_rep(sid, rep("left", -20.0, -19.0))  # small writes still fit
        doc = st.load_session(sid)
    assert len(doc["frames"]) == 60 and len(doc["reps"]) == 5  # the failed batch left nothing
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_error_messages_are_one_line():
    exc = sqlite3.OperationalError("attempt to write a readonly database")
    msg = str(store_mod._store_error(exc, Path("/x/s.db")))
    assert "cannot write the session database /x/s.db" in msg and "--db" in msg
    full = str(store_mod._store_error(sqlite3.OperationalError("database or disk is full"),
                                      Path("/x/s.db")))
    assert "disk holding /x/s.db is full" in full
    assert "\n" not in msg + full


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a user that file permissions apply to")
def test_read_only_database_file(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        st.save_analysis(make_doc(), started_at="2024-05-01T10:00:00", model="m")
    for p in tmp_path.iterdir():
        p.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(StoreError, match=r"cannot write .*--db"), SessionStore(path) as st:
            st.add_rep(1, rep("right", 1.0, 1.0))
    finally:
        tmp_path.chmod(0o755)
        for p in tmp_path.iterdir():
            p.chmod(0o644)
