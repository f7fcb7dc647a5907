"""Per-side summaries, the history table, and HTML/PDF/CSV reports of stored sessions."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import re
import subprocess
import sys
import time
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posecoach.analysis.summary import asymmetry_pct, summarize_reps
from posecoach.errors import PosecoachError, StoreError
from posecoach.report.commands import run_history, run_report
from posecoach.session.store import SessionStore

PROTOCOL = {"name": "standing-rotation", "hold_s": 7.0, "holds_per_side": 7}


def make_doc(right: float = 44.8, left: float = 41.2, seconds: float = 45.0,
             plan: list[tuple[str, float]] | None = None) -> dict:
    """A drill at 30 fps: ramp 1.5 s, hold 7 s, return 1.5 s; the last rep has the pelvis
    turned (not completed). Left reps store negative angles, as measured."""
    plan = plan or [("right", 2.0), ("left", 12.5), ("right", 23.0), ("left", 33.5)]
    peaks = {"right": right, "left": left}
    frames, reps = [], []
    for i in range(int(seconds * 30)):
        t, sep, pelvis = i / 30, 0.0, 0.5
        for side, start in plan:
            sign, peak = (1 if side == "right" else -1), peaks[side]
            if start <= t < start + 10:
                u = t - start
                sep = sign * peak * min(1.0, u / 1.5, (10 - u) / 1.5)
        frames.append({"i": i, "t": t, "tracked": True, "trunk_deg": sep + pelvis,
                       "pelvis_deg": pelvis, "separation_deg": sep, "confidence": 0.9,
                       "phase": "neutral"})
    for k, (side, start) in enumerate(plan):
        sign, peak = (1 if side == "right" else -1), peaks[side] - k // 2 * 2.0
        last = k == len(plan) - 1
        reps.append({"side": side, "start_s": start, "hold_start_s": start + 1.5,
                     "hold_end_s": start + 8.5, "hold_s": 5.5 if last else 7.0,
                     "completed": not last, "peak_separation_deg": sign * peak,
                     "mean_hold_separation_deg": sign * (peak - 1.0),
                     "max_pelvis_deg": 12.0 if last else 1.0, "mean_hold_err_deg": 3.6,
                     "faults": ["pelvis_rotation"] if last else []})
    return {"schema": "posecoach.analysis/1",
            "source": {"path": "/home/ana/drill.mp4", "fps": 30.0, "frames": len(frames),
                       "width": 640, "height": 480},
            "protocol": PROTOCOL, "frames": frames, "reps": reps,
            "summary": summarize_reps(reps).to_dict()}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three weekly sessions; the last (id 3) has right 44.8/42.8, left 41.2/39.2."""
    path = tmp_path / "sessions.sqlite3"
    with SessionStore(path) as store:
        for day, r, lft in (("2024-04-17", 40.0, 35.0), ("2024-04-24", 42.0, 38.0),
                            ("2024-05-01", 44.8, 41.2)):
            store.save_analysis(make_doc(r, lft), started_at=f"{day}T18:00:00",
                                model="pose_landmarker_full")
    return path


# -- summary ------------------------------------------------------------------------------
def test_summary_numbers():
    s = summarize_reps(make_doc()["reps"])
    assert (s.right.reps, s.right.holds_completed) == (2, 2)
    assert (s.left.reps, s.left.holds_completed) == (2, 1)
    assert s.right.max_separation_deg == pytest.approx(44.8)
    assert s.right.mean_hold_separation_deg == pytest.approx((43.8 + 41.8) / 2)
    assert s.left.max_separation_deg == pytest.approx(41.2)  # magnitudes, not signed values
    assert s.left.mean_hold_separation_deg == pytest.approx((40.2 + 38.2) / 2)
    assert s.left.faults == {"pelvis_rotation": 1} and s.right.faults == {}
    assert s.left.hold_s_total == pytest.approx(12.5)
    assert s.asymmetry_pct == pytest.approx(100 * 3.6 / 44.8)
    assert s.weaker_side == "left"
    d = s.to_dict()
    assert d["right"]["holds_completed"] == 2 and d["asymmetry_pct"] == s.asymmetry_pct


def test_summary_edge_cases():
    empty = summarize_reps([])
    assert empty.right.max_separation_deg is None and empty.asymmetry_pct is None
    one_side = summarize_reps([{"side": "right", "completed": True, "peak_separation_deg": 30.0,
                                "mean_hold_separation_deg": None, "faults": []}])
    assert one_side.asymmetry_pct is None and one_side.right.mean_hold_separation_deg is None
    assert asymmetry_pct(0.0, 0.0) == 0.0
    assert asymmetry_pct(40.0, -30.0) == pytest.approx(25.0)


