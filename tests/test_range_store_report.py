"""Range tests in the session store (schema 3 and its migration), the history and the report."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing

import pytest

from posecoach.analysis.protocol import load_protocol
from posecoach.report.commands import run_history, run_report
from posecoach.session.store import SessionStore
from posecoach.session.store_schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

CONTRACT = load_protocol("rotation-test").contract()


def rep(side, value, start, *, pelvis=1.5, completed=True, faults=(), err=2.0):
    sign = 1 if side == "right" else -1
    return {"side": side, "start_s": start, "hold_start_s": start + 1.4, "hold_end_s": start + 3.9, "hold_s": 2.5,
            "end_range_s": 2.5, "completed": completed, "peak_separation_deg": sign * (value + 1.2),
            "mean_hold_separation_deg": sign * value, "max_pelvis_deg": pelvis, "peak_speed_dps": 60.0,
            "faults": list(faults), "mean_hold_err_deg": err}


def range_doc(values_r, values_l, *, pelvis_trial=False):
    reps, t = [], 2.0
    for r, lft in zip(values_r, values_l, strict=True):
        reps += [rep("right", r, t), rep("left", lft, t + 6)]
        t += 12
    if pelvis_trial:
        reps.insert(2, rep("right", 60.0, t, pelvis=14.0, completed=False, faults=["pelvis_rotation", "hold_broken"]))
    frames = [{"i": i, "t": i / 30, "tracked": True, "trunk_deg": 0.0, "pelvis_deg": 0.0, "separation_deg": 0.0,
               "confidence": 0.9, "phase": "neutral"} for i in range(0, int(t * 30), 10)]
    return {"schema": "posecoach.analysis/1", "protocol": CONTRACT, "reps": reps, "frames": frames,
            "source": {"path": "/clips/range.mp4", "fps": 30.0, "frames": len(frames), "width": 640, "height": 480}}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as store:
        store.save_analysis(range_doc([50, 51, 52], [46, 47, 45], pelvis_trial=True),
                            started_at="2026-01-10T09:00:00", model="full")
        store.save_analysis(range_doc([58, 60, 59], [47, 46, 48]), started_at="2026-02-10T09:00:00", model="full")
    return path


def test_store_keeps_the_trials_and_scores_them(db):
    with SessionStore(db) as store:
        doc = store.load_session(2)
        assert [r["mean_hold_err_deg"] for r in doc["reps"]] == [2.0] * 6
        first, second = store.list_sessions()
        assert first.range_test.right.best_deg == 52.0 and first.range_test.right.trials[1].status == "pelvis"
        assert second.range_test.right.mean_deg == pytest.approx(59.0)
        trend = store.range_trend()
        assert [p.session_id for p in trend.points] == [1, 2]
        assert [p.session_id for p in store.range_trend(until=1).points] == [1]
    with closing(sqlite3.connect(db)) as conn:    # a column, not hidden in the extras
        assert conn.execute("SELECT count(*) FROM reps WHERE mean_hold_err_deg = 2.0").fetchone()[0] == 13


def test_a_version_2_database_is_migrated_without_losing_anything(tmp_path):
    path = tmp_path / "v2.db"
    with closing(sqlite3.connect(path)) as conn:   # as written by posecoach schema 2
        for step in MIGRATIONS[:2]:
            for statement in step:
                conn.execute(statement)
        conn.execute("INSERT INTO sessions (id, started_at, ended_at, source_json, protocol_json, model, live) VALUES"
                     " (1, '2025-12-01T09:00:00', '2025-12-01T09:05:00', '{\"path\": \"old.mp4\"}',"
                     " '{\"name\": \"standing-rotation\", \"hold_s\": 7.0}', 'full', 0)")
        conn.execute("INSERT INTO reps (session_id, idx, side, start_s, hold_start_s, hold_end_s, hold_s, completed,"
                     " peak_separation_deg, mean_hold_separation_deg, max_pelvis_deg, faults_json, extra_json)"
                     " VALUES (1, 0, 'right', 1.0, 2.0, 9.0, 7.0, 1, 40.0, 39.0, 2.0, '[]', '{\"set\": 1}')")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("PRAGMA user_version = 2")
        conn.commit()
    with SessionStore(path) as store:
        old = store.load_session(1)
        assert old["reps"][0]["mean_hold_separation_deg"] == 39.0 and old["reps"][0]["set"] == 1
        assert "mean_hold_err_deg" not in old["reps"][0]
        assert store.list_sessions()[0].range_test is None
        store.save_analysis(range_doc([50, 52, 51], [45, 46, 47]), started_at="2026-01-01T09:00:00", model="full")
        assert [p.session_id for p in store.range_trend().points] == [2]
        assert store.list_sessions()[0].summary.right.max_separation_deg == 40.0
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_history_shows_the_range_tests_as_a_trend(db):
    out = io.StringIO()
    run_history(db, False, out)
    text = out.getvalue()
    assert "Rotation range tests" in text and "smallest real change (MDC95)" in text
    lines = text.splitlines()
    second = next(line for line in lines if line.strip().startswith("2 ") and "right 59 (60)" in line)
    assert "improved" in second and "left 47 (48) pass +1.0 no real change" in second
    out = io.StringIO()
    run_history(db, True, out)
    data = json.loads(out.getvalue())
    assert data[0]["range_test"]["right"]["trials"][1]["status"] == "pelvis"
    assert data[1]["range_test"]["passed"] is True


def test_report_shows_both_results_and_the_trend(db, tmp_path):
    html, pdf, csv = tmp_path / "r.html", tmp_path / "r.pdf", tmp_path / "r.csv"
    run_report(db, "latest", html, pdf, csv, out=io.StringIO())
    page = html.read_text(encoding="utf-8")
    assert "Range test result" in page and "Range tests over time" in page
    assert "#1 2026-01-10" in page and "(this)" in page and "51.0 / 52.0" in page and "<td>both</td>" in page
    assert "+8.0° improved" in page and "no real change" in page     # right +8, left +1
    assert "Smallest real change (MDC95)" in page
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    rows = csv.read_text(encoding="utf-8").splitlines()
    assert rows[0].endswith("mean_hold_err_deg,trial_status") and rows[1].endswith(",2.0,ok")
    run_report(db, "1", html, None, None, out=io.StringIO())
    page = html.read_text(encoding="utf-8")
    assert "pelvis turned: not counted" in page and "#2" not in page and "appears after a second" in page


def test_a_drill_report_has_no_range_test_section(tmp_path):
    doc = range_doc([50], [45])
    doc["protocol"] = load_protocol("standing-rotation").contract()
    with SessionStore(tmp_path / "d.db") as store:
        store.save_analysis(doc, started_at="2026-01-01T09:00:00", model="full")
    run_report(tmp_path / "d.db", "latest", tmp_path / "d.html", None, None, out=io.StringIO())
    assert "Range test result" not in (tmp_path / "d.html").read_text(encoding="utf-8")
