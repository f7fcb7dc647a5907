"""The live loop: one source coached frame by frame, as a plain generator driven by commands.

:meth:`LiveLoop.updates` opens the source and the detector, runs a
:class:`~posecoach.session.coaching.CoachingSession` over the source and yields what a
front end shows (:data:`LiveUpdate`); the value sent back into it at each ``yield`` is a
:data:`Command` (or None). It knows nothing of threads or Qt: a driver iterates it (the
window's worker thread, or a test), and when it yields :class:`Wait` the driver waits up
to that long for a command before resuming it (a paused session, the pacing of a replay
at real speed, the end of a file).

Replays of files are paced by their timestamps (real speed) or run as fast as possible
(every frame processed, as ``posecoach analyze`` does); they can be paused, stepped and
seeked. A seek reopens the file and replays it up to the target, reusing the landmarks
already detected, so the coach's counts after a seek are the ones a straight replay gives.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from posecoach.analysis.events import REP_DONE
from posecoach.analysis.gestures import GestureSettings
from posecoach.analysis.next_hold import next_hold
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.summary import summarize_reps
from posecoach.capture.frame_source import FrameSource
from posecoach.errors import PosecoachError
from posecoach.session.coaching import CoachingSession
from posecoach.session.guide import GuideState
from posecoach.session.messages import calibration_warnings
from posecoach.session.pipeline import PipelineStep, PoseDetector
from posecoach.session.session_log import SessionLog
from posecoach.session.sources import DetectorFactory, LiveClock, PoseCache, SourceRequest, open_source
from posecoach.session.updates import (
    ControlChanged,
    EventBatch,
    Failed,
    LiveUpdate,
    Opened,
    PausedChanged,
    Problem,
    Published,
    SessionEnd,
    SessionReset,
    SourceFailed,
    Status,
    Wait,
)

__all__ = ["Command", "ControlChanged", "EndSession", "EventBatch", "Failed", "LiveConfig", "LiveLoop", "LiveUpdate",
           "Opened", "Pause", "PauseCoaching", "PausedChanged", "Play", "Problem", "Published", "Restart",
           "ResumeCoaching", "Seek", "SessionEnd", "SessionReset", "SetGestures", "SetRealtime", "SourceFailed", "Status",
           "StepOnce", "Stop", "ToggleCoaching", "Wait"]

logger = logging.getLogger(__name__)

_LATE_RESYNC_S = 0.25     # a replay this late gives up catching up and re-anchors its clock
_SEEK_PUBLISH_EVERY = 15  # frames between previews while fast-forwarding to a seek target


# ---------------------------------------------------------------------- commands (sent in)
@dataclass(frozen=True)
class Play:
    """Resume a paused session."""


@dataclass(frozen=True)
class Pause:
    """Hold the session on its current frame."""


@dataclass(frozen=True)
class StepOnce:
    """While paused: process and show one more frame."""


@dataclass(frozen=True)
class Seek:
    """Go to frame ``index`` of a file (ignored for cameras)."""

    index: int


@dataclass(frozen=True)
class Restart:
    """Start the session over (a file from its beginning), with ``protocol`` when given."""

    protocol: Protocol | None = None


@dataclass(frozen=True)
class SetRealtime:
    """Replay files at real speed (True) or every frame as fast as possible (False)."""

    realtime: bool


@dataclass(frozen=True)
class Stop:
    """End the loop: the rep in progress is kept, as at the end of a file."""


@dataclass(frozen=True)
class PauseCoaching:
    """Pause the coaching; frames keep flowing (a remote's key, the menu)."""


@dataclass(frozen=True)
class ResumeCoaching:
    """Resume the coaching where it stood."""


@dataclass(frozen=True)
class ToggleCoaching:
    """Pause the coaching if it runs, resume it if paused."""


@dataclass(frozen=True)
class SetGestures:
    """Switch hands-free gestures on (the config's settings, or the defaults) or off."""

    enabled: bool


@dataclass(frozen=True)
class EndSession:
    """End the session as the end of a file does (the rep in progress kept); a Restart starts another."""


Command = (Play | Pause | StepOnce | Seek | Restart | SetRealtime | Stop | PauseCoaching | ResumeCoaching
           | ToggleCoaching | EndSession | SetGestures)


@dataclass
class LiveConfig:
    """How the loop runs one source."""

    request: SourceRequest
    protocol: Protocol
    detector_factory: DetectorFactory   # gets a progress callback for its messages (a model download)
    model_name: str = "full"
    realtime: bool = True          # replays at real speed; False: every frame, as fast as possible
    db_path: Path | None = None    # None: do not store sessions
    max_frames: int | None = None  # pause after this many frames (screenshots)
    speed: float = 1.0
    gate: bool | None = None       # guided start holds calibration back (default: live sources)
    gestures: GestureSettings | None = GestureSettings()  # hands-free control; None: off


@dataclass(frozen=True)
class _SourceEnded:
    """The source has no more frames (what ``_consume`` returns when no command stopped it)."""


_END = _SourceEnded()
_Updates = Generator[LiveUpdate, Command | None, None]


class LiveLoop:
    """One source's live loop; iterate :meth:`updates` (once) and send it commands.

    Parameters
    ----------
    config : the source, protocol, detector factory and modes.
    progress : where the detector factory's messages go (a model download): they come
        while the loop is blocked in the factory, so they take this side channel.
    clock : seconds, monotonic (pacing, pauses, the processing rate).

    ``session`` (the coaching session) and ``frames`` (frames processed) can be read
    while it runs.
    """

    def __init__(self, config: LiveConfig, progress: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.config = config
        self.progress = progress or (lambda text: None)
        self.clock = clock
        self.live = config.request.live
        self.session: CoachingSession | None = None
        self.frames = 0
        self.paused = False
        self._realtime = config.realtime
        self._max_frames = config.max_frames
        self._steps = 0
        self._pending: Command | None = None   # a Seek, Restart or Stop to act on
        self._controls_seen = 0                 # the session's controls already yielded
        self._gestures_on = config.gestures is not None
        self._outbox: deque[LiveUpdate] = deque()
        self._calibration_seen: object | None = None   # the estimator's last calibration looked at
        self._anchor: float | None = None
        self._rate = 0.0
        self._last_wall: float | None = None
        self._clock: LiveClock | None = None
        self._source: FrameSource | None = None

    # ------------------------------------------------------------------ commands
    def _take(self, command: Command | None) -> None:
        if command is None or isinstance(self._pending, Stop):
            return
        if isinstance(command, Play | Pause):
            self._set_paused(isinstance(command, Pause))
        elif isinstance(command, StepOnce):
            self._steps += 1 if self.paused else 0
        elif isinstance(command, SetRealtime):
            self._realtime = command.realtime
            self._anchor = None
        elif isinstance(command, Seek):
            if not self.live:
                self._pending = Seek(max(0, int(command.index)))
        elif isinstance(command, PauseCoaching | ResumeCoaching | ToggleCoaching | EndSession):
            self._control(command)
        elif isinstance(command, SetGestures):
            self._gestures_on = command.enabled
            if self.session is not None:
                self.session.control.set_gestures(self._gesture_settings())
        else:
            self._pending = command

    def _control(self, command: PauseCoaching | ResumeCoaching | ToggleCoaching | EndSession) -> None:
        session = self.session
        if session is None:
            return
        if isinstance(command, PauseCoaching):
            session.pause_coaching()
        elif isinstance(command, ResumeCoaching):
            session.resume_coaching()
        elif isinstance(command, ToggleCoaching):
            session.toggle_coaching()
        else:
            session.end_session()
            self._set_paused(False)   # a frozen picture would hold the end back
        self._take_controls(session, replayed=False)

    def _gesture_settings(self) -> GestureSettings | None:
        return (self.config.gestures or GestureSettings()) if self._gestures_on else None

    def _take_controls(self, session: CoachingSession, replayed: bool) -> None:
        """Queue the controls given since the last call (gestures, keys) for the driver."""
        events = session.control.events
        for event in events[self._controls_seen:]:
            self._outbox.append(ControlChanged(event, session.control.paused, replayed))
        self._controls_seen = len(events)

    def _set_paused(self, paused: bool) -> None:
        changed = paused != self.paused
        self.paused = paused
        self._steps = 0
        if changed:
            self._outbox.append(PausedChanged(paused))

    def _emit(self, update: LiveUpdate) -> _Updates:
        """Yield ``update``, then whatever the commands sent back raise."""
        command = yield update
        while True:
            self._take(command)
            if not self._outbox:
                return
            command = yield self._outbox.popleft()

    def _flush(self) -> _Updates:
        while self._outbox:
            yield from self._emit(self._outbox.popleft())

    def _next_command(self) -> Command:
        command, self._pending = self._pending, None
        return command or Stop()

    # ------------------------------------------------------------------ the loop
    def updates(self) -> _Updates:
        """Open, coach until stopped or failed, close everything."""
        request = self.config.request
        detector: PoseDetector | None = None
        try:
            yield from self._emit(Status(f"Opening {request.label}…"))
            try:
                self._source = self._open()
            except PosecoachError as exc:
                yield from self._emit(SourceFailed(str(exc)))
                return
            yield from self._flush()
            yield from self._emit(Opened(self._source.info))
            if isinstance(self._pending, Stop):
                return
            yield from self._emit(Status("Loading the pose model…"))
            detector = self.config.detector_factory(self.progress)
            yield from self._emit(Status(""))
            yield from self._play(detector)
        except PosecoachError as exc:
            yield from self._emit(Failed(str(exc)))
        finally:
            for resource in (self._source, detector):
                close = getattr(resource, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:  # noqa: BLE001 - closing must not mask the real error
                        logger.exception("closing %r failed", resource)
            self._source = None

    def _open(self) -> FrameSource:
        request = self.config.request
        source = open_source(request)
        if request.live:
            source = self._clock = LiveClock(source)
            if request.record is not None:
                from posecoach.capture.recorder import RecordingSource
                try:
                    source = RecordingSource(source, request.record)
                except PosecoachError as exc:
                    self._outbox.append(Problem(f"not recording: {exc}"))
        return source

    def _play(self, detector: PoseDetector) -> _Updates:
        config = self.config
        source = self._source
        assert source is not None
        gate = self.live if config.gate is None else config.gate
        outbox = self._outbox   # not ``self``: the session's log must not keep the loop alive in a cycle
        log = SessionLog(config.db_path, source.info, config.model_name, live=self.live,
                         on_warning=lambda text: outbox.append(Problem(text)))
        session = self.session = CoachingSession(detector if self.live else PoseCache(detector), config.protocol,
                                                 sinks=[log], gate=gate, gestures=self._gesture_settings())
        target = 0
        try:
            while True:
                steps = session.run(source)
                try:
                    outcome = yield from self._consume(steps, session, target)
                finally:
                    steps.close()
                if isinstance(outcome, _SourceEnded):
                    by_user = session.control.end_requested
                    problem = None if by_user else getattr(source, "problem", None)  # a file that ended early says so
                    if problem:
                        yield from self._emit(Problem(problem))
                    reps = tuple(r.to_dict() for r in session.coach.reps)
                    yield from self._emit(SessionEnd(reps=reps, summary=summarize_reps(reps).to_dict(),
                                                     frames=self.frames, session_ids=tuple(log.session_ids),
                                                     by_user=by_user))
                    while self._pending is None:
                        yield from self._emit(Wait(None))
                    outcome = self._next_command()
                elif isinstance(outcome, Stop):
                    session.finish()  # closing mid-session: keep the rep in progress, as the end of a file does
                if isinstance(outcome, Stop):
                    return
                yield from self._emit(SessionReset())
                session.restart(outcome.protocol if isinstance(outcome, Restart) else None)
                self._controls_seen = 0
                target = outcome.index if isinstance(outcome, Seek) else 0
                if not self.live:
                    source.close()
                    self._source = None
                    source = self._source = open_source(config.request)
                self._anchor = None
                if target:
                    yield from self._emit(Status(f"Seeking to {target / max(source.info.fps, 1e-6):.1f} s…"))
        finally:
            log.close()

    def _consume(self, steps: Generator[PipelineStep, None, None], session: CoachingSession,
                 target: int) -> Generator[LiveUpdate, Command | None, Command | _SourceEnded]:
        seen = len(session.coach.events)
        for step in steps:
            self.frames += 1
            self._measure_rate()
            guide = step.guide
            assert guide is not None
            self._check_calibration(session)
            replaying = step.frame.index < target
            seen = yield from self._events(session, seen, replaying)
            yield from self._flush()
            if replaying:
                if step.frame.index % _SEEK_PUBLISH_EVERY == 0:
                    yield from self._emit(self._published(step, guide, session, seeking_to=target))
                if self._pending is not None:
                    return self._next_command()
                continue
            if target and step.frame.index == target:
                yield from self._emit(Status(""))
            yield from self._pace(step.frame.t)
            if self._pending is not None:
                return self._next_command()
            yield from self._emit(self._published(step, guide, session))
            yield from self._checkpoint()
            if self._pending is not None:
                return self._next_command()
        # The session closed the rep in progress: its events come after the last step.
        yield from self._events(session, seen, False)
        return _END

    # ------------------------------------------------------------------ helpers
    def _check_calibration(self, session: CoachingSession) -> None:
        """Once per new neutral stance: say when a loose shirt over the hips blinds the pelvis check,
        and when hands held high make the turn read wrong."""
        calibration = session.estimator.calibration
        if calibration is not None and calibration is not self._calibration_seen:
            self._calibration_seen = calibration
            self._outbox.extend(Problem(text) for text in calibration_warnings(calibration))

    def _events(self, session: CoachingSession, seen: int, replayed: bool) -> Generator[LiveUpdate, Command | None, int]:
        self._take_controls(session, replayed)
        yield from self._flush()
        coach, guide = session.coach, session.guide
        new = coach.events[seen:]
        cues = guide.cues
        guide.cues = []
        if new or cues:
            rep_done = any(e.kind == REP_DONE for e in new)
            reps = tuple(r.to_dict() for r in coach.reps) if rep_done else None
            yield from self._emit(EventBatch(tuple(new), tuple(cues), reps, replayed))
        return len(coach.events)

    def _published(self, step: PipelineStep, guide: GuideState, session: CoachingSession,
                   seeking_to: int | None = None) -> Published:
        return Published(step=step, guide=guide, paused=self.paused, fps=self._rate, seeking_to=seeking_to,
                         cues=session.protocol.cues, next_hold=next_hold(step.state, session.protocol))

    def _measure_rate(self) -> None:
        now = self.clock()
        if self._last_wall is not None:
            dt = now - self._last_wall
            if dt > 0:
                rate = 1.0 / dt
                self._rate = rate if self._rate == 0.0 else 0.9 * self._rate + 0.1 * rate
        self._last_wall = now

    def _pace(self, t: float) -> _Updates:
        """Wait until frame time ``t`` is due on the clock (file replays at real speed)."""
        if self.live or not self._realtime:
            return
        speed = max(self.config.speed, 1e-3)
        now = self.clock()
        if self._anchor is None or now - (self._anchor + t / speed) > _LATE_RESYNC_S:
            self._anchor = now - t / speed
        while self._pending is None and self._anchor is not None:
            remaining = self._anchor + t / speed - self.clock()
            if remaining <= 0:
                break
            yield from self._emit(Wait(remaining))

    def _checkpoint(self) -> _Updates:
        """Between frames: pause for screenshots, wait while paused, let single steps through."""
        if self._max_frames is not None and self.frames >= self._max_frames and not self.paused:
            self._max_frames = None
            self._set_paused(True)
            yield from self._flush()
        pause_started: float | None = None
        while self._pending is None:
            if not self.paused:
                break
            if self._steps > 0:
                self._steps -= 1
                break
            if pause_started is None:
                pause_started = self.clock()
            yield from self._emit(Wait(None))
        if pause_started is not None:
            self._anchor = None
            if self._clock is not None:
                self._clock.add_pause(self.clock() - pause_started)
