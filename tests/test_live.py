"""The live loop without Qt: a plain generator driven by commands, on a simulated source and a fake clock."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from posecoach.analysis.protocol import load_protocol
from posecoach.session import live
from posecoach.session.live import LiveConfig, LiveLoop
from posecoach.session.sources import SourceRequest
from posecoach.session.updates import EventBatch, Published, SessionEnd
from posecoach.testing import ScriptedDetector, SyntheticSource, drill_detector, drill_duration_s

PROTOCOL = load_protocol("standing-rotation")
REPS = (("right", 40.0, 8.0), ("left", 40.0, 8.0))
FRAMES = int(30 * drill_duration_s(REPS))


class Driver:
    """Iterates a LiveLoop as the window's worker thread does, with a fake clock.

    ``react(update)`` returns the command to send back (or None); a ``Wait`` advances the
    clock by its seconds, and a ``Wait(None)`` with no command to send is a test error.
    """

    def __init__(self, frames: int | None = FRAMES, *, detector: ScriptedDetector | None = None,
                 fail: str | None = None, live_source: bool = False, **config) -> None:
        self.sources: list[SyntheticSource] = []
        self.detector = detector or drill_detector(160, 120, REPS)
        self.now = 0.0
        self.updates: list[object] = []
        self.waited = 0.0

        def open_source() -> SyntheticSource:
            source = SyntheticSource(frames=frames, size=(160, 120), live=live_source, fail=fail)
            self.sources.append(source)
            return source

        request = SourceRequest(factory=open_source, live_factory=live_source)
        self.loop = LiveLoop(LiveConfig(request=request, protocol=PROTOCOL, detector_factory=lambda progress: self.detector,
                                        **config), clock=lambda: self.now)

    def run(self, react: Callable[[object], live.Command | None], limit: int = 100_000) -> list[object]:
        updates = self.loop.updates()
        command: live.Command | None = None
        for _ in range(limit):
            try:
                update = updates.send(command)
            except StopIteration:
                return self.updates
            command = react(update)
            if isinstance(update, live.Wait):
                if update.seconds is None:
                    assert command is not None, f"the loop waits for a command after {self.updates[-3:]}"
                else:
                    self.now += update.seconds
                    self.waited += update.seconds
            else:
                self.updates.append(update)
        raise AssertionError("the loop did not end")

    def of(self, kind: type) -> list:
        return [u for u in self.updates if isinstance(u, kind)]


def stop_at_end(update: object) -> live.Command | None:
    return live.Stop() if isinstance(update, live.Wait) and update.seconds is None else None


def test_a_fast_replay_coaches_every_frame_then_waits_for_a_command():
    driver = Driver(realtime=False)
    updates = driver.run(stop_at_end)
    assert isinstance(updates[1], live.Opened) and updates[0] == live.Status("Opening test source…")
    published = driver.of(Published)
    assert [p.step.frame.index for p in published] == list(range(FRAMES))
    kinds = [e.kind for batch in driver.of(EventBatch) for e in batch.events]
    assert kinds[0] == "calibrated" and kinds.count("hold_complete") == 2
    (end,) = driver.of(SessionEnd)
    assert [(r["side"], r["completed"]) for r in end.reps] == [("right", True), ("left", True)]
    assert end.frames == FRAMES and driver.waited == 0.0
    assert driver.sources[0].closed and driver.detector.closed


def test_a_real_speed_replay_waits_for_each_frame_time():
    driver = Driver(45, realtime=True, speed=2.0)
    driver.run(stop_at_end)
    assert driver.waited == pytest.approx(44 / 30 / 2.0, abs=1e-6)   # the last frame is due at t = 44/30 s


def test_pause_step_and_play():
    driver = Driver(120, realtime=False)
    script = {10: live.Pause()}

    def react(update):
        if isinstance(update, Published):
            return script.pop(update.step.frame.index, None)
        if isinstance(update, live.Wait) and update.seconds is None:
            return live.StepOnce() if len(driver.of(Published)) < 13 else (
                live.Play() if not driver.of(SessionEnd) else live.Stop())
        return None

    driver.run(react)
    changes = driver.of(live.PausedChanged)
    assert changes == [live.PausedChanged(True), live.PausedChanged(False)]
    published = driver.of(Published)
    assert [p.paused for p in published[10:14]] == [False, True, True, False]  # two single steps, then play
    assert len(published) == 120


def test_seek_back_replays_from_cached_landmarks_and_gives_the_same_reps():
    driver = Driver(realtime=False)
    calls: list[int] = []

    def react(update):
        if isinstance(update, SessionEnd):
            calls.append(driver.detector.calls)
        if isinstance(update, live.Wait) and update.seconds is None:
            return live.Seek(300) if len(driver.of(SessionEnd)) == 1 else live.Stop()
        return None

    driver.run(react)
    first, second = driver.of(SessionEnd)
    assert calls[0] == calls[1] == FRAMES, "a seek must reuse the landmarks already detected"
    assert second.reps == first.reps and len(driver.of(live.SessionReset)) == 1
    seeking = [p for p in driver.of(Published) if p.seeking_to == 300]
    assert seeking and all(p.step.frame.index < 300 for p in seeking)
    assert len(driver.sources) == 2 and all(s.closed for s in driver.sources)


def test_restart_with_another_protocol():
    seated = load_protocol("seated-rotation")
    driver = Driver(60, realtime=False)

    def react(update):
        if isinstance(update, live.Wait) and update.seconds is None:
            return live.Restart(seated) if len(driver.of(SessionEnd)) == 1 else live.Stop()
        return None

    driver.run(react)
    assert driver.loop.session is not None and driver.loop.session.coach.protocol == seated
    assert all(p.cues == seated.cues for p in driver.of(Published)[60:])


def test_max_frames_pauses_and_stop_ends_a_paused_loop():
    driver = Driver(300, realtime=False, max_frames=40)
    driver.run(lambda update: live.Stop() if isinstance(update, live.Wait) else None)
    assert driver.of(live.PausedChanged) == [live.PausedChanged(True)]
    assert len(driver.of(Published)) == 40 and driver.loop.frames == 40
    assert not driver.of(SessionEnd) and driver.sources[0].closed and driver.detector.closed


def test_a_source_that_cannot_open_ends_the_loop_with_its_reason():
    driver = Driver(fail="camera 0 is not available", live_source=True)
    updates = driver.run(lambda update: None)
    assert updates[-1] == live.SourceFailed("camera 0 is not available")


def test_stop_keeps_the_rep_in_progress():
    driver = Driver(realtime=False)
    stop_at = int(30 * 6.0)   # in the first hold

    def react(update):
        return live.Stop() if isinstance(update, Published) and update.step.frame.index == stop_at else None

    driver.run(react)
    coach = driver.loop.session.coach
    assert len(coach.reps) == 1 and coach.reps[0].side == "right"


def test_a_loose_shirt_over_the_hips_is_said_once_per_calibration(monkeypatch):
    """The neutral pelvis picture lies below a shirt's hem (the simulated frames are too plain to
    find one, so the picture is given): the window is told, once."""
    import numpy as np

    from posecoach.analysis import pelvis_appearance
    from posecoach.session.messages import SHIRT_OVER_HIPS
    from posecoach.session.updates import Problem

    patch = np.eye(6) - 1 / 6
    below_hem = pelvis_appearance.PelvisTemplate(patch / np.linalg.norm(patch), 70, 60, 6, 6, 1, 80.0, 110.0,
                                                 60.0, below_hem=True)
    monkeypatch.setattr(pelvis_appearance, "make_template", lambda *args, **kwargs: below_hem)
    driver = Driver(realtime=False)
    driver.run(stop_at_end)
    assert driver.loop.session.estimator.calibration.shirt_over_hips
    assert [p.text for p in driver.of(Problem)] == [SHIRT_OVER_HIPS]
    tucked = Driver(realtime=False)
    monkeypatch.undo()
    tucked.run(stop_at_end)
    assert not tucked.of(Problem)


def test_hands_held_high_are_said_once_per_calibration(monkeypatch):
    """Wrists at the shoulders at calibration (here: any grip counts as high): the window is
    told, once, to hold the hands at chest height."""
    from functools import partial

    from posecoach.analysis import posture
    from posecoach.session.messages import HANDS_HIGH
    from posecoach.session.updates import Problem

    monkeypatch.setattr(posture, "EstimatorSettings", partial(posture.EstimatorSettings, high_grip_drop=20.0))
    driver = Driver(realtime=False)
    driver.run(stop_at_end)
    assert driver.loop.session.estimator.calibration.hands_high
    assert [p.text for p in driver.of(Problem)] == [HANDS_HIGH]


def test_plain_hips_are_said_once_per_calibration(monkeypatch):
    """A pelvis picture of 20 grey levels' contrast (cream leggings read 21) cannot show a
    12 deg turn above its allowance for camera noise: the window is told, once."""
    import numpy as np

    from posecoach.analysis import pelvis_appearance
    from posecoach.session.messages import PLAIN_PELVIS
    from posecoach.session.updates import Problem

    patch = np.eye(6) - 1 / 6
    plain = pelvis_appearance.PelvisTemplate(patch / np.linalg.norm(patch), 70, 60, 6, 6, 1, 80.0, 110.0, 20.0)
    monkeypatch.setattr(pelvis_appearance, "make_template", lambda *args, **kwargs: plain)
    driver = Driver(realtime=False)
    driver.run(stop_at_end)
    calibration = driver.loop.session.estimator.calibration
    assert calibration.plain_pelvis and not calibration.shirt_over_hips
    assert [p.text for p in driver.of(Problem)] == [PLAIN_PELVIS]
