"""The coach window: video with overlay, controls, camera menu, seek bar, summary.

The window takes a Qt-free :class:`~posecoach.session.view_model.SessionViewModel` and
subscribes to it; a :class:`~posecoach.ui.controller.SessionController` owns the worker
and the play/seek/protocol policy, and feeds the model. Frames do not go through the
model: the newest step is pulled from the worker's slot as soon as the render thread
has drawn it (and by a 30 Hz timer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from posecoach.analysis.gestures import GestureSettings
from posecoach.analysis.protocol import Protocol, builtin_protocol_names, load_protocol
from posecoach.analysis.range_test import score_range_test
from posecoach.errors import PosecoachError
from posecoach.session import messages
from posecoach.session import view_model as vm
from posecoach.session.live import LiveConfig
from posecoach.session.sources import DetectorFactory, SourceRequest
from posecoach.session.updates import Published
from posecoach.ui import controls
from posecoach.ui.audio import AudioCues
from posecoach.ui.controller import SessionController
from posecoach.ui.controls import CameraProbe, WindowActions, make_action
from posecoach.ui.export_dialog import VideoExport, export_target
from posecoach.ui.panels import NoSourcePanel, SeekBar, StatusLine, SummaryPanel
from posecoach.ui.range_test_panel import RangeTestPanel
from posecoach.ui.render import OverlayRenderer, ViewOptions, render_published
from posecoach.ui.video_view import VideoView
from posecoach.ui.worker import PipelineWorker

PULL_INTERVAL_MS = 33
SEEK_STEP_S = 5.0
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
    gestures: bool = True              # hands-free control (a raised hand pauses, both hands end)

    def live_config(self, request: SourceRequest, protocol: Protocol) -> LiveConfig:
        """The live loop's configuration for a source and protocol, in these modes."""
        return LiveConfig(request=request, protocol=protocol, detector_factory=self.detector_factory,
                          model_name=self.model_name, realtime=self.realtime, db_path=self.db_path,
                          max_frames=self.max_frames, gestures=GestureSettings() if self.gestures else None)


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
        self.model = vm.SessionViewModel(
            options.protocol or load_protocol(options.protocol_name), options.request, mirrored=options.mirrored,
            mirror_live=self.settings.value("view/mirror_live", True, type=bool),
            screenshot=options.max_frames is not None, gestures=options.gestures)
        self._seq = 0
        self.published: Published | None = None
        self.dropped_frames = 0
        self._last_status = 0.0
        self._cameras: list[int] = []
        self._last_recording: Path | None = None
        self.camera_probe = CameraProbe(self)
        self.audio = AudioCues(self, enabled=options.audio)
        self.audio.set_muted(self.settings.value("audio/muted", False, type=bool))
        self.controller = SessionController(self.model, self.audio, options.live_config, self)
        self.controller.on_started = self._on_worker_started
        self._rendered_seq = 0
        self._pull_posted = False
        self.renderer = OverlayRenderer()
        self._frame_rendered.connect(self.pull, Qt.ConnectionType.QueuedConnection)
        self.renderer.output.on_put = self._on_frame_rendered
        self.setWindowTitle("posecoach")
        self._build()
        self._unsubscribe: Callable[[], None] | None = self.model.subscribe(self._on_model)
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
        self.seek_row = SeekBar()
        self.seek_row.seek.connect(self.controller.seek_to)
        video_page = QWidget()
        page = QVBoxLayout(video_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(0)
        page.addWidget(self.view, 1)
        page.addWidget(self.seek_row)
        self.no_source = NoSourcePanel()
        self.no_source.open_video.connect(self.open_video_dialog)
        self.no_source.retry.connect(self.retry_camera)
        self.stack = QStackedWidget()
        self.stack.addWidget(video_page)
        self.stack.addWidget(self.no_source)
        self.setCentralWidget(self.stack)

        self.summary = SummaryPanel()
        self.summary.set_reps([], self.model.protocol.holds_per_side)
        self.summary_dock = QDockWidget("Summary", self)
        self.summary_dock.setObjectName("summaryDock")
        self.summary_dock.setWidget(self.summary)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.summary_dock)
        self.summary_dock.hide()
        self.range_test = RangeTestPanel()
        self.range_test_dock = QDockWidget("Range test result", self)
        self.range_test_dock.setObjectName("rangeTestDock")
        self.range_test_dock.setWidget(self.range_test)
        self.tabifyDockWidget(self.summary_dock, self.range_test_dock)   # a tab beside the summary
        self.range_test_dock.hide()

        control = self.controller
        self.act_play = make_action(self, "Pause", control.toggle_play, ("Space",), tip="Start / pause")
        self.act_step = make_action(self, "Step", control.step_frame, (".",), tip="One frame forward (while paused)")
        self.act_reset = make_action(self, "Reset", control.reset_session, ("R",), tip="Start the session over")
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
        self.act_coaching = make_action(self, "Pause coaching", control.toggle_coaching,
                                        tip="Pause or resume the coaching; the picture goes on (Page Down, play/pause)")
        controls.add_keys(self.act_coaching, controls.REMOTE_TOGGLE)
        controls.add_keys(make_action(self, "Pause coaching (media key)", control.pause_coaching), controls.REMOTE_PAUSE)
        controls.add_keys(make_action(self, "Resume coaching (media key)", control.resume_coaching),
                          controls.REMOTE_RESUME)
        self.act_end = make_action(self, "End session", control.end_session, ("Ctrl+Shift+E",),
                                   tip="End and save the session (or both hands above the head, or media stop)")
        controls.add_keys(self.act_end, controls.REMOTE_END)
        self.act_gestures = make_action(self, "Hands-free gestures", self.set_gestures, checkable=True,
                                        tip="One hand above the head for a second pauses or resumes; "
                                            "both hands for 2.5 s end the session")
        controls.check_quietly(self.act_gestures, self.options.gestures)
        self.act_voice = make_action(self, self.audio.speech_status.capitalize(), lambda: None)
        self.act_voice.setEnabled(False)
        self.summary_dock.visibilityChanged.connect(self._on_dock_visibility)
        controls.check_quietly(self.act_mute, self.audio.muted)
        if not self.audio.available:
            reason = "; ".join(self.audio.problems) or "audio is off"
            self.act_mute.setToolTip(f"No sound on this computer ({reason})")

        self.protocol_box = controls.protocol_box(
            builtin_protocol_names(), self.options.protocol_name, self.choose_protocol,
            {name: messages.protocol_intro(load_protocol(name)) for name in builtin_protocol_names()})
        names = [self.protocol_box.itemText(i) for i in range(self.protocol_box.count())]

        actions = WindowActions(
            play=self.act_play, step=self.act_step, reset=self.act_reset, back=self.act_back,
            forward=self.act_forward, mute=self.act_mute, mirror=self.act_mirror, fullscreen=self.act_fullscreen,
            summary=self.act_summary, open=self.act_open, quit=self.act_quit, coaching=self.act_coaching,
            end=self.act_end, gestures=self.act_gestures, voice=self.act_voice)
        self.toolbar = controls.build_toolbar(self, actions, self.protocol_box)
        self.camera_menu, self.protocol_menu = controls.build_menus(self, actions, names, self.options.protocol_name,
                                                           self.protocol_box.setCurrentText)
        self._fill_camera_menu()
        self.exporter = VideoExport(self, self.model)
        self.act_export = make_action(self, "Export annotated video…", self.export_video_dialog, ("Ctrl+E",),
                                      tip="Save a copy of the video with the overlay drawn in")
        file_menu = self.menuBar().actions()[0].menu()
        file_menu.insertAction(self.camera_menu.menuAction(), self.act_export)  # after Open video…

        self.status_line = StatusLine(self.options.db_path)
        self.status_line.set_voice(self.audio.speech_status, self.audio.has_speech or not self.options.audio)
        self.setStatusBar(self.status_line)

    # ------------------------------------------------------------------ the controller's worker
    @property
    def worker(self) -> PipelineWorker | None:
        return self.controller.worker

    # ------------------------------------------------------------------ sources
    def start_source(self, request: SourceRequest) -> None:
        """Switch to another camera or file (the old worker stops in the background)."""
        if self.model.request.record is not None and request != self.model.request:  # that recording is done now
            self._last_recording = Path(self.model.request.record)
        self.published = None
        self._seq = 0
        self.renderer.set_source(None)
        self._rendered_seq = 0
        self.controller.start_source(request)

    def _on_worker_started(self, worker: PipelineWorker) -> None:
        self.renderer.set_source(worker.latest)
        self._pull_timer.start()

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
        camera = self.model.request.camera if self.model.request.live else int(self.settings.value("camera/index", 0, type=int))
        self.select_camera(camera)

    def refresh_cameras(self) -> None:
        """Probe the cameras on a background thread; the Camera menu fills when done."""
        if self.camera_probe.start():
            self.act_refresh_cameras.setEnabled(False)

    def _on_cameras(self, found: list[int]) -> None:
        current = {self.model.request.camera} if self.model.request.live and self.model.info is not None else set()
        self._cameras = sorted(set(found) | current)
        self.act_refresh_cameras.setEnabled(True)
        self._fill_camera_menu()

    def _fill_camera_menu(self) -> None:
        live = self.model.request.live and self.model.request.factory is None
        controls.fill_camera_menu(self.camera_menu, self._cameras, self.model.request.camera if live else None, self.select_camera,
                         self.act_refresh_cameras, self.camera_probe.probed)

    # ------------------------------------------------------------------ the view model
    def _on_model(self, name: str) -> None:
        model = self.model
        if name == vm.SOURCE:
            request = model.request
            controls.check_quietly(self.act_mirror, model.mirrored)
            self.seek_row.setVisible(not request.live)
            for action in (self.act_step, self.act_back, self.act_forward):
                action.setEnabled(not request.live)
            self.view.clear(f"Opening {request.label}…")
            self.stack.setCurrentIndex(0)
            self.setWindowTitle(f"posecoach: {request.label}")
            self.summary.set_notes(model.warnings)   # a new source starts without warnings
        elif name == vm.INFO:
            info = model.info
            assert info is not None
            self.stack.setCurrentIndex(0)
            if not model.request.live and info.frames:
                self.seek_row.set_frames(info.frames)
            self.view.clear("Loading the pose model…")
        elif name == vm.PROBLEM and model.problem is not None:
            problem = model.problem
            self.no_source.show_problem(problem.title, problem.message, model.request.live)
            self.stack.setCurrentIndex(1)
            if problem.error:
                self.problem.emit(problem.message)
        elif name == vm.STATUS:
            self.status_line.status_label.setText(model.status)
        elif name == vm.WARNING:
            self.status_line.warn(model.warnings[-1])
            self.summary.set_notes(model.warnings)
        elif name == vm.REPS:
            self.summary.set_reps(model.reps, model.protocol.holds_per_side, title=model.summary_title)
            self._show_range_test()
        elif name == vm.SHOW_SUMMARY:
            self.set_summary_visible(True)
            self._show_range_test()   # a range test's result comes first
        elif name == vm.PLAY:
            self.act_play.setText(model.play_label)
        elif name == vm.CONTROL:
            self.act_coaching.setText(model.coaching_label)
            controls.check_quietly(self.act_gestures, model.gestures)
        elif name == vm.VIEW:
            self.renderer.set_view(self.view_options())
        elif name == vm.PAUSED:
            self.pull()
            self.paused_changed.emit(model.paused)
        elif name == vm.ENDED:
            self.pull()
            self.session_ended.emit(model.session_end)

    def _show_range_test(self) -> None:
        """A range test's result screen: filled as trials come, shown when the test ends."""
        protocol = self.model.protocol
        if protocol.range_test is None:
            self.range_test_dock.hide()
            return
        result = score_range_test(self.model.reps, protocol.range_test.pass_mark_deg,
                                  protocol.thresholds.pelvis_limit_deg)
        self.range_test.set_result(result, finished=self.model.finished)
        if self.model.finished and self.model.reps:
            self.range_test_dock.show()
            self.range_test_dock.raise_()

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
        self.model.expire_toast(now)
        seq, item = worker.latest.get()
        if item is not None and seq != self._seq:
            if self._seq and seq > self._seq + 1:
                self.dropped_frames += seq - self._seq - 1
            self._seq = seq
            self.published = item
            self._show_position(item)
            if now - self._last_status > 0.5:
                self._last_status = now
                self.status_line.set_rate(item.fps, item.step.timings.get("inference", 0.0) * 1000)
        rendered_seq, rendered = self.renderer.output.get()
        if rendered is not None and rendered_seq != self._rendered_seq:
            self._rendered_seq = rendered_seq
            self.view.set_image(rendered.image)

    def view_options(self) -> ViewOptions:
        model = self.model
        return ViewOptions(mirrored=model.mirrored, toast=model.toast, paused=model.shown_paused, notice=model.notice)

    def render_now(self) -> None:
        """Render the newest step on this thread and show it (screenshots, tests)."""
        seq, item = self.worker.latest.get() if self.worker is not None else (0, None)
        if item is not None:
            self.published = item
            self.view.set_image(render_published(item, self.view_options(), (self.view.width(), self.view.height())))

    def _show_position(self, item: Published) -> None:
        info = self.model.info
        if not self.model.request.live and info is not None:
            self.seek_row.show_position(item.step.frame.index, item.step.frame.t, info.frames or 0, info.fps or 30.0,
                                        item.seeking_to)

    def show_toast(self, text: str, seconds: float = vm.TOAST_S) -> None:
        self.model.show_toast(text, time.monotonic(), seconds)

    # ------------------------------------------------------------------ controls
    def seek_to(self, index: int) -> None:
        self.controller.seek_to(index)

    def seek_relative(self, seconds: float) -> None:
        if self.published is not None:
            self.controller.seek_relative(seconds, self.published.step.frame.index)

    def choose_protocol(self, name: str) -> None:
        try:
            protocol = load_protocol(name)
        except PosecoachError as exc:
            self.model.set_status(str(exc))
            return
        for action in self.protocol_menu.actions():
            action.setChecked(action.text() == name)
        if self.options.persist:
            self.settings.setValue("session/protocol", name)
        self.model.set_status(messages.protocol_intro(protocol))
        self.controller.set_protocol(protocol)

    def set_muted(self, muted: bool) -> None:
        self.audio.set_muted(muted)
        if self.options.persist:
            self.settings.setValue("audio/muted", muted)

    def set_gestures(self, on: bool) -> None:
        self.options.gestures = on
        self.controller.set_gestures(on)
        if self.options.persist:
            self.settings.setValue("control/gestures", on)

    def set_mirrored(self, mirrored: bool) -> None:
        self.model.set_mirrored(mirrored)
        if self.model.request.live and self.options.persist:
            self.settings.setValue("view/mirror_live", mirrored)

    def set_summary_visible(self, visible: bool) -> None:
        self.summary_dock.setVisible(visible)

    def _on_dock_visibility(self, visible: bool) -> None:
        controls.check_quietly(self.act_summary, visible)

    def toggle_fullscreen(self) -> None:
        full = not self.isFullScreen()
        for bar in (self.menuBar(), self.toolbar, self.statusBar()):
            bar.setVisible(not full)
        if full:
            self.showFullScreen()
        else:
            self.showNormal()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.toggle_fullscreen()

    # ------------------------------------------------------------------ exporting
    def export_source(self) -> Path:
        """The video File > Export annotates: the replayed file, or the camera's finished recording."""
        return export_target(self.model.request, self._last_recording)

    def export_video_dialog(self) -> None:
        """Ask where to save an annotated copy of :meth:`export_source`, then export it."""
        self.exporter.ask(self.export_source, self.export_video)

    def export_video(self, video: Path, out: Path) -> None:
        """Export ``video`` with the overlay (this protocol, mirrored as shown) to ``out``, with a progress dialog."""
        factory = self.options.detector_factory
        self.exporter.start(video, out, self.model.protocol, lambda: factory(lambda text: None), self.model.mirrored)

    # ------------------------------------------------------------------ closing
    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop the worker(s) and wait for them; close audio (idempotent)."""
        self._pull_timer.stop()
        self.exporter.stop(timeout_ms)
        self.controller.shutdown(timeout_ms)
        self.controller.on_started = None
        if self._unsubscribe is not None:   # no window <-> model cycle left behind
            self._unsubscribe()
            self._unsubscribe = None
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
