"""``posecoach`` without a sub-command: open the coach window (or take a screenshot)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from posecoach.errors import PosecoachError

DEFAULT_PROTOCOL = "standing-rotation"
SCREENSHOT_SIZE = (1200, 900)
_SCREENSHOT_TIMEOUT_MS = 15 * 60 * 1000


def _ensure_platform(screenshot: bool) -> None:
    """Screenshots need no display (Qt's offscreen platform); the window needs one."""
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))
    if headless and screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif headless:
        raise PosecoachError("no display to open the window on (DISPLAY is not set); run it on a desktop, "
                             "or use 'posecoach analyze VIDEO' or '--screenshot PATH' without one")


def build_options(args: argparse.Namespace, settings) -> AppOptions:  # noqa: F821 - Qt imported lazily
    """Turn the command line (and remembered settings) into window options."""
    from posecoach.analysis.protocol import load_protocol
    from posecoach.models import model_spec
    from posecoach.session.sources import SourceRequest, mediapipe_factory
    from posecoach.ui.main_window import AppOptions

    screenshot = getattr(args, "screenshot", None) is not None
    protocol_name = args.protocol or str(settings.value("session/protocol", DEFAULT_PROTOCOL))
    try:
        protocol = load_protocol(protocol_name)
    except PosecoachError:
        if args.protocol:
            raise
        protocol_name, protocol = DEFAULT_PROTOCOL, load_protocol(DEFAULT_PROTOCOL)
    if getattr(args, "pass_mark", None) is not None:
        protocol = protocol.with_pass_mark(args.pass_mark)   # a clear error unless a range test
    if args.source is not None:
        from posecoach.capture.video_file import VideoFileSource
        if args.record is not None:
            print("posecoach: --record saves a camera's stream; it is ignored with --source", file=sys.stderr)
        VideoFileSource(args.source).close()  # a bad path fails here, with a clear message
        request = SourceRequest(path=args.source)
    else:
        camera = args.camera if args.camera is not None else int(settings.value("camera/index", 0, type=int))
        if args.record is not None:
            from posecoach.capture.recorder import check_record_path
            check_record_path(args.record)
        request = SourceRequest(camera=camera, record=args.record)
    model_name = model_spec(args.model).name
    db_path = None
    if not screenshot:
        from posecoach.session.store import default_db_path
        db_path = args.db or default_db_path()
    return AppOptions(
        request=request, protocol_name=protocol_name, protocol=protocol,
        detector_factory=mediapipe_factory(model_name, max(1, args.max_people)), model_name=model_name,
        db_path=db_path, realtime=not screenshot, audio=not screenshot, probe_cameras=not screenshot,
        max_frames=args.frames if screenshot else None, persist=not screenshot,
        gestures=not getattr(args, "no_gestures", False) and settings.value("control/gestures", True, type=bool))


def _preload_pose_backend() -> None:
    """Import the pose backend before the window shows.

    Importing MediaPipe holds Python's GIL for long stretches; done by the worker thread
    while the window is up, it would stall the GUI thread for a moment.
    """
    try:
        backend = importlib.import_module("posecoach.pose.mediapipe_backend")
        preload = getattr(backend, "preload", None)
        if preload is not None:
            preload()
    except ImportError:
        pass  # the worker reports it


def run_app(args: argparse.Namespace) -> int:
    """Open the coach window; with ``--screenshot PATH`` save it after ``--frames`` frames and quit."""
    _ensure_platform(args.screenshot is not None)
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from posecoach.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("posecoach")
    app.setApplicationName("posecoach")
    settings = QSettings()
    options = build_options(args, settings)
    if args.screenshot is not None:
        if args.frames < 1:
            raise PosecoachError("--frames must be at least 1")
        return take_screenshot(app, MainWindow(options, settings), args.screenshot, args.frames)
    _preload_pose_backend()
    window = MainWindow(options, settings)
    window.show()
    interrupted = _close_on_signals(window)
    heartbeat = None
    if os.environ.get("POSECOACH_HEARTBEAT"):
        from posecoach.ui.perf import GuiHeartbeat
        heartbeat = GuiHeartbeat(parent=window)
        heartbeat.start()
    status = app.exec()
    if heartbeat is not None:
        print(f"posecoach: GUI thread max block {heartbeat.max_block_ms:.1f} ms "
              f"({heartbeat.gaps_over_50ms} blocks over 50 ms)", file=sys.stderr)
    if interrupted:
        saved = " and the session was saved" if options.db_path is not None else ""
        print(f"posecoach: interrupted; the window was closed{saved}", file=sys.stderr)
        return 128 + interrupted[0]
    return status


def _close_on_signals(window) -> list[int]:
    """Ctrl+C (SIGINT) and SIGTERM close the window as its close button does.

    Closing stops the worker, which keeps the rep in progress and finishes the stored
    session, so an interrupted session loses nothing. Left to Python's default, Ctrl+C
    would raise inside a Qt slot and abort the process. A second signal leaves at once
    (every finished rep is already committed). Returns the list the received signal
    number is put in.
    """
    import signal

    from PyQt6.QtCore import QTimer

    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        if received:
            os._exit(128 + signum)
        received.append(signum)
        QTimer.singleShot(0, window.close)

    for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if signum is not None:
            try:
                signal.signal(signum, on_signal)
            except (ValueError, OSError):
                pass
    # Python runs signal handlers between bytecodes only: a timer lets it in while Qt waits.
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return received


def _fit_window_to_video(app, window) -> None:
    """Resize the window so the video fills its view (no black bars in the picture)."""
    info = window.model.info
    if info is None or not window.view.isVisible():
        return
    chrome = window.height() - window.view.height()
    width = SCREENSHOT_SIZE[0]
    window.resize(width, chrome + round(window.view.width() * info.height / info.width))
    app.processEvents()


def take_screenshot(app, window, path: Path, frames: int) -> int:
    """Run ``frames`` frames in ``window``, save it as PNG at ``path``; 0 on success."""
    from PyQt6.QtCore import QEventLoop, QTimer

    window.resize(*SCREENSHOT_SIZE)
    window.show()
    loop = QEventLoop()
    outcome = {"status": 0, "message": ""}

    def done(status: int = 0, message: str = "") -> None:
        outcome.update(status=status, message=message)
        QTimer.singleShot(150, loop.quit)  # let the last signals and paints through

    def on_paused(paused: bool) -> None:
        worker = window.worker
        if paused and worker is not None and worker.frames_processed >= frames:
            done()

    window.paused_changed.connect(on_paused)
    window.problem.connect(lambda message: done(1, message))
    window.session_ended.connect(lambda end: done())
    QTimer.singleShot(_SCREENSHOT_TIMEOUT_MS, lambda: done(1, "timed out"))
    loop.exec()
    _fit_window_to_video(app, window)
    window.pull()
    window.render_now()
    app.processEvents()
    image = window.grab()
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    saved = image.save(str(path), "PNG")
    window.shutdown()
    window.close()
    if not saved:
        raise PosecoachError(f"cannot write the screenshot {path}")
    if outcome["status"]:
        print(f"posecoach: {outcome['message']} (screenshot saved anyway: {path})", file=sys.stderr)
        return outcome["status"]
    print(path)
    return 0
