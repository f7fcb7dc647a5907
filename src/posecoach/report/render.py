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
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from posecoach import __version__
from posecoach.report import plots
from posecoach.report.summary import (
    SIDES, ProgressPoint, Summary, fmt, format_started, source_label, summarize_reps,
)

FAULT_TEXT = {"pelvis_rotation": "pelvis rotated", "too_fast": "too fast",
              "hold_broken": "hold broken"}
REP_HEADERS = ("#", "Start (s)", "Peak (°)", "Mean in hold (°)", "Hold (s)",
               "Pelvis max (°)", "Completed", "Faults")
SUMMARY_HEADERS = ("Side", "Reps", "Holds completed", "Best (°)", "Mean in holds (°)",
                   "Hold time (s)", "Faults")
GLOSSARY = (
    ("Separation", "Trunk (shoulder line) rotation minus pelvis (hip line) rotation about the "
     "vertical axis, in degrees from the neutral stance calibrated at the start. This is "
     "the rotation the drill trains."),
    ("Best", "The largest separation reached toward that side in the session."),
    ("Mean in hold", "The average separation while holding the end position."),
    ("Hold", "Seconds of correct holding: the timer pauses while the pelvis is turned."),
    ("Completed", "The full hold time was reached with correct posture."),
    ("Asymmetry", "100 × |right − left| / larger side, using each side's best separation."),
    ("Pelvis rotated", "The pelvis turned more than 10° during the rep (it should stay still)."),
    ("Too fast", "The rotation was faster than the slow, controlled pace of the drill."),
    ("Hold broken", "The end position was left before the hold time had passed."),
    ("Accuracy", "Angles come from a single camera and are estimates; compare sessions "
     "recorded with the same setup."),
)
CSV_FIELDS = ("session_id", "rep", "side", "side_rep", "start_s", "hold_start_s",
              "hold_end_s", "hold_s", "completed", "peak_separation_deg",
              "mean_hold_separation_deg", "max_pelvis_deg", "faults")


