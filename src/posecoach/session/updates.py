"""What the live loop yields to its driver (the window's worker): the newest step, events, state changes.

The steps go to a :class:`LatestSlot` (only the newest is kept), the rest as signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posecoach.analysis.events import CoachEvent
from posecoach.analysis.next_hold import NextHold
from posecoach.analysis.protocol import Cues
from posecoach.capture.frame_source import SourceInfo
from posecoach.session.control import ControlEvent
from posecoach.session.guide import GuideCue, GuideState
from posecoach.session.pipeline import PipelineStep


@dataclass(frozen=True)
class Published:
    """One step as the GUI sees it."""

    step: PipelineStep
    guide: GuideState
    paused: bool
    fps: float                     # frames processed per second (recent)
    seeking_to: int | None = None  # frame index a seek is fast-forwarding to
    cues: Cues = Cues()            # the session protocol's words for its cues
    next_hold: NextHold | None = None   # after a completed hold: what comes next


@dataclass(frozen=True)
class EventBatch:
    """Coach events and guide cues raised since the last batch.

    ``reps`` holds every rep record so far when one has just finished; ``replayed`` is
    True while fast-forwarding to a seek target (update counts, do not speak).
    """

    events: tuple[CoachEvent, ...] = ()
    cues: tuple[GuideCue, ...] = ()
    reps: tuple[dict[str, Any], ...] | None = None
    replayed: bool = False


@dataclass(frozen=True)
class SessionEnd:
    """The source ended, or the person ended the session: the session's reps and per-side summary."""

    reps: tuple[dict[str, Any], ...]
    summary: dict[str, Any]
    frames: int
    session_ids: tuple[int, ...] = ()
    by_user: bool = False          # ended by a gesture or a key, not by the source


@dataclass(frozen=True)
class ControlChanged:
    """The coaching was paused, resumed or ended (a gesture, a key); ``replayed``: during a seek."""

    event: ControlEvent
    paused: bool
    replayed: bool = False


@dataclass(frozen=True)
class Wait:
    """Nothing to show: resume after ``seconds`` (None: only when a command comes)."""

    seconds: float | None


@dataclass(frozen=True)
class Status:
    """A progress message (opening, loading the model, seeking); "" clears it."""

    text: str


@dataclass(frozen=True)
class Problem:
    """Something that does not stop the session (the database, the recorder, a damaged file)."""

    text: str


@dataclass(frozen=True)
class Opened:
    """The source is open."""

    info: SourceInfo


@dataclass(frozen=True)
class SourceFailed:
    """The source cannot be opened (no camera, a bad file); the loop ends."""

    text: str


@dataclass(frozen=True)
class Failed:
    """Another error stopped the loop (the model, a source failing mid-way)."""

    text: str


@dataclass(frozen=True)
class PausedChanged:
    paused: bool


@dataclass(frozen=True)
class SessionReset:
    """The coach started over (restart, seek, protocol change)."""


LiveUpdate = (Wait | Status | Problem | Opened | SourceFailed | Failed | PausedChanged | SessionReset | Published
              | EventBatch | SessionEnd | ControlChanged)
"""What the live loop (``session/live.py``) yields."""


class LatestSlot:
    """Holds only the newest item; ``get()`` returns it with a sequence number.

    ``on_put`` (optional) is called after each ``put``, on the putting thread, so a reader
    can wake at once instead of polling.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._item: Any = None
        self.on_put: Callable[[], None] | None = None

    def put(self, item: Any) -> None:
        with self._lock:
            self._seq += 1
            self._item = item
        callback = self.on_put
        if callback is not None:
            callback()

    def get(self) -> tuple[int, Any]:
        with self._lock:
            return self._seq, self._item

    def clear(self) -> None:
        with self._lock:
            self._item = None
