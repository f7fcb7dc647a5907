"""The range-test part of a report: the result per side and trial, and the trend over tests.

Shared by the HTML and PDF renderers (rows of text, one plot); only drawn for a session of
a range-test protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from matplotlib.axes import Axes

from posecoach.analysis.range_test import RangeTestResult, RangeTrend
from posecoach.analysis.vocabulary import Side
from posecoach.report.format import fmt, format_started
from posecoach.session.messages import TRIAL_STATUS_TEXT, asymmetry_line, pass_text, trend_text

SIDE_HEADERS = ("Side", "Best (°)", "Mean (°)", "± (°)", "Spread (°)", "SD (°)", "Trials counted", "Result")
TRIAL_HEADERS = ("Side", "Trial", "End range (°)", "Peak (°)", "Pelvis max (°)", "± (°)", "Status")
TREND_HEADERS = ("Test", "Right (°)", "Change", "Left (°)", "Change", "Passed")
TREND_NOTE = ("Right, Left: mean / best of the trials that count; change: of the mean, against the test "
              "before.")
GLOSSARY = (
    ("End range", "A trial's value: the mean separation over the pause at the end of the turn "
     "(steadier than the peak, which also catches the swing's overshoot and the noise)."),
    ("Best / mean", "The largest and the average end range of the trials that count; a trial "
     "with the pelvis turned beyond its limit, or without its pause, does not count."),
    ("Spread", "Largest minus smallest counted trial: how repeatable the turns were."),
    ("±", "About 90% of the time the true mean lies within this many degrees: the camera "
     "estimate's uncertainty combined with the scatter of the trials."),
    ("Real change", "A change of the side mean larger than the minimal detectable change "
     "(MDC95 = 1.96 × √2 × SEM, SEM from the trial-to-trial SD of all tests, at least the "
     "estimate's own uncertainty); smaller changes are labelled no real change."),
)


@dataclass(frozen=True)
class RangeReport:
    """A range test's result and the tests up to it."""

    result: RangeTestResult
    trend: RangeTrend
    session_id: int | None

    def side_rows(self) -> list[tuple[str, ...]]:
        rows = []
        for s in (self.result.right, self.result.left):
            rows.append((s.side.capitalize(), fmt(s.best_deg), fmt(s.mean_deg), fmt(s.uncertainty_deg),
                         fmt(s.spread_deg), fmt(s.sd_deg), f"{len(s.counted)} of {len(s.trials)}",
                         f"{pass_text(s.passed)} ({s.pass_mark_deg:g}°)"))
        return rows

    def trial_rows(self) -> list[tuple[str, ...]]:
        return [(t.side.capitalize(), str(t.number), fmt(t.value_deg), fmt(t.peak_deg), fmt(t.pelvis_deg),
                 fmt(t.err_deg), TRIAL_STATUS_TEXT[t.status])
                for s in (self.result.right, self.result.left) for t in s.trials]

    def headline(self) -> str:
        passed = self.result.passed
        verdict = ("Both sides pass" if passed else "Not passed" if passed is False
                   else "Incomplete: a side has no valid trial")
        return f"{verdict} (pass mark {self.result.pass_mark_deg:g}° per side). {asymmetry_line(self.result)}."

    def trend_rows(self) -> list[tuple[str, ...]]:
        """Per test: each side's mean and best, the mean's change against the test before, and
        which sides passed."""
        rows = []
        for i, p in enumerate(self.trend.points):
            cells = [f"#{p.session_id} {format_started(p.started_at)}" + (" (this)" if p.session_id == self.session_id
                                                                           else "")]
            for side in (Side.RIGHT, Side.LEFT):
                c = self.trend.change(i, side)
                s = p.result.side(side)
                cells += [f"{fmt(s.mean_deg)} / {fmt(s.best_deg)}",
                          f"{c.change_deg:+.1f}° {trend_text(c.label)}" if c else "–"]
            passed = [side for side in (Side.RIGHT, Side.LEFT) if p.result.side(side).passed]
            cells.append("both" if len(passed) == 2 else passed[0] if passed else "none")
            rows.append(tuple(cells))
        return rows

    def noise_text(self) -> str:
        n = self.trend.noise
        if n.mdc_deg is None:
            return "The smallest real change is not known yet: it needs trials with a spread."
        source = (f"trial SD {n.pooled_sd_deg:.1f}° pooled over {len(self.trend.points)} test(s), {n.df} df"
                  if n.pooled_sd_deg is not None else "no repeated trials yet")
        floor = f"; estimate's own SD {n.floor_deg:.1f}°" if n.floor_deg is not None else ""
        return (f"Smallest real change (MDC95): {n.mdc_deg:.1f}° per side "
                f"(SEM {n.sem_deg:.1f}°: {source}{floor}).")

    def overall_text(self) -> str:
        if len(self.trend.points) < 2:
            return "The trend appears after a second range test."
        parts = []
        for side in (Side.RIGHT, Side.LEFT):
            c = self.trend.overall(side)
            if c is not None:
                parts.append(f"{side} {c.before_deg:.0f}° → {c.after_deg:.0f}° ({c.change_deg:+.1f}°: "
                             f"{trend_text(c.label)})")
        return "Since the first test: " + ("; ".join(parts) if parts else "no side to compare") + "."


def draw_trend(ax: Axes, report: RangeReport, colours: dict[str, str]) -> None:
    """Each side's mean (± its uncertainty) per test in order, the pass mark, and around the
    first test's means a band of ± the smallest real change (MDC95)."""
    points = report.trend.points
    mdc = report.trend.noise.mdc_deg
    top = report.result.pass_mark_deg
    for k, side in enumerate((Side.RIGHT, Side.LEFT)):
        shift = -0.04 if k == 0 else 0.04   # side by side, so the error bars do not hide each other
        xs, ys, errs = [], [], []
        for i, p in enumerate(points):
            s = p.result.side(side)
            if s.mean_deg is not None:
                xs.append(i + shift)
                ys.append(s.mean_deg)
                errs.append(s.uncertainty_deg or 0.0)
        if not xs:
            continue
        ax.errorbar(xs, ys, yerr=errs, marker="o", ms=5, lw=1.5, capsize=3, color=colours[side],
                    label=f"{side} mean ± uncertainty")
        top = max(top, *(y + e for y, e in zip(ys, errs, strict=True)))
        if mdc is not None and len(points) > 1:
            ax.axhspan(ys[0] - mdc, ys[0] + mdc, color=colours[side], alpha=0.07, lw=0,
                       label=f"{side}: within ±{mdc:.1f}° of the first test = no real change")
    ax.axhline(report.result.pass_mark_deg, color="#1e7b34", ls="--", lw=1.1,
               label=f"pass mark {report.result.pass_mark_deg:g}°")
    ax.set_xticks(range(len(points)))
    ax.set_xticklabels([f"#{p.session_id}" + (" (this)" if p.session_id == report.session_id else "")
                        + f"\n{format_started(p.started_at)}" for p in points], fontsize=7.5)
    ax.set_xlim(-0.5, max(len(points), 2) - 0.5)
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("separation (degrees)")
    ax.grid(True, axis="y", color="#e5e5e5", lw=0.6)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7.5, frameon=False)
    if len(points) < 2:
        ax.text(0.98, 0.04, "the trend appears after a second range test", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=9, color="#777777")


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], table_id: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table id=\"{table_id}\"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
