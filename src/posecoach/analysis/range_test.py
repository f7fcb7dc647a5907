"""The rotation range test: score its trials per side, and follow its results over sessions.

Pure (stdlib only). A trial is one rep of a range-test protocol, as the coach records it
(the rep's record of DESIGN.md section 5), so the coach's state machine decides what a
trial is. A trial's value is the mean separation over its end-range pause, not the peak:
the person is asked to pause at the end, and the mean over the ~60 frames of the pause
averages out frame-to-frame estimation noise, while the peak picks the largest noise
excursion and any momentary overshoot of a swing (biased upward, and more so with a
noisier picture), which is not range the person controls.

The smallest change that is more than noise is the minimal detectable change at 95%,
``MDC95 = 1.96 * sqrt(2) * SEM``: SEM is the within-session SD of the counted trials,
pooled over the sessions and sides (how much one trial differs from the next), but never
less than the part of the estimator's per-trial uncertainty that does not cancel between
two tests of the same person. That uncertainty is mostly a per-person gain error (how far
the hands sit in front of the chest, how much MediaPipe's depth compresses this body's
turn: the fusion model's ``per_degree`` term), the same in every test of that person and
so gone from a change; what remains (the ``base`` term and the pelvis) is the floor. It is
the SEM of one trial, used for the mean of ~3: cautious, as the trial-to-trial spread of
one session misses the day-to-day differences (camera placed again, other clothes).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from posecoach.analysis.fusion_model import DEFAULT_MODEL
from posecoach.analysis.summary import asymmetry_pct
from posecoach.analysis.vocabulary import Fault, Side, Trend, TrialStatus

Z90 = 1.645   # the estimator's uncertainty is a ~90% half-width: SD = err / Z90
Z95 = 1.96


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Trial:
    """One turn to the end of the range and its pause. Angles are magnitudes in degrees.

    ``value_deg`` is the mean separation over the pause, ``pelvis_deg`` the largest pelvis
    turn of the trial, ``err_deg`` the estimator's ~90% half-width over the pause.
    """

    side: Side
    number: int                 # 1-based, among the trials to its side
    value_deg: float | None
    peak_deg: float | None
    pelvis_deg: float | None
    err_deg: float | None
    status: TrialStatus

    @property
    def counts(self) -> bool:
        return self.status == TrialStatus.OK

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "number": self.number, "value_deg": _r(self.value_deg),
                "peak_deg": _r(self.peak_deg), "pelvis_deg": _r(self.pelvis_deg),
                "err_deg": _r(self.err_deg), "status": self.status}


@dataclass(frozen=True)
class SideResult:
    """One side's trials and what they add up to (None where no trial counts).

    ``spread_deg`` (max - min) and ``sd_deg`` need two counted trials; ``uncertainty_deg`` is
    the ~90% half-width of ``mean_deg``: the estimator's uncertainty (which does not average
    out over trials: it is mostly the same bias every time) combined with the scatter of the
    trials' mean. The side passes when its best counted trial reaches the pass mark.
    """

    side: Side
    trials: tuple[Trial, ...]
    pass_mark_deg: float
    best_deg: float | None
    mean_deg: float | None
    spread_deg: float | None
    sd_deg: float | None
    uncertainty_deg: float | None

    @property
    def counted(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.counts)

    @property
    def passed(self) -> bool | None:
        return None if self.best_deg is None else self.best_deg >= self.pass_mark_deg

    def to_dict(self) -> dict[str, Any]:
        return {"best_deg": _r(self.best_deg), "mean_deg": _r(self.mean_deg),
                "spread_deg": _r(self.spread_deg), "sd_deg": _r(self.sd_deg),
                "uncertainty_deg": _r(self.uncertainty_deg), "passed": self.passed,
                "counted": len(self.counted), "trials": [t.to_dict() for t in self.trials]}


@dataclass(frozen=True)
class RangeTestResult:
    """Both sides of one range test, their asymmetry (of the best trials) and the pass mark."""

    right: SideResult
    left: SideResult
    pass_mark_deg: float
    pelvis_limit_deg: float | None = None

    def side(self, name: str) -> SideResult:
        if name not in (Side.RIGHT, Side.LEFT):
            raise ValueError(f"unknown side {name!r}")
        return self.right if name == Side.RIGHT else self.left

    @property
    def asymmetry_deg(self) -> float | None:
        """|right - left| of the best trials."""
        r, lft = self.right.best_deg, self.left.best_deg
        return None if r is None or lft is None else abs(r - lft)

    @property
    def asymmetry_pct(self) -> float | None:
        return asymmetry_pct(self.right.best_deg, self.left.best_deg)

    @property
    def smaller_side(self) -> Side | None:
        r, lft = self.right.best_deg, self.left.best_deg
        if r is None or lft is None or r == lft:
            return None
        return Side.RIGHT if r < lft else Side.LEFT

    @property
    def passed(self) -> bool | None:
        """Both sides passed (None while a side has no counted trial)."""
        sides = (self.right.passed, self.left.passed)
        return None if None in sides else all(sides)

    def to_dict(self) -> dict[str, Any]:
        return {"pass_mark_deg": self.pass_mark_deg, "pelvis_limit_deg": self.pelvis_limit_deg,
                "right": self.right.to_dict(), "left": self.left.to_dict(),
                "asymmetry_deg": _r(self.asymmetry_deg), "asymmetry_pct": _r(self.asymmetry_pct),
                "smaller_side": self.smaller_side, "passed": self.passed}


def _magnitude(value: Any) -> float | None:
    return None if value is None else abs(float(value))


def trial_status(rep: Mapping[str, Any]) -> TrialStatus:
    """Why a rep does or does not count as a trial (the pelvis first: it voids any trial).

    The pelvis counts when the coach flagged it (beyond the limit for longer than the pelvis
    picture's transients, at most half the pause), so a glitch does not void a trial.
    """
    if Fault.PELVIS_ROTATION in (rep.get("faults") or ()):
        return TrialStatus.PELVIS
    if rep.get("mean_hold_separation_deg") is None:
        return TrialStatus.NO_PAUSE
    if not rep.get("completed"):
        return TrialStatus.SHORT_PAUSE
    return TrialStatus.OK


def score_side(side: Side, reps: Sequence[Mapping[str, Any]], pass_mark_deg: float) -> SideResult:
    """Score the trials to one side, in the order they were made."""
    trials = tuple(
        Trial(side=side, number=i, value_deg=_magnitude(rep.get("mean_hold_separation_deg")),
              peak_deg=_magnitude(rep.get("peak_separation_deg")), pelvis_deg=_magnitude(rep.get("max_pelvis_deg")),
              err_deg=_magnitude(rep.get("mean_hold_err_deg")), status=trial_status(rep))
        for i, rep in enumerate(reps, start=1))
    values = [t.value_deg for t in trials if t.counts and t.value_deg is not None]
    errs = [t.err_deg for t in trials if t.counts and t.err_deg is not None]
    n = len(values)
    sd = statistics.stdev(values) if n >= 2 else None
    uncertainty = None
    if errs or sd is not None:
        estimator = statistics.fmean(errs) if errs else 0.0
        scatter = Z90 * sd / math.sqrt(n) if sd is not None else 0.0
        uncertainty = math.hypot(estimator, scatter)
    return SideResult(
        side=side, trials=trials, pass_mark_deg=pass_mark_deg,
        best_deg=max(values) if values else None,
        mean_deg=statistics.fmean(values) if values else None,
        spread_deg=max(values) - min(values) if n >= 2 else None,
        sd_deg=sd, uncertainty_deg=uncertainty)


def score_range_test(reps: Iterable[Mapping[str, Any]], pass_mark_deg: float,
                     pelvis_limit_deg: float | None = None) -> RangeTestResult:
    """Score a range test from its rep records (``side``, ``completed``, ``faults``,
    ``mean_hold_separation_deg``, ``peak_separation_deg``, ``max_pelvis_deg``,
    ``mean_hold_err_deg`` are read; other sides are ignored)."""
    by_side: dict[str, list[Mapping[str, Any]]] = {Side.RIGHT: [], Side.LEFT: []}
    for rep in reps:
        if rep.get("side") in by_side:
            by_side[rep["side"]].append(rep)
    return RangeTestResult(
        right=score_side(Side.RIGHT, by_side[Side.RIGHT], pass_mark_deg),
        left=score_side(Side.LEFT, by_side[Side.LEFT], pass_mark_deg),
        pass_mark_deg=pass_mark_deg, pelvis_limit_deg=pelvis_limit_deg)


def result_from_document(protocol: Mapping[str, Any], reps: Iterable[Mapping[str, Any]]) -> RangeTestResult | None:
    """The range-test result of a stored session or analysis document (None for a drill)."""
    if protocol.get("kind") != "range-test" or protocol.get("pass_mark_deg") is None:
        return None
    return score_range_test(reps, float(protocol["pass_mark_deg"]), _magnitude(protocol.get("pelvis_limit_deg")))


# ------------------------------------------------------------------------------ trend
@dataclass(frozen=True)
class Noise:
    """The smallest change that is more than noise, and where it comes from (degrees)."""

    pooled_sd_deg: float | None    # within-session trial SD pooled over sessions and sides
    df: int                        # its degrees of freedom
    floor_deg: float | None        # the estimator's per-trial uncertainty a change keeps, as an SD
    sem_deg: float | None          # max of the two
    mdc_deg: float | None          # 1.96 * sqrt(2) * SEM


def _change_err(trial: Trial) -> float:
    """A trial's uncertainty without the per-person gain error, which a change cancels."""
    u = DEFAULT_MODEL.uncertainty
    gain_part = u.scale * u.per_degree * abs(trial.value_deg or 0.0)
    assert trial.err_deg is not None
    return max(trial.err_deg - gain_part, u.scale * u.base)


def noise_of(results: Iterable[RangeTestResult]) -> Noise:
    """Pool the trial scatter of all ``results`` into an SEM and an MDC95."""
    squares, df, errs = 0.0, 0, []
    for result in results:
        for side in (result.right, result.left):
            values = [t.value_deg for t in side.counted if t.value_deg is not None]
            errs += [_change_err(t) for t in side.counted if t.err_deg is not None]
            if len(values) >= 2:
                squares += (len(values) - 1) * statistics.variance(values)
                df += len(values) - 1
    pooled = math.sqrt(squares / df) if df else None
    floor = statistics.median(errs) / Z90 if errs else None
    known = [x for x in (pooled, floor) if x is not None]
    sem = max(known) if known else None
    return Noise(pooled_sd_deg=pooled, df=df, floor_deg=floor, sem_deg=sem,
                 mdc_deg=Z95 * math.sqrt(2.0) * sem if sem is not None else None)


def classify(change_deg: float, mdc_deg: float | None) -> Trend | None:
    """A change against the MDC: beyond it either way is real; None when the noise is unknown."""
    if mdc_deg is None:
        return None
    if change_deg > mdc_deg:
        return Trend.IMPROVED
    if change_deg < -mdc_deg:
        return Trend.WORSE
    return Trend.NO_REAL_CHANGE


@dataclass(frozen=True)
class TrendPoint:
    """One past range test."""

    session_id: int
    started_at: str
    result: RangeTestResult


@dataclass(frozen=True)
class SideChange:
    """A side's mean against an earlier test's: the change and what it means."""

    side: Side
    before_deg: float
    after_deg: float
    change_deg: float
    label: Trend | None


@dataclass(frozen=True)
class RangeTrend:
    """Range tests over time (oldest first) and the noise their changes are judged by."""

    points: tuple[TrendPoint, ...]
    noise: Noise

    def change(self, index: int, side: Side, against: int | None = None) -> SideChange | None:
        """Test ``index`` against test ``against`` (the one before by default), on the side means."""
        against = index - 1 if against is None else against
        if not 0 <= against < len(self.points) or not 0 <= index < len(self.points) or against == index:
            return None
        before = self.points[against].result.side(side).mean_deg
        after = self.points[index].result.side(side).mean_deg
        if before is None or after is None:
            return None
        delta = after - before
        return SideChange(side, before, after, delta, classify(delta, self.noise.mdc_deg))

    def overall(self, side: Side) -> SideChange | None:
        """The latest test against the first."""
        return self.change(len(self.points) - 1, side, against=0)

    def to_dict(self) -> dict[str, Any]:
        n = self.noise
        rows = []
        for i, p in enumerate(self.points):
            row: dict[str, Any] = {"session_id": p.session_id, "started_at": p.started_at}
            for side in (Side.RIGHT, Side.LEFT):
                s = p.result.side(side)
                c = self.change(i, side)
                row[side] = {"mean_deg": _r(s.mean_deg), "best_deg": _r(s.best_deg), "passed": s.passed,
                             "change_deg": _r(c.change_deg) if c else None, "trend": c.label if c else None}
            rows.append(row)
        return {"mdc_deg": _r(n.mdc_deg), "sem_deg": _r(n.sem_deg), "pooled_sd_deg": _r(n.pooled_sd_deg),
                "df": n.df, "floor_deg": _r(n.floor_deg), "tests": rows}


def range_trend(points: Iterable[TrendPoint]) -> RangeTrend:
    """The trend of these range tests (sorted by start time)."""
    ordered = tuple(sorted(points, key=lambda p: (p.started_at, p.session_id)))
    return RangeTrend(points=ordered, noise=noise_of(p.result for p in ordered))