@dataclass(frozen=True)
class ReportData:
    """What a report shows: one session (analysis document) and its history."""

    doc: Mapping[str, Any]
    summary: Summary
    progress: Sequence[ProgressPoint] = field(default_factory=tuple)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any],
                 progress: Sequence[ProgressPoint] = ()) -> ReportData:
        """Summarise the document's reps (the stored summary is not trusted blindly)."""
        return cls(doc, summarize_reps(doc.get("reps") or ()), tuple(progress))

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
        src, proto, sess = self.doc.get("source") or {}, self.doc.get("protocol") or {}, self.session
        source = source_label(src)
        if src.get("width") and src.get("height"):
            source += f"  ({src['width']}×{src['height']}"
            source += f", {src['fps']:g} fps)" if src.get("fps") else ")"
        protocol = str(proto.get("name", "?"))
        if proto.get("hold_s"):
            protocol += f": {proto['hold_s']:g} s holds"
        if proto.get("holds_per_side"):
            protocol += f", {proto['holds_per_side']} per side"
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

    def summary_rows(self) -> list[tuple[str, ...]]:
        target = (self.doc.get("protocol") or {}).get("holds_per_side")
        rows = []
        for side in SIDES:
            s = self.summary.side(side)
            holds = f"{s.holds_completed} of {target}" if target else str(s.holds_completed)
            rows.append((side.capitalize(), str(s.reps), holds, fmt(s.max_separation_deg),
                         fmt(s.mean_hold_separation_deg), fmt(s.hold_s_total),
                         _fault_text(s.faults) or "none"))
        return rows

    def asymmetry_text(self) -> str:
        s = self.summary
        if s.asymmetry_pct is None:
            return "Asymmetry: not available (reps to both sides are needed)."
        weaker = s.weaker_side
        tail = f"; the {weaker} side reaches less" if weaker else ""
        return f"Asymmetry of best range: {s.asymmetry_pct:.1f}%{tail}."

    def rep_rows(self, side: str) -> list[tuple[str, ...]]:
        return [(str(n), fmt(r.get("start_s")), fmt(_abs(r.get("peak_separation_deg"))),
                 fmt(_abs(r.get("mean_hold_separation_deg"))), fmt(r.get("hold_s")),
                 fmt(_abs(r.get("max_pelvis_deg"))), "✓" if r.get("completed") else "✗",
                 ", ".join(FAULT_TEXT.get(f, f) for f in r.get("faults") or ()))
                for n, r in self.side_reps(side)]

    def title(self) -> str:
        return f"Trunk rotation report – session {self.session.get('id', '?')}"


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
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0}
dl.meta dt{color:#666}dl.meta dd{margin:0}
table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-variant-numeric:tabular-nums}
th,td{padding:5px 9px;border-bottom:1px solid #e3e6ea;text-align:right}
th{background:#f0f2f5;font-weight:600;font-size:13px}
td:first-child,th:first-child,td.text,th.text{text-align:left}
tr:nth-child(even) td{background:#fafbfc}
.side-right{border-left:5px solid #1f5fa8}.side-left{border-left:5px solid #d9730d}
.ok{color:#1e7b34;font-weight:600}.bad{color:#b42318;font-weight:600}
.asym{font-weight:600;margin:8px 0}.note{color:#666;font-size:13px}
img{max-width:100%;height:auto;display:block;margin:4px auto}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:24px}
footer{margin-top:32px;color:#777;font-size:12px}
@media (max-width:760px){.grid{grid-template-columns:1fr}}
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


def _img(b64: str, alt: str) -> str:
    return f"<img alt=\"{escape(alt)}\" src=\"data:image/png;base64,{b64}\">"


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
    meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in data.meta())
    summary = _html_table(SUMMARY_HEADERS, data.summary_rows(), "summary", text_cols=(6,),
                          row_classes=[f"side-{s}" for s in SIDES])
    reps = "".join(
        f"<section><h2 class=\"side-{side}\">&nbsp;{side.capitalize()} side: reps</h2>"
        + _html_table(REP_HEADERS, data.rep_rows(side), f"reps-{side}", text_cols=(7,))
        + "</section>" for side in SIDES)
    glossary = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in GLOSSARY)
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(data.title())}</title><style>{CSS}</style></head>
<body><main>
<header><h1>Trunk rotation report</h1><p class="sub">posecoach · standing trunk rotation</p>
<dl class="meta">{meta}</dl></header>
<div class="grid"><section><h2>Summary</h2>{summary}
<p class="asym" id="asymmetry">{escape(data.asymmetry_text())}</p>
<p class="note">Best: largest separation reached. Mean in holds: average separation
while holding. Separation is trunk rotation minus pelvis rotation.</p></section>
<section><h2>Left vs right</h2>{_img(bars, "bar chart of left and right range")}</section></div>
<section><h2>Separation and pelvis over time</h2>
{_img(timeline, "separation and pelvis angle over time with holds shaded")}
<p class="note">Shaded bands are holds (hatched: not completed). The pelvis should stay
inside the dotted lines.</p></section>
{reps}
<section><h2>Progress over sessions</h2>{_img(progress, "progress over past sessions")}</section>
<section><h2>About the measures</h2><dl class="meta">{glossary}</dl></section>
<footer>Generated by posecoach {escape(__version__)} on {generated}. Angles are degrees of
rotation about the vertical axis from the calibrated neutral stance, measured from a
single camera.</footer>
</main></body></html>
"""


# -- PDF -------------------------------------------------------------------------------
A4 = (8.27, 11.69)  # inches, portrait
MARGIN = 0.7


class _PdfPages:
    """Lays out text and tables top to bottom on A4 figures, adding pages as needed."""

    def __init__(self, pdf: PdfPages, footer: str) -> None:
        self.pdf, self.footer = pdf, footer
        self.fig: Figure | None = None
        self.y = 0.0
        self.pages = 0

    def new_page(self) -> Figure:
        self.flush()
        self.fig, self.y = Figure(figsize=A4), MARGIN
        self.pages += 1
        self.fig.text(0.5, 0.35 / A4[1], f"{self.footer} · page {self.pages}",
                      ha="center", fontsize=7.5, color="#777777")
        return self.fig

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def need(self, height: float) -> None:
        if self.fig is None or self.y + height > A4[1] - MARGIN - 0.2:
            self.new_page()

    def text(self, s: str, size: float = 10, x: float = MARGIN, advance: bool = True,
             **kw: Any) -> None:
        self.need(size / 72 * 1.6)
        assert self.fig is not None
        self.fig.text(x / A4[0], 1 - self.y / A4[1], s, va="top", fontsize=size, **kw)
        if advance:
            self.y += size / 72 * 1.6

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float], text_cols: Sequence[int] = ()) -> None:
        row_h, size = 0.24, 8.5

        def draw_row(cells: Sequence[str], bold: bool, shade: str | None) -> None:
            assert self.fig is not None
            top = 1 - self.y / A4[1]
            if shade:
                self.fig.patches.append(Rectangle(
                    (MARGIN / A4[0], top - row_h / A4[1]), sum(widths) / A4[0], row_h / A4[1],
                    transform=self.fig.transFigure, color=shade, lw=0))
            x = MARGIN
            for j, (value, w) in enumerate(zip(cells, widths, strict=True)):
                left = j in text_cols or j == 0  # text left, numbers centred
                colour = {"✓": "#1e7b34", "✗": "#b42318"}.get(value, "#1a1a1a")
                self.fig.text((x + (0.06 if left else w / 2)) / A4[0],
                              top - row_h / 2 / A4[1], value, ha="left" if left else "center",
                              va="center", fontsize=size, color=colour,
                              fontweight="bold" if bold else "normal")
                x += w
            self.y += row_h

        def header() -> None:
            self.need(row_h * 2)
            draw_row(headers, True, "#e8ebef")

        header()
        for k, row in enumerate(rows or [("no reps",) + ("",) * (len(headers) - 1)]):
            if self.y + row_h > A4[1] - MARGIN - 0.2:
                self.new_page()
                header()
            draw_row(row, False, "#f6f7f9" if k % 2 else None)
        self.y += 0.15

    def plot(self, height: float, width: float = A4[0] - 2 * MARGIN,
             below: float = 1.0) -> Any:
        """Reserve a block and return Axes in it, leaving ``below`` inches for labels."""
        self.need(height)
        assert self.fig is not None
        left = (A4[0] - width) / 2 + 0.35
        ax = self.fig.add_axes((left / A4[0], 1 - (self.y + height - below) / A4[1],
                                (width - 0.45) / A4[0], (height - below - 0.3) / A4[1]))
        self.y += height
        return ax


def write_pdf(data: ReportData, out: Path | BinaryIO) -> int:
    """Write the report as an A4 PDF; return the number of pages.

    Page 1 has the header, the summary and the per-rep tables (continued on further
    pages when long); then come the time plot with the left/right bars, and progress.
    """
    doc = data.doc
    rep_widths = (0.35, 0.75, 0.75, 1.1, 0.7, 1.0, 0.8, 1.42)
    sum_widths = (0.6, 0.5, 1.15, 0.75, 1.2, 0.95, 1.72)
    metadata = {"Title": data.title(), "Author": "posecoach", "Creator": f"posecoach {__version__}",
                "Subject": "standing trunk rotation: per-side range and holds"}
    with rc_context({"pdf.fonttype": 42}), PdfPages(out, metadata=metadata) as pdf:
        pages = _PdfPages(pdf, f"posecoach · session {data.session.get('id', '?')}")
        pages.new_page()
        pages.text("Trunk rotation report", size=20, fontweight="bold")
        pages.y += 0.1
        for label, value in data.meta():
            pages.text(label, size=9.5, color="#666666", advance=False)
            pages.text(value, size=9.5, x=MARGIN + 1.0)
        pages.y += 0.15
        pages.text("Summary", size=13, fontweight="bold")
        pages.table(SUMMARY_HEADERS, data.summary_rows(), sum_widths, text_cols=(6,))
        pages.text(data.asymmetry_text(), size=10, fontweight="bold")
        for side in SIDES:
            pages.y += 0.12
            pages.need(0.9)
            pages.text(f"{side.capitalize()} side: reps", size=13, fontweight="bold",
                       color=plots.SIDE_COLOURS[side])
            pages.table(REP_HEADERS, data.rep_rows(side), rep_widths, text_cols=(7,))
        pages.text("Angles: degrees of separation (trunk − pelvis) toward the rep's side, "
                   "from the calibrated neutral stance.", size=8, color="#666666")
        pages.new_page()
        pages.text("Separation and pelvis over time", size=13, fontweight="bold")
        plots.draw_timeline(pages.plot(4.8, below=1.25),
                            plots.Series.from_frames(doc.get("frames") or ()),
                            doc.get("reps") or (), doc.get("protocol") or {})
        pages.text("Left vs right", size=13, fontweight="bold")
        plots.draw_side_bars(pages.plot(4.1, width=5.0, below=0.8), data.summary)
        pages.new_page()
        pages.text("Progress over sessions", size=13, fontweight="bold")
        plots.draw_progress(pages.plot(4.3, below=0.9), data.progress, data.session.get("id"))
        pages.y += 0.2
        pages.text("About the measures", size=13, fontweight="bold")
        for term, meaning in GLOSSARY:
            pages.text(term, size=9, fontweight="bold", advance=False)
            for line in textwrap.wrap(meaning, 82):
                pages.text(line, size=9, x=MARGIN + 1.45)
        pages.flush()
        return pages.pages


# -- CSV -------------------------------------------------------------------------------
def render_csv(data: ReportData) -> str:
    """Return one CSV row per rep, in time order (angles as magnitudes)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    counts = {s: 0 for s in SIDES}
    for n, rep in enumerate(data.doc.get("reps") or (), start=1):
        side = rep.get("side", "")
        counts[side] = counts.get(side, 0) + 1

        def num(key: str, digits: int, magnitude: bool = False) -> str:
            value = rep.get(key)
            if value is None:
                return ""
            return f"{abs(float(value)) if magnitude else float(value):.{digits}f}"

        writer.writerow([
            data.session.get("id", ""), n, side, counts[side], num("start_s", 2),
            num("hold_start_s", 2), num("hold_end_s", 2), num("hold_s", 2),
            "true" if rep.get("completed") else "false",
            num("peak_separation_deg", 1, True), num("mean_hold_separation_deg", 1, True),
            num("max_pelvis_deg", 1, True), ";".join(rep.get("faults") or ())])
    return buf.getvalue()
