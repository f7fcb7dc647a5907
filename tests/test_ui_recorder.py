"""Recording the camera stream (``--record``) so a session can be replayed later."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from posecoach.analysis.protocol import load_protocol  # noqa: E402
from posecoach.capture.recorder import RecordingSource, VideoRecorder  # noqa: E402
from posecoach.capture.video_file import VideoFileSource  # noqa: E402
from posecoach.errors import SourceError  # noqa: E402
from posecoach.session.live import LiveConfig  # noqa: E402
from posecoach.session.sources import SourceRequest  # noqa: E402
from posecoach.testing import ScriptedDetector, SyntheticSource  # noqa: E402
from posecoach.ui.worker import PipelineWorker  # noqa: E402


def frame(i: int) -> np.ndarray:
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :, 0] = (i * 7) % 255
    return image


def count_frames(path: Path) -> int:
    with VideoFileSource(path) as source:
        return sum(1 for _ in source.frames())


def test_recorder_keeps_the_clock(tmp_path: Path):
    path = tmp_path / "rec.mp4"
    with VideoRecorder(path, 30.0, 64, 48) as recorder:
        for i in range(30):                 # one second at 30 fps
            recorder.write(frame(i), i / 30)
        for i in range(15):                 # then 15 fps for one second: frames are doubled
            recorder.write(frame(i), 1.0 + i / 15)
        recorder.write(frame(0), 60.0)      # a long stall is not filled with a still picture
    assert recorder.dropped == 0
    assert recorder.frames_written == pytest.approx(61, abs=2)
    assert count_frames(path) == recorder.frames_written


def test_recorder_rejects_unknown_containers_and_missing_folders(tmp_path: Path):
    with pytest.raises(SourceError, match="mp4"):
        VideoRecorder(tmp_path / "rec.gif", 30.0, 64, 48)
    with pytest.raises(SourceError, match="does not exist"):
        VideoRecorder(tmp_path / "missing" / "rec.mp4", 30.0, 64, 48)


def test_recording_source_passes_frames_through(tmp_path: Path):
    path = tmp_path / "rec.avi"
    source = RecordingSource(SyntheticSource(frames=20, size=(64, 48)), path)
    assert [f.index for f in source.frames()] == list(range(20))
    source.close()
    assert source.source.closed
    assert count_frames(path) == 20


def test_live_session_is_recorded_and_replays(qtbot, tmp_path: Path):
    path = tmp_path / "session.mp4"
    request = SourceRequest(factory=lambda: SyntheticSource(frames=45, size=(64, 48), live=True), live_factory=True,
                            record=path)
    worker = PipelineWorker(LiveConfig(request=request, protocol=load_protocol("standing-rotation"),
                                         detector_factory=lambda progress: ScriptedDetector()))
    with qtbot.waitSignal(worker.ended, timeout=10_000):
        worker.start()
    worker.stop()
    assert worker.wait(5_000)
    frames = count_frames(path)
    assert 40 <= frames <= 50  # 1.5 s of camera at 30 fps
