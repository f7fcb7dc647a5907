"""The pipeline worker thread: newest-frame slot, pacing, pause/step/seek, clean stops.

A simulated source and detector (posecoach.testing) stand in for the camera and
MediaPipe, so these run in seconds; the real coach and estimator run on their landmarks.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from posecoach.analysis.protocol import load_protocol  # noqa: E402
from posecoach.errors import SourceError  # noqa: E402
from posecoach.session.live import LiveConfig  # noqa: E402
from posecoach.session.sources import SourceRequest  # noqa: E402
from posecoach.session.store import SessionStore  # noqa: E402
from posecoach.session.updates import LatestSlot  # noqa: E402
from posecoach.testing import ScriptedDetector, SyntheticSource, drill_detector, drill_duration_s  # noqa: E402
from posecoach.ui.worker import PipelineWorker  # noqa: E402

pytestmark = pytest.mark.gui
PROTOCOL = load_protocol("standing-rotation")
REPS = (("right", 40.0, 8.0), ("left", 40.0, 8.0))


class Harness:
    """Builds workers on simulated sources and records what they emit."""

    def __init__(self) -> None:
        self.sources: list[SyntheticSource] = []
        self.detectors: list[ScriptedDetector] = []
        self.workers: list[PipelineWorker] = []

    def worker(self, frames: int | None = 90, *, realtime: bool = False, live: bool = False, fail: str | None = None,
               detector: ScriptedDetector | None = None, size=(160, 120), **config) -> PipelineWorker:
        def open_source():
            source = SyntheticSource(frames=frames, size=size, live=live, fail=fail)
            self.sources.append(source)
            return source

        def make_detector(progress):
            made = detector or ScriptedDetector()
            self.detectors.append(made)
            return made

        request = SourceRequest(factory=open_source, live_factory=live)
        worker = PipelineWorker(LiveConfig(request=request, protocol=PROTOCOL, detector_factory=make_detector,
                                             realtime=realtime, **config))
        worker.record = {"events": [], "ended": [], "failed": [], "source_failed": [], "warnings": [], "paused": []}
        worker.events.connect(worker.record["events"].append)
        worker.ended.connect(worker.record["ended"].append)
        worker.failed.connect(worker.record["failed"].append)
        worker.source_failed.connect(worker.record["source_failed"].append)
        worker.warning.connect(worker.record["warnings"].append)
        worker.paused_changed.connect(worker.record["paused"].append)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()
            assert worker.wait(10_000), "worker thread did not stop"


@pytest.fixture
def harness(qtbot):
    before = set(threading.enumerate())
    made = Harness()
    yield made
    made.stop_all()
    for source in made.sources:
        assert source.closed, "a source was left open"
    for detector in made.detectors:
        assert detector.closed, "a detector was left open"
    leaked = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not leaked, f"leaked threads: {leaked}"


def published_index(worker: PipelineWorker) -> int | None:
    _, item = worker.latest.get()
    return None if item is None else item.step.frame.index


def test_latest_slot_keeps_only_the_newest():
    slot = LatestSlot()
    assert slot.get() == (0, None)
    for i in range(5):
        slot.put(i)
    assert slot.get() == (5, 4)
    slot.clear()
    assert slot.get() == (5, None)


def test_fast_mode_processes_every_frame_and_counts_reps(qtbot, harness):
    frames = int(30 * drill_duration_s(REPS))
    worker = harness.worker(frames, detector=drill_detector(160, 120, REPS), size=(160, 120))
    with qtbot.waitSignal(worker.ended, timeout=30_000):
        worker.start()
    assert worker.frames_processed == frames
    assert harness.detectors[0].calls == frames
    end = worker.record["ended"][0]
    assert [(r["side"], r["completed"]) for r in end.reps] == [("right", True), ("left", True)]
    assert end.summary["right"]["holds_completed"] == 1 and end.summary["left"]["holds_completed"] == 1
    kinds = [e.kind for batch in worker.record["events"] for e in batch.events]
    assert kinds.count("hold_complete") == 2 and kinds.count("rep_done") == 2
    assert kinds[0] == "calibrated"
    rep_batches = [b.reps for b in worker.record["events"] if b.reps is not None]
    assert len(rep_batches[-1]) == 2  # the summary gets every rep as it finishes
    assert published_index(worker) == frames - 1


def test_real_speed_replay_is_paced_by_timestamps(qtbot, harness):
    worker = harness.worker(45, realtime=True)
    started = time.perf_counter()
    with qtbot.waitSignal(worker.ended, timeout=10_000):
        worker.start()
    elapsed = time.perf_counter() - started
    assert elapsed > 1.3  # 45 frames at 30 fps = 1.5 s of video: the replay waited for the timestamps


def test_pause_step_and_resume(qtbot, harness):
    worker = harness.worker(600, realtime=True)
    worker.start()
    qtbot.waitUntil(lambda: (published_index(worker) or 0) > 5, timeout=10_000)
    with qtbot.waitSignal(worker.paused_changed, timeout=2_000):
        worker.set_paused(True)
    time.sleep(0.2)
    frozen = published_index(worker)
    time.sleep(0.3)
    assert published_index(worker) == frozen
    worker.step_once()
    qtbot.waitUntil(lambda: published_index(worker) == frozen + 1, timeout=2_000)
    time.sleep(0.2)
    assert published_index(worker) == frozen + 1
    _, item = worker.latest.get()
    assert item.paused
    worker.set_paused(False)
    qtbot.waitUntil(lambda: published_index(worker) > frozen + 5, timeout=5_000)


def test_seek_back_replays_the_coach_from_cached_landmarks(qtbot, harness):
    frames = int(30 * drill_duration_s(REPS))
    worker = harness.worker(frames, detector=drill_detector(160, 120, REPS))
    with qtbot.waitSignal(worker.ended, timeout=30_000):
        worker.start()
    detector = harness.detectors[0]
    calls = detector.calls
    with qtbot.waitSignal(worker.session_reset, timeout=5_000):
        worker.seek(300)
    # the replay after the seek may end before a waitSignal could start listening: count instead
    qtbot.waitUntil(lambda: len(worker.record["ended"]) >= 2, timeout=30_000)
    assert detector.calls == calls, "a seek must reuse the landmarks already detected"
    end = worker.record["ended"][-1]
    first = worker.record["ended"][0]
    assert [(r["side"], r["completed"]) for r in end.reps] == [(r["side"], r["completed"]) for r in first.reps]
    assert len(harness.sources) == 2 and harness.sources[0].closed


def test_seek_while_paused_shows_the_target_frame(qtbot, harness):
    worker = harness.worker(400, realtime=True)
    worker.start()
    qtbot.waitUntil(lambda: published_index(worker) is not None, timeout=10_000)
    worker.set_paused(True)
    worker.seek(200)
    qtbot.waitUntil(lambda: published_index(worker) == 200, timeout=10_000)
    time.sleep(0.3)
    assert published_index(worker) == 200 and worker.paused


def test_max_frames_pauses_for_screenshots(qtbot, harness):
    worker = harness.worker(300, max_frames=40)
    with qtbot.waitSignal(worker.paused_changed, timeout=10_000) as blocker:
        worker.start()
    assert blocker.args == [True]
    time.sleep(0.2)
    assert worker.frames_processed == 40 and published_index(worker) == 39


def test_source_failure_is_reported_not_raised(qtbot, harness):
    worker = harness.worker(fail="camera 0 is not available", live=True)
    with qtbot.waitSignal(worker.source_failed, timeout=5_000) as blocker:
        worker.start()
    assert "not available" in blocker.args[0]
    assert worker.wait(5_000)


def test_live_source_guided_start_and_pause_keeps_time_continuous(qtbot, harness):
    worker = harness.worker(None, live=True, detector=ScriptedDetector())
    worker.start()
    qtbot.waitUntil(lambda: published_index(worker) is not None, timeout=10_000)
    _, item = worker.latest.get()
    assert item.guide.stage in ("countdown", "calibrating")  # framed well: the countdown runs
    cues = [c.kind for batch in worker.record["events"] for c in batch.cues]
    qtbot.waitUntil(lambda: any(e.kind == "calibrated" for b in worker.record["events"] for e in b.events),
                    timeout=10_000)
    cues = [c for batch in worker.record["events"] for c in batch.cues]
    assert [c.value for c in cues if c.kind == "countdown"] == [3, 2, 1]
    calibrated_t = next(e.t for b in worker.record["events"] for e in b.events if e.kind == "calibrated")
    assert calibrated_t >= 3.0 + 1.5 - 0.2  # countdown, then the stillness the estimator needs
    worker.set_paused(True)
    _, before = worker.latest.get()
    time.sleep(1.0)
    worker.set_paused(False)
    qtbot.waitUntil(lambda: worker.latest.get()[1].step.frame.index > before.step.frame.index + 3, timeout=5_000)
    _, after = worker.latest.get()
    gap = after.step.frame.t - before.step.frame.t
    frames = after.step.frame.index - before.step.frame.index
    assert gap < frames / 30.0 + 0.3, "time spent paused must not count in the session"


def test_sessions_are_stored_as_they_happen(qtbot, harness, tmp_path: Path):
    db = tmp_path / "sessions.sqlite3"
    frames = int(30 * drill_duration_s(REPS))
    worker = harness.worker(frames, detector=drill_detector(160, 120, REPS), db_path=db)
    with qtbot.waitSignal(worker.ended, timeout=30_000):
        worker.start()
    end = worker.record["ended"][0]
    assert len(end.session_ids) == 1
    with SessionStore(db) as store:
        doc = store.load_session(end.session_ids[0])
    assert doc["session"]["finished"]
    assert [(r["side"], r["completed"]) for r in doc["reps"]] == [("right", True), ("left", True)]
    assert len(doc["frames"]) == frames  # frames from before calibration are kept too
    assert doc["summary"]["right"]["holds_completed"] == 1
    assert any(e["kind"] == "calibrated" for e in doc["events"])


def test_a_database_error_does_not_stop_the_session(qtbot, harness, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    frames = int(30 * drill_duration_s(REPS))
    worker = harness.worker(frames, detector=drill_detector(160, 120, REPS), db_path=blocker / "db.sqlite3")
    with qtbot.waitSignal(worker.ended, timeout=30_000):
        worker.start()
    assert worker.record["warnings"] and "not being saved" in worker.record["warnings"][0]
    assert len(worker.record["ended"][0].reps) == 2


def test_restart_starts_the_coach_over(qtbot, harness):
    frames = int(30 * drill_duration_s(REPS))
    worker = harness.worker(frames, detector=drill_detector(160, 120, REPS))
    with qtbot.waitSignal(worker.ended, timeout=30_000):
        worker.start()
    with qtbot.waitSignal(worker.ended, timeout=30_000):
        worker.restart()
    assert len(worker.record["ended"]) == 2
    assert worker.record["ended"][1].reps == worker.record["ended"][0].reps


def test_protocol_change_restarts_with_the_new_protocol(qtbot, harness):
    worker = harness.worker(120)
    with qtbot.waitSignal(worker.ended, timeout=10_000):
        worker.start()
    seated = load_protocol("seated-rotation")
    with qtbot.waitSignal(worker.ended, timeout=10_000):
        worker.set_protocol(seated)
    assert worker.coach.protocol == seated


def test_stop_while_paused_and_while_pacing(qtbot, harness):
    paused = harness.worker(None, realtime=True)
    paused.start()
    qtbot.waitUntil(lambda: published_index(paused) is not None, timeout=10_000)
    paused.set_paused(True)
    pacing = harness.worker(None, realtime=True)
    pacing.start()
    qtbot.waitUntil(lambda: published_index(pacing) is not None, timeout=10_000)
    for worker in (paused, pacing):
        worker.stop()
        assert worker.wait(10_000)  # neither a pause nor the pacing wait holds the worker


def test_bad_source_request_message():
    with pytest.raises(SourceError):
        SyntheticSource(fail="nope")
