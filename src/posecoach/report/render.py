"""Session reports: self-contained HTML, printable A4 PDF, and per-rep CSV.

All three are built from a :class:`ReportData` (a stored analysis document, its
summary, and past sessions for the progress chart). Angles in tables are magnitudes
in degrees toward the rep's side, rounded to 0.1 degree; times are seconds from the
start of the session.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, BinaryIO

from matplotlib import rc_context
from matplotlib.backends.backend_pdf import PdfPages

from posecoach import __version__
from posecoach.analysis.range_test import RangeTrend, TrendPoint, range_trend, result_from_document
from posecoach.analysis.summary import SIDES, ProgressPoint, Summary, source_label, summarize_reps
from posecoach.report import plots, range_report
from posecoach.report.format import fmt, format_started
from posecoach.report.pdf_layout import MARGIN, PdfFlow
from posecoach.session.messages import FAULT_TEXT, as_notes, drill_asymmetry_text, stored_calibration_warnings

REP_HEADERS = ("#", "Start (s)", "Peak (°)", "Mean in hold (°)", "± (°)", "Hold (s)",
               "Pelvis max (°)", "Completed", "Faults")
REP_TEXT_COLS = (REP_HEADERS.index("Faults"),)
SUMMARY_HEADERS = ("Side", "Reps", "Holds completed", "Best (°)", "Mean in holds (°)",
                   "Hold time (s)", "Faults")
GLOSSARY = (
    ("Separation", "Trunk (shoulder line) rotation minus pelvis (hip line) rotation about the "
     "vertical axis, in degrees from the neutral stance calibrated at the start. This is "
     "the rotation the drill trains."),
    ("Best", "The largest separation reached toward that side in the session."),
    ("Mean in hold", "The average separation while holding the end position."),
    ("±", "The measurement's uncertainty over the hold, the mean of each frame's: a single frame's "
     "reading is within it of the truth about 9 times in 10, and a hold's mean was within it on "
     "219 of 236 reps of 59 rendered test clips the angles were not fitted on."),
    ("Hold", "Seconds of correct holding: the timer pauses while the pelvis is turned and, once it "
     "has turned past the limit, until it is back within 6°."),
    ("Pelvis max", "The most the pelvis stayed turned during the turn and the hold: a reading must last "
     "as long as the pelvis picture's own flickers (1.5 s standing, at most half the hold) to count, and on a rep "
     "flagged for the pelvis every reading past the limit counts."),
    ("Completed", "The full hold time was reached with correct posture."),
    ("Asymmetry", "100 × |right − left| / larger side, using each side's best separation."),
    ("Pelvis rotated", "The pelvis turned beyond the protocol's limit (10° by default) during the turn or "
     "the hold; it should stay still."),
    ("Too fast", "The rotation was faster than the slow, controlled pace of the drill."),
    ("Hold broken", "The end position was left before the hold time had passed."),
    ("Wrong side", "The turn went to the other side than the one the drill asked for next."),
    ("Accuracy", "Angles come from a single camera and are estimates; compare sessions "
     "recorded with the same setup."),
)
CSV_FIELDS = ("session_id", "rep", "side", "side_rep", "start_s", "hold_start_s",
              "hold_end_s", "hold_s", "completed", "peak_separation_deg",
              "mean_hold_separation_deg", "max_pelvis_deg", "faults", "mean_hold_err_deg", "trial_status")


@dataclass(frozen=True)
class ReportData:
    """What a report shows: one session (analysis document) and its history."""

    doc: Mapping[str, Any]
    summary: Summary
    progress: Sequence[ProgressPoint] = field(default_factory=tuple)
    range_test: range_report.RangeReport | None = None   # a range test's result and trend

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any], progress: Sequence[ProgressPoint] = (),
                 trend: RangeTrend | None = None) -> ReportData:
        """Summarise the document's reps (the stored summary is not trusted blindly); a range
        test is scored from them too, and shown with ``trend`` (the tests up to this one)."""
        result = result_from_document(doc.get("protocol") or {}, doc.get("reps") or ())
        test = None
        if result is not None:
            sid = (doc.get("session") or {}).get("id")
            if trend is None or not trend.points:
                trend = range_trend([TrendPoint(sid or 0, (doc.get("session") or {}).get("started_at", ""), result)])
            test = range_report.RangeReport(result, trend, sid)
        return cls(doc, summarize_reps(doc.get("reps") or ()), tuple(progress), test)

    @property
    def session(self) -> Mapping[str, Any]:
        return self.doc.get("session") or {}

    def side_reps(self, side: str) -> list[tuple[int, Mapping[str, Any]]]:
        """The reps to one side, numbered from 1 in time order."""
        reps = [r for r in self.doc.get("reps") or () if r.get("side") == side]
        return list(enumerate(reps, start=1))

    def duration_s(self) -> float | None:
        frames = self.doc.get("frames") or ()
        return float(frames[-1]["t"]) if frames else None

    def meta(self) -> list[tuple[str, str]]:
        """Header lines (label, value) shared by HTML and PDF."""
        src, proto = self.doc.get("source") or {}, self.doc.get("protocol") or {}
        sess = self.session
        source = source_label(src)
        if src.get("width") and src.get("height"):
            source += f"  ({src['width']}×{src['height']}"
            source += f", {src['fps']:g} fps)" if src.get("fps") else ")"
        protocol = str(proto.get("name", "?"))
        if proto.get("hold_s"):
            protocol += f": {proto['hold_s']:g} s holds"
        if proto.get("holds_per_side"):
            protocol += f", {proto['holds_per_side']} per side"
            sets = int(proto.get("sets") or 1)
            protocol += f" × {sets} sets" if sets > 1 else ""
        duration = self.duration_s()
        status = "finished" if sess.get("finished", True) else \
            "incomplete (ended early; summary rebuilt from the saved reps)"
        rows = [("Date", format_started(sess.get("started_at"))), ("Source", source),
                ("Protocol", protocol),
                ("Duration", "–" if duration is None else _duration(duration)),
                ("Session", f"#{sess.get('id', '?')}, {status}")]
        if sess.get("model"):
            rows.append(("Pose model", str(sess["model"])))
        return rows

    def measurement_notes(self) -> list[str]:
        """What limited the measurement, in plain words: the calibration's concerns (a shirt over
        the hips, hands held high) and the analysis's warnings (a cut file, a dark picture)."""
        return as_notes([*stored_calibration_warnings(self.doc.get("calibration")),
                         *(str(w) for w in self.doc.get("warnings") or ())])

    def summary_rows(self) -> list[tuple[str, ...]]:
        rows = []
        for side in SIDES:
            s = self.summary.side(side)
            rows.append((side.capitalize(), str(s.reps), str(s.holds_completed),
                         fmt(s.max_separation_deg),
                         fmt(s.mean_hold_separation_deg), fmt(s.hold_s_total),
                         _fault_text(s.faults) or "none"))
        return rows

    def asymmetry_text(self) -> str:
        return drill_asymmetry_text(self.summary)

    def rep_rows(self, side: str) -> list[tuple[str, ...]]:
        return [(str(n), fmt(r.get("start_s")), fmt(_abs(r.get("peak_separation_deg"))),
                 fmt(_abs(r.get("mean_hold_separation_deg"))), fmt(r.get("mean_hold_err_deg"), 0),
                 fmt(r.get("hold_s")),
                 fmt(_abs(r.get("max_pelvis_deg"))), "✓" if r.get("completed") else "✗",
                 ", ".join(FAULT_TEXT.get(f, f) for f in r.get("faults") or ()))
                for n, r in self.side_reps(side)]

    def title(self) -> str:
        kind = "Rotation range test" if self.range_test is not None else "Trunk rotation report"
        return f"{kind} – session {self.session.get('id', '?')}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _abs(value: Any) -> float | None:
    return None if value is None else abs(float(value))


