"""Pause, resume and end of a coaching session by gesture or key (CoachingSession and LiveLoop, no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from posecoach.analysis.events import HOLD_COMPLETE
from posecoach.analysis.gestures import GestureSettings
from posecoach.analysis.protocol import load_protocol
from posecoach.analysis.vocabulary import Control, ControlSource, Gesture, Phase
from posecoach.session import live
from posecoach.session.coaching import CoachingSession
from posecoach.session.live import LiveConfig, LiveLoop
from posecoach.session.sources import SourceRequest
from posecoach.session.updates import ControlChanged, SessionEnd
from posecoach.testing import ScriptedDetector, SyntheticSource, drill_trunk_deg, standing_pose

PROTOCOL = load_protocol("standing-rotation")
REPS = (("right", 40.0, 14.0), ("left", 40.0, 9.0))


class ScriptedGestures:
    """Stands in for the gesture detector: fires each scripted gesture at the first frame at or after its time."""

    def __init__(self, script: list[tuple[float, Gesture]]) -> None:
        self.script = sorted(script)
        self.settings = GestureSettings()
        self.progress = None
        self.blocked_calls = 0

    def reset(self) -> None:
        pass

    def update(self, t: float, landmarks: np.ndarray | None, blocked: bool = False) -> Gesture | None:
        self.blocked_calls += blocked
        if self.script and t >= self.script[0][0]:
            return self.script.pop(0)[1]
        return None


class Sink:
    def __init__(self) -> None:
        self.finished: list[int] = []

    def add_step(self, step, coach, estimator) -> None:
        pass

    def add_events(self, events, coach, estimator) -> None:
        pass

    def finish(self, coach) -> None:
        self.finished.append(len(coach.reps))


def drill_session(script: list[tuple[float, Gesture]], sink: Sink | None = None):
    def poses(t: float):
        return [standing_pose(160, 120, t, drill_trunk_deg(t, REPS))]

    session = CoachingSession(ScriptedDetector(poses), PROTOCOL, sinks=[sink] if sink else [],
                              gestures=GestureSettings())
    session.control.detector = ScriptedGestures(script)
    return session


def test_pause_freezes_the_hold_resume_goes_on_end_finishes_and_stores():
    sink = Sink()
    session = drill_session([(6.0, Gesture.TOGGLE_PAUSE), (9.0, Gesture.TOGGLE_PAUSE), (26.0, Gesture.END_SESSION)],
                            sink)
    steps = list(session.run(SyntheticSource(frames=30 * 60, size=(160, 120))))
    by_t = {round(s.frame.t, 3): s for s in steps}
    at_pause = by_t[6.0].state.hold_progress_s
    assert by_t[6.0].state.phase == Phase.HOLDING and 1.0 < at_pause < 2.5
    paused = [s for s in steps if 6.0 <= s.frame.t < 9.0]
    assert all(s.control.paused for s in paused)
    assert {s.state.hold_progress_s for s in paused} == {at_pause}      # the hold timer stands still
    after = by_t[round(9.0 + 10 / 30, 3)].state.hold_progress_s
    assert at_pause < after <= at_pause + 11 / 30 + 1e-6                 # ... and goes on where it stood
    complete = [e for e in session.coach.events if e.kind == HOLD_COMPLETE]
    hold_start = session.coach.reps[0].hold_start_s
    assert complete and complete[0].t == pytest.approx(hold_start + 7.0 + 3.0, abs=0.15)  # 7 s held + 3 s paused
    # the end stops the session after that frame: reps kept, the sinks told once
    assert steps[-1].frame.t == pytest.approx(26.0, abs=0.04)
    assert [r.completed for r in session.coach.reps] == [True, False]   # the left hold was under way
    assert sink.finished == [2]
    assert [(e.control, e.source) for e in session.controls] == [
        (Control.PAUSED, ControlSource.GESTURE), (Control.RESUMED, ControlSource.GESTURE),
        (Control.ENDED, ControlSource.GESTURE)]


def test_a_rep_made_while_paused_is_not_counted():
    session = drill_session([(2.3, Gesture.TOGGLE_PAUSE), (20.3, Gesture.TOGGLE_PAUSE)])
    list(session.run(SyntheticSource(frames=30 * 21, size=(160, 120))))
    assert session.estimator.calibrated
    assert session.coach.reps == []    # the first rep (2.5-19.5 s) happened while paused


def test_gestures_are_blocked_until_calibrated():
    session = drill_session([])
    list(session.run(SyntheticSource(frames=30 * 4, size=(160, 120))))
    fake = session.control.detector
    assert isinstance(fake, ScriptedGestures)
    assert 0 < fake.blocked_calls < 30 * 4    # blocked while calibrating, not after


def test_keys_pause_and_resume_between_frames():
    session = drill_session([])
    frames = SyntheticSource(frames=30 * 12, size=(160, 120)).frames()
    for _ in range(int(30 * 6)):
        step = session.step(next(frames))
    session.pause_coaching()
    progress = session.step(next(frames)).state.hold_progress_s
    for _ in range(60):
        assert session.step(next(frames)).state.hold_progress_s == progress
    session.resume_coaching()
    assert session.step(next(frames)).state.hold_progress_s == pytest.approx(progress + 1 / 30, abs=0.04)
    assert [e.source for e in session.controls] == [ControlSource.KEY, ControlSource.KEY]
    assert step.control is not None and not step.control.paused


def raised_hand_pose(t: float, up: bool, both: bool = False):
    pose = standing_pose(160, 120, t, drill_trunk_deg(t, REPS[:1]))
    img = pose.image
    nose_y = img[0, 1]
    for shoulder, elbow, wrist in ((12, 14, 16), (11, 13, 15))[: 2 if both else 1]:
        if up:
            img[elbow, :2] = (img[shoulder, 0], img[shoulder, 1] - 0.1)
            img[wrist, :2] = (img[shoulder, 0], nose_y - 0.15)
    return pose


def test_a_replay_driven_only_by_gestures():
    """A file replayed in the live loop: a raised hand pauses, another resumes, both hands end and store."""
    schedule = [(20.5, 22.0, False), (24.0, 25.5, False), (27.0, 30.0, True)]   # (up from, until, both hands)

    def script(t: float):
        for start, end, both in schedule:
            if start <= t < end:
                return [raised_hand_pose(t, True, both)]
        return [raised_hand_pose(t, False)]

    request = SourceRequest(factory=lambda: SyntheticSource(frames=30 * 40, size=(160, 120)))
    loop = LiveLoop(LiveConfig(request=request, protocol=PROTOCOL, detector_factory=lambda p: ScriptedDetector(script),
                               realtime=False))
    updates = loop.updates()
    seen: list[object] = []
    command = None
    while True:
        update = updates.send(command)
        seen.append(update)
        command = live.Stop() if isinstance(update, SessionEnd) else None
        if isinstance(update, SessionEnd):
            with pytest.raises(StopIteration):
                updates.send(command)
            break
    controls = [u for u in seen if isinstance(u, ControlChanged)]
    assert [(c.event.control, c.paused) for c in controls] == [
        (Control.PAUSED, True), (Control.RESUMED, False), (Control.ENDED, False)]
    assert 21.0 <= controls[0].event.t <= 21.6
    assert 24.5 <= controls[1].event.t <= 25.1
    assert 29.0 <= controls[2].event.t <= 29.6
    end = next(u for u in seen if isinstance(u, SessionEnd))
    assert end.by_user and len(end.reps) == 1 and end.reps[0]["completed"]
    assert end.frames < 30 * 40


def test_no_gestures_when_switched_off():
    request = SourceRequest(factory=lambda: SyntheticSource(frames=30 * 8, size=(160, 120)))
    loop = LiveLoop(LiveConfig(request=request, protocol=PROTOCOL, realtime=False, gestures=None,
                               detector_factory=lambda p: ScriptedDetector(lambda t: [raised_hand_pose(t, t > 4.5)])))
    updates = loop.updates()
    seen, command = [], None
    while not any(isinstance(u, SessionEnd) for u in seen):
        seen.append(updates.send(command))
    updates.close()
    assert not any(isinstance(u, ControlChanged) for u in seen)
    assert loop.session is not None and loop.session.controls == []


def test_the_view_model_confirms_controls_and_a_chosen_end():
    from posecoach.session import messages
    from posecoach.session import view_model as vm
    from posecoach.session.control import ControlEvent

    model = vm.SessionViewModel(PROTOCOL, SourceRequest(camera=0))
    told: list[str] = []
    model.subscribe(told.append)
    paused = ControlChanged(ControlEvent(5.0, Control.PAUSED, ControlSource.GESTURE), paused=True)
    assert model.control_changed(paused, now=100.0) == "Coaching paused"
    assert model.coaching_paused and model.coaching_label == "Resume coaching" and vm.CONTROL in told
    assert model.toast == "Coaching paused"
    resumed = ControlChanged(ControlEvent(9.0, Control.RESUMED, ControlSource.KEY), paused=False, replayed=True)
    assert model.control_changed(resumed, now=101.0) is None          # fast-forwarding a seek: silent
    assert not model.coaching_paused and model.toast == "Coaching paused"
    model.ended(SessionEnd(reps=(), summary={}, frames=300, by_user=True))
    assert model.problem is None                                         # a live camera ended by choice
    assert model.status == messages.ENDED_STATUS and model.play_label == "New session"
    assert model.notice == messages.ENDED_NOTICE


def test_a_lifted_hand_holds_the_coach_and_drops_the_turn_it_seemed_to_make():
    """A raised arm reads as a trunk turn (it moves the landmarks): that turn is not a rep."""

    def script(t: float):
        artifact = 30.0 if 5.0 <= t < 5.9 else 0.0          # the measurement moves a frame or two early
        pose = standing_pose(160, 120, t, artifact)
        if 5.07 <= t < 5.8:
            pose.image[16, :2] = (pose.image[12, 0], pose.image[12, 1] - 0.05)    # right wrist above the shoulder
        return [pose]

    session = CoachingSession(ScriptedDetector(script), PROTOCOL, gestures=GestureSettings())
    steps = list(session.run(SyntheticSource(frames=30 * 8, size=(160, 120))))
    assert session.estimator.calibrated and session.controls == []     # too short and too low for a gesture
    assert session.coach.reps == [] and session.coach.phase == Phase.NEUTRAL
    held = [s.frame.t for s in steps if s.state.t < s.frame.t - 1e-6]
    assert held and min(held) == pytest.approx(5.1, abs=0.05) and max(held) == pytest.approx(6.2, abs=0.1)
    assert any(s.state.phase == Phase.ROTATING for s in steps if s.frame.t < 5.1)   # begun, then dropped


def test_the_command_line_switches_gestures_off():
    from posecoach.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["analyze", "v.mp4", "--no-gestures"]).no_gestures
    assert not parser.parse_args(["analyze", "v.mp4"]).no_gestures
    assert parser.parse_args(["--no-gestures"]).no_gestures
    assert parser.parse_args(["--no-gestures", "analyze", "v.mp4"]).no_gestures