@given(st.lists(st.tuples(st.sampled_from(["right", "left"]), st.booleans(),
                          st.floats(0.0, 90.0), st.floats(0.0, 1.0)), max_size=30))
def test_summary_invariants(raw):
    reps = [{"side": side, "completed": done,
             "peak_separation_deg": peak if side == "right" else -peak,
             "mean_hold_separation_deg": peak * frac, "faults": []}
            for side, done, peak, frac in raw]
    s = summarize_reps(reps)
    for side in ("right", "left"):
        ss = s.side(side)
        assert ss.reps == sum(1 for r in raw if r[0] == side)
        assert 0 <= ss.holds_completed <= ss.reps
        if ss.reps:
            assert ss.mean_hold_separation_deg <= ss.max_separation_deg + 1e-9
    if s.asymmetry_pct is not None:
        assert 0.0 <= s.asymmetry_pct <= 100.0


# -- history -------------------------------------------------------------------------------
def test_history_table(db):
    with SessionStore(db) as store:  # a crashed live session: one rep, never finished
        sid = store.begin_session(source={"path": "camera:0"}, protocol=PROTOCOL,
                                  started_at="2024-05-02T07:30:00", model="m",
                                  calibration=None, live=True)
        store.add_rep(sid, make_doc()["reps"][0])
    out = io.StringIO()
    assert run_history(db, False, out=out) == 0
    lines = out.getvalue().splitlines()
    assert "right" in lines[0] and "left" in lines[0]
    header = lines[1].split()
    assert header[:4] == ["id", "started", "source", "protocol"] and header[-1] == "faults"
    row3 = lines[4].split()
    assert row3[:6] == ["3", "2024-05-01", "18:00", "drill.mp4", "standing-rotation", "2/2"]
    assert row3[6:12] == ["44.8", "42.8", "1/2", "41.2", "39.2", "8.0"]
    assert lines[5].split()[:2] == ["4*", "2024-05-02"] and "-" in lines[5].split()
    assert any("unfinished" in line for line in lines)
    for column in ("standing-rotation", "2024-"):  # columns line up
        assert len({line.index(column) for line in lines[2:6]}) == 1


def test_history_json(db):
    out = io.StringIO()
    assert run_history(db, True, out=out) == 0
    rows = json.loads(out.getvalue())
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert rows[2]["right"]["max_separation_deg"] == pytest.approx(44.8)
    assert rows[2]["left"]["holds_completed"] == 1
    assert rows[2]["faults"] == {"pelvis_rotation": 1} and rows[2]["finished"] is True
    assert rows[2]["asymmetry_pct"] == pytest.approx(100 * 3.6 / 44.8)


def test_history_without_database(tmp_path):
    out = io.StringIO()
    assert run_history(tmp_path / "none.db", False, out=out) == 0
    assert "No sessions recorded yet" in out.getvalue()
    assert not (tmp_path / "none.db").exists()


