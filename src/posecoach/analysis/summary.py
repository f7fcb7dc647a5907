"""Pure aggregation of reps into per-side summaries (numpy-free, stdlib only).

One definition serves the analysis document, the history table, reports, and sessions
that ended without a summary (a crash): everything is recomputed from the rep records
of DESIGN.md section 5. Angles are compared as magnitudes, so it does not matter
whether a left rep stores its peak separation as a negative or a positive number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from posecoach.analysis.fusion_model import ASYMMETRY_RESOLUTION_PCT

SIDES: tuple[str, str] = ("right", "left")


@dataclass(frozen=True)
class SideSummary:
    """Aggregates of the reps to one side.

    ``mean_hold_separation_deg`` is the mean, over the reps that reached a hold, of
    each rep's mean separation during its hold. Angles are magnitudes in degrees.
    """

    reps: int = 0
    holds_completed: int = 0
    max_separation_deg: float | None = None
    mean_hold_separation_deg: float | None = None
    hold_s_total: float = 0.0
    faults: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the contract's per-side summary (plus hold time and fault counts)."""
        return {
            "holds_completed": self.holds_completed,
            "reps": self.reps,
            "max_separation_deg": self.max_separation_deg,
            "mean_hold_separation_deg": self.mean_hold_separation_deg,
            "hold_s_total": self.hold_s_total,
            "faults": dict(self.faults),
        }


@dataclass(frozen=True)
class Summary:
    """Both sides and their asymmetry."""

    right: SideSummary
    left: SideSummary
    asymmetry_pct: float | None

    def side(self, name: str) -> SideSummary:
        """Return the summary of ``"right"`` or ``"left"``."""
        if name not in SIDES:
            raise ValueError(f"unknown side {name!r}")
        return self.right if name == "right" else self.left

    @property
    def faults(self) -> dict[str, int]:
        """Fault counts over both sides."""
        return dict(Counter(self.right.faults) + Counter(self.left.faults))

    @property
    def weaker_side(self) -> str | None:
        """The side with the smaller range, or None when equal or not comparable."""
        r, lft = self.right.max_separation_deg, self.left.max_separation_deg
        if r is None or lft is None or r == lft:
            return None
        return "right" if r < lft else "left"

    @property
    def asymmetry_resolved(self) -> bool | None:
        """True when the asymmetry is larger than one camera's error
        (``fusion_model.ASYMMETRY_RESOLUTION_PCT``); None when not available."""
        if self.asymmetry_pct is None:
            return None
        return self.asymmetry_pct >= ASYMMETRY_RESOLUTION_PCT

    def to_dict(self) -> dict[str, Any]:
        """Return the contract's ``summary`` object."""
        return {
            "right": self.right.to_dict(),
            "left": self.left.to_dict(),
            "asymmetry_pct": self.asymmetry_pct,
        }


@dataclass(frozen=True)
class ProgressPoint:
    """One past session as plotted in the progress chart."""

    session_id: int
    started_at: str
    summary: Summary


def _magnitude(value: Any) -> float | None:
    return None if value is None else abs(float(value))


def summarize_side(reps: Iterable[Mapping[str, Any]]) -> SideSummary:
    """Aggregate reps that all belong to one side."""
    reps = list(reps)
    peaks = [p for r in reps if (p := _magnitude(r.get("peak_separation_deg"))) is not None]
    means = [m for r in reps if (m := _magnitude(r.get("mean_hold_separation_deg"))) is not None]
    faults: Counter[str] = Counter()
    for r in reps:
        faults.update(str(f) for f in r.get("faults") or ())
    return SideSummary(
        reps=len(reps),
        holds_completed=sum(1 for r in reps if r.get("completed")),
        max_separation_deg=max(peaks) if peaks else None,
        mean_hold_separation_deg=sum(means) / len(means) if means else None,
        hold_s_total=float(sum(float(r.get("hold_s") or 0.0) for r in reps)),
        faults=dict(sorted(faults.items())),
    )


def asymmetry_pct(right_deg: float | None, left_deg: float | None) -> float | None:
    """Return ``100 * |R - L| / max(R, L)``, or None if a side is missing."""
    if right_deg is None or left_deg is None:
        return None
    top = max(abs(right_deg), abs(left_deg))
    if top == 0.0:
        return 0.0
    return 100.0 * (abs(abs(right_deg) - abs(left_deg)) / top)  # ratio first: never > 100


def summarize_reps(reps: Iterable[Mapping[str, Any]]) -> Summary:
    """Aggregate a session's reps per side.

    Parameters
    ----------
    reps
        Rep records as in the analysis contract; only ``side``, ``completed``,
        ``peak_separation_deg``, ``mean_hold_separation_deg``, ``hold_s`` and
        ``faults`` are read. Reps with another side are ignored.
    """
    by_side: dict[str, list[Mapping[str, Any]]] = {s: [] for s in SIDES}
    for rep in reps:
        if rep.get("side") in by_side:
            by_side[rep["side"]].append(rep)
    right, left = summarize_side(by_side["right"]), summarize_side(by_side["left"])
    return Summary(right, left, asymmetry_pct(right.max_separation_deg, left.max_separation_deg))


def source_label(source: Mapping[str, Any], width: int | None = None) -> str:
    """Short human name of a source: a file's name or ``camera N``."""
    path = str(source.get("path") or "")
    if not path or path.startswith("camera"):
        label = path.replace(":", " ") if path else "camera"
    else:
        label = PurePath(path).name or path
    if width is not None and len(label) > width:
        label = label[: max(width - 1, 1)] + "…"
    return label
