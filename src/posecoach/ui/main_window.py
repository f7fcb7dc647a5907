"""The coach window: video with overlay, controls, camera menu, seek bar, summary.

The window owns one :class:`~posecoach.ui.worker.PipelineWorker` at a time and only
listens to it: the newest step is pulled from the worker's slot as soon as the render
thread has drawn it (and by a 30 Hz timer), and the worker's event signal feeds audio,
toasts and the summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QByteArray, QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from posecoach.analysis import events as ev
from posecoach.analysis.protocol import Protocol, builtin_protocol_names, load_protocol
from posecoach.capture.frame_source import SourceInfo
from posecoach.errors import PosecoachError
from posecoach.session import messages
from posecoach.session.live import LiveConfig
from posecoach.session.sources import DetectorFactory, SourceRequest
from posecoach.session.updates import EventBatch, Published, SessionEnd
from posecoach.ui.audio import AudioCues
from posecoach.ui.controls import CameraProbe, WindowActions, build_menus, build_toolbar, fill_camera_menu, make_action
from posecoach.ui.panels import NoSourcePanel, SummaryPanel
from posecoach.ui.render import OverlayRenderer, ViewOptions, render_published
from posecoach.ui.video_view import VideoView
from posecoach.ui.worker import PipelineWorker

PULL_INTERVAL_MS = 33
TOAST_S = 3.0
SEEK_STEP_S = 5.0
_TOAST_KINDS = {ev.CALIBRATED, ev.HOLD_COMPLETE, ev.HOLD_BROKEN, ev.WRONG_SIDE, ev.TRACKING_LOST, ev.SET_COMPLETE,
                ev.REST, ev.REST_OVER, ev.SESSION_COMPLETE}
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.m4v *.webm);;All files (*)"


@dataclass
class AppOptions:
    """How the window runs: its first source, protocol, model, database and modes."""

    request: SourceRequest
    protocol_name: str
    detector_factory: DetectorFactory
    model_name: str = "full"
    protocol: Protocol | None = None
    db_path: Path | None = None        # None: sessions are not stored
    realtime: bool = True              # replays at real speed (False: every frame, fast)
    audio: bool = True
    probe_cameras: bool = True
    max_frames: int | None = None      # pause after this many frames (screenshots)
    persist: bool = True               # remember choices and geometry in the settings
    mirrored: bool | None = None       # None: mirrored for cameras (remembered), not for files


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class MainWindow(QMainWindow):
    """The live coach window. ``session_end`` is set when a replayed file ends."""

    session_ended = pyqtSignal(object)   # SessionEnd, after the window updated
    problem = pyqtSignal(str)            # the source or the worker failed
    paused_changed = pyqtSignal(bool)
    _frame_rendered = pyqtSignal()       # from the render thread: pull now, not at the next tick

    def __init__(self, options: AppOptions, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.options = options
        self.settings = settings if settings is not None else QSettings()
        self.protocol = options.protocol or load_protocol(options.protocol_name)
        self.request = options.request
        self.worker: PipelineWorker | None = None
        self._next_request: SourceRequest | None = None
        self._seq = 0
        self.published: Published | None = None
        self.reps: list[dict[str, Any]] = []
        self.session_end: SessionEnd | None = None
        self.session_complete = False  # the protocol is done (all holds of all sets)
        self.info: SourceInfo | None = None
        self.dropped_frames = 0
        self.warnings: list[str] = []
        self._toast: str | None = None
        self._toast_until = 0.0
        self._dragging = False
        self._last_status = 0.0
        self._cameras: list[int] = []
        self.camera_probe = CameraProbe(self)
        self.audio = AudioCues(self, enabled=options.audio)
        self.audio.set_muted(self.settings.value("audio/muted", False, type=bool))
        self._mirror_live = self.settings.value("view/mirror_live", True, type=bool)
        self.mirrored = False
        self._rendered_seq = 0
        self._pull_posted = False
        self.renderer = OverlayRenderer()
        self._frame_rendered.connect(self.pull, Qt.ConnectionType.QueuedConnection)
        self.renderer.output.on_put = self._on_frame_rendered
        self.setWindowTitle("posecoach")
        self._build()
        self.view.resized.connect(self.renderer.set_size)
        self.camera_probe.found.connect(self._on_cameras)
        self._pull_timer = QTimer(self)
        self._pull_timer.setInterval(PULL_INTERVAL_MS)
        self._pull_timer.timeout.connect(self.pull)
        geometry = self.settings.value("window/geometry")
        if options.persist and isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 860)
        self.start_source(options.request)
        if options.probe_cameras:
            self.refresh_cameras()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.view = VideoView()
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.seek_slider = QSlider(Qt.Orientation.Horizontal)
        self.seek_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.seek_slider.sliderPressed.connect(lambda: setattr(self, "_dragging", True))
        self.seek_slider.sliderReleased.connect(self._on_slider_released)
        self.seek_slider.actionTriggered.connect(self._on_slider_action)
        self.time_label = QLabel("0:00 / 0:00")
        seek_row = QWidget()
        row = QHBoxLayout(seek_row)
        row.setContentsMargins(8, 2, 8, 2)
        row.addWidget(self.seek_slider, 1)
        row.addWidget(self.time_label)
        self.seek_row = seek_row
        video_page = QWidget()
        page = QVBoxLayout(video_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(0)
        page.addWidget(self.view, 1)
        page.addWidget(seek_row)
        self.no_source = NoSourcePanel()
        self.no_source.open_video.connect(self.open_video_dialog)
        self.no_source.retry.connect(self.retry_camera)
        self.stack = QStackedWidget()
        self.stack.addWidget(video_page)
        self.stack.addWidget(self.no_source)
        self.setCentralWidget(self.stack)

        self.summary = SummaryPanel()
        self.summary.set_reps([], self.protocol.holds_per_side)
        self.summary_dock = QDockWidget("Summary", self)
        self.summary_dock.setObjectName("summaryDock")
        self.summary_dock.setWidget(self.summary)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.summary_dock)
        self.summary_dock.hide()

        self.act_play = make_action(self, "Pause", self.toggle_play, ("Space",), tip="Start / pause")
        self.act_step = make_action(self, "Step", self.step_frame, (".",), tip="One frame forward (while paused)")
        self.act_reset = make_action(self, "Reset", self.reset_session, ("R",), tip="Start the session over")
        self.act_back = make_action(self, "Back 5 s", partial(self.seek_relative, -SEEK_STEP_S), ("Left",))
        self.act_forward = make_action(self, "Forward 5 s", partial(self.seek_relative, SEEK_STEP_S), ("Right",))
        self.act_mute = make_action(self, "Mute", self.set_muted, ("M",), checkable=True)
        self.act_mirror = make_action(self, "Mirror", self.set_mirrored, ("V",), checkable=True,
                                       tip="Show the picture mirrored (the numbers never are)")
        self.act_fullscreen = make_action(self, "Full screen", self.toggle_fullscreen, ("F", "F11"))
        self.act_leave_fullscreen = make_action(self, "Leave full screen", self.leave_fullscreen, ("Esc",))
        self.act_summary = make_action(self, "Summary", self.set_summary_visible, ("S",), checkable=True)
        self.act_open = make_action(self, "Open video…", self.open_video_dialog, ("Ctrl+O",))
        self.act_refresh_cameras = make_action(self, "Look for cameras again", self.refresh_cameras)
        self.act_quit = make_action(self, "Quit", self.close, ("Ctrl+Q",))
        self.summary_dock.visibilityChanged.connect(self._on_dock_visibility)
        self.act_mute.blockSignals(True)
        self.act_mute.setChecked(self.audio.muted)
        self.act_mute.blockSignals(False)
        if not self.audio.available:
            reason = "; ".join(self.audio.problems) or "audio is off"
            self.act_mute.setToolTip(f"No sound on this computer ({reason})")

        self.protocol_box = QComboBox()
        self.protocol_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.protocol_box.setToolTip("Exercise protocol (changing it starts the session over)")
        names = builtin_protocol_names()
        if self.options.protocol_name not in names:
            names.append(self.options.protocol_name)
        self.protocol_box.addItems(names)
        self.protocol_box.setCurrentText(self.options.protocol_name)
        self.protocol_box.currentTextChanged.connect(self.choose_protocol)

        actions = WindowActions(
            play=self.act_play, step=self.act_step, reset=self.act_reset, back=self.act_back,
            forward=self.act_forward, mute=self.act_mute, mirror=self.act_mirror, fullscreen=self.act_fullscreen,
            summary=self.act_summary, open=self.act_open, quit=self.act_quit)
        self.toolbar = build_toolbar(self, actions, self.protocol_box)
        self.camera_menu, self.protocol_menu = build_menus(self, actions, names, self.options.protocol_name,
                                                           self.protocol_box.setCurrentText)
        self._fill_camera_menu()

        self.status_label = QLabel()
        self.rate_label = QLabel()
        self.db_label = QLabel()
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.rate_label)
        self.statusBar().addPermanentWidget(self.db_label)
        db = self.options.db_path
        self.db_label.setText(f"saving sessions to {db.name}" if db else "sessions not saved")
        if db:
            self.db_label.setToolTip(str(db))

    # ------------------------------------------------------------------ sources
    def start_source(self, request: SourceRequest) -> None:
        """Switch to another camera or file (the old worker stops in the background)."""
        self.request = request
        self.info = None
        self.published = None
        self.session_end = None
        self.session_complete = False
        self.reps = []
        self._seq = 0
        self.summary.set_reps([], self.protocol.holds_per_side)
        self.mirrored = self.options.mirrored if self.options.mirrored is not None else (
            self._mirror_live if request.live else False)
        self.act_mirror.blockSignals(True)
        self.act_mirror.setChecked(self.mirrored)
        self.act_mirror.blockSignals(False)
        self.seek_row.setVisible(not request.live)
        for action in (self.act_step, self.act_back, self.act_forward):
            action.setEnabled(not request.live)
        self.renderer.set_source(None)
        self._rendered_seq = 0
        self.view.clear(f"Opening {request.label}…")
        self.stack.setCurrentIndex(0)
        self.setWindowTitle(f"posecoach: {request.label}")
        old = self.worker
        self.worker = None
        if old is not None and old.isRunning():
            self._next_request = request
            old.stop()
            return
        self._launch(request)

    def _launch(self, request: SourceRequest) -> None:
        config = LiveConfig(request=request, protocol=self.protocol, detector_factory=self.options.detector_factory,
                              model_name=self.options.model_name, realtime=self.options.realtime,
                              db_path=self.options.db_path, max_frames=self.options.max_frames)
        worker = PipelineWorker(config, self)
        for signal, slot in ((worker.opened, self._on_opened), (worker.source_failed, self._on_source_failed),
                             (worker.failed, self._on_failed), (worker.status, self._on_status),
                             (worker.warning, self._on_warning), (worker.events, self._on_events),
                             (worker.session_reset, self._on_session_reset), (worker.ended, self._on_ended),
                             (worker.paused_changed, self._on_paused_changed)):
            signal.connect(partial(self._if_current, worker, slot))
        worker.finished.connect(partial(self._on_worker_finished, worker))
        self.worker = worker
        self._update_play_action()
        self._push_view()
        self.renderer.set_source(worker.latest)
        worker.start(PipelineWorker.Priority.LowPriority)
        self._pull_timer.start()

    def _if_current(self, worker: PipelineWorker, slot: Callable, *args: Any) -> None:
        if worker is self.worker:
            slot(*args)

    def _on_worker_finished(self, worker: PipelineWorker) -> None:
        if worker is not self.worker:
            worker.deleteLater()
            if self._next_request is not None and self.worker is None:
                request, self._next_request = self._next_request, None
                self._launch(request)

    def open_video(self, path: str | Path) -> None:
        self.settings.setValue("files/last_dir", str(Path(path).parent))
        self.start_source(SourceRequest(path=Path(path)))

    def open_video_dialog(self) -> None:
        start = str(self.settings.value("files/last_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Replay a recorded video", start, VIDEO_FILTER)
        if path:
            self.open_video(path)

    def select_camera(self, index: int) -> None:
        if self.options.persist:
            self.settings.setValue("camera/index", index)
        record = self.options.request.record if index == self.options.request.camera else None
        self.start_source(SourceRequest(camera=index, record=record))

    def retry_camera(self) -> None:
        camera = self.request.camera if self.request.live else int(self.settings.value("camera/index", 0, type=int))
        self.select_camera(camera)

    def refresh_cameras(self) -> None:
        """Probe the cameras on a background thread; the Camera menu fills when done."""
        if self.camera_probe.start():
            self.act_refresh_cameras.setEnabled(False)

    def _on_cameras(self, found: list[int]) -> None:
        current = {self.request.camera} if self.request.live and self.info is not None else set()
        self._cameras = sorted(set(found) | current)
        self.act_refresh_cameras.setEnabled(True)
        self._fill_camera_menu()

    def _fill_camera_menu(self) -> None:
        live = self.request.live and self.request.factory is None
        fill_camera_menu(self.camera_menu, self._cameras, self.request.camera if live else None, self.select_camera,
                         self.act_refresh_cameras, self.camera_probe.probed)

    # ------------------------------------------------------------------ worker signals
    def _on_opened(self, info: SourceInfo) -> None:
        self.info = info
        self.stack.setCurrentIndex(0)
        if not self.request.live and info.frames:
            self.seek_slider.setRange(0, max(0, info.frames - 1))
        self.view.clear("Loading the pose model…")

    def _on_source_failed(self, message: str) -> None:
        live = self.request.live
        self.no_source.show_problem("No camera available" if live else "Cannot open this video", message, live)
        self.stack.setCurrentIndex(1)
        self.status_label.setText(message)
        self.problem.emit(message)

    def _on_failed(self, message: str) -> None:
        self.no_source.show_problem("The coach stopped", message, self.request.live)
        self.stack.setCurrentIndex(1)
        self.status_label.setText(message)
        self.problem.emit(message)

    def _on_status(self, message: str) -> None:
        self.status_label.setText(message or self.shortcut_hint())

    def shortcut_hint(self) -> str:
        keys = "Space pause · R reset · M mute · V mirror · F full screen · S summary"
        return keys if self.request.live else keys + " · ←/→ 5 s · . one frame"

    def _on_warning(self, message: str) -> None:
        self.warnings.append(message)
        self.db_label.setText("⚠ " + message)
        self.db_label.setStyleSheet("color: #e53935;")
        self.statusBar().showMessage(message, 8000)

    def _on_events(self, batch: EventBatch) -> None:
        if batch.reps is not None:
            self.reps = list(batch.reps)
            self.summary.set_reps(self.reps, self.protocol.holds_per_side)
        if batch.replayed:
            return
        for event in batch.events:
            text = messages.event_text(event, self.protocol)
            self.audio.on_event(event, text)
            if event.kind in _TOAST_KINDS and text:
                self.show_toast(text)
            if event.kind == ev.SESSION_COMPLETE:
                self.session_complete = True
                self.summary.set_reps(self.reps, self.protocol.holds_per_side, finished=True)
                self.set_summary_visible(True)
                self._update_play_action()
        for cue in batch.cues:
            self.audio.on_cue(cue)

    def _on_session_reset(self) -> None:
        self.reps = []
        self.session_end = None
        self.session_complete = False
        self._toast = None
        self.summary.set_reps([], self.protocol.holds_per_side)
        self._push_view()
        self._update_play_action()

    def _on_ended(self, end: SessionEnd) -> None:
        self.session_end = end
        self.reps = list(end.reps)
        self.summary.set_reps(self.reps, self.protocol.holds_per_side, finished=True)
        self.set_summary_visible(True)
        if self.request.live:
            message = "The camera stopped sending pictures (unplugged, or taken by another program)."
            self.no_source.show_problem("The camera stopped", message, True)
            self.stack.setCurrentIndex(1)
            self.status_label.setText(message)
        else:
            self.status_label.setText("Replay finished: press Space to watch it again")
        self._push_view()
        self._update_play_action()
        self.pull()
        self.session_ended.emit(end)

    def _on_paused_changed(self, paused: bool) -> None:
        self._update_play_action()
        self.pull()
        self._refresh_overlay()
        self.paused_changed.emit(paused)

    # ------------------------------------------------------------------ showing frames
    def _on_frame_rendered(self) -> None:
        """Render thread: ask the GUI thread to pull (at most one request waiting)."""
        if not self._pull_posted:
            self._pull_posted = True
            try:
                self._frame_rendered.emit()
            except RuntimeError:  # the window is being destroyed
                pass

    def pull(self) -> None:
        """Show the newest rendered frame (timer slot: stale frames are never shown)."""
        self._pull_posted = False
        worker = self.worker
        if worker is None:
            return
        now = time.monotonic()
        if self._toast is not None and now > self._toast_until:
            self._toast = None
            self._push_view()
        seq, item = worker.latest.get()
        if item is not None and seq != self._seq:
            if self._seq and seq > self._seq + 1:
                self.dropped_frames += seq - self._seq - 1
            self._seq = seq
            self.published = item
            self._show_position(item)
            if now - self._last_status > 0.5:
                self._last_status = now
                inference = item.step.timings.get("inference", 0.0) * 1000
                self.rate_label.setText(f"{item.fps:4.1f} fps · pose {inference:3.0f} ms")
        rendered_seq, rendered = self.renderer.output.get()
        if rendered is not None and rendered_seq != self._rendered_seq:
            self._rendered_seq = rendered_seq
            self.view.set_image(rendered.image)

    def view_options(self) -> ViewOptions:
        worker = self.worker
        # a pause after --frames (screenshots) is not the user's: show the session as running
        paused = bool(worker and worker.paused) and self.options.max_frames is None
        notice = None
        if self.session_end is not None and not self.request.live:
            notice = "End of the recording: Space plays it again"
        return ViewOptions(mirrored=self.mirrored, toast=self._toast, paused=paused, notice=notice)

    def _push_view(self) -> None:
        self.renderer.set_view(self.view_options())

    def _refresh_overlay(self) -> None:
        self._push_view()

    def render_now(self) -> None:
        """Render the newest step on this thread and show it (screenshots, tests)."""
        seq, item = self.worker.latest.get() if self.worker is not None else (0, None)
        if item is not None:
            self.published = item
            self.view.set_image(render_published(item, self.view_options(), (self.view.width(), self.view.height())))

    def _show_position(self, item: Published) -> None:
        if self.request.live or self.info is None:
            return
        fps = self.info.fps or 30.0
        index = item.step.frame.index
        if not self._dragging:
            self.seek_slider.blockSignals(True)
            self.seek_slider.setValue(index)
            self.seek_slider.blockSignals(False)
        total = (self.info.frames or 0) / fps
        if item.seeking_to is not None:
            self.time_label.setText(f"seeking {_clock(index / fps)} → {_clock(item.seeking_to / fps)}")
        else:
            self.time_label.setText(f"{_clock(item.step.frame.t)} / {_clock(total)}")

    def show_toast(self, text: str, seconds: float = TOAST_S) -> None:
        self._toast = text
        self._toast_until = time.monotonic() + seconds
        self._refresh_overlay()

    # ------------------------------------------------------------------ controls
    def _update_play_action(self) -> None:
        worker = self.worker
        if self.session_end is not None:
            text = "Replay"
        elif self.session_complete:
            text = "New session"
        elif worker is not None and worker.paused and self.options.max_frames is None:
            text = "Resume"
        else:
            text = "Pause"
        self.act_play.setText(text)

    def toggle_play(self) -> None:
        worker = self.worker
        if worker is None:
            return
        if self.session_end is not None or self.session_complete:
            self.session_end = None
            self.session_complete = False
            worker.restart()
            worker.set_paused(False)
        else:
            worker.set_paused(not worker.paused)
        self._update_play_action()

    def step_frame(self) -> None:
        worker = self.worker
        if worker is None or self.request.live:
            return
        if not worker.paused:
            worker.set_paused(True)
        else:
            worker.step_once()

    def reset_session(self) -> None:
        if self.worker is not None:
            self.worker.restart()

    def seek_to(self, index: int) -> None:
        if self.worker is not None and not self.request.live:
            if self.info is not None and self.info.frames:
                index = min(index, self.info.frames - 1)
            self.session_end = None
            self.worker.seek(index)
            self._update_play_action()

    def seek_relative(self, seconds: float) -> None:
        if self.published is None or self.info is None:
            return
        self.seek_to(max(0, self.published.step.frame.index + int(round(seconds * self.info.fps))))

    def _on_slider_released(self) -> None:
        self._dragging = False
        self.seek_to(self.seek_slider.value())

    def _on_slider_action(self, action: int) -> None:
        if action != QSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, lambda: self.seek_to(self.seek_slider.value()))

    def choose_protocol(self, name: str) -> None:
        try:
            protocol = load_protocol(name)
        except PosecoachError as exc:
            self.status_label.setText(str(exc))
            return
        self.protocol = protocol
        for action in self.protocol_menu.actions():
            action.setChecked(action.text() == name)
        if self.options.persist:
            self.settings.setValue("session/protocol", name)
        self.summary.set_reps([], protocol.holds_per_side)
        if self.worker is not None:
            self.worker.set_protocol(protocol)

    def set_muted(self, muted: bool) -> None:
        self.audio.set_muted(muted)
        if self.options.persist:
            self.settings.setValue("audio/muted", muted)

    def set_mirrored(self, mirrored: bool) -> None:
        self.mirrored = mirrored
        if self.request.live:
            self._mirror_live = mirrored
            if self.options.persist:
                self.settings.setValue("view/mirror_live", mirrored)
        self._refresh_overlay()

    def set_summary_visible(self, visible: bool) -> None:
        self.summary_dock.setVisible(visible)

    def _on_dock_visibility(self, visible: bool) -> None:
        self.act_summary.blockSignals(True)
        self.act_summary.setChecked(visible)
        self.act_summary.blockSignals(False)

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.leave_fullscreen()
        else:
            for bar in (self.menuBar(), self.toolbar, self.statusBar()):
                bar.hide()
            self.showFullScreen()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
            for bar in (self.menuBar(), self.toolbar, self.statusBar()):
                bar.show()

    # ------------------------------------------------------------------ closing
    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop the worker(s) and wait for them; close audio (idempotent)."""
        self._pull_timer.stop()
        self._next_request = None
        workers = [w for w in (self.worker, *self.findChildren(PipelineWorker)) if w is not None]
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.wait(timeout_ms)
        self.renderer.stop()
        self.audio.close()
        self.camera_probe.join(timeout=5.0)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self.isFullScreen():
            self.showNormal()
        if self.options.persist:
            self.settings.setValue("window/geometry", self.saveGeometry())
        self.shutdown()
        super().closeEvent(event)