# -- reports -------------------------------------------------------------------------------
class _Tables(HTMLParser):
    """Collects the text of every table cell, by table id, and every <img> src."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(a["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_html_report(db, tmp_path):
    out = tmp_path / "r.html"
    assert run_report(db, "latest", out, None, None, out=io.StringIO()) == 0
    text = out.read_text(encoding="utf-8")
    page = _Tables()
    page.feed(text)
    summary = {row[0]: row for row in page.tables["summary"][1:]}
    assert summary["Right"][1:6] == ["2", "2", "44.8", "42.8", "14.0"]
    assert summary["Left"][1:6] == ["2", "1", "41.2", "39.2", "12.5"]
    assert summary["Left"][6] == "pelvis rotated ×1"
    right, left = page.tables["reps-right"], page.tables["reps-left"]
    assert right[0][:3] == ["#", "Start (s)", "Peak (°)"]
    assert right[1] == ["1", "2.0", "44.8", "43.8", "4", "7.0", "1.0", "✓", ""]
    assert right[2][2:4] == ["42.8", "41.8"]
    assert left[2] == ["2", "33.5", "39.2", "38.2", "4", "5.5", "12.0", "✗", "pelvis rotated"]
    # 8.0% is within one camera's error (fusion_model.ASYMMETRY_RESOLUTION_PCT, 10.4%): the report
    # names no weaker side
    assert "Asymmetry of best range: 8.0%, within what one camera can tell apart (under 10.4%)" in text
    assert "reaches less" not in text
    assert "2024-05-01 18:00" in text and "drill.mp4" in text and "standing-rotation" in text
    assert len(page.images) == 3  # time plot, left vs right, progress: all embedded
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)


def test_csv_report(db, tmp_path):
    out = tmp_path / "r.csv"
    assert run_report(db, "3", None, None, out, out=io.StringIO()) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["rep"], r["side"], r["side_rep"]) for r in rows] == [
        ("1", "right", "1"), ("2", "left", "1"), ("3", "right", "2"), ("4", "left", "2")]
    assert rows[0]["peak_separation_deg"] == "44.8" and rows[0]["hold_s"] == "7.00"
    assert rows[3] == {**rows[3], "session_id": "3", "completed": "false",
                       "peak_separation_deg": "39.2", "mean_hold_separation_deg": "38.2",
                       "max_pelvis_deg": "12.0", "faults": "pelvis_rotation",
                       "hold_start_s": "35.00", "hold_end_s": "42.00"}


def pdf_pages_and_text(data: bytes) -> tuple[int, str]:
    """Page count and the text shown, from matplotlib's PDF (Type 42 fonts, 2-byte codes)."""
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    chunks = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for shown in re.finditer(rb"\[(.*?)\]\s*TJ|(\((?:\\.|[^\\)])*\))\s*Tj", content, re.S):
            raw = b"".join(
                re.sub(rb"\\([0-7]{1,3}|.)", lambda e: bytes([int(e[1], 8)]) if e[1].isdigit()
                       else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(e[1], e[1]), s)
                for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)", shown.group(0), re.S))
            chunks.append(raw.decode("utf-16-be", errors="replace"))
    return pages, "\n".join(chunks)


def test_pdf_report(db, tmp_path):
    out = tmp_path / "r.pdf"
    assert run_report(db, "latest", None, out, None, out=io.StringIO()) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"/MediaBox [ 0 0 595" in data  # A4 portrait
    pages, text = pdf_pages_and_text(data)
    assert pages == 3
    for expected in ("Trunk rotation report", "2024-05-01 18:00", "drill.mp4", "7 per side",
                     "44.8", "43.8", "41.2", "40.2", "38.2", "pelvis rotated",
                     "Asymmetry of best range: 8.0%", "Progress over sessions"):
        assert expected in text, expected


def test_long_session_pdf_continues_tables(tmp_path):
    plan = [(("right", "left")[k % 2], 2.0 + 10.5 * k) for k in range(28)]
    path = tmp_path / "s.db"
    with SessionStore(path) as store:
        store.save_analysis(make_doc(seconds=300.0, plan=plan), started_at="2024-05-01T10:00:00",
                            model="m")
    out = tmp_path / "long.pdf"
    run_report(path, "latest", None, out, tmp_path / "long.csv", out=io.StringIO())
    pages, text = pdf_pages_and_text(out.read_bytes())
    assert pages == 4  # the per-rep tables spill onto a second page
    assert text.count("Peak (°)") == 3  # right table, left table, left header repeated
    assert len((tmp_path / "long.csv").read_text().splitlines()) == 1 + 28


def test_report_of_crashed_session(tmp_path):
    path = tmp_path / "s.db"
    doc = make_doc()
    with SessionStore(path) as store:
        sid = store.begin_session(source={"path": "camera:0", "fps": 30.0}, protocol=PROTOCOL,
                                  started_at="2024-05-02T07:30:00", model="m",
                                  calibration=None, live=True)
        store.add_frames(sid, doc["frames"][:400])
        store.add_rep(sid, doc["reps"][0])
    run_report(path, str(sid), tmp_path / "c.html", None, None, out=io.StringIO())
    page = _Tables()
    text = (tmp_path / "c.html").read_text(encoding="utf-8")
    page.feed(text)
    assert "incomplete" in text and "camera 0" in text
    assert page.tables["summary"][1][1:4] == ["1", "1", "44.8"]
    assert page.tables["reps-left"][1] == ["no reps"]
    assert "Asymmetry: not available" in text


def test_report_errors(db, tmp_path):
    with pytest.raises(PosecoachError, match="nothing to write"):
        run_report(db, "latest", None, None, None)
    with pytest.raises(StoreError, match="no session 42"):
        run_report(db, "42", tmp_path / "x.html", None, None)
    with pytest.raises(StoreError, match="no session database"):
        run_report(tmp_path / "none.db", "latest", tmp_path / "x.html", None, None)
    (tmp_path / "file").write_text("")
    with pytest.raises(PosecoachError, match="cannot write"):
        run_report(db, "latest", None, None, tmp_path / "file" / "r.csv", out=io.StringIO())
    assert not (tmp_path / "x.html").exists()


