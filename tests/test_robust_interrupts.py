"""Ctrl+C, SIGTERM and kill -9 in the middle of an analysis or a live session.

Each test runs posecoach in a child process (MediaPipe replaced by a scripted person,
so they take seconds) and interrupts it at a known point: nothing may be corrupted,
and at most the rep in progress may be lost.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from posecoach.session.store import SessionStore
from test_robust_files import plain_frames, write_video

TESTS = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# A child that runs posecoach with a scripted person instead of MediaPipe. It drills quick
# reps (neutral 2 s, then turn 0.5 s, hold 1 s, return 0.5 s, pause 0.5 s) and touches
# MARKER once it has seen MARK_AT frames.
CHILD = r'''
import sys, time
from pathlib import Path
marker, mark_at, delay = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
import posecoach.models as models
import posecoach.pose.mediapipe_backend as backend
from posecoach import testing

REPS = (("right", 40.0, 1.0), ("left", 40.0, 1.0)) * 10

def drill(width, height, t):
    angle = testing.drill_trunk_deg(t, REPS, neutral_s=2.0, turn_s=0.5, pause_s=0.5)
    return [testing.standing_pose(width, height, t, angle)]

class Scripted:
    calls = 0
    def __init__(self, *args, **kwargs): pass
    def detect(self, image, t):
        Scripted.calls += 1
        if Scripted.calls == mark_at:
            marker.write_text("reached")
        time.sleep(delay)
        return drill(image.shape[1], image.shape[0], t)
    def close(self): pass
    def __enter__(self): return self
    def __exit__(self, *exc): pass

backend.MediaPipePoseEstimator = Scripted
models.ensure_model = lambda name=None, progress=None: Path("scripted.task")
import posecoach.session.sources as sources
sources.mediapipe_factory = lambda model_name=None, max_people=1: (lambda progress: Scripted())
from posecoach.cli import main
sys.exit(main(sys.argv[4:]))
'''


def child_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local"), "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def start_child(tmp_path: Path, mark_at: int, delay: float, *args: str) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, str(script), str(marker), str(mark_at), str(delay), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(tmp_path))
    return proc, marker


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"the child ended early ({proc.returncode}): {err[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"timed out waiting for the child: {err[-2000:]}")
        time.sleep(0.05)


def quick_protocol(tmp_path: Path) -> Path:
    path = tmp_path / "quick.toml"
    path.write_text('name = "quick"\nhold_s = 1.0\nholds_per_side = 10\n')
    return path


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_analyze_saves_the_partial_analysis(tmp_path, signum, status):
    video = write_video(tmp_path / "drill.mp4", plain_frames(900, size=(96, 64)))
    out, db = tmp_path / "out.json", tmp_path / "sessions.db"
    proc, marker = start_child(tmp_path, 300, 0.004, "analyze", str(video), "--json", str(out), "--db", str(db),
                               "--protocol", str(quick_protocol(tmp_path)), "--quiet")
    wait_for(marker.exists, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "interrupted" in err and "partial analysis was saved" in err
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True
    # The marker is touched inside the 300th detection, so the signal may land before
    # that frame is finished: the 299 frames before it must all be kept.
    assert 299 <= len(doc["frames"]) < 900
    assert any("interrupted at" in w for w in doc["warnings"])
    assert [f["i"] for f in doc["frames"]] == list(range(len(doc["frames"])))
    assert len(doc["reps"]) >= 1 and doc["reps"][0]["completed"]
    with SessionStore(db, create=False) as store:
        stored = store.load_session(store.resolve("latest"))
    assert len(stored["frames"]) == len(doc["frames"]) and len(stored["reps"]) == len(doc["reps"])
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_second_ctrl_c_stops_at_once_without_corrupting_anything(tmp_path):
    video = write_video(tmp_path / "drill.mp4", plain_frames(300, size=(96, 64)))
    out, db = tmp_path / "out.json", tmp_path / "sessions.db"
    out.write_text('{"previous": true}')
    proc, marker = start_child(tmp_path, 5, 0.5, "analyze", str(video), "--json", str(out), "--db", str(db),
                               "--quiet")
    wait_for(marker.exists, proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)  # while the first frame after the request is still being analysed
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "posecoach: interrupted"
    assert json.loads(out.read_text()) == {"previous": True}  # left as it was, not half-written
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    if db.exists():
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


LIVE_CHILD = r'''
import sys
from posecoach.analysis.protocol import Protocol
from posecoach.session.coaching import CoachingSession
from posecoach.session.session_log import SessionLog
from posecoach.testing import SyntheticSource, drill_detector

reps = (("right", 40.0, 1.0), ("left", 40.0, 1.0)) * 50
source = SyntheticSource(frames=None, size=(160, 120))
source.info = source.info.__class__(**{**source.info.__dict__, "live": True, "path": "camera:0"})
log = SessionLog(sys.argv[1], source.info, "full", live=True, batch=30)
session = CoachingSession(drill_detector(160, 120, reps), Protocol(name="quick", hold_s=1.0, holds_per_side=50),
                          sinks=[log])
coach = session.coach
done = 0
for step in session.run(source):
    if len(coach.reps) > done:
        done = len(coach.reps)
        print(f"rep {done}", flush=True)
'''


def test_kill_9_mid_session_loses_at_most_the_rep_in_progress(tmp_path):
    script = tmp_path / "live.py"
    script.write_text(LIVE_CHILD)
    db = tmp_path / "live.db"
    reported = 0
    with subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=child_env(tmp_path)) as proc:
        try:
            for line in proc.stdout:
                reported = int(line.split()[1])
                if reported >= 3:
                    proc.send_signal(signal.SIGKILL)
                    break
        finally:
            proc.kill()
            _, err = proc.communicate(timeout=30)
    assert reported >= 3, err
    assert proc.returncode == -signal.SIGKILL
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with SessionStore(db, create=False) as store:
        [session] = store.list_sessions()
        doc = store.load_session(session.id)
    assert not session.finished                      # it was killed: shown as unfinished
    assert len(doc["reps"]) >= reported               # every rep reported done was committed
    assert all(r["completed"] for r in doc["reps"])
    from posecoach.cli import main
    assert main(["history", "--db", str(db)]) == 0
    assert main(["report", "latest", "--db", str(db), "--csv", str(tmp_path / "r.csv")]) == 0


@pytest.mark.gui
def test_ctrl_c_in_the_live_window_closes_it_and_keeps_the_session(tmp_path):
    video = write_video(tmp_path / "drill.mp4", (np.full((64, 96, 3), 90, np.uint8) for _ in range(900)))
    db = tmp_path / "sessions.db"
    proc, _ = start_child(tmp_path, 10**9, 0.0, "--source", str(video), "--db", str(db),
                          "--protocol", str(quick_protocol(tmp_path)))

    def stored_reps() -> int:  # read-only: the test must not take part in writing the database
        if not db.exists():
            return 0
        try:
            with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=0.2)) as conn:
                return conn.execute("SELECT count(*) FROM reps").fetchone()[0]
        except sqlite3.Error:  # not created yet
            return 0

    wait_for(lambda: stored_reps() >= 1, proc, timeout=90)
    time.sleep(0.8)  # into the next rep
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "session was saved" in err
    with SessionStore(db, create=False) as store:
        [session] = store.list_sessions()
        doc = store.load_session(session.id)
    assert session.finished                           # closed properly, summary stored
    assert len(doc["reps"]) >= 1 and doc["reps"][0]["completed"]
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
