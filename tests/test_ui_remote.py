"""The window's hands-free controls: a presenter remote's and a headset's keys, the gestures switch, the voice."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PyQt6.QtCore import QSettings, Qt  # noqa: E402

from posecoach.session.sources import SourceRequest  # noqa: E402
from posecoach.testing import SyntheticSource, drill_detector  # noqa: E402
from posecoach.ui.main_window import AppOptions, MainWindow  # noqa: E402
from posecoach.ui.overlay_text import OverlayModel, overlay_text  # noqa: E402

pytestmark = pytest.mark.gui
REPS = (("right", 40.0, 8.0), ("left", 40.0, 8.0))
SIZE = (320, 240)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, settings: QSettings, **options) -> MainWindow:
    window = MainWindow(AppOptions(
        request=SourceRequest(factory=lambda: SyntheticSource(frames=None, size=SIZE, live=True), live_factory=True),
        protocol_name="standing-rotation", detector_factory=lambda progress: drill_detector(*SIZE, REPS),
        probe_cameras=False, **options), settings)
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    return window


def instruction(window: MainWindow) -> str:
    """The instruction the overlay shows for the newest frame."""
    item = window.published
    if item is None:
        return ""
    return overlay_text(OverlayModel(step=item.step, guide=item.guide, cues=item.cues)).instruction


def frame_index(window: MainWindow) -> int:
    return window.published.step.frame.index if window.published is not None else -1


def test_remote_and_media_keys_pause_resume_and_end(qtbot, settings):
    window = make_window(qtbot, settings)
    qtbot.waitUntil(lambda: window.published is not None, timeout=20_000)
    model = window.model
    for key, paused in ((Qt.Key.Key_PageDown, True), (Qt.Key.Key_PageUp, False),
                        (Qt.Key.Key_MediaTogglePlayPause, True), (Qt.Key.Key_MediaPlay, False),
                        (Qt.Key.Key_MediaPause, True)):
        qtbot.keyClick(window, key)
        qtbot.waitUntil(lambda paused=paused: model.coaching_paused == paused, timeout=10_000)
    assert window.act_coaching.text() == "Resume coaching"
    assert model.toast == "Coaching paused"
    qtbot.waitUntil(lambda: "raise one hand" in instruction(window), timeout=10_000)
    # paused coaching keeps the picture going (a gesture could resume it) ...
    index = frame_index(window)
    qtbot.waitUntil(lambda: frame_index(window) > index + 5, timeout=10_000)
    assert window.published.step.control.paused
    assert not window.worker.paused
    # ... and the end key ends the session, which is not a camera failure
    with qtbot.waitSignal(window.session_ended, timeout=10_000) as ended:
        qtbot.keyClick(window, Qt.Key.Key_MediaStop)
    assert ended.args[0].by_user
    assert model.problem is None and window.act_play.text() == "New session"
    assert "Session ended" in model.status
    with qtbot.waitSignal(window.worker.session_reset, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_PageDown)     # after the end, the remote starts a new session
    qtbot.waitUntil(lambda: model.session_end is None and not model.coaching_paused, timeout=10_000)
    window.close()


def test_gestures_switch_is_remembered_and_reaches_the_session(qtbot, settings):
    window = make_window(qtbot, settings)
    qtbot.waitUntil(lambda: window.published is not None, timeout=20_000)
    assert window.act_gestures.isChecked()
    assert window.published.step.control.gestures_on
    window.act_gestures.trigger()
    qtbot.waitUntil(lambda: not window.published.step.control.gestures_on, timeout=10_000)
    assert settings.value("control/gestures", type=bool) is False
    window.close()
    again = make_window(qtbot, settings, gestures=False)
    assert not again.act_gestures.isChecked()
    again.close()


def test_the_window_says_which_voice_speaks(qtbot, settings):
    window = make_window(qtbot, settings)
    text = window.status_line.voice_label.text()
    assert window.act_voice.text().lower().lstrip("⚠ ") == window.audio.speech_status
    if window.audio.has_speech:
        assert text.startswith("voice: ")
    else:
        assert text.startswith("⚠ no voice: ")
    window.close()
