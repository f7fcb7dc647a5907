"""Coaching events: what happened, as codes and numbers; the words are the session's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from posecoach.analysis.vocabulary import EventKind, Side

# The event kinds under their short names, in the order a rep produces them.
CALIBRATED = EventKind.CALIBRATED
ROTATE_NOW = EventKind.ROTATE_NOW
WRONG_SIDE = EventKind.WRONG_SIDE
HOLD_STARTED = EventKind.HOLD_STARTED
HOLD_TICK = EventKind.HOLD_TICK
HOLD_PAUSED = EventKind.HOLD_PAUSED
HOLD_RESUMED = EventKind.HOLD_RESUMED
HOLD_COMPLETE = EventKind.HOLD_COMPLETE
HOLD_BROKEN = EventKind.HOLD_BROKEN
FAULT = EventKind.FAULT
REP_DONE = EventKind.REP_DONE
SET_COMPLETE = EventKind.SET_COMPLETE
REST = EventKind.REST
REST_OVER = EventKind.REST_OVER
SESSION_COMPLETE = EventKind.SESSION_COMPLETE
TRACKING_LOST = EventKind.TRACKING_LOST
TRACKING_REGAINED = EventKind.TRACKING_REGAINED


@dataclass(frozen=True)
class CoachEvent:
    """Something happened at time ``t``: its kind, the rep's side, and its numbers and codes.

    ``posecoach.session.messages.event_text`` gives the words to show or speak.
    """

    t: float
    kind: EventKind
    side: Side | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, message: str = "") -> dict[str, Any]:
        """The event as a record; ``message`` (its words, when given) after the side."""
        out: dict[str, Any] = {"t": round(self.t, 3), "kind": self.kind}
        if self.side:
            out["side"] = self.side
        if message:
            out["message"] = message
        out.update(self.data)
        return out
