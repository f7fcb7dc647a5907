"""The coach window with a simulated camera: counts, controls, settings, no-camera panel, screenshots."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt6.QtCore import QSettings, Qt  # noqa: E402
from PyQt6.QtGui import QImage  # noqa: E402
from PyQt6.QtWidgets import QFileDialog  # noqa: E402

from posecoach.session.sources import SourceRequest  # noqa: E402
from posecoach.testing import ScriptedDetector, SyntheticSource, drill_detector, drill_duration_s  # noqa: E402
from posecoach.ui.app import take_screenshot  # noqa: E402
from posecoach.ui.main_window import AppOptions, MainWindow  # noqa: E402
from posecoach.ui.perf import GuiHeartbeat  # noqa: E402

pytestmark = pytest.mark.gui
REPS = (("right", 40.0, 8.0), ("left", 40.0, 8.0))
SIZE = (320, 240)


def drill_frames() -> int:
    return int(30 * drill_duration_s(REPS))


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def no_leaks(qtbot):
    before = set(threading.enumerate())
    yield
    qtbot.waitUntil(lambda: not [t for t in set(threading.enumerate()) - before if t.is_alive()], timeout=10_000)


def make_window(qtbot, settings: QSettings, *, frames: int | str | None = "drill", live: bool = False,
                fail: str | None = None,
                realtime: bool = False, detector_factory=None, protocol_name: str = "standing-rotation",
                **options) -> MainWindow:
    def open_source():
        count = drill_frames() if frames == "drill" else frames  # None: endless
        return SyntheticSource(frames=count, size=SIZE, live=live, fail=fail)

    factory = detector_factory or (lambda progress: drill_detector(*SIZE, REPS))
    window = MainWindow(AppOptions(request=SourceRequest(factory=open_source, live_factory=live),
                                   protocol_name=protocol_name, detector_factory=factory, realtime=realtime,
                                   probe_cameras=False, **options), settings)
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    return window


def write_video(path: Path, frames: int = 30, size=(160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, size)
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 60 + i, np.uint8)
        writer.write(image)
    writer.release()
    return path


def test_replay_shows_the_counts_and_the_summary(qtbot, settings, no_leaks):
    window = make_window(qtbot, settings)
    with qtbot.waitSignal(window.session_ended, timeout=60_000) as blocker:
        pass
    end = blocker.args[0]
    assert [(r["side"], r["completed"]) for r in end.reps] == [("right", True), ("left", True)]
    assert window.summary.cell("holds", "right") == "1 / 7"
    assert window.summary.cell("holds", "left") == "1 / 7"
    assert window.summary.cell("reps", "right") == "1"
    assert window.summary_dock.isVisible() and window.summary.table.rowCount() == 2
    qtbot.waitUntil(lambda: window.view.has_frame, timeout=10_000)
    assert window.published.step.state.completed == {"right": 1, "left": 1}
    assert window.act_play.text() == "Replay"
    # Space replays the file from the start
    qtbot.keyClick(window, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.session_ended, timeout=60_000):
        pass
    assert window.summary.cell("holds", "right") == "1 / 7"
    window.close()


def test_the_pipeline_never_runs_on_the_gui_thread(qtbot, settings, no_leaks):
    """Detection and coaching run on the worker; the GUI thread only paints what it is sent.

    How long the GUI thread is blocked is a speed figure: ``posecoach bench`` measures it
    (``gui_max_block_ms``), not a timed test on a shared CI machine.
    """
    gui_thread = threading.get_ident()
    detect_threads: set[int] = set()

    def factory(progress):
        detector = drill_detector(*SIZE, REPS, delay_s=0.02)
        detect = detector.detect

        def recording_detect(image, t):
            detect_threads.add(threading.get_ident())
            return detect(image, t)

        detector.detect = recording_detect
        return detector

    heartbeat = GuiHeartbeat(interval_ms=5)
    heartbeat.start()
    window = make_window(qtbot, settings, realtime=True, frames=150, detector_factory=factory)
    with qtbot.waitSignal(window.session_ended, timeout=30_000):
        pass
    heartbeat.stop()
    print(f"GUI max block during a simulated replay: {heartbeat.max_block_ms:.1f} ms (information only)")
    assert detect_threads and gui_thread not in detect_threads
    assert heartbeat.ticks > 0  # the GUI event loop kept running timers during the replay
    assert window.view.frames_shown > 0
    window.close()


def test_no_camera_offers_to_open_a_video(qtbot, settings, tmp_path: Path, monkeypatch, no_leaks):
    window = make_window(qtbot, settings, live=True, fail="camera 0 is not available (not connected)")
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.no_source, timeout=10_000)
    assert window.no_source.title.text() == "No camera available"
    assert "not available" in window.no_source.message.text()
    assert window.no_source.open_button.isVisible()
    clip = write_video(tmp_path / "clip.mp4")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(clip), "")))
    window.no_source.open_button.click()
    with qtbot.waitSignal(window.session_ended, timeout=20_000):
        pass
    assert window.stack.currentWidget() is not window.no_source
    assert window.model.request.path == clip and not window.model.mirrored
    assert settings.value("files/last_dir") == str(tmp_path)
    window.close()


def test_live_camera_is_mirrored_and_guides_the_start(qtbot, settings, no_leaks):
    window = make_window(qtbot, settings, live=True, detector_factory=lambda progress: ScriptedDetector())
    assert window.model.mirrored and window.act_mirror.isChecked()
    assert not window.seek_row.isVisible()
    qtbot.waitUntil(lambda: window.published is not None, timeout=10_000)
    qtbot.waitUntil(lambda: window.published.guide.stage == "countdown", timeout=10_000)
    qtbot.waitUntil(lambda: window.published.step.state.phase == "neutral", timeout=15_000)
    assert window.published.step.sample.separation_deg == pytest.approx(0.0, abs=3.0)
    window.close()


def test_shortcuts_and_remembered_settings(qtbot, settings, no_leaks):
    window = make_window(qtbot, settings, realtime=True, frames=3000)
    qtbot.waitUntil(lambda: window.published is not None, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.worker.paused, timeout=10_000)
    assert window.act_play.text() == "Resume"
    qtbot.waitUntil(lambda: window.view_options().paused, timeout=10_000)
    index = window.published.step.frame.index
    qtbot.keyClick(window, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: window.published.step.frame.index == index + 1, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.worker.paused, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.audio.muted and settings.value("audio/muted", type=bool)
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert window.summary_dock.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert not window.summary_dock.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_V)
    assert window.model.mirrored and window.view_options().mirrored
    with qtbot.waitSignal(window.worker.session_reset, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.keyClick(window, Qt.Key.Key_F)
    qtbot.waitUntil(window.isFullScreen, timeout=10_000)
    assert not window.toolbar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=10_000)
    assert window.toolbar.isVisible()
    window.protocol_box.setCurrentText("seated-rotation")
    assert window.model.protocol.name == "seated-rotation"
    assert settings.value("session/protocol") == "seated-rotation"
    window.close()
    again = make_window(qtbot, settings, frames=30)
    assert again.audio.muted and again.act_mute.isChecked()
    again.close()


def test_screenshot_of_the_window(qtbot, settings, tmp_path: Path, no_leaks):
    from PyQt6.QtWidgets import QApplication

    window = make_window(qtbot, settings, max_frames=200, persist=False)
    out = tmp_path / "shot.png"
    assert take_screenshot(QApplication.instance(), window, out, 200) == 0
    image = QImage(str(out))
    assert not image.isNull() and image.width() == 1200
    assert window.worker is None or window.worker.isFinished()


def test_toast_and_audio_survive_without_an_audio_device(qtbot, settings, no_leaks):
    window = make_window(qtbot, settings)
    from posecoach.analysis.events import CoachEvent
    for kind in ("hold_started", "hold_tick", "hold_complete", "fault", "rotate_now", "tracking_lost"):
        window.audio.on_event(CoachEvent(t=0.0, kind=kind), "Hold it")
    window.show_toast("Good. Inhale and return to centre")
    assert window.view_options().toast == "Good. Inhale and return to centre"
    with qtbot.waitSignal(window.session_ended, timeout=60_000):
        pass
    window.close()


def test_camera_menu_switches_cameras(qtbot, settings, monkeypatch, no_leaks):
    import posecoach.session.live as worker_mod
    from posecoach.errors import SourceError

    opened = []
    real_open = worker_mod.open_source

    def fake_open(request):
        if request.factory is not None:
            return real_open(request)
        opened.append(request.camera)
        raise SourceError(f"camera {request.camera} is not available")

    monkeypatch.setattr(worker_mod, "open_source", fake_open)
    window = make_window(qtbot, settings, frames=3000, realtime=True)
    window._on_cameras([0, 2])
    labels = [a.text() for a in window.camera_menu.actions()]
    assert labels[:2] == ["Camera 0", "Camera 2"] and "Look for cameras again" in labels
    next(a for a in window.camera_menu.actions() if a.text() == "Camera 2").trigger()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.no_source, timeout=10_000)
    assert opened == [2] and window.model.request.camera == 2 and window.model.mirrored
    assert settings.value("camera/index", type=int) == 2
    window.no_source.retry_button.click()
    qtbot.waitUntil(lambda: opened == [2, 2], timeout=10_000)
    window.close()


@pytest.mark.skipif(not os.sys.platform.startswith("linux"), reason="the display check is for Linux")
def test_window_without_a_display_says_so(monkeypatch, capsys):
    from posecoach.cli import main

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--camera", "0"]) == 2
    assert "no display" in capsys.readouterr().err


def test_a_completed_protocol_shows_the_summary_and_offers_a_new_session(qtbot, settings, tmp_path, no_leaks):
    protocol = tmp_path / "short.toml"
    protocol.write_text('name = "short"\nhold_s = 7.0\nholds_per_side = 1\nsets = 1\n')
    window = make_window(qtbot, settings, protocol_name=str(protocol), frames=None)  # endless: no end-of-file race
    assert window.model.protocol.holds_per_side == 1 and window.protocol_box.currentText() == str(protocol)
    qtbot.waitUntil(lambda: window.model.session_complete, timeout=60_000)
    assert window.summary_dock.isVisible() and window.summary.heading.text() == "Session complete"
    assert window.summary.cell("holds", "right") == "1 / 1" and window.summary.cell("holds", "left") == "1 / 1"
    assert window.act_play.text() == "New session"
    seen_at_reset = []  # read in a slot connected after the window's: the new session may run on at once
    window.worker.session_reset.connect(
        lambda: seen_at_reset.append((window.model.session_complete, window.summary.cell("holds", "right"),
                                      window.act_play.text())))
    with qtbot.waitSignal(window.worker.session_reset, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert seen_at_reset[0] == (False, "0 / 1", "Pause")
    window.close()


def test_the_summary_repeats_the_sessions_warnings_once_each(qtbot, settings, no_leaks):
    from posecoach.session.messages import HANDS_HIGH

    window = make_window(qtbot, settings, frames=40)
    with qtbot.waitSignal(window.session_ended, timeout=60_000):
        pass
    assert window.summary.notes.isHidden()   # a clean session says nothing
    window.model.warn(HANDS_HIGH)
    window.model.warn(HANDS_HIGH)             # told again at a second calibration
    assert window.summary.notes.text() == "⚠ " + HANDS_HIGH[0].upper() + HANDS_HIGH[1:]
    assert not window.summary.notes.isHidden()
    window.model.set_source(window.model.request)   # a new source starts clean
    assert window.summary.notes.isHidden()
    window.close()