def test_report_modules_do_not_import_pyplot():
    code = ("import sys, posecoach.report.render, posecoach.report.commands, "
            "posecoach.session.store; assert 'matplotlib.pyplot' not in sys.modules")
    src = str(Path(__file__).resolve().parents[1] / "src")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": src})


def test_thinning_keeps_short_series():
    from posecoach.report.plots import Series

    frames = make_doc(seconds=10.0)["frames"]
    s = Series.from_frames(frames)
    assert len(s.thinned().t) == len(frames)
    long = Series.from_frames(make_doc(seconds=400.0, plan=[("right", 2.0)])["frames"])
    assert len(long.thinned().t) <= 4000 and math.isclose(long.thinned().t[0], 0.0)


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset (POSIX)")
def test_times_with_an_offset_are_shown_in_local_time(monkeypatch):
    from posecoach.report.format import format_started

    monkeypatch.setenv("TZ", "Europe/Madrid")
    time.tzset()
    try:
        assert format_started("2024-05-01T16:00:00+00:00") == "2024-05-01 18:00"
        assert format_started("2024-05-01T18:00:00") == "2024-05-01 18:00"  # naive: as is
        assert format_started("not a time") == "not a time"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_asymmetry_says_whether_one_camera_can_tell_the_sides_apart():
    from posecoach.analysis.fusion_model import ASYMMETRY_RESOLUTION_PCT
    from posecoach.session.messages import drill_asymmetry_text

    def summary(right: float, left: float):
        return summarize_reps([{"side": "right", "completed": True, "peak_separation_deg": right,
                                "mean_hold_separation_deg": right - 2, "hold_s": 7.0, "faults": []},
                               {"side": "left", "completed": True, "peak_separation_deg": -left,
                                "mean_hold_separation_deg": -(left - 2), "hold_s": 7.0, "faults": []}])

    close = summary(45.0, 43.0)   # 4%: inside the camera's error
    assert close.asymmetry_pct < ASYMMETRY_RESOLUTION_PCT and close.asymmetry_resolved is False
    assert "within what one camera can tell apart" in drill_asymmetry_text(close)
    assert "reaches less" not in drill_asymmetry_text(close)
    assert "within the camera's error" in drill_asymmetry_text(close, short=True)
    apart = summary(50.0, 38.0)   # 24%: the left side clearly reaches less
    assert apart.asymmetry_resolved is True
    assert drill_asymmetry_text(apart).endswith("the left side reaches less.")
    assert drill_asymmetry_text(apart, short=True) == "Asymmetry: 24% (less range to the left)"
    assert summarize_reps([]).asymmetry_resolved is None


def test_the_report_repeats_what_limited_the_measurement(db, tmp_path):
    """A stored calibration's concerns (hands high, a shirt over the hips) and the analysis's
    warnings head the report, once each; a clean session's report has no such box."""
    from posecoach.session.messages import HANDS_HIGH, SHIRT_OVER_HIPS

    clean = tmp_path / "clean.html"
    run_report(db, "latest", clean, None, None, out=io.StringIO())
    assert 'id="notes"' not in clean.read_text(encoding="utf-8")

    doc = make_doc()
    doc["calibration"] = {"t": 1.0, "hands_high": True, "shirt_over_hips": False}
    cut = "the video file is cut short: it covers 45 s"
    doc["warnings"] = [cut, HANDS_HIGH]   # analyze repeats the calibration's concern
    with SessionStore(db) as store:
        store.save_analysis(doc, started_at="2024-05-08T18:00:00", model="m")
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    assert run_report(db, "latest", html, pdf, None, out=io.StringIO()) == 0
    text = html.read_text(encoding="utf-8")
    notes = re.search(r'<section class="notes" id="notes">(.*?)</section>', text, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", notes)
    assert len(items) == 2
    assert items[0].startswith("The hands are held high") and "hold the gripped hands" in items[0]
    assert items[1] == "The video file is cut short: it covers 45 s"
    assert SHIRT_OVER_HIPS[:30] not in text
    _, pdf_text = pdf_pages_and_text(pdf.read_bytes())
    assert "Read these angles with care" in pdf_text and "The hands are held high" in pdf_text
