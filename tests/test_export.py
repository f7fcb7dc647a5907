"""``posecoach export`` and File > Export: the window's overlay burnt into a copy of a video.

A real clip from ../shared through MediaPipe (frame count, size, rate, overlay pixels);
the errors a user can meet (bad input, bad output, a moved recording, Ctrl+C) with a
scripted person; a stored session's video; the window's action with its progress dialog.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from conftest import shared_path  # noqa: E402
from posecoach.analysis.protocol import load_protocol  # noqa: E402
from posecoach.capture.recorder import RecordingSource  # noqa: E402
from posecoach.cli import main  # noqa: E402
from posecoach.errors import PosecoachError, SourceError  # noqa: E402
from posecoach.session.coaching import CoachingSession  # noqa: E402
from posecoach.session.export import ExportResult, export_annotated, output_size  # noqa: E402
from posecoach.session.session_log import SessionLog  # noqa: E402
from posecoach.session.store import SessionStore  # noqa: E402
from posecoach.testing import SyntheticSource, drill_detector  # noqa: E402
from posecoach.ui.annotate import draw_annotated, offscreen_gui  # noqa: E402
from posecoach.ui.export_command import resolve_input  # noqa: E402
from test_robust_files import plain_frames, write_video  # noqa: E402
from test_robust_interrupts import start_child, wait_for  # noqa: E402

PROTOCOL = load_protocol("standing-rotation")
SIZE = (160, 120)
REPS = (("right", 40.0, 8.0), ("left", 40.0, 8.0))


def read_video(path: Path) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames, fps


def run(generator):
    """Drive an export generator to its end; return (progress reports, result)."""
    reports = []
    while True:
        try:
            reports.append(next(generator))
        except StopIteration as done:
            return reports, done.value


def scripted(width: int = SIZE[0], height: int = SIZE[1]):
    return lambda: drill_detector(width, height, REPS)


@pytest.fixture
def gui(qapp):
    """Drawing needs a Qt application: pytest-qt's (the CLI would make an offscreen one of its own)."""
    assert offscreen_gui() is qapp
    return qapp


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


# ---------------------------------------------------------------------- a real clip
@pytest.mark.replay
def test_export_of_a_real_clip_has_the_frames_size_rate_and_the_overlay(tmp_path, model_path, capsys, gui):
    clip = shared_path("synth", "c01_baseline.mp4")
    out = tmp_path / "annotated.mp4"
    status = main(["export", str(clip), "--out", str(out), "--max-seconds", "2", "--quiet", "--db", str(tmp_path / "db")])
    assert status == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().err
    frames, fps = read_video(out)
    source, source_fps = read_video(clip)
    assert len(frames) == 60 and fps == pytest.approx(source_fps) == pytest.approx(30.0)
    assert frames[0].shape == source[0].shape == (480, 640, 3)
    assert leftovers(tmp_path) == []
    last, original = frames[-1].astype(int), source[59].astype(int)
    diff = np.abs(last - original).mean(axis=2)
    assert diff[:100, :170].mean() > 40      # the readout panel (top left) is drawn over the picture
    assert diff[440:, :].mean() > 25         # the instruction band along the bottom
    assert np.median(diff) < 8               # elsewhere it is the same video


# ---------------------------------------------------------------------- the generator, scripted
def test_export_writes_every_frame_at_the_source_rate_and_scales_down(tmp_path, gui):
    video = write_video(tmp_path / "in.mp4", plain_frames(45, (320, 240)), fps=25.0)
    out = tmp_path / "out.mp4"
    reports, result = run(export_annotated(video, out, PROTOCOL, scripted(320, 240), draw_annotated, width=160))
    assert isinstance(result, ExportResult) and result.frames == 45 and result.size == (160, 120)
    assert reports[-1].frames == 45 and reports[-1].fraction == 1.0
    assert all(a.frames <= b.frames for a, b in zip(reports, reports[1:]))
    frames, fps = read_video(out)
    assert len(frames) == 45 and frames[0].shape == (120, 160, 3) and fps == pytest.approx(25.0)
    assert leftovers(tmp_path) == []


def test_output_size_keeps_the_aspect_and_even_sides():
    assert output_size(640, 480) == (640, 480)
    assert output_size(640, 480, 1280) == (640, 480)   # never scaled up
    assert output_size(640, 480, 321) == (320, 240)
    with pytest.raises(PosecoachError):
        output_size(640, 480, 4)


