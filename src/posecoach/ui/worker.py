"""The pipeline worker: the live loop on a thread, the newest step in a slot, the rest as signals.

A :class:`~posecoach.ui.generator_worker.GeneratorWorker` runs the Qt-free
:class:`~posecoach.session.live.LiveLoop`; this class only turns its commands into
methods and its updates into signals. It never queues frames for the GUI: each
published step replaces the previous one in a lock-protected :class:`LatestSlot`, which
the window reads when the render thread has drawn it (pymmcore-widgets' ImagePreview
style), so a slow GUI skips frames instead of falling behind. Coach events, which must
never be dropped, travel by queued signal.
"""

from __future__ import annotations

import weakref
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from posecoach.analysis.coach import Coach
from posecoach.analysis.protocol import Protocol
from posecoach.capture.frame_source import SourceInfo
from posecoach.session import live
from posecoach.session.live import LiveConfig, LiveLoop
from posecoach.session.sources import lower_thread_priority
from posecoach.session.updates import EventBatch, LatestSlot, Published, SessionEnd
from posecoach.ui.generator_worker import GeneratorWorker

__all__ = ["PipelineWorker"]


class PipelineWorker(GeneratorWorker):
    """Run the live loop for one source until stopped; control it from the GUI thread.

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
    - ``control(ControlChanged)``: the coaching was paused, resumed or ended (a gesture, a key).
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
    control = pyqtSignal(object)

    def __init__(self, config: LiveConfig, parent: QObject | None = None) -> None:
        self.config = config
        # The loop holds its session (every detection of a file, for seeks): it must not hold
        # this worker in a reference cycle, or both outlive the window until a full collection.
        worker = weakref.ref(self)

        def progress(text: str) -> None:
            alive = worker()
            if alive is not None:
                alive.status.emit(text)

        self.loop = LiveLoop(config, progress=progress)
        super().__init__(self.loop.updates, parent)
        self.latest = LatestSlot()
        self.info: SourceInfo | None = None
        self._paused = False
        self.errored.connect(self._on_errored)

    # ------------------------------------------------------------------ state (any thread)
    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def frames_processed(self) -> int:
        return self.loop.frames

    @property
    def coach(self) -> Coach | None:
        """The session's coach (read it once the thread has finished, or between sessions)."""
        return self.loop.session.coach if self.loop.session is not None else None

    # ------------------------------------------------------------------ control (any thread)
    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.send(live.Pause() if paused else live.Play())

    def step_once(self) -> None:
        """While paused: process and show one more frame."""
        self.send(live.StepOnce())

    def seek(self, index: int) -> None:
        """Go to frame ``index`` of a file (the coach replays up to it)."""
        if not self.config.request.live:
            self.send(live.Seek(max(0, int(index))))

    def restart(self) -> None:
        """Start the session over (a file from its beginning)."""
        self.send(live.Restart())

    def set_protocol(self, protocol: Protocol) -> None:
        """Start the session over with another protocol."""
        self.send(live.Restart(protocol))

    def toggle_coaching(self) -> None:
        """Pause the coaching, or resume it (frames keep flowing either way)."""
        self.send(live.ToggleCoaching())

    def pause_coaching(self) -> None:
        self.send(live.PauseCoaching())

    def resume_coaching(self) -> None:
        self.send(live.ResumeCoaching())

    def end_session(self) -> None:
        """End the session as the end of a file does (then ``restart`` starts a new one)."""
        self.send(live.EndSession())

    def set_gestures(self, enabled: bool) -> None:
        self.send(live.SetGestures(enabled))

    def set_realtime(self, realtime: bool) -> None:
        self.send(live.SetRealtime(realtime))

    def stop(self, command: Any = None) -> None:
        """Ask the thread to finish (then ``wait()`` for it)."""
        super().stop(live.Stop() if command is None else command)

    # ------------------------------------------------------------------ worker thread
    def run(self) -> None:  # noqa: D401 - QThread entry point
        lower_thread_priority()
        super().run()

    def _on_errored(self, exc: BaseException) -> None:
        self.failed.emit(f"internal error: {exc!r}")

    def deliver(self, value: Any) -> None:
        if isinstance(value, Published):
            self.latest.put(value)
        elif isinstance(value, EventBatch):
            self.events.emit(value)
        elif isinstance(value, live.Status):
            self.status.emit(value.text)
        elif isinstance(value, live.Problem):
            self.warning.emit(value.text)
        elif isinstance(value, live.PausedChanged):
            self._paused = value.paused
            self.paused_changed.emit(value.paused)
        elif isinstance(value, live.ControlChanged):
            self.control.emit(value)
        elif isinstance(value, live.SessionReset):
            self.session_reset.emit()
        elif isinstance(value, SessionEnd):
            self.ended.emit(value)
        elif isinstance(value, live.Opened):
            self.info = value.info
            self.opened.emit(value.info)
        elif isinstance(value, live.SourceFailed):
            self.source_failed.emit(value.text)
        elif isinstance(value, live.Failed):
            self.failed.emit(value.text)
