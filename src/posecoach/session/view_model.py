"""What the coach window shows, as a Qt-free view model the window subscribes to.

The controller feeds it the live loop's updates (``opened``, ``events``, ``ended``...);
it keeps the session as the user sees it (the source, the reps so far, the toast, the
status line, a problem that stopped the source) and tells its subscribers which part
changed, by name (napari's ``QtDims(dims)`` pattern: the view takes its model and only
listens). Frames are not in it: the window pulls the newest one from the worker's slot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posecoach.analysis.events import CoachEvent
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.vocabulary import EventKind
from posecoach.capture.frame_source import SourceInfo
from posecoach.session import messages
from posecoach.session.sources import SourceRequest
from posecoach.session.updates import ControlChanged, EventBatch, SessionEnd

logger = logging.getLogger(__name__)

TOAST_S = 3.0
# Events shown as a toast for TOAST_S. Not HOLD_COMPLETE: the overlay's instruction already says
# "Good. Inhale and return to centre" (and the next hold) while the person returns.
TOAST_KINDS = frozenset({EventKind.CALIBRATED, EventKind.HOLD_BROKEN, EventKind.WRONG_SIDE,
                         EventKind.TRACKING_LOST, EventKind.SET_COMPLETE, EventKind.REST, EventKind.REST_OVER,
                         EventKind.SESSION_COMPLETE})
# Toasts about the rep under way: once the person is back at centre the next instruction takes
# over, and a toast left on the screen for the rest of its TOAST_S would contradict it.
REP_TOAST_KINDS = frozenset({EventKind.HOLD_BROKEN, EventKind.WRONG_SIDE})
CAMERA_STOPPED = "The camera stopped sending pictures (unplugged, or taken by another program)."

# The names subscribers are told about.
SOURCE, INFO, PROBLEM, STATUS, WARNING, REPS, SHOW_SUMMARY, PLAY, VIEW, PAUSED, ENDED, CONTROL = (
    "source", "info", "problem", "status", "warning", "reps", "show_summary", "play", "view", "paused", "ended",
    "control")


@dataclass(frozen=True)
class Problem:
    """Why there is no picture: a title and the message; ``error``: the app reports it as one."""

    title: str
    message: str
    error: bool = True


class Observable:
    """A tiny observer mechanism: subscribers are called with the name of what changed."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[str], None]] = []

    def subscribe(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(name)`` on every change; returns the function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def changed(self, *names: str) -> None:
        for name in names:
            for callback in list(self._subscribers):
                callback(name)


class SessionViewModel(Observable):
    """The coach window's state, fed by the controller.

    Parameters
    ----------
    protocol : the protocol the session starts with.
    request : the first source.
    mirrored : None: mirrored for cameras (``mirror_live``), not for files.
    screenshot : a pause after ``max_frames`` is not the user's (the session shows as running).
    gestures : hands-free gestures are on.
    """

    def __init__(self, protocol: Protocol, request: SourceRequest, mirrored: bool | None = None,
                 mirror_live: bool = True, screenshot: bool = False, gestures: bool = True) -> None:
        super().__init__()
        self.gestures = gestures
        self.protocol = protocol
        self.request = request
        self.fixed_mirror = mirrored
        self.mirror_live = mirror_live
        self.screenshot = screenshot
        self.status = ""
        self._reset_source(request)

    def _reset_source(self, request: SourceRequest) -> None:
        self.request = request
        self.info: SourceInfo | None = None
        self.problem: Problem | None = None
        self.reps: list[dict[str, Any]] = []
        self.warnings: list[str] = []    # this source's, in the order they came
        self.finished = False            # the summary is final (the file ended, the protocol is done)
        self.session_end: SessionEnd | None = None
        self.session_complete = False     # the protocol is done (all holds of all sets)
        self.paused = False
        self.coaching_paused = False     # by a gesture or a remote's key: frames still flow
        self.ended_by_user = False
        self.toast: str | None = None
        self.toast_until = 0.0
        self.toast_kind: EventKind | None = None  # the event that raised the toast (None: not an event)
        self.mirrored = self.fixed_mirror if self.fixed_mirror is not None else (
            self.mirror_live if request.live else False)

    # ------------------------------------------------------------------ what the window reads
    @property
    def shown_paused(self) -> bool:
        return self.paused and not self.screenshot

    @property
    def play_label(self) -> str:
        if self.session_end is not None:
            return "New session" if self.ended_by_user else "Replay"
        if self.session_complete:
            return "New session"
        return "Resume" if self.shown_paused else "Pause"

    @property
    def summary_title(self) -> str:
        """The summary's heading: complete only when every hold of the protocol was done."""
        if self.session_complete:
            return "Session complete"
        if self.finished:
            return "Session ended" if self.ended_by_user or self.request.live else "End of the recording"
        return "Session so far"

    @property
    def coaching_label(self) -> str:
        return "Resume coaching" if self.coaching_paused else "Pause coaching"

    @property
    def notice(self) -> str | None:
        if self.session_end is not None and self.ended_by_user:
            return messages.ENDED_NOTICE
        if self.session_end is not None and not self.request.live:
            return "End of the recording: Space plays it again"
        return None

    @property
    def shortcut_hint(self) -> str:
        keys = "Space pause · PgDn pause coaching · R reset · M mute · V mirror · F full screen · S summary"
        return keys if self.request.live else keys + " · ←/→ 5 s · . one frame"

    # ------------------------------------------------------------------ the user's choices
    def set_source(self, request: SourceRequest) -> None:
        self._reset_source(request)
        self.changed(SOURCE, REPS, PLAY, VIEW)

    def set_protocol(self, protocol: Protocol) -> None:
        self.protocol = protocol
        self.reps, self.finished = [], False
        self.changed(REPS)

    def set_mirrored(self, mirrored: bool) -> None:
        self.mirrored = mirrored
        if self.request.live:
            self.mirror_live = mirrored
        self.changed(VIEW)

    def show_toast(self, text: str, now: float, seconds: float = TOAST_S, kind: EventKind | None = None) -> None:
        self.toast, self.toast_until, self.toast_kind = text, now + seconds, kind
        self.changed(VIEW)

    def expire_toast(self, now: float) -> None:
        if self.toast is not None and now > self.toast_until:
            self._forget_toast()
            self.changed(VIEW)

    def _forget_toast(self) -> None:
        self.toast, self.toast_kind = None, None

    def play_again(self) -> bool:
        """Play pressed after the end: True when that starts the session over."""
        if self.session_end is None and not self.session_complete:
            return False
        self.session_end, self.session_complete = None, False
        self.changed(PLAY)
        return True

    def seeking(self) -> None:
        self.session_end = None
        self.changed(PLAY)

    # ------------------------------------------------------------------ the live loop's updates
    def opened(self, info: SourceInfo) -> None:
        self.info = info
        self.changed(INFO)

    def source_failed(self, message: str) -> None:
        live = self.request.live
        self._fail(Problem("No camera available" if live else "Cannot open this video", message))

    def failed(self, message: str) -> None:
        self._fail(Problem("The coach stopped", message))

    def _fail(self, problem: Problem) -> None:
        logger.info("%s: %s", problem.title, problem.message)
        self.problem = problem
        self.status = problem.message
        self.changed(PROBLEM, STATUS)

    def set_status(self, message: str) -> None:
        self.status = message or self.shortcut_hint
        self.changed(STATUS)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.changed(WARNING)

    def set_paused(self, paused: bool) -> None:
        """The user paused or resumed (the worker confirms with :meth:`paused_changed`)."""
        self.paused = paused
        self.changed(PLAY, VIEW)

    def paused_changed(self, paused: bool) -> None:
        self.paused = paused
        self.changed(PLAY, VIEW, PAUSED)

    def events(self, batch: EventBatch, now: float) -> list[tuple[CoachEvent, str]]:
        """Take a batch of events; returns the events to sound, with their words."""
        if batch.reps is not None:
            self.reps = list(batch.reps)
            self.changed(REPS)
        if batch.replayed:
            return []
        sounded = []
        for event in batch.events:
            text = messages.event_text(event, self.protocol)
            sounded.append((event, text))
            if event.kind in TOAST_KINDS and text:
                self.show_toast(text, now, kind=event.kind)
            elif event.kind == EventKind.REP_DONE and self.toast_kind in REP_TOAST_KINDS:
                self._forget_toast()  # the person is back at centre
                self.changed(VIEW)
            if event.kind == EventKind.SESSION_COMPLETE:
                self.session_complete = True
                self.finished = True
                self.changed(REPS, SHOW_SUMMARY, PLAY)
        return sounded

    def set_gestures(self, on: bool) -> None:
        self.gestures = on
        self.changed(CONTROL)

    def control_changed(self, update: ControlChanged, now: float) -> str | None:
        """The coaching was paused, resumed or ended; returns the words to say (None during a seek)."""
        self.coaching_paused = update.paused
        self.changed(CONTROL, VIEW)
        if update.replayed:
            return None
        text = messages.control_text(update.event.control)
        self.show_toast(text, now)   # the overlay's instruction says how to resume
        return text

    def session_reset(self) -> None:
        self.coaching_paused = False
        self.ended_by_user = False
        self.reps, self.finished = [], False
        self.session_end = None
        self.session_complete = False
        self._forget_toast()
        self.changed(REPS, VIEW, PLAY)

    def ended(self, end: SessionEnd) -> None:
        self.session_end = end
        self.ended_by_user = end.by_user
        self.coaching_paused = False
        self.reps, self.finished = list(end.reps), True
        self.changed(REPS, SHOW_SUMMARY, CONTROL)
        if end.by_user:
            self.status = messages.ENDED_STATUS
            self.changed(STATUS)
        elif self.request.live:
            self._fail(Problem("The camera stopped", CAMERA_STOPPED, error=False))
        else:
            self.status = "Replay finished: press Space to watch it again"
            self.changed(STATUS)
        self.changed(VIEW, PLAY, ENDED)
