"""The hold/rep state machine: neutral -> rotating -> holding -> returning, per side.

Pure and deterministic: it sees only RotationSamples (with their timestamps) and never
reads a clock. One instance follows one session; ``reset()`` starts over. What it
records and shows (:class:`Rep`, :class:`CoachState`) is in ``coach_state.py``.

Over 400 lines on purpose: it is one state machine whose transitions share private state
(the rep in progress, the hold reference, the recent samples, the speed window);
splitting the transitions across modules would scatter those invariants.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TypeGuard

from posecoach.analysis import events as ev
from posecoach.analysis.coach_state import CoachState, Rep
from posecoach.analysis.movement import MIN_JERK_PEAK, movement_duration
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import Alert, Fault, Instruction, Pause, Phase, Reason, Side, SideOrder

__all__ = ["Coach", "CoachState", "Rep", "side_of"]

CALIBRATING, NEUTRAL, ROTATING, HOLDING, RETURNING, REST, DONE = Phase
PELVIS_FAULT, TOO_FAST, HOLD_BROKEN, WRONG_SIDE = Fault

_SPEED_WINDOW_S = 0.3   # angular speed = least-squares slope over this window
_SETTLE_S = 0.3         # speed must stay below the settle threshold this long
_FAULT_PERSIST_S = 0.25  # a pelvis or speed excess must last at least this long to count
_LOST_ENDS_REP_S = 5.0  # tracking lost this long mid-rep ends the rep
_LEAVE_PERSIST_S = 0.2  # below the end range this long = the hold has ended
_FAST_WARNING_S = 2.0   # how long the "too fast" warning stays up after a fast turn
_PATH_S = 10.0          # how long the path of the movement is kept (a turn, or a return after a hold)


def _finite(value: float | None) -> TypeGuard[float]:
    return value is not None and math.isfinite(value)


def _plausible(angle: float | None) -> TypeGuard[float]:
    """A finite angle within one turn (anything else is a broken measurement)."""
    return _finite(angle) and abs(angle) <= 360.0


def side_of(angle: float) -> Side:
    return Side.RIGHT if angle > 0 else Side.LEFT


class Coach:
    """Follow a protocol from a stream of RotationSamples; collect reps and events."""

    def __init__(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.reset()

    def reset(self) -> None:
        self.reps: list[Rep] = []
        self.events: list[ev.CoachEvent] = []
        self._phase = CALIBRATING
        self._rep: Rep | None = None
        self._history: deque[tuple[float, float]] = deque()   # (t, separation) for speed
        self._path: deque[tuple[float, float]] = deque()      # (t, trunk) to time the movements
        self._set_index = 1
        self._set_counts = {"right": 0, "left": 0}
        self._hold_ref = 0.0
        self._settled_since: float | None = None
        # Time the pelvis has read past the limit in this rep's turn and hold, less the time
        # since spent within it; the pelvis counts as turned once that outlasts the pelvis
        # picture's transients (RotationSample.pelvis_transient_s).
        self._pelvis_over_s = 0.0
        self._pelvis_checked_t: float | None = None
        self._pelvis_turned = False
        self._pending_s = 0.0   # hold time counted while the pelvis read past the limit, unjudged
        # (t, |pelvis|) over the last persistence window: the level it has read throughout
        self._pelvis_levels: deque[tuple[float, float]] = deque()
        # Hold time counted since the angle last stood within the arrival band of the hold level
        # (``_hold_band``): a dip that comes back keeps it, a departure takes it back. It never
        # completes a hold, so whether a hold counts does not depend on how soon a departure is
        # recognised.
        self._unsure_s = 0.0
        self._in_band_t: float | None = None
        self._fast_since: float | None = None
        self._fast_warning_until = -math.inf
        self._movement_peak_speed = 0.0   # peak |speed| of the turn or return in progress
        self._peak_motion = 0.0           # largest |trunk angle| of the rep in progress
        self._last_t: float | None = None
        self._last_tracked_t: float | None = None
        self._tracking = True
        self._paused_reason: Pause | None = None
        self._ticks = 0
        self._rest_until = 0.0
        self._speed = 0.0
        self._last_hold_t = 0.0
        self._below_since: float | None = None
        # (t, motion, ok, separation, separation's uncertainty), signed to the rep side
        self._recent: deque[tuple[float, float, bool, float, float | None]] = deque()

    # ----------------------------------------------------------------- helpers
    @property
    def phase(self) -> Phase:
        return self._phase

    def _emit(self, t: float, kind: ev.EventKind, side: Side | None = None, **data) -> None:
        self.events.append(ev.CoachEvent(t=t, kind=kind, side=side, data=data))

    def expected_side(self) -> Side:
        need = self.protocol.holds_per_side
        right_full = self._set_counts["right"] >= need
        left_full = self._set_counts["left"] >= need
        if right_full != left_full:
            return Side.LEFT if right_full else Side.RIGHT
        order = self.protocol.side_order
        if order == SideOrder.RIGHT_THEN_LEFT:
            return Side.RIGHT
        if order == SideOrder.LEFT_THEN_RIGHT:
            return Side.LEFT
        set_reps = [r for r in self.reps if r.set_index == self._set_index]
        if order == SideOrder.FIRST_TURN_THEN_OTHER:
            # the side the person set up for (the knee in front) until it is full
            return set_reps[0].side if set_reps else Side(self.protocol.first_side)
        if not set_reps:
            return Side(self.protocol.first_side)
        return Side.LEFT if set_reps[-1].side == Side.RIGHT else Side.RIGHT

    def _announce_next(self, t: float) -> None:
        side = self.expected_side()
        self._emit(t, ev.ROTATE_NOW, side=side, breath="exhale", number=self._set_counts[side] + 1)

    def _speed_at(self, t: float, separation: float) -> float:
        history = self._history
        history.append((t, separation))
        while history and history[0][0] < t - _SPEED_WINDOW_S:
            history.popleft()
        if len(history) < 3:
            return 0.0
        ts = [h[0] for h in history]
        xs = [h[1] for h in history]
        mt, mx = sum(ts) / len(ts), sum(xs) / len(xs)
        var = sum((a - mt) ** 2 for a in ts)
        if var <= 0:
            return 0.0
        return sum((a - mt) * (b - mx) for a, b in zip(ts, xs)) / var

    # ----------------------------------------------------------------- main step
    def update(self, sample: RotationSample) -> CoachState:
        """Advance with one sample.

        Time never goes backwards: a sample older than the previous one, or without a
        finite time, changes nothing and the state keeps the previous time. A separation
        that is not a finite angle within one turn counts as not tracked.
        """
        t = sample.t
        if not _finite(t) or (self._last_t is not None and t < self._last_t):
            if self._last_t is None:
                self._last_t = 0.0  # a session's time starts at 0
            return self.state(self._last_t)
        self._last_t = t
        if self._phase == CALIBRATING:
            if sample.calibrated:
                self._phase = NEUTRAL
                self._emit(t, ev.CALIBRATED)
                self._announce_next(t)
            return self.state(t)
        if self._phase == DONE:
            return self.state(t)
        if self._phase == REST:
            if t >= self._rest_until:
                self._phase = NEUTRAL
                self._emit(t, ev.REST_OVER, set=self._set_index)
                self._announce_next(t)
            else:
                return self.state(t)

        if not sample.tracked or not _plausible(sample.separation_deg):
            self._on_untracked(t, sample.reason or Reason.TRACKING)
            return self.state(t)
        if not self._tracking:
            self._tracking = True
            self._history.clear()
            self._path.clear()   # no movement is timed across the gap
            self._last_hold_t = t  # the time without tracking neither counts nor breaks the hold
            self._emit(t, ev.TRACKING_REGAINED)
        self._last_tracked_t = t
        separation = sample.separation_deg
        assert separation is not None  # plausible, checked above
        pelvis = sample.pelvis_deg if _plausible(sample.pelvis_deg) else 0.0
        # The movement is followed on the trunk (what the person turns); a pelvis turning
        # with it shrinks the separation but is still a rotation, to be coached as a fault.
        motion = sample.trunk_deg if _plausible(sample.trunk_deg) else separation
        self._speed = self._speed_at(t, motion)
        self._path.append((t, motion))
        while self._path[0][0] < t - _PATH_S:
            self._path.popleft()
        err = sample.separation_err_deg if _finite(sample.separation_err_deg) else None
        self._step(t, motion, separation, pelvis, err, sample.pelvis_transient_s)
        return self.state(t)

    def _on_untracked(self, t: float, reason: Reason) -> None:
        if self._tracking:
            self._tracking = False
            self._emit(t, ev.TRACKING_LOST, reason=reason)
        if self._phase == HOLDING and self._paused_reason != Pause.TRACKING:
            assert self._rep is not None  # a hold belongs to a rep
            self._paused_reason = Pause.TRACKING
            self._emit(t, ev.HOLD_PAUSED, side=self._rep.side, reason=Pause.TRACKING)
        if self._rep is not None and self._last_tracked_t is not None and t - self._last_tracked_t > _LOST_ENDS_REP_S:
            self._finish_rep(self._last_tracked_t)

    def _step(self, t: float, motion: float, separation: float, pelvis: float, err: float | None,
              pelvis_transient_s: float | None) -> None:
        th = self.protocol.thresholds
        magnitude = abs(motion)
        if self._phase == NEUTRAL:
            if magnitude > th.neutral_deg:
                self._start_rep(t, motion)
            else:
                return
        rep = self._rep
        assert rep is not None
        same_side = side_of(motion) == rep.side or magnitude <= th.neutral_deg
        signed = magnitude if same_side else -magnitude
        rep_separation = separation if rep.side == Side.RIGHT else -separation
        rep.peak_separation_deg = max(rep.peak_separation_deg, rep_separation)
        # The pelvis fault is turning the pelvis with the trunk: judged on the turn and the hold.
        # On the way back a turned pelvis can only come back with the trunk, while the picture
        # the pelvis is read from changes most then (clothing settling as the trunk sweeps
        # back): on rendered clips with a still pelvis, 7 of the 10 reps whose pelvis read
        # over 9 deg read it only there.
        judged_pelvis = pelvis if self._phase in (ROTATING, HOLDING) else 0.0
        rep.peak_speed_dps = max(rep.peak_speed_dps, abs(self._speed))
        if self._phase != HOLDING:
            self._movement_peak_speed = max(self._movement_peak_speed, abs(self._speed))
        self._peak_motion = max(self._peak_motion, signed)
        self._check_faults(t, rep, judged_pelvis, pelvis_transient_s)
        # Only a pelvis judged turned stops the hold's timer; until a reading past the limit has
        # outlasted the picture's transients, its time counts provisionally (``_pending_s``).
        pelvis_ok = PELVIS_FAULT not in rep.faults or abs(pelvis) <= th.pelvis_resume_deg
        self._recent.append((t, signed, pelvis_ok, rep_separation, err))

        if self._phase == ROTATING:
            if signed <= th.neutral_deg:
                self._finish_rep(t)
                return
            settled = abs(self._speed) < th.settle_speed_dps and signed >= th.min_end_range_deg
            if not settled:
                self._settled_since = None
                return
            if self._settled_since is None:
                self._settled_since = t
            if t - self._settled_since >= _SETTLE_S:
                self._start_hold(t, signed)
        elif self._phase == HOLDING:
            self._hold_step(t, signed, pelvis_ok, rep_separation, err)
        elif self._phase == RETURNING and signed <= th.neutral_deg:
            self._finish_rep(t)

    def _check_faults(self, t: float, rep: Rep, pelvis: float, pelvis_transient_s: float | None) -> None:
        th = self.protocol.thresholds
        # The picture's transients, but never more than half the hold: a reading past the limit
        # through most of a short pause (the range test's 2 s) is the pelvis turned.
        persist = max(_FAULT_PERSIST_S, min(pelvis_transient_s or 0.0, self.protocol.hold_s / 2))
        self._judge_pelvis(t, rep, abs(pelvis) > th.pelvis_limit_deg, persist)
        self._record_pelvis(t, rep, abs(pelvis), persist)
        if abs(self._speed) > th.too_fast_dps:
            self._fast_since = self._fast_since if self._fast_since is not None else t
            if t - self._fast_since >= _FAULT_PERSIST_S / 2:
                self._flag_too_fast(t, rep)
        else:
            self._fast_since = None

    def _reset_pelvis(self) -> None:
        self._pelvis_over_s = 0.0
        self._pelvis_checked_t = None
        self._pelvis_turned = False
        self._pending_s = 0.0
        self._pelvis_levels.clear()

    def _judge_pelvis(self, t: float, rep: Rep, over: bool, persist_s: float) -> None:
        """The pelvis fault: the pelvis read past the limit for ``persist_s``, counted as time
        over it less the time since within it, so that a reading hovering at the limit adds
        up while the picture's brief transients do not. Once the rep has the fault, every
        reading past the limit is the pelvis turned."""
        dt = 0.0 if self._pelvis_checked_t is None else max(0.0, t - self._pelvis_checked_t)
        self._pelvis_checked_t = t
        self._pelvis_over_s = self._pelvis_over_s + dt if over else max(0.0, self._pelvis_over_s - dt)
        self._pelvis_turned = over and (PELVIS_FAULT in rep.faults or self._pelvis_over_s >= persist_s)
        self._pending_s = self._pending_s + dt if over and PELVIS_FAULT not in rep.faults else 0.0
        if self._pelvis_turned and rep.add_fault(PELVIS_FAULT):
            if not rep.completed:   # the time it read past the limit was the turn: no hold
                rep.hold_s = max(0.0, rep.hold_s - self._pending_s)
                # nor may a hold starting now count it (its start is backdated to the arrival)
                since = t - self._pending_s
                self._recent = deque((st, m, ok and st <= since, sep, e) for st, m, ok, sep, e in self._recent)
            self._pending_s = 0.0
            self._emit(t, ev.FAULT, side=rep.side, fault=PELVIS_FAULT)

    def _record_pelvis(self, t: float, rep: Rep, magnitude: float, persist_s: float) -> None:
        """The rep's largest pelvis turn: a level the pelvis read for at least ``persist_s``,
        or any reading judged a turn (with those of the window that made it one). A momentary
        reading that the coach took for the picture's transient (or that the pelvis cue's own
        checks set aside a moment later) is no turn, so the report does not show it as one."""
        levels = self._pelvis_levels
        levels.append((t, magnitude))
        while len(levels) > 1 and levels[1][0] <= t - persist_s:
            levels.popleft()
        if levels[0][0] <= t - persist_s:
            rep.max_pelvis_deg = max(rep.max_pelvis_deg, min(level for _, level in levels))
        if self._pelvis_turned:   # the readings that made it a turn were the turn too
            rep.max_pelvis_deg = max(rep.max_pelvis_deg, max(level for _, level in levels))

    def _judge_movement(self, t: float, rep: Rep, amplitude: float, rising: bool) -> None:
        """Judge the turn (``rising``) or return just ended: too fast when, as a smooth
        movement, it would have covered ``amplitude`` in less than the protocol's
        ``min_turn_s``. Its duration is read from when it crossed a fifth and four fifths of
        its range (movement.py), or, when it did not cross both, from its peak speed. Being
        relative to the amplitude, a large turn at the drill's pace is not punished for its
        range."""
        th = self.protocol.thresholds
        peak, self._movement_peak_speed = self._movement_peak_speed, 0.0
        if amplitude < th.min_end_range_deg:
            return
        toward = 1.0 if rep.side == Side.RIGHT else -1.0
        path = [(when, toward * angle) for when, angle in self._path]
        duration = movement_duration(path, amplitude, rising, floor=th.neutral_deg)
        if duration is None and peak > 0.0:
            duration = MIN_JERK_PEAK * amplitude / peak
        if duration is not None and duration < th.min_turn_s:
            self._flag_too_fast(t, rep)

    def _flag_too_fast(self, t: float, rep: Rep) -> None:
        self._fast_warning_until = t + _FAST_WARNING_S
        if rep.add_fault(TOO_FAST):
            self._emit(t, ev.FAULT, side=rep.side, fault=TOO_FAST)

    def _start_rep(self, t: float, separation: float) -> None:
        side = side_of(separation)
        expected = self.expected_side()
        if (self.protocol.side_order in (SideOrder.ALTERNATE, SideOrder.FIRST_TURN_THEN_OTHER)
                and not any(r.set_index == self._set_index for r in self.reps)
                and self._set_counts["right"] == self._set_counts["left"] == 0):
            # the first turn of a set chooses its side: the coach asks for ``first_side``, but
            # alternating from the left is the drill too; only a break in the order is a fault
            expected = side
        self._rep = Rep(side=side, start_s=t, set_index=self._set_index, expected_side=expected)
        self._phase = ROTATING
        self._settled_since = None
        self._reset_pelvis()
        self._recent.clear()
        self._ticks = 0
        self._movement_peak_speed = abs(self._speed)
        self._peak_motion = abs(separation)
        if side != expected:
            self._rep.add_fault(WRONG_SIDE)
            self._emit(t, ev.WRONG_SIDE, side=side, expected=expected)

    @staticmethod
    def _hold_band(level: float) -> float:
        """How far below ``level`` (degrees) the angle still stands at it: the arrival band."""
        return max(2.5, 0.06 * level)

    def _arrival_time(self, level: float) -> float:
        """When the angle first came within the arrival band of ``level`` (backdating the hold)."""
        band = self._hold_band(level)
        arrival = self._recent[-1][0]
        for t, angle, *_ in reversed(self._recent):
            if angle < level - band:
                break
            arrival = t
        return arrival

    def _start_hold(self, t: float, level: float) -> None:
        rep = self._rep
        assert rep is not None
        start = self._arrival_time(level)
        self._judge_movement(t, rep, self._peak_motion, rising=True)
        rep.hold_start_s = start
        self._hold_ref = level
        self._below_since = None
        self._unsure_s = 0.0
        self._in_band_t = t
        self._phase = HOLDING
        self._paused_reason = None
        self._ticks = 0
        # Credit the time between arrival and detection.
        previous = None
        for sample_t, _, ok, separation, err in self._recent:
            if sample_t < start:
                continue
            if previous is not None:
                dt = sample_t - previous
                rep.end_range_s += dt
                if ok:
                    rep.hold_s += dt
            rep.add_hold_sample(separation, err)
            previous = sample_t
        self._last_hold_t = t
        self._emit(start, ev.HOLD_STARTED, side=rep.side, angle=round(level, 1))
        self._tick(t)

    def _hold_step(self, t: float, angle: float, pelvis_ok: bool, separation: float, err: float | None) -> None:
        th = self.protocol.thresholds
        rep = self._rep
        assert rep is not None
        if angle < max(self._hold_ref - th.end_range_tolerance_deg, th.min_end_range_deg * 0.75):
            # A departure must last: a one-frame dip (a shake, a glitch) is not leaving.
            if self._below_since is None:
                self._below_since = t
            if t - self._below_since >= _LEAVE_PERSIST_S or angle <= th.neutral_deg:
                self._leave_hold(t)
                return
        else:
            self._below_since = None
        dt = t - self._last_hold_t
        self._last_hold_t = t
        rep.end_range_s += dt
        rep.add_hold_sample(separation, err)
        in_band = angle >= self._hold_ref - self._hold_band(self._hold_ref)
        if in_band:
            self._in_band_t = t
            self._unsure_s = 0.0
        # The reference follows a slow drift at end range, never a departure.
        self._hold_ref += 0.05 * (angle - self._hold_ref)
        if pelvis_ok and self._tracking:
            if self._paused_reason is not None:
                self._paused_reason = None
                self._emit(t, ev.HOLD_RESUMED, side=rep.side)
            rep.hold_s += dt
            if not in_band:
                self._unsure_s += dt
        elif not pelvis_ok and self._paused_reason != Pause.PELVIS:
            self._paused_reason = Pause.PELVIS
            self._emit(t, ev.HOLD_PAUSED, side=rep.side, reason=Pause.PELVIS)
        self._tick(t)

    def _held_s(self, rep: Rep) -> float:
        """The hold's time that counts for sure: not what the pelvis may yet turn out to cost,
        nor the time below the hold's level that may yet turn out to be the return."""
        return max(0.0, rep.hold_s - self._pending_s - self._unsure_s)

    def _tick(self, t: float) -> None:
        rep = self._rep
        assert rep is not None
        held = self._held_s(rep)
        while not rep.completed and self._ticks + 1 <= min(held, self.protocol.hold_s) + 1e-6:
            self._ticks += 1
            remaining = self.protocol.hold_s - self._ticks
            self._emit(t, ev.HOLD_TICK, side=rep.side, second=self._ticks, remaining=round(remaining, 1))
        if not rep.completed and held >= self.protocol.hold_s - 1e-6:
            rep.completed = True
            self._emit(t, ev.HOLD_COMPLETE, side=rep.side, breath="inhale")

    def _leave_hold(self, t: float) -> None:
        rep = self._rep
        assert rep is not None
        # The hold ended when the angle last stood within the arrival band of the hold level
        # (as the level then was: the reference chases a departure too).
        end = t if self._in_band_t is None else self._in_band_t
        # the samples after it were the departure, not the hold
        departure = [(st, ok) for st, _, ok, *_ in self._recent if end < st <= t]
        previous = end
        for st, ok in departure:
            dt = st - previous
            rep.end_range_s -= dt
            if ok and not rep.completed:
                rep.hold_s -= dt
            previous = st
        rep.hold_s = max(rep.hold_s, 0.0)
        rep.end_range_s = max(rep.end_range_s, 0.0)
        rep.hold_end_s = end
        held = [(sep, err) for st, _, _, sep, err in self._recent
                if rep.hold_start_s is not None and rep.hold_start_s <= st <= end]
        if held:
            rep.reset_hold_samples(held)
        self._paused_reason = None
        self._phase = RETURNING
        if rep.completed:
            return
        if rep.end_range_s < self.protocol.hold_s - 1e-6:
            rep.add_fault(HOLD_BROKEN)
            self._emit(t, ev.HOLD_BROKEN, side=rep.side, held_s=round(rep.end_range_s, 1))

    def _finish_rep(self, t: float) -> None:
        rep = self._rep
        assert rep is not None
        self._rep = None
        self._phase = NEUTRAL
        self._paused_reason = None
        self._recent.clear()
        self._judge_movement(t, rep, self._peak_motion, rising=False)  # the return (or a turn never held)
        if rep.hold_start_s is None:
            if rep.peak_separation_deg < self.protocol.thresholds.min_end_range_deg:
                return  # a small excursion, not a rep
            rep.add_fault(HOLD_BROKEN)  # reached end range but never held
        elif rep.hold_end_s is None:
            rep.hold_end_s = t
        rep.end_s = t
        if rep.completed and HOLD_BROKEN in rep.faults:
            rep.faults.remove(HOLD_BROKEN)
        self.reps.append(rep)
        if rep.completed:
            self._set_counts[rep.side] += 1
        self._emit(t, ev.REP_DONE, side=rep.side, completed=rep.completed, faults=list(rep.faults))
        need = self.protocol.holds_per_side
        if self._set_counts["right"] >= need and self._set_counts["left"] >= need:
            self._emit(t, ev.SET_COMPLETE, set=self._set_index)
            if self._set_index >= self.protocol.sets:
                self._phase = DONE
                self._emit(t, ev.SESSION_COMPLETE)
                return
            self._set_index += 1
            self._set_counts = {"right": 0, "left": 0}
            self._phase = REST
            self._rest_until = t + self.protocol.rest_s
            self._emit(t, ev.REST)
            return
        self._announce_next(t)

    # ----------------------------------------------------------------- views
    def _instruction(self) -> Instruction:
        rep = self._rep
        if self._phase == CALIBRATING:
            return Instruction.CALIBRATE
        if self._phase == DONE:
            return Instruction.DONE
        if self._phase == REST:
            return Instruction.REST
        if self._phase == HOLDING and rep is not None:
            if rep.completed:
                return Instruction.HOLD_COMPLETE
            if self._paused_reason == Pause.PELVIS:
                return Instruction.HOLD_PAUSED_PELVIS
            if self._paused_reason == Pause.TRACKING:
                return Instruction.HOLD_PAUSED_TRACKING
            return Instruction.HOLD
        if self._phase == RETURNING:
            return Instruction.RETURN
        return Instruction.ROTATE

    def state(self, t: float) -> CoachState:
        rep = self._rep
        expected = self.expected_side() if self._phase not in (DONE, CALIBRATING) else None
        warnings = []
        if rep is not None and self._pelvis_turned:
            warnings.append(Alert.PELVIS)
        if self._fast_since is not None or t < self._fast_warning_until:
            warnings.append(Alert.TOO_FAST)
        if not self._tracking:
            warnings.append(Alert.TRACKING)
        return CoachState(
            t=t, phase=self._phase, side=rep.side if rep else None, expected_side=expected,
            hold_progress_s=min(self._held_s(rep), self.protocol.hold_s) if rep else 0.0,
            hold_target_s=self.protocol.hold_s, paused_reason=self._paused_reason,
            completed=dict(self._set_counts), required_per_side=self.protocol.holds_per_side,
            set_index=self._set_index, sets=self.protocol.sets, instruction=self._instruction(),
            rest_remaining_s=max(0.0, self._rest_until - t) if self._phase == REST else 0.0,
            warnings=tuple(warnings),
        )

    def discard_rep(self, since: float) -> bool:
        """Forget the rep in progress if it began at or after ``since`` (the turn a raised arm
        seems to make, not the drill's); True when one was dropped. Its events stay said."""
        rep = self._rep
        if rep is None or rep.start_s < since or self._phase not in (ROTATING, HOLDING, RETURNING):
            return False
        self._rep = None
        self._phase = NEUTRAL
        self._paused_reason = None
        self._recent.clear()
        self._settled_since = self._below_since = self._fast_since = None
        self._reset_pelvis()
        self._movement_peak_speed = self._peak_motion = 0.0
        return True

    def shift_time(self, seconds: float) -> None:
        """Resume after ``seconds`` of paused coaching: every timer goes on where it stood.

        The hold, the rest, the settling and the fault timers move forward by the pause,
        so the time it lasted neither counts nor breaks anything; the reps keep the times
        at which things really happened.
        """
        if not _finite(seconds) or seconds <= 0.0:
            return

        def later(value: float | None) -> float | None:
            return None if value is None else value + seconds

        self._last_t = later(self._last_t)
        self._last_tracked_t = later(self._last_tracked_t)
        self._settled_since = later(self._settled_since)
        self._pelvis_checked_t = later(self._pelvis_checked_t)
        self._fast_since = later(self._fast_since)
        self._below_since = later(self._below_since)
        self._fast_warning_until += seconds
        self._rest_until += seconds
        self._last_hold_t += seconds
        self._history = deque((t + seconds, a) for t, a in self._history)
        self._path = deque((t + seconds, a) for t, a in self._path)
        self._recent = deque((t + seconds, m, ok, sep, err) for t, m, ok, sep, err in self._recent)
        self._pelvis_levels = deque((t + seconds, level) for t, level in self._pelvis_levels)

    def finish(self, t: float) -> None:
        """End of the source: close a rep in progress so it is recorded."""
        if self._rep is not None:
            if self._phase == HOLDING:
                self._leave_hold(t)
            self._finish_rep(t)

