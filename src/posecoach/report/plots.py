"""The three report plots, drawn on matplotlib Axes given by the caller.

Only ``matplotlib.figure`` and friends are used (never pyplot), so nothing here touches
a GUI backend; the HTML renderer saves each figure to PNG with the Agg canvas and the
PDF renderer places the same drawings on A4 pages.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from posecoach.analysis.summary import ProgressPoint, Summary
from posecoach.report.format import local_time
from posecoach.session.messages import drill_asymmetry_text

SIDE_COLOURS = {"right": "#1f5fa8", "left": "#d9730d"}  # blue / orange: colour-blind safe
SEPARATION_COLOUR = "#1a1a1a"
PELVIS_COLOUR = "#8e44ad"
MAX_POINTS = 4000  # plotted samples per line; longer series are thinned


@dataclass(frozen=True)
class Series:
    """Per-frame angles as arrays; untracked frames are NaN (gaps in the plot)."""

    t: np.ndarray
    separation: np.ndarray
    pelvis: np.ndarray

    @classmethod
    def from_frames(cls, frames: Sequence[Mapping[str, Any]]) -> Series:
        """Build from contract frame dicts."""

        def column(key: str) -> np.ndarray:
            return np.array([f.get(key) if f.get("tracked", True) and f.get(key) is not None
                             else np.nan for f in frames], dtype=float)

        t = np.array([float(f["t"]) for f in frames], dtype=float)
        return cls(t, column("separation_deg"), column("pelvis_deg"))

    def thinned(self, max_points: int = MAX_POINTS) -> Series:
        """Every k-th sample so that at most ``max_points`` remain (the drill is slow)."""
        step = max(1, int(np.ceil(len(self.t) / max_points)))
        return Series(self.t[::step], self.separation[::step], self.pelvis[::step])


def draw_timeline(ax: Axes, series: Series, reps: Sequence[Mapping[str, Any]],
                  protocol: Mapping[str, Any]) -> None:
    """Separation and pelvis over time, holds shaded by side (hatched if not completed)."""
    pelvis_limit_deg = float(protocol.get("pelvis_limit_deg", 10.0))
    s = series.thinned()
    minutes = len(s.t) > 0 and s.t[-1] > 180.0
    scale = 60.0 if minutes else 1.0
    ax.axhline(0.0, color="#999999", lw=0.8)
    for lim in (pelvis_limit_deg, -pelvis_limit_deg):
        ax.axhline(lim, color=PELVIS_COLOUR, lw=0.8, ls=":", alpha=0.8)
    counts = {"right": 0, "left": 0}
    span = max(float(s.t[-1] - s.t[0]), 1.0) if len(s.t) else 1.0
    for rep in reps:
        start, end = rep.get("hold_start_s"), rep.get("hold_end_s")
        side = rep.get("side", "right")
        counts[side] = counts.get(side, 0) + 1
        if start is None or end is None:
            continue
        colour = SIDE_COLOURS.get(side, "#777777")
        ax.axvspan(start / scale, end / scale, facecolor=to_rgba(colour, 0.16), lw=0)
        if not rep.get("completed"):
            # A separate hatch-only patch: the PDF backend loses the hatch of a filled
            # patch drawn after an unhatched one of the same colour (matplotlib 3.11).
            ax.axvspan(start / scale, end / scale, facecolor="none",
                       edgecolor=to_rgba(colour, 0.3), lw=0, hatch="///")
        share = (end - start) / span  # label fits the band: "R3", just "3", or nothing
        if share >= 0.012:
            label = f"{side[0].upper()}{counts[side]}" if share >= 0.035 else str(counts[side])
            ax.text((start + end) / 2 / scale, 0.98, label, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=8 if share >= 0.035 else 6.5,
                    color=colour, fontweight="bold")
    ax.plot(s.t / scale, s.separation, color=SEPARATION_COLOUR, lw=1.3,
            label="separation (trunk − pelvis)")
    ax.plot(s.t / scale, s.pelvis, color=PELVIS_COLOUR, lw=1.0, label="pelvis")
    values = np.concatenate([s.separation, s.pelvis])
    values = values[np.isfinite(values)]
    top = max(20.0, float(np.max(np.abs(values))) * 1.15) if values.size else 20.0
    ax.set_ylim(-top, top)
    if len(s.t):
        ax.set_xlim(float(s.t[0]) / scale, float(s.t[-1]) / scale)
    ax.set_xlabel("time (min)" if minutes else "time (s)")
    ax.set_ylabel("degrees  (+ right, − left)")
    ax.grid(True, axis="y", color="#e5e5e5", lw=0.6)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=SIDE_COLOURS["right"], alpha=0.25, label="right hold"),
                Patch(color=SIDE_COLOURS["left"], alpha=0.25, label="left hold"),
                Patch(facecolor="white", edgecolor="#777777", hatch="///",
                      label="not completed")]
    hold = protocol.get("hold_s")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5,
              fontsize=8, frameon=False,
              title=f"dotted: pelvis limit ±{pelvis_limit_deg:g}°"
                    + (f"   ·   target hold {hold:g} s" if hold else ""),
              title_fontsize=8)


def draw_side_bars(ax: Axes, summary: Summary) -> None:
    """Left vs right: best range and mean separation during holds, labelled."""
    sides = ("left", "right")
    x = np.arange(len(sides))
    width = 0.36
    measures = (("max_separation_deg", "best (peak)", 1.0),
                ("mean_hold_separation_deg", "mean during holds", 0.55))
    for k, (attr, _, alpha) in enumerate(measures):
        values = [getattr(summary.side(s), attr) for s in sides]
        offset = (k - 0.5) * width
        for xi, side, value in zip(x, sides, values, strict=True):
            if value is None:
                if k == 0:
                    ax.text(xi, 1.0, f"no {side} reps", ha="center", va="bottom", fontsize=9,
                            color="#777777")
                continue
            ax.bar(xi + offset, value, width * 0.95, color=SIDE_COLOURS[side], alpha=alpha,
                   edgecolor=SIDE_COLOURS[side])
            ax.text(xi + offset, value, f"{value:.1f}°", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, [s.capitalize() for s in sides])
    ax.set_xlim(-0.6, len(sides) - 0.4)
    ax.set_ylabel("separation (degrees)")
    ax.legend(handles=[Patch(color="#555555", label=measures[0][1]),
                       Patch(color="#555555", alpha=0.55, label=measures[1][1])],
              loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8,
              frameon=False)
    maxima = [v for s in sides if (v := summary.side(s).max_separation_deg) is not None]
    ax.set_ylim(0, max([*maxima, 10.0]) * 1.18)
    ax.grid(True, axis="y", color="#e5e5e5", lw=0.6)
    ax.set_axisbelow(True)
    if summary.asymmetry_pct is not None:
        ax.set_title(drill_asymmetry_text(summary, short=True), fontsize=9, color="#444444")


def draw_progress(ax: Axes, points: Sequence[ProgressPoint], current_id: int | None) -> None:
    """Per-side best and mean-hold separation over past sessions."""
    dated = sorted(((w, p) for p in points if (w := local_time(p.started_at)) is not None),
                   key=lambda wp: (wp[0], wp[1].session_id))
    for side in ("right", "left"):
        colour = SIDE_COLOURS[side]
        for attr, ls, label in (("max_separation_deg", "-", "best"),
                                ("mean_hold_separation_deg", "--", "mean hold")):
            xs = [w for w, p in dated if getattr(p.summary.side(side), attr) is not None]
            ys = [getattr(p.summary.side(side), attr) for w, p in dated
                  if getattr(p.summary.side(side), attr) is not None]
            ax.plot(xs, ys, ls=ls, marker="o", ms=4, color=colour, lw=1.4,
                    label=f"{side} {label}")
    values = [v for _, p in dated for s in ("right", "left")
              if (v := p.summary.side(s).max_separation_deg) is not None]
    for w, p in dated:
        if p.session_id == current_id:
            ax.axvline(w, color="#999999", lw=1.0, ls=":", zorder=0)
            ax.annotate("this session", (w, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=8, color="#555555")
    locator = AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(  # day ticks name their month
        locator, formats=["%Y", "%b", "%d %b", "%H:%M", "%H:%M", "%S.%f"],
        zero_formats=["", "%Y", "%d %b", "%d %b", "%H:%M", "%H:%M"],
        offset_formats=["", "%Y", "%Y", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"]))
    ax.margins(x=0.06)
    if dated and dated[0][0] == dated[-1][0]:  # one point in time: show the week around it
        ax.set_xlim(dated[0][0] - timedelta(days=3), dated[0][0] + timedelta(days=3))
    ax.set_ylabel("separation (degrees)")
    ax.set_ylim(0, max([*values, 10.0]) * 1.15)
    ax.grid(True, color="#e5e5e5", lw=0.6)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8,
              frameon=False)
    if len(dated) < 2:
        ax.text(0.02, 0.04, "progress appears after a few sessions", transform=ax.transAxes,
                ha="left", va="bottom", fontsize=9, color="#777777")


def figure_png_base64(draw: Callable[[Axes], None], size: tuple[float, float],
                      dpi: int = 110) -> str:
    """Draw on a fresh Agg figure and return the PNG as base64 text."""
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    draw(fig.add_subplot())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")
