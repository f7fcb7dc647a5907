"""The window's controller: owns the pipeline worker's lifecycle and the play/seek/protocol policy.

It is Qt-side (it runs a QThread and connects signals) but holds no widget: the worker's
signals go into the :class:`~posecoach.session.view_model.SessionViewModel`, which the
window subscribes to; the window's actions call the controller's methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PyQt6.QtCore import QObject

from posecoach.analysis.protocol import Protocol
from posecoach.session.live import LiveConfig
from posecoach.session.sources import SourceRequest
from posecoach.session.updates import ControlChanged, EventBatch
from posecoach.session.view_model import SessionViewModel
from posecoach.ui.audio import AudioCues
from posecoach.ui.worker import PipelineWorker


class SessionController(QObject):
    """Run one source at a time for the view model; switching sources stops the old worker first.

    Parameters
    ----------
    model : the view model the worker's updates go to.
    audio : sounds the coach events and guide cues.
    make_config : the live loop's configuration for a source and protocol.
    """

    def __init__(self, model: SessionViewModel, audio: AudioCues,
                 make_config: Callable[[SourceRequest, Protocol], LiveConfig], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.audio = audio
        self.make_config = make_config
        self.worker: PipelineWorker | None = None
        self.on_started: Callable[[PipelineWorker], None] | None = None  # the window starts pulling its frames
        self._next_request: SourceRequest | None = None

    # ------------------------------------------------------------------ worker lifecycle
    def start_source(self, request: SourceRequest) -> None:
        """Switch to another camera or file (the old worker stops in the background)."""
        self.model.set_source(request)
        old = self.worker
        self.worker = None
        if old is not None and old.isRunning():
            self._next_request = request
            old.stop()
            return
        self._launch(request)

    def _launch(self, request: SourceRequest) -> None:
        model = self.model
        worker = PipelineWorker(self.make_config(request, model.protocol), self)
        for signal, slot in ((worker.opened, model.opened), (worker.source_failed, model.source_failed),
                             (worker.failed, model.failed), (worker.status, model.set_status),
                             (worker.warning, model.warn), (worker.events, self._on_events),
                             (worker.session_reset, model.session_reset), (worker.session_reset, self.audio.policy.reset),
                             (worker.ended, model.ended),
                             (worker.paused_changed, model.paused_changed)):
            signal.connect(partial(self._if_current, worker, slot))
        worker.control.connect(partial(self._if_current, worker, self._on_control))
        worker.finished.connect(partial(self._on_worker_finished, worker))
        self.worker = worker
        if self.on_started is not None:
            self.on_started(worker)
        worker.start(PipelineWorker.Priority.LowPriority)

    def _if_current(self, worker: PipelineWorker, slot: Callable, *args: Any) -> None:
        if worker is self.worker:
            slot(*args)

    def _on_worker_finished(self, worker: PipelineWorker) -> None:
        if worker is not self.worker:
            worker.deleteLater()
            if self._next_request is not None and self.worker is None:
                request, self._next_request = self._next_request, None
                self._launch(request)

    def _on_events(self, batch: EventBatch) -> None:
        for event, text in self.model.events(batch, time.monotonic()):
            self.audio.on_event(event, text, rep=len(self.model.reps))   # a prompt repeats at most once a rep
        if not batch.replayed:
            for cue in batch.cues:
                self.audio.on_cue(cue)

    def _on_control(self, update: ControlChanged) -> None:
        text = self.model.control_changed(update, time.monotonic())
        if text:
            self.audio.confirm(text)

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop the worker(s) and wait for them."""
        self._next_request = None
        workers = [w for w in (self.worker, *self.findChildren(PipelineWorker)) if w is not None]
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.wait(timeout_ms)

    # ------------------------------------------------------------------ play, seek, protocol
    def toggle_play(self) -> None:
        worker = self.worker
        if worker is None:
            return
        if self.model.play_again():
            worker.restart()
            worker.set_paused(False)
        else:
            worker.set_paused(not worker.paused)
        self.model.set_paused(worker.paused)

    # ------------------------------------------------------------------ hands-free control (keys, remotes)
    def toggle_coaching(self) -> None:
        """Pause or resume the coaching (frames keep flowing); after the end, start a new session."""
        if self.worker is None:
            return
        if self.model.play_again():
            self.worker.restart()
            self.worker.set_paused(False)
            self.model.set_paused(False)
        else:
            self.worker.toggle_coaching()

    def pause_coaching(self) -> None:
        if self.worker is not None:
            self.worker.pause_coaching()

    def resume_coaching(self) -> None:
        if self.worker is not None:
            self.worker.resume_coaching()

    def end_session(self) -> None:
        if self.worker is not None and self.model.session_end is None:
            self.worker.end_session()

    def set_gestures(self, on: bool) -> None:
        self.model.set_gestures(on)
        if self.worker is not None:
            self.worker.set_gestures(on)

    def step_frame(self) -> None:
        worker = self.worker
        if worker is None or self.model.request.live:
            return
        if not worker.paused:
            worker.set_paused(True)
            self.model.set_paused(True)
        else:
            worker.step_once()

    def reset_session(self) -> None:
        if self.worker is not None:
            self.worker.restart()

    def seek_to(self, index: int) -> None:
        info = self.model.info
        if self.worker is not None and not self.model.request.live:
            if info is not None and info.frames:
                index = min(index, info.frames - 1)
            self.model.seeking()
            self.worker.seek(index)

    def seek_relative(self, seconds: float, current_index: int) -> None:
        info = self.model.info
        if info is not None:
            self.seek_to(max(0, current_index + int(round(seconds * info.fps))))

    def set_protocol(self, protocol: Protocol) -> None:
        self.model.set_protocol(protocol)
        if self.worker is not None:
            self.worker.set_protocol(protocol)
