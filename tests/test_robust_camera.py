"""Cameras that do not exist, are busy, get unplugged or hang; frames late or out of order.

A fake ``cv2.VideoCapture`` stands in for the driver, so every failure is reproducible
and each test takes about a second.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from posecoach.analysis.protocol import Protocol
from posecoach.capture import camera as camera_mod
from posecoach.capture.camera import CameraSource
from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.errors import SourceError
from posecoach.session.coaching import CoachingSession
from posecoach.testing import drill_detector


class FakeCapture:
    """A driver: ``good`` frames at ``fps``, then ``after`` ("fail": read() is False; "hang": blocks)."""

    release_event = threading.Event()  # set at the end of a test to free hung reads

    def __init__(self, index, *, opened=True, good=10**9, after="fail", fps=200.0):
        self.opened, self.good, self.after, self.period = opened, good, after, 1.0 / fps
        self.reads = 0
        self.released = False

    def isOpened(self):  # noqa: N802 - OpenCV's name
        return self.opened

    def set(self, prop, value):
        return True

    def get(self, prop):
        return 30.0

    def read(self):
        self.reads += 1
        if self.reads > self.good:
            if self.after == "hang":
                FakeCapture.release_event.wait(30)
            return False, None
        time.sleep(self.period)
        image = np.zeros((48, 64, 3), np.uint8)
        image[0, : self.reads % 64] = 255
        return True, image

    def release(self):
        self.released = True


@pytest.fixture
def driver(monkeypatch):
    """Install a fake driver: ``driver(**FakeCapture options)``; returns the captures made."""
    made: list[FakeCapture] = []
    FakeCapture.release_event.clear()

    def install(**options):
        def factory(index):
            capture = FakeCapture(index, **options)
            made.append(capture)
            return capture
        monkeypatch.setattr(camera_mod.cv2, "VideoCapture", factory)
        return made

    yield install
    FakeCapture.release_event.set()


def test_a_camera_that_does_not_exist():
    with pytest.raises(SourceError, match="camera 99 is not available"):
        CameraSource(99)  # the real driver: no such device here
    with pytest.raises(SourceError, match="start at 0"):
        CameraSource(-1)


def test_a_busy_camera_that_opens_but_gives_no_picture(driver):
    made = driver(good=0, after="fail")
    started = time.monotonic()
    with pytest.raises(SourceError, match="delivers no picture"):
        CameraSource(0, stall_s=0.3, open_timeout_s=2.0)
    assert time.monotonic() - started < 2.0
    assert made[0].released


def test_a_busy_camera_whose_driver_blocks_does_not_hang_the_caller(driver):
    driver(good=0, after="hang")
    started = time.monotonic()
    with pytest.raises(SourceError, match="delivers no picture"):
        CameraSource(0, stall_s=5.0, open_timeout_s=0.5)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("after", ["fail", "hang"])
def test_camera_unplugged_mid_session_ends_the_frames_and_says_so(driver, after):
    """The driver stops delivering (returns nothing, or blocks for ever): frames() ends, failed is set."""
    made = driver(good=20, after=after)
    source = CameraSource(0, stall_s=0.4, open_timeout_s=2.0)
    assert (source.info.width, source.info.height, source.info.live) == (64, 48, True)
    started = time.monotonic()
    frames = list(source.frames())
    assert 1 <= len(frames) <= 20 and time.monotonic() - started < 3.0
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))
    assert source.failed
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 3.0   # a hung driver does not block closing either
    assert made[0].released == (after == "fail")  # never released under a read still in progress


def test_closing_a_working_camera_ends_its_frames(driver):
    driver()
    source = CameraSource(0, stall_s=1.0)
    seen = []
    for frame in source.frames():
        seen.append(frame)
        if len(seen) == 5:
            source.close()
    assert len(seen) <= 6 and not source.failed


class ListSource:
    """A FrameSource yielding given timestamps (late, repeated, out of order, not finite)."""

    def __init__(self, times, live=True):
        self.times = times
        self.info = SourceInfo(path="camera:0", fps=30.0, frames=None, width=160, height=120, live=live)

    def frames(self):
        for i, t in enumerate(self.times):
            yield Frame(image=np.zeros((120, 160, 3), np.uint8), t=t, index=i)

    def close(self):
        pass


def run_with_times(times):
    detector = drill_detector(160, 120, (("right", 40.0, 2.0), ("left", 40.0, 2.0)))
    session = CoachingSession(detector, Protocol(name="p", hold_s=1.0, holds_per_side=2))
    coach = session.coach
    steps = list(session.run(ListSource(times)))
    assert len(steps) == len(times)                          # no frame dropped
    ts = [s.frame.t for s in steps]
    assert all(math.isfinite(t) for t in ts) and all(b > a for a, b in zip(ts, ts[1:]))
    assert all(s.sample.t == s.frame.t and s.state.t == s.frame.t for s in steps)
    assert [s.frame.index for s in steps] == list(range(len(times)))
    return coach


def test_late_and_out_of_order_frames_never_move_time_backwards():
    rng = np.random.default_rng(5)
    times = list(np.arange(0, 30, 1 / 30))
    for i in rng.choice(len(times), 80, replace=False):   # late, repeated, far ahead, not finite
        times[i] = float(times[i] + rng.choice([-0.5, -0.034, 0.0, 2.0, 1e9, np.nan, np.inf, -np.inf]))
    run_with_times(times)


def test_a_jittery_camera_with_late_frames_still_counts_the_holds():
    rng = np.random.default_rng(6)
    times = list(np.arange(0, 24, 1 / 30) + rng.uniform(-0.004, 0.004, 720))
    for i in rng.choice(len(times) - 1, 30, replace=False):  # pairs arriving swapped, or twice
        times[i], times[i + 1] = (times[i + 1], times[i]) if i % 2 else (times[i], times[i])
    coach = run_with_times(times)
    assert [(r.side, r.completed) for r in coach.reps] == [("right", True), ("left", True)]


def test_mediapipe_accepts_late_repeated_and_missing_timestamps(model_path):
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
    image = np.full((120, 160, 3), 80, np.uint8)
    with MediaPipePoseEstimator(model_path) as detector:
        for t in (1.0, 0.5, 0.5, float("nan"), 0.0, 2.0):
            assert detector.detect(image, t) == []


@pytest.mark.gui
def test_the_window_worker_ends_the_session_when_the_camera_is_unplugged(qtbot, driver, tmp_path):
    """The live worker: the source ends, the session is finished in the database, ``ended`` says so."""
    from posecoach.session.live import LiveConfig
    from posecoach.session.sources import SourceRequest
    from posecoach.session.store import SessionStore
    from posecoach.testing import ScriptedDetector
    from posecoach.ui.worker import PipelineWorker
    driver(good=60, after="fail", fps=60.0)
    opened = []

    def open_camera():
        source = CameraSource(0, stall_s=0.3, open_timeout_s=2.0)
        opened.append(source)
        return source

    config = LiveConfig(request=SourceRequest(factory=open_camera, live_factory=True),
                          protocol=Protocol(name="p"), detector_factory=lambda progress: ScriptedDetector(),
                          db_path=tmp_path / "s.db")
    worker = PipelineWorker(config)
    try:
        with qtbot.waitSignal(worker.ended, timeout=10_000) as blocker:
            worker.start()
        assert blocker.args[0].frames >= 1
        assert opened[0].failed
    finally:
        worker.stop()
        assert worker.wait(10_000)
    if (tmp_path / "s.db").exists():   # the guided start may not have calibrated in one second
        with SessionStore(tmp_path / "s.db") as store:
            assert all(s.finished for s in store.list_sessions())