def test_a_closed_export_leaves_nothing_and_keeps_the_old_file(tmp_path, gui):
    video = write_video(tmp_path / "in.mp4", plain_frames(120))
    out = tmp_path / "out.mp4"
    out.write_bytes(b"an earlier export")
    export = export_annotated(video, out, PROTOCOL, scripted(), draw_annotated)
    next(export)
    export.close()
    assert out.read_bytes() == b"an earlier export"
    assert leftovers(tmp_path) == []


def test_a_failing_drawer_leaves_nothing(tmp_path, gui):
    video = write_video(tmp_path / "in.mp4", plain_frames(30))

    def broken(step, cues, size, mirrored):
        raise RuntimeError("drawing failed")

    with pytest.raises(RuntimeError):
        run(export_annotated(video, tmp_path / "out.mp4", PROTOCOL, scripted(), broken))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_unreadable_input_and_unwritable_output_are_clear_errors(tmp_path, gui):
    video = write_video(tmp_path / "in.mp4", plain_frames(10))
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    cases = [(tmp_path / "missing.mp4", tmp_path / "a.mp4", SourceError, "no such file"),
             (junk, tmp_path / "a.mp4", SourceError, "cannot open"),
             (video, tmp_path / "no" / "a.mp4", PosecoachError, "does not exist"),
             (video, tmp_path / "a.txt", PosecoachError, ".mp4"),
             (video, tmp_path, PosecoachError, "folder"),
             (video, video, PosecoachError, "the video being exported")]
    for source, out, error, words in cases:
        with pytest.raises(error, match=words):
            run(export_annotated(source, out, PROTOCOL, scripted(), draw_annotated))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("argv, words", [
    (["export", "{tmp}/missing.mp4", "--out", "{tmp}/a.mp4"], "no such file"),
    (["export", "{tmp}/in.mp4", "--out", "{tmp}/no/a.mp4"], "does not exist"),
    (["export", "{tmp}/in.mp4", "--out", "{tmp}/a.mp4", "--width", "2"], "too small"),
    (["export", "latest", "--out", "{tmp}/a.mp4"], "no session database"),
])
def test_cli_errors_are_one_line_before_any_model_is_loaded(tmp_path, capsys, monkeypatch, argv, words, gui):
    import posecoach.models as models
    monkeypatch.setattr(models, "ensure_model", lambda *a, **k: pytest.fail("the model was loaded"))
    write_video(tmp_path / "in.mp4", plain_frames(10))
    args = [a.format(tmp=tmp_path) for a in argv] + ["--db", str(tmp_path / "db.sqlite3")]
    if "--width" in args:  # the width is checked by the export itself, after the model: let it load a fake
        monkeypatch.setattr(models, "ensure_model", lambda *a, **k: Path("fake.task"))
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1, err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_the_export_and_leaves_no_file(tmp_path):
    video = write_video(tmp_path / "in.mp4", plain_frames(400))
    out = tmp_path / "out.mp4"
    proc, marker = start_child(tmp_path, 20, 0.02, "export", str(video), "--out", str(out), "--quiet",
                               "--db", str(tmp_path / "db.sqlite3"))
    wait_for(marker.exists, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "was not written" in err
    assert not out.exists() and leftovers(tmp_path) == []


# ---------------------------------------------------------------------- a stored session's video
def store_session(db: Path, source: dict, protocol: str = "standing-rotation") -> int:
    doc = {"source": {"fps": 30.0, "frames": 10, "width": 160, "height": 120, **source},
           "protocol": {"name": protocol, "hold_s": 7.0, "holds_per_side": 7}, "frames": [], "reps": []}
    with SessionStore(db) as store:
        return store.save_analysis(doc, started_at="2025-01-01T10:00:00+00:00", model="full")


def test_a_session_is_exported_from_its_video_file(tmp_path):
    db = tmp_path / "db.sqlite3"
    video = write_video(tmp_path / "in.mp4", plain_frames(10))
    old = store_session(db, {"path": str(video)})                              # before sessions kept "file"
    new = store_session(db, {"path": "in.mp4", "file": str(video)}, "seated-rotation")
    assert resolve_input(str(old), db).video == video
    found = resolve_input("latest", db)
    assert (found.video, found.session_id, found.protocol) == (video, new, "seated-rotation")
    assert resolve_input(str(video), db).session_id is None   # a file is a file


def test_a_moved_video_or_an_unrecorded_camera_session_is_a_clear_error(tmp_path):
    db = tmp_path / "db.sqlite3"
    moved = store_session(db, {"path": "gone.mp4", "file": str(tmp_path / "gone.mp4")})
    camera = store_session(db, {"path": "camera:0"})
    with pytest.raises(PosecoachError, match=f"session {moved} is no longer at .*gone.mp4"):
        resolve_input(str(moved), db)
    with pytest.raises(PosecoachError, match="not recorded.*--record"):
        resolve_input(str(camera), db)
    with pytest.raises(PosecoachError, match="no session 99"):
        resolve_input("99", db)


def test_a_recorded_camera_session_remembers_its_recording(tmp_path):
    db, recording = tmp_path / "db.sqlite3", tmp_path / "rec.mp4"
    source = RecordingSource(SyntheticSource(frames=150, size=SIZE, live=True), recording)
    log = SessionLog(db, source.info, "full", live=True)
    session = CoachingSession(drill_detector(*SIZE, REPS), PROTOCOL, sinks=[log])
    for _ in session.run(source):
        pass
    log.close()
    source.close()
    assert log.session_ids
    with SessionStore(db) as store:
        video = store.session_video(log.session_ids[-1])
    assert video.path == str(recording.resolve()) and video.live
    assert resolve_input("latest", db).video == recording.resolve()


# ---------------------------------------------------------------------- the window
@pytest.mark.gui
def test_window_export_runs_in_the_background_and_can_be_cancelled(qtbot, tmp_path, monkeypatch):
    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtWidgets import QFileDialog, QPushButton

    from test_ui_window import make_window

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    video = write_video(tmp_path / "in.mp4", plain_frames(240))
    slow = lambda progress: drill_detector(*SIZE, REPS, delay_s=0.01)  # noqa: E731
    window = make_window(qtbot, settings, frames=30, detector_factory=slow)
    # a test source is no file: the window says what to do
    window.export_video_dialog()
    assert "no video to export" in window.model.warnings[-1]
    # cancelled: the dialog closes, nothing is written, the window says so
    out = tmp_path / "out.mp4"
    with qtbot.waitSignal(window.exporter.done, timeout=30_000) as blocker:
        window.export_video(video, out)
        assert window.exporter.dialog is not None and window.exporter.dialog.isVisible()
        qtbot.waitUntil(lambda: window.exporter.dialog.value() > 0, timeout=20_000)
        cancel = window.exporter.dialog.findChild(QPushButton)
        assert cancel.text() == "Cancel"
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == "Export cancelled: nothing was written"
    assert not window.exporter.running and window.exporter.dialog is None
    assert not out.exists() and leftovers(tmp_path) == []
    assert "cancelled" in window.model.warnings[-1]
    # the replayed file, through the menu's save dialog, to the end
    window.open_video(video)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    with qtbot.waitSignal(window.exporter.done, timeout=60_000) as blocker:
        window.act_export.trigger()
    result = blocker.args[0]
    assert isinstance(result, ExportResult), result
    assert result.frames == 240 and len(read_video(out)[0]) == 240
    assert "Annotated video saved" in window.model.status
    window.close()


@pytest.mark.gui
def test_window_offers_the_camera_recording_once_it_is_finished(qtbot, tmp_path):
    from PyQt6.QtCore import QSettings

    from posecoach.session.sources import SourceRequest
    from posecoach.ui.main_window import AppOptions, MainWindow

    recording = tmp_path / "rec.mp4"
    camera = lambda: SyntheticSource(frames=None, size=SIZE, live=True)  # noqa: E731
    window = MainWindow(AppOptions(request=SourceRequest(factory=camera, live_factory=True, record=recording),
                                   protocol_name="standing-rotation", detector_factory=lambda p: drill_detector(*SIZE, REPS),
                                   probe_cameras=False, persist=False, audio=False),
                        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.published is not None or window.worker.latest.get()[1] is not None, timeout=20_000)
    with pytest.raises(PosecoachError, match="still recording"):
        window.export_source()
    window.start_source(SourceRequest(factory=camera, live_factory=True))   # another camera, not recorded
    assert window.export_source() == recording
    window.close()


@pytest.mark.gui
def test_closing_the_window_mid_export_leaves_no_file(qtbot, tmp_path):
    from PyQt6.QtCore import QSettings

    from test_ui_window import make_window

    video = write_video(tmp_path / "in.mp4", plain_frames(240))
    window = make_window(qtbot, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat), frames=30,
                         detector_factory=lambda progress: drill_detector(*SIZE, REPS, delay_s=0.01))
    window.export_video(video, tmp_path / "out.mp4")
    qtbot.waitUntil(lambda: window.exporter.dialog.value() > 0, timeout=20_000)
    window.close()
    assert not window.exporter.running
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".mp4") == ["in.mp4"]