def _fault_text(faults: Mapping[str, int]) -> str:
    return ", ".join(f"{FAULT_TEXT.get(k, k)} ×{n}" for k, n in faults.items() if n)


# -- HTML ------------------------------------------------------------------------------
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
 background:#f4f5f7;margin:0}
main{max-width:980px;margin:0 auto;padding:28px 32px 40px;background:#fff}
h1{font-size:26px;margin:0 0 2px}h2{font-size:18px;margin:30px 0 10px;
 border-bottom:2px solid #e3e6ea;padding-bottom:4px}
.sub{color:#666;margin:0 0 16px}
table.meta{width:auto;margin:0}table.meta tr th,table.meta tr td{border:0;background:none;
 padding:1px 18px 1px 0;text-align:left;vertical-align:top;font-size:15px}
table.meta th{color:#666;font-weight:normal;white-space:nowrap}
table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-variant-numeric:tabular-nums}
th,td{padding:5px 9px;border-bottom:1px solid #e3e6ea;text-align:right}
th{background:#f0f2f5;font-weight:600;font-size:13px}
td:first-child,th:first-child,td.text,th.text{text-align:left}
tr:nth-child(even) td{background:#fafbfc}
tr.side-right td:first-child{border-left:5px solid #1f5fa8}
tr.side-left td:first-child{border-left:5px solid #d9730d}
h2.side-right{color:#1f5fa8}h2.side-left{color:#d9730d}
.ok{color:#1e7b34;font-weight:600}.bad{color:#b42318;font-weight:600}
.asym{font-weight:600;margin:8px 0}
.notes{background:#fff6e0;border-left:5px solid #c98a00;padding:6px 14px 8px;margin:18px 0 0}
.notes h2{border:0;margin:4px 0;padding:0;color:#7a5200}.notes ul{margin:4px 0;padding-left:20px}
.note{color:#666;font-size:13px}
img{max-width:100%;height:auto;display:block;margin:4px auto}img.narrow{max-width:520px}
footer{margin-top:32px;color:#777;font-size:12px}
@media print{body{background:#fff}main{padding:0;max-width:none}
 section{break-inside:avoid}h2{break-after:avoid}}
"""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], table_id: str,
                text_cols: Sequence[int] = (), row_classes: Sequence[str] = ()) -> str:
    def cell(tag: str, j: int, value: str) -> str:
        cls = " class=\"text\"" if j in text_cols else ""
        if tag == "td" and value in ("✓", "✗"):
            cls = f" class=\"{'ok' if value == '✓' else 'bad'}\""
        return f"<{tag}{cls}>{escape(value)}</{tag}>"

    head = "".join(cell("th", j, h) for j, h in enumerate(headers))
    classes = list(row_classes) + [""] * len(rows)
    body = "".join(
        (f"<tr class=\"{classes[k]}\">" if classes[k] else "<tr>")
        + "".join(cell("td", j, v) for j, v in enumerate(r)) + "</tr>"
        for k, r in enumerate(rows))
    if not rows:
        body = f"<tr><td class=\"text\" colspan=\"{len(headers)}\">no reps</td></tr>"
    return f"<table id=\"{table_id}\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_pairs(pairs: Sequence[tuple[str, str]], table_id: str) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in pairs)
    return f"<table class=\"meta\" id=\"{table_id}\">{rows}</table>"


def _img(b64: str, alt: str, cls: str = "") -> str:
    attr = f" class=\"{cls}\"" if cls else ""
    return f"<img{attr} alt=\"{escape(alt)}\" src=\"data:image/png;base64,{b64}\">"


def render_html(data: ReportData) -> str:
    """Return the report as one self-contained HTML page (plots embedded as PNG)."""
    doc = data.doc
    timeline = plots.figure_png_base64(
        lambda ax: plots.draw_timeline(ax, plots.Series.from_frames(doc.get("frames") or ()),
                                       doc.get("reps") or (), doc.get("protocol") or {}),
        (9.0, 3.6))
    bars = plots.figure_png_base64(lambda ax: plots.draw_side_bars(ax, data.summary), (4.4, 3.4))
    progress = plots.figure_png_base64(
        lambda ax: plots.draw_progress(ax, data.progress, data.session.get("id")), (9.0, 3.2))
    meta = _html_pairs(data.meta(), "meta")
    summary = _html_table(SUMMARY_HEADERS, data.summary_rows(), "summary", text_cols=(6,),
                          row_classes=[f"side-{s}" for s in SIDES])
    reps = "".join(
        f"<section><h2 class=\"side-{side}\">{side.capitalize()} side: reps</h2>"
        + _html_table(REP_HEADERS, data.rep_rows(side), f"reps-{side}", text_cols=REP_TEXT_COLS)
        + "</section>" for side in SIDES)
    glossary = _html_pairs(GLOSSARY + (range_report.GLOSSARY if data.range_test else ()), "glossary")
    test_section = _html_range_test(data)
    notes = _html_notes(data.measurement_notes())
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(data.title())}</title><style>{CSS}</style></head>
<body><main>
<header><h1>Trunk rotation report</h1><p class="sub">posecoach · standing trunk rotation</p>
{meta}</header>
{notes}{test_section}
<section><h2>Summary</h2>{summary}
<p class="asym" id="asymmetry">{escape(data.asymmetry_text())}</p>
<p class="note">Best: largest separation reached. Mean in holds: average separation
while holding. Separation is trunk rotation minus pelvis rotation.</p></section>
<section><h2>Left vs right</h2>
{_img(bars, "bar chart of left and right range", "narrow")}</section>
<section><h2>Separation and pelvis over time</h2>
{_img(timeline, "separation and pelvis angle over time with holds shaded")}
<p class="note">Shaded bands are holds (hatched: not completed). The pelvis should stay
inside the dotted lines.</p></section>
{reps}
<section><h2>Progress over sessions</h2>{_img(progress, "progress over past sessions")}</section>
<section><h2>About the measures</h2>{glossary}</section>
<footer>Generated by posecoach {escape(__version__)} on {generated}. Angles are degrees of
rotation about the vertical axis from the calibrated neutral stance, measured from a
single camera.</footer>
</main></body></html>
"""


NOTES_TITLE = "Read these angles with care"


def _html_notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    return f"<section class=\"notes\" id=\"notes\"><h2>{NOTES_TITLE}</h2><ul>{items}</ul></section>\n"


def _html_range_test(data: ReportData) -> str:
    test = data.range_test
    if test is None:
        return ""
    trend = plots.figure_png_base64(lambda ax: range_report.draw_trend(ax, test, plots.SIDE_COLOURS), (9.0, 3.6))
    return (f"<section id=\"range-test\"><h2>Range test result</h2>"
            f"<p class=\"asym\">{escape(test.headline())}</p>"
            + range_report.html_table(range_report.SIDE_HEADERS, test.side_rows(), "range-sides")
            + "<h2>Trials</h2>"
            + range_report.html_table(range_report.TRIAL_HEADERS, test.trial_rows(), "range-trials")
            + "</section><section id=\"range-trend\"><h2>Range tests over time</h2>"
            + range_report.html_table(range_report.TREND_HEADERS, test.trend_rows(), "range-trend-table")
            + f"<p class=\"note\">{escape(range_report.TREND_NOTE)}</p>"
            + f"<p class=\"asym\">{escape(test.overall_text())}</p>"
            + f"<p class=\"note\">{escape(test.noise_text())}</p>"
            + _img(trend, "range test means over time with the pass mark and the smallest real change")
            + "</section>")


def _pdf_range_test(pages: PdfFlow, data: ReportData) -> None:
    test = data.range_test
    if test is None:
        return
    pages.text("Range test result", size=13, fontweight="bold")
    for line in textwrap.wrap(test.headline(), 100):
        pages.text(line, size=10, fontweight="bold")
    pages.y += 0.05
    pages.table(range_report.SIDE_HEADERS, test.side_rows(), (0.6, 0.75, 0.75, 0.55, 0.85, 0.6, 1.05, 1.7))
    pages.table(range_report.TRIAL_HEADERS, test.trial_rows(), (0.6, 0.5, 1.05, 0.75, 1.05, 0.55, 2.35),
                text_cols=(6,), title="Trials")
    pages.need(0.9 + 0.24 * (len(test.trend_rows()) + 1))
    pages.text("Range tests over time", size=13, fontweight="bold")
    pages.table(range_report.TREND_HEADERS, test.trend_rows(), (1.65, 0.95, 1.35, 0.95, 1.35, 0.6), text_cols=(2, 4))
    pages.text(range_report.TREND_NOTE, size=8, color="#666666")
    for line in textwrap.wrap(test.overall_text(), 100):
        pages.text(line, size=9.5, fontweight="bold")
    for line in textwrap.wrap(test.noise_text(), 110):
        pages.text(line, size=8.5, color="#666666")
    range_report.draw_trend(pages.plot(4.0, "Side means per test", below=1.3), test, plots.SIDE_COLOURS)
    pages.new_page()


def _pdf_notes(pages: PdfFlow, notes: Sequence[str]) -> None:
    if not notes:
        return
    pages.text(NOTES_TITLE, size=11, fontweight="bold", color="#7a5200")
    for note in notes:
        for k, line in enumerate(textwrap.wrap(note, 100)):
            pages.text(("• " if k == 0 else "  ") + line, size=9, color="#5c3d00")
    pages.y += 0.12


# -- PDF -------------------------------------------------------------------------------
def write_pdf(data: ReportData, out: Path | BinaryIO) -> int:
    """Write the report as an A4 PDF; return the number of pages.

    Page 1 has the header, the summary and the per-rep tables (continued on further
    pages when long); then come the time plot with the left/right bars, and progress.
    """
    doc = data.doc
    rep_widths = (0.3, 0.62, 0.62, 1.05, 0.45, 0.6, 0.95, 0.8, 1.48)
    sum_widths = (0.55, 0.45, 1.15, 0.65, 1.15, 0.95, 1.97)
    metadata = {"Title": data.title(), "Author": "posecoach", "Creator": f"posecoach {__version__}",
                "Subject": "standing trunk rotation: per-side range and holds"}
    with rc_context({"pdf.fonttype": 42}), PdfPages(out, metadata=metadata) as pdf:
        pages = PdfFlow(pdf, f"posecoach · session {data.session.get('id', '?')}")
        pages.new_page()
        pages.text("Rotation range test" if data.range_test else "Trunk rotation report", size=20, fontweight="bold")
        pages.y += 0.1
        for label, value in data.meta():
            pages.text(label, size=9.5, color="#666666", advance=False)
            pages.text(value, size=9.5, x=MARGIN + 1.0)
        pages.y += 0.15
        _pdf_notes(pages, data.measurement_notes())
        _pdf_range_test(pages, data)
        pages.text("Summary", size=13, fontweight="bold")
        pages.table(SUMMARY_HEADERS, data.summary_rows(), sum_widths, text_cols=(6,))
        for line in textwrap.wrap(data.asymmetry_text(), 90):
            pages.text(line, size=10, fontweight="bold")
        for side in SIDES:
            pages.y += 0.12
            pages.table(REP_HEADERS, data.rep_rows(side), rep_widths, text_cols=REP_TEXT_COLS,
                        title=f"{side.capitalize()} side: reps", colour=plots.SIDE_COLOURS[side],
                        empty="no reps")
        pages.text("Angles: degrees of separation (trunk − pelvis) toward the rep's side, "
                   "from the calibrated neutral stance.", size=8, color="#666666")
        plots.draw_timeline(pages.plot(4.8, "Separation and pelvis over time", below=1.25),
                            plots.Series.from_frames(doc.get("frames") or ()),
                            doc.get("reps") or (), doc.get("protocol") or {})
        plots.draw_side_bars(pages.plot(4.1, "Left vs right", width=5.0, below=0.8),
                             data.summary)
        plots.draw_progress(pages.plot(4.3, "Progress over sessions", below=0.9),
                            data.progress, data.session.get("id"))
        pages.y += 0.2
        terms = GLOSSARY + (range_report.GLOSSARY if data.range_test else ())
        glossary = [(term, textwrap.wrap(meaning, 82)) for term, meaning in terms]
        pages.need(0.4 + sum(len(lines) for _, lines in glossary) * 9 / 72 * 1.6)
        pages.text("About the measures", size=13, fontweight="bold")
        for term, lines in glossary:
            pages.text(term, size=9, fontweight="bold", advance=False)
            for line in lines:
                pages.text(line, size=9, x=MARGIN + 1.45)
        pages.flush()
        return pages.pages


# -- CSV -------------------------------------------------------------------------------
def _csv_num(value: float | None, digits: int) -> str:
    return "" if value is None else f"{float(value):.{digits}f}"


def render_csv(data: ReportData) -> str:
    """Return one CSV row per rep, in time order (angles as magnitudes)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    counts = {s: 0 for s in SIDES}
    statuses = ({(t.side, t.number): t.status for s in (data.range_test.result.right, data.range_test.result.left)
                 for t in s.trials} if data.range_test else {})
    for n, rep in enumerate(data.doc.get("reps") or (), start=1):
        side = rep.get("side", "")
        counts[side] = counts.get(side, 0) + 1
        seconds = [_csv_num(rep.get(k), 2) for k in ("start_s", "hold_start_s", "hold_end_s",
                                                     "hold_s")]
        angles = [_csv_num(_abs(rep.get(k)), 1) for k in ("peak_separation_deg",
                                                          "mean_hold_separation_deg",
                                                          "max_pelvis_deg")]
        writer.writerow([data.session.get("id", ""), n, side, counts[side], *seconds,
                         "true" if rep.get("completed") else "false", *angles,
                         ";".join(rep.get("faults") or ()), _csv_num(rep.get("mean_hold_err_deg"), 1),
                         statuses.get((side, counts[side]), "")])
    return buf.getvalue()
