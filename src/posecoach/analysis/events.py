"""Coaching events: what the UI shows and the audio says, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Event kinds, in the order a rep produces them.
CALIBRATED = "calibrated"
ROTATE_NOW = "rotate_now"
WRONG_SIDE = "wrong_side"
HOLD_STARTED = "hold_started"
HOLD_TICK = "hold_tick"
HOLD_PAUSED = "hold_paused"
HOLD_RESUMED = "hold_resumed"
HOLD_COMPLETE = "hold_complete"
HOLD_BROKEN = "hold_broken"
FAULT = "fault"
REP_DONE = "rep_done"
SET_COMPLETE = "set_complete"
REST = "rest"
REST_OVER = "rest_over"
SESSION_COMPLETE = "session_complete"
TRACKING_LOST = "tracking_lost"
TRACKING_REGAINED = "tracking_regained"


@dataclass(frozen=True)
class CoachEvent:
    """Something happened at time ``t``; ``message`` is the text to show or speak."""

    t: float
    kind: str
    message: str = ""
    side: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": round(self.t, 3), "kind": self.kind}
        if self.side:
            out["side"] = self.side
        if self.message:
            out["message"] = self.message
        out.update(self.data)
        return out
