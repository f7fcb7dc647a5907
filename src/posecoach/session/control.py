"""Hands-free control of a coaching session: pause, resume and end, by gesture or by key.

Semantics (the same on a live camera and on a replayed file):

- *Paused coaching* keeps the frames flowing: the pose is still detected and measured
  (so a gesture can resume), but the coach sees nothing; its hold, rest and fault
  timers and its counts stand still, and on resume they go on where they stood (the
  paused time neither counts toward a hold nor breaks it). A rep made while paused is
  not counted.
- A *lifted hand* (the start of a gesture, :func:`~posecoach.analysis.gestures.hands_lifted`,
  judged against where the hands rested at calibration) holds the coach the same way until
  the hands are back down: a raised arm moves the
  landmarks the rotation is measured from, so the turn it seems to make is not coached (a
  rep it seemed to start is dropped) and the time the arm was up does not count.
- *Ending* closes the rep in progress and the session, as the end of a file does; its
  reps are stored.

The gesture detector (:mod:`posecoach.analysis.gestures`) is blocked until the estimator
has calibrated and while the person selector is unsure whom it follows. Keys (a
presenter remote's Page Up/Down, a headset's play/pause/stop) reach the same methods
through the live loop's commands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from posecoach.analysis.gestures import GestureDetector, GestureProgress, GestureSettings, GripReference, grip_reference, hands_lifted
from posecoach.analysis.vocabulary import Control, ControlSource, Gesture

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlEvent:
    """The session was paused, resumed or ended, at frame time ``t``."""

    t: float
    control: Control
    source: ControlSource

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.t, 3), "control": str(self.control), "source": str(self.source)}


@dataclass(frozen=True)
class ControlState:
    """The hands-free control after one frame, as the overlay shows it."""

    paused: bool = False                      # coaching paused (frames still flow)
    gesture: GestureProgress | None = None    # a gesture being made, before it fires
    gestures_on: bool = True
    lifted: bool = False                      # a hand is up from the grip: the coach waits for it


class SessionControl:
    """Whether the coaching runs, and the controls given since the caller last took them.

    Parameters
    ----------
    gestures : the gesture settings; None switches hands-free control off (keys still work).
    """

    def __init__(self, gestures: GestureSettings | None) -> None:
        self.detector = GestureDetector(gestures) if gestures is not None else None
        self.events: list[ControlEvent] = []    # every control of the session, in order
        self.reset()

    def reset(self) -> None:
        """A new session: running, nothing asked."""
        self.paused = False
        self.paused_at: float | None = None
        self.end_requested = False
        self.lifted = False                  # a hand is up (or was, less than lift_settle_s ago)
        self.lifted_at: float | None = None
        self._down_since: float | None = None
        self.grip: GripReference | None = None   # where the hands rest (set at calibration)
        self.events = []
        if self.detector is not None:
            self.detector.reset()

    def set_grip(self, landmarks: np.ndarray | None) -> None:
        """Take where the hands rest from a calibrated neutral frame: a lift is a hand leaving
        that grip upward (a person gripping at the chin has not lifted a hand). None forgets it."""
        settings = self.detector.settings if self.detector is not None else GestureSettings()
        self.grip = None if landmarks is None else grip_reference(landmarks, settings)

    def set_gestures(self, gestures: GestureSettings | None) -> None:
        """Switch gestures on (with these settings) or off; a gesture being made is forgotten."""
        self.detector = GestureDetector(gestures) if gestures is not None else None

    @property
    def gestures_on(self) -> bool:
        return self.detector is not None

    def state(self) -> ControlState:
        progress = self.detector.progress if self.detector is not None else None
        return ControlState(paused=self.paused, gesture=progress, gestures_on=self.gestures_on, lifted=self.lifted)

    @property
    def holds_coach(self) -> bool:
        """The coach must not see this frame: coaching paused, or a hand lifted for a gesture."""
        return self.paused or self.lifted

    def observe(self, t: float, landmarks: np.ndarray | None, blocked: bool) -> None:
        """Follow the hands in one frame: a lifted hand, and a gesture made (acted on at once)."""
        if self.detector is None or self.end_requested:
            self.lifted = False
            return
        self._follow_lift(t, landmarks, blocked)
        gesture = self.detector.update(t, landmarks, blocked=blocked)
        if gesture == Gesture.TOGGLE_PAUSE:
            self.toggle(t, ControlSource.GESTURE)
        elif gesture == Gesture.END_SESSION:
            self.end(t, ControlSource.GESTURE)

    def _follow_lift(self, t: float, landmarks: np.ndarray | None, blocked: bool) -> None:
        assert self.detector is not None
        settings = self.detector.settings
        lifted = None if blocked or landmarks is None else hands_lifted(landmarks, settings, self.grip)
        if lifted:
            if not self.lifted:
                self.lifted, self.lifted_at = True, t
            self._down_since = None
        elif lifted is False and self.lifted:
            if self._down_since is None:
                self._down_since = t
            if t - self._down_since >= settings.lift_settle_s:
                self.lifted, self.lifted_at, self._down_since = False, None, None
        elif blocked and self.lifted:
            self.lifted, self.lifted_at, self._down_since = False, None, None

    def pause(self, t: float, source: ControlSource) -> None:
        if self.paused or self.end_requested:
            return
        self.paused, self.paused_at = True, t
        self._add(ControlEvent(t, Control.PAUSED, source))

    def resume(self, t: float, source: ControlSource) -> None:
        """Resume (the session moves the coach's timers on by the time it was held)."""
        if not self.paused or self.end_requested:
            return
        self.paused, self.paused_at = False, None
        self._add(ControlEvent(t, Control.RESUMED, source))

    def toggle(self, t: float, source: ControlSource) -> None:
        if self.paused:
            self.resume(t, source)
        else:
            self.pause(t, source)

    def end(self, t: float, source: ControlSource) -> None:
        if self.end_requested:
            return
        self.end_requested = True
        self._add(ControlEvent(t, Control.ENDED, source))

    def _add(self, event: ControlEvent) -> None:
        logger.info("coaching %s by %s at %.2f s", event.control, event.source, event.t)
        self.events.append(event)
