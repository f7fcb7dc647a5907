"""``posecoach history`` and ``posecoach report``: the functions the CLI calls.

Both return an exit status and raise :class:`~posecoach.errors.PosecoachError`
subclasses (one-line messages) for anything the user can fix.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from posecoach.analysis.range_test import RangeTrend, TrendPoint, range_trend
from posecoach.analysis.summary import ProgressPoint
from posecoach.analysis.vocabulary import Side
from posecoach.errors import PosecoachError
from posecoach.report.format import fmt, format_faults, format_started
from posecoach.session.messages import pass_text, trend_text
from posecoach.session.store import SessionStore, SessionSummary, default_db_path

_COLUMNS = (  # header, alignment ("<" or ">"), maximum width
    ("id", ">", 6), ("started", "<", 16), ("source", "<", 22), ("protocol", "<", 18),
    ("holds", ">", 7), ("max°", ">", 6), ("hold°", ">", 6),
    ("holds", ">", 7), ("max°", ">", 6), ("hold°", ">", 6),
    ("asym%", ">", 6), ("faults", "<", 30),
)
_SIDE_GROUPS = ((4, 7, "right"), (7, 10, "left"))  # column ranges under a side heading


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _history_row(s: SessionSummary) -> list[str]:
    cells = [str(s.id) + (" " if s.finished else "*"), format_started(s.started_at), s.source,
             s.protocol]
    for side in ("right", "left"):
        side_sum = s.summary.side(side)
        cells += [f"{side_sum.holds_completed}/{side_sum.reps}",
                  fmt(side_sum.max_separation_deg, missing="-"),
                  fmt(side_sum.mean_hold_separation_deg, missing="-")]
    return [*cells, fmt(s.summary.asymmetry_pct, missing="-"),
            format_faults(s.summary.faults) or "-"]


def format_history(sessions: Sequence[SessionSummary]) -> str:
    """Return the history as an aligned plain-text table (oldest first)."""
    rows = [[_clip(c, w) for c, (_, _, w) in zip(_history_row(s), _COLUMNS, strict=True)]
            for s in sessions]
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, (h, _, _) in enumerate(_COLUMNS)]
    for start, stop, name in _SIDE_GROUPS:  # room for the side heading over its columns
        span = sum(widths[start:stop]) + 2 * (stop - start - 1)
        widths[stop - 1] += max(0, len(name) + 4 - span)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, (_, a, _), w in
                         zip(cells, _COLUMNS, widths, strict=True)).rstrip()

    group = ""
    for start, stop, name in _SIDE_GROUPS:
        offset = sum(widths[:start]) + 2 * start
        span = sum(widths[start:stop]) + 2 * (stop - start - 1)
        group = group.ljust(offset) + f" {name} ".center(span, "-")
    out = [group, line([h for h, _, _ in _COLUMNS]), *(line(r) for r in rows)]
    notes = ["holds = completed/reps; max° = best separation; hold° = mean separation in holds"]
    if any(not s.finished for s in sessions):
        notes.append("* = unfinished session (crashed or still running); totals from saved reps")
    tests = range_trend(TrendPoint(s.id, s.started_at, s.range_test) for s in sessions if s.range_test is not None)
    extra = ["", *format_range_tests(tests)] if tests.points else []
    return "\n".join([*out, "", *notes, *extra]) + "\n"


def format_range_tests(trend: RangeTrend) -> list[str]:
    """The range tests as a trend: per side the mean (best) and the change against the test before."""
    lines = ["Rotation range tests (mean of the trials that count, best in brackets; change vs the test before)"]
    for i, p in enumerate(trend.points):
        cells = [f"{p.session_id:>4}", f"{format_started(p.started_at):<16}"]
        for side in (Side.RIGHT, Side.LEFT):
            s = p.result.side(side)
            c = trend.change(i, side)
            change = f" {c.change_deg:+.1f} {trend_text(c.label)}" if c else ""
            cells.append(f"{side} {fmt(s.mean_deg, 0, '-')} ({fmt(s.best_deg, 0, '-')}) {pass_text(s.passed)}{change}")
        lines.append("  ".join(cells[:2]) + "  " + ";  ".join(cells[2:]))
    noise = trend.noise
    lines.append("smallest real change (MDC95): " + (f"{noise.mdc_deg:.1f} deg" if noise.mdc_deg is not None
                                                    else "not known yet (needs repeated trials)"))
    return lines


def run_history(db_path: Path | None, as_json: bool, out: TextIO | None = None) -> int:
    """Print past sessions as a table (or JSON) to ``out`` (stdout); return the exit status."""
    out = out if out is not None else sys.stdout
    path = db_path or default_db_path()
    if not path.exists():
        if as_json:
            out.write("[]\n")
        else:
            out.write(f"No sessions recorded yet (no database at {path}).\n")
        return 0
    with SessionStore(path, create=False) as store:
        sessions = store.list_sessions()
    if as_json:
        json.dump([s.to_dict() for s in sessions], out, indent=2)
        out.write("\n")
    elif not sessions:
        out.write(f"No sessions recorded yet in {path}.\n")
    else:
        out.write(format_history(sessions))
    return 0


def _progress(sessions: Sequence[SessionSummary], current: int) -> list[ProgressPoint]:
    """Sessions of the same protocol up to and including the current one."""
    by_id = {s.id: s for s in sessions}
    cur = by_id[current]
    order = {s.id: k for k, s in enumerate(sessions)}  # list_sessions is oldest first
    return [ProgressPoint(s.id, s.started_at, s.summary) for s in sessions
            if s.protocol == cur.protocol and order[s.id] <= order[current]
            and (s.summary.right.reps or s.summary.left.reps or s.id == current)]


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a whole file or nothing (temporary file + rename)."""
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PosecoachError(f"cannot write {path}: {exc.strerror or exc}") from exc


def run_report(db_path: Path | None, ref: str, html: Path | None, pdf: Path | None,
               csv: Path | None, *, out: TextIO | None = None) -> int:
    """Write the report of session ``ref`` (an id or ``latest``); return the exit status."""
    from posecoach.report import render  # matplotlib is imported only when needed

    if html is None and pdf is None and csv is None:
        raise PosecoachError(
            "nothing to write: give --html OUT.html, --pdf OUT.pdf or --csv OUT.csv")
    path = db_path or default_db_path()
    with SessionStore(path, create=False) as store:
        sid = store.resolve(ref)
        doc = store.load_session(sid)
        progress = _progress(store.list_sessions(), sid)
        trend = store.range_trend(until=sid)
    data = render.ReportData.from_doc(doc, progress, trend)
    written = []
    if html is not None:
        _write_atomic(html, render.render_html(data).encode("utf-8"))
        written.append(html)
    if pdf is not None:
        buf = io.BytesIO()
        render.write_pdf(data, buf)
        _write_atomic(pdf, buf.getvalue())
        written.append(pdf)
    if csv is not None:
        _write_atomic(csv, render.render_csv(data).encode("utf-8"))
        written.append(csv)
    stream = out if out is not None else sys.stdout
    for p in written:
        stream.write(f"wrote {p}\n")
    return 0
