"""The pipeline worker: capture and inference on a QThread, the newest step in a slot.

In the manner of superqt's GeneratorWorker, a thread iterates the plain
:func:`~posecoach.session.pipeline.run_pipeline` generator. It never queues frames for
the GUI: each step replaces the previous one in a lock-protected :class:`LatestSlot`,
which the window reads on a timer (pymmcore-widgets' ImagePreview style), so a slow
GUI skips frames instead of falling behind. Coach events, which must never be dropped,
travel by queued signal.

Replays of files are paced by their timestamps (real speed) or run as fast as possible
(every frame processed, as ``posecoach analyze`` does); they can be paused, stepped and
seeked. A seek reopens the file and replays it up to the target, reusing the landmarks
already detected, so the coach's counts after a seek are the ones a straight replay gives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QThread, pyqtSignal

from posecoach.analysis.coach import Coach
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.summary import summarize_reps
from posecoach.capture.frame_source import FrameSource, SourceInfo
from posecoach.errors import PosecoachError
from posecoach.session.coaching import CoachingSession
from posecoach.session.guide import Guide, GuideState
from posecoach.session.pipeline import PipelineStep, PoseDetector
from posecoach.session.session_log import SessionLog
from posecoach.session.sources import (
    DetectorFactory,
    LiveClock,
    PoseCache,
    SourceRequest,
    lower_thread_priority,
    mediapipe_factory,
    open_source,
)
from posecoach.session.updates import EventBatch, LatestSlot, Published, SessionEnd

__all__ = ["EventBatch", "LatestSlot", "PipelineWorker", "Published", "SessionEnd", "SourceRequest", "WorkerConfig",
           "mediapipe_factory", "open_source"]

logger = logging.getLogger(__name__)

_LATE_RESYNC_S = 0.25     # a replay this late gives up catching up and re-anchors its clock
_SEEK_PUBLISH_EVERY = 15  # frames between previews while fast-forwarding to a seek target


@dataclass
class WorkerConfig:
    """Everything a worker needs; built by the window."""

    request: SourceRequest
    protocol: Protocol
    detector_factory: DetectorFactory
    model_name: str = "full"
    realtime: bool = True          # replays at real speed; False: every frame, as fast as possible
    db_path: Path | None = None    # None: do not store sessions
    max_frames: int | None = None  # pause after this many frames (screenshots)
    speed: float = 1.0
    gate: bool | None = None       # guided start holds calibration back (default: live sources)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Command:
    kind: str   # "seek", "restart", "protocol", "stop"
    value: Any = None


_STOP = _Command("stop")
_END = _Command("end")


class PipelineWorker(QThread):
    """Run the pipeline for one source until stopped; control it from the GUI thread.

    All public methods are thread-safe. Signals (queued to the GUI thread):

    - ``opened(SourceInfo)``: the source is open.
    - ``source_failed(str)``: the source cannot be opened (no camera, bad file).
    - ``failed(str)``: any other error that stopped the worker (e.g. the model).
    - ``status(str)``: progress messages (loading the model, seeking).
    - ``warning(str)``: a problem that does not stop the session (database, recorder).
    - ``events(EventBatch)``: coach events and guide cues, never dropped.
    - ``session_reset()``: the coach started over (reset, seek, protocol change).
    - ``ended(SessionEnd)``: the file ended.
    - ``paused_changed(bool)``.
    """

    opened = pyqtSignal(object)
    source_failed = pyqtSignal(str)
    failed = pyqtSignal(str)
    status = pyqtSignal(str)
    warning = pyqtSignal(str)
    events = pyqtSignal(object)
    session_reset = pyqtSignal()
    ended = pyqtSignal(object)
    paused_changed = pyqtSignal(bool)

    def __init__(self, config: WorkerConfig, parent=None) -> None:
        super().__init__(parent)
        self.config = config
        self.latest = LatestSlot()
        self.info: SourceInfo | None = None
        self.frames_processed = 0
        self.coach: Coach | None = None   # read only after the thread finished (tests)
        self._cond = threading.Condition()
        self._paused = False
        self._steps = 0
        self._command: _Command | None = None
        self._stopping = False
        self._gate = config.request.live if config.gate is None else config.gate
        self._anchor: float | None = None
        self._rate: float = 0.0
        self._last_step_wall: float | None = None
        self._clock: LiveClock | None = None
        self._source: FrameSource | None = None
        self._seen = 0
        self._last_t: float | None = None
        self._cues = config.protocol.cues

    # ------------------------------------------------------------------ control (any thread)
    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            changed = self._paused != paused
            self._paused = paused
            self._steps = 0
            self._cond.notify_all()
        if changed:
            self.paused_changed.emit(paused)

    def step_once(self) -> None:
        """While paused: process and show one more frame."""
        with self._cond:
            if self._paused:
                self._steps += 1
                self._cond.notify_all()

    def seek(self, index: int) -> None:
        """Go to frame ``index`` of a file (the coach replays up to it)."""
        if not self.config.request.live:
            self._send(_Command("seek", max(0, int(index))))

    def restart(self) -> None:
        """Start the session over (a file from its beginning)."""
        self._send(_Command("restart"))

    def set_protocol(self, protocol: Protocol) -> None:
        """Start the session over with another protocol."""
        self._send(_Command("protocol", protocol))

    def set_realtime(self, realtime: bool) -> None:
        with self._cond:
            self.config.realtime = realtime
            self._anchor = None
            self._cond.notify_all()

    def stop(self) -> None:
        """Ask the thread to finish (then ``wait()`` for it)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _send(self, command: _Command) -> None:
        with self._cond:
            self._command = command
            self._cond.notify_all()

    # ------------------------------------------------------------------ thread
    def run(self) -> None:  # noqa: D401 - QThread entry point
        detector: PoseDetector | None = None
        lower_thread_priority()
        try:
            self.status.emit(f"Opening {self.config.request.label}…")
            try:
                self._source = self._open()
            except PosecoachError as exc:
                self.source_failed.emit(str(exc))
                return
            self.info = self._source.info
            self.opened.emit(self._source.info)
            if self._stopping:
                return
            self.status.emit("Loading the pose model…")
            detector = self.config.detector_factory(self.status.emit)
            self.status.emit("")
            self._play(detector)
        except PosecoachError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - report, never die silently
            logger.exception("the pipeline worker stopped")
            self.failed.emit(f"internal error: {exc!r}")
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
                    self.warning.emit(f"not recording: {exc}")
        return source

    def _play(self, detector: PoseDetector) -> None:
        """Coach (and replay) until stopped; ``self._source`` is the open source."""
        config = self.config
        source = self._source
        assert source is not None
        live = config.request.live
        log = SessionLog(config.db_path, source.info, config.model_name, live=live, on_warning=self.warning.emit)
        session = CoachingSession(detector if live else PoseCache(detector), config.protocol, sinks=[log],
                                  gate=self._gate)
        target = 0
        try:
            while True:
                self.coach = session.coach
                steps = session.run(source)
                try:
                    outcome = self._consume(steps, session, target)
                finally:
                    steps.close()
                if outcome is _END:
                    problem = getattr(source, "problem", None)  # a file that ended early says so
                    if problem:
                        self.warning.emit(problem)
                    self._emit_end(session.coach, log)
                    outcome = self._idle()
                elif outcome is _STOP:
                    session.finish()  # closing mid-session: keep the rep in progress, as the end of a file does
                if outcome is _STOP:
                    return
                self.session_reset.emit()
                session.restart(outcome.value if outcome.kind == "protocol" else None)
                target = outcome.value if outcome.kind == "seek" else 0
                if not live:
                    source.close()
                    self._source = None
                    source = self._source = open_source(config.request)
                self._anchor = None
                if target:
                    self.status.emit(f"Seeking to {target / max(source.info.fps, 1e-6):.1f} s…")
        finally:
            log.close()

    def _consume(self, steps: Iterator[PipelineStep], session: CoachingSession, target: int) -> _Command:
        coach, guide = session.coach, session.guide
        self._cues = session.protocol.cues
        self._seen = seen = len(coach.events)
        for step in steps:
            self.frames_processed += 1
            self._last_t = step.frame.t
            self._measure_rate()
            guide_state = step.guide
            assert guide_state is not None
            replaying = step.frame.index < target
            self._seen = seen = self._emit_events(coach, guide, seen, replaying)
            if replaying:
                if step.frame.index % _SEEK_PUBLISH_EVERY == 0:
                    self._publish(step, guide_state, seeking_to=target)
                if self._pending():
                    return self._take_command()
                continue
            if target and step.frame.index == target:
                self.status.emit("")
            command = self._pace(step.frame.t)
            if command is not None:
                return command
            self._publish(step, guide_state)
            command = self._checkpoint()
            if command is not None:
                return command
        # The session closed the rep in progress: its events come after the last step.
        self._emit_events(coach, guide, seen, False)
        return _END

    # ------------------------------------------------------------------ helpers (worker thread)
    def _emit_events(self, coach: Coach, guide: Guide, seen: int, replayed: bool) -> int:
        new = coach.events[seen:]
        cues = guide.cues
        guide.cues = []
        if new or cues:
            rep_done = any(e.kind == "rep_done" for e in new)
            reps = tuple(r.to_dict() for r in coach.reps) if rep_done else None
            self.events.emit(EventBatch(tuple(new), tuple(cues), reps, replayed))
        return len(coach.events)

    def _emit_end(self, coach: Coach, log: SessionLog) -> None:
        reps = tuple(r.to_dict() for r in coach.reps)
        self.ended.emit(SessionEnd(reps=reps, summary=summarize_reps(reps).to_dict(),
                                   frames=self.frames_processed, session_ids=tuple(log.session_ids)))

    def _publish(self, step: PipelineStep, guide: GuideState, seeking_to: int | None = None) -> None:
        self.latest.put(Published(step=step, guide=guide, paused=self._paused, fps=self._rate,
                                  seeking_to=seeking_to, cues=self._cues))

    def _measure_rate(self) -> None:
        now = time.perf_counter()
        if self._last_step_wall is not None:
            dt = now - self._last_step_wall
            if dt > 0:
                rate = 1.0 / dt
                self._rate = rate if self._rate == 0.0 else 0.9 * self._rate + 0.1 * rate
        self._last_step_wall = now

    def _pending(self) -> bool:
        return self._stopping or self._command is not None

    def _take_command(self) -> _Command:
        with self._cond:
            if self._stopping:
                return _STOP
            command, self._command = self._command, None
            return command or _STOP

    def _pace(self, t: float) -> _Command | None:
        """Wait until frame time ``t`` is due on the wall clock (file replays at real speed)."""
        config = self.config
        if config.request.live or not config.realtime:
            return self._take_command() if self._pending() else None
        with self._cond:
            now = time.perf_counter()
            speed = max(config.speed, 1e-3)
            if self._anchor is None or now - (self._anchor + t / speed) > _LATE_RESYNC_S:
                self._anchor = now - t / speed
            while not self._pending():
                remaining = self._anchor + t / speed - time.perf_counter()
                if remaining <= 0 or self._anchor is None:
                    break
                self._cond.wait(timeout=remaining)
        return self._take_command() if self._pending() else None

    def _checkpoint(self) -> _Command | None:
        """Between frames: stop, obey commands, wait while paused, let single steps through."""
        max_frames = self.config.max_frames
        if max_frames is not None and self.frames_processed >= max_frames and not self._paused:
            self.config.max_frames = None
            self.set_paused(True)
        with self._cond:
            pause_started: float | None = None
            while True:
                if self._stopping or self._command is not None:
                    break
                if not self._paused:
                    break
                if self._steps > 0:
                    self._steps -= 1
                    break
                if pause_started is None:
                    pause_started = time.perf_counter()
                self._cond.wait(timeout=0.5)
            if pause_started is not None:
                self._anchor = None
                if self._clock is not None:
                    self._clock.add_pause(time.perf_counter() - pause_started)
        return self._take_command() if self._pending() else None

    def _idle(self) -> _Command:
        """The file ended: wait for a seek, a restart or the stop."""
        with self._cond:
            while not self._pending():
                self._cond.wait(timeout=0.5)
        return self._take_command()
