"""The guided start (framing, countdown, calibration) and the live session log, without Qt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis import events as ev
from posecoach.analysis.coach import Coach
from posecoach.analysis.coach_state import CoachState, Rep
from posecoach.analysis.protocol import load_protocol
from posecoach.analysis.rotation import RotationEstimator
from posecoach.analysis.sample import RotationSample
from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.pose.types import PoseFrame
from posecoach.session import guide as g
from posecoach.session import messages
from posecoach.session.pipeline import PipelineStep
from posecoach.session.session_log import SessionLog
from posecoach.session.store import SessionStore
from posecoach.testing import standing_pose


def state(phase="calibrating", paused=None) -> CoachState:
    return CoachState(t=0.0, phase=phase, side=None, expected_side="right", hold_progress_s=0.0, hold_target_s=7.0,
                      paused_reason=paused, completed={"right": 0, "left": 0}, required_per_side=7, set_index=1,
                      sets=1, instruction="calibrate")


def untracked(reason="calibrating", t=0.0) -> RotationSample:
    return RotationSample.untracked(t, reason)


def moved(pose: PoseFrame, dx=0.0, dy=0.0, scale=1.0, hide=()) -> PoseFrame:
    image = pose.image.copy()
    centre = np.array([0.5, 0.5])
    image[:, :2] = centre + (image[:, :2] - centre) * scale + (dx, dy)
    for index in hide:
        image[index, 3:] = 0.1
    return PoseFrame(t=pose.t, image=image, world=pose.world, width=pose.width, height=pose.height)


def test_framing_checks():
    pose = standing_pose()
    assert g.check_framing(pose) is None
    assert g.check_framing(None) == g.NO_PERSON
    assert g.check_framing(moved(pose, dy=-0.3)) == g.HEAD            # head above the picture
    assert g.check_framing(moved(pose, hide=(23, 24))) == g.HIPS      # hips invented by the model
    assert g.check_framing(moved(pose, dy=0.33)) == g.KNEES           # knees below the picture
    assert g.check_framing(moved(pose, scale=0.5)) == g.TOO_FAR
    assert g.check_framing(moved(pose, dx=0.38)) == g.OFF_CENTRE
    assert g.check_framing(pose, untracked("not_facing")) == g.NOT_FACING
    assert all(messages.FRAMING_TEXT[issue] for issue in g.FramingIssue)


def test_framing_follows_the_posture():
    """Seated: head to knees in view and nose-to-hips big enough; standing needs nose-to-knees."""
    pose = standing_pose()
    img = pose.image.copy()
    # a seated person: the knees come up to about hip height, in front of the hips
    hips_y = img[[23, 24], 1].mean()
    img[[25, 26], 1] = hips_y + 0.04
    img[[27, 28], 1] = hips_y + 0.25
    seated = PoseFrame(t=pose.t, image=img, world=pose.world, width=pose.width, height=pose.height)
    assert g.check_framing(seated, posture="standing") == g.TOO_FAR   # nose to knees is short
    assert g.check_framing(seated, posture="seated") is None
    assert g.check_framing(moved(seated, scale=0.5), posture="seated") == g.TOO_FAR
    assert g.check_framing(moved(seated, hide=(25, 26)), posture="seated") == g.KNEES
    # half-kneeling with a stick across the shoulders: the wrists above the shoulders
    kneeling = standing_pose()
    raised = kneeling.image.copy()
    raised[[15, 16], 1] = raised[[11, 12], 1] - 0.05
    raised_pose = PoseFrame(t=pose.t, image=raised, world=pose.world, width=pose.width, height=pose.height)
    assert g.check_framing(raised_pose, posture="half-kneeling") == g.HANDS_UP
    assert g.check_framing(raised_pose, posture="standing") == g.HANDS_HIGH   # standing: grip at the chin
    assert "chest height" in messages.framing_text(g.HANDS_HIGH)
    chin = kneeling.image.copy()
    chin[[15, 16], 1] = chin[[11, 12], 1] + 0.01   # wrists just below the shoulder line
    chin_pose = PoseFrame(t=pose.t, image=chin, world=pose.world, width=pose.width, height=pose.height)
    assert g.check_framing(chin_pose, posture="standing") == g.HANDS_HIGH
    one_up = kneeling.image.copy()
    one_up[15, 1] = one_up[11, 1] - 0.1   # one hand raised (the pause gesture): not a grip
    one_up_pose = PoseFrame(t=pose.t, image=one_up, world=pose.world, width=pose.width, height=pose.height)
    assert g.check_framing(one_up_pose, posture="standing") is None
    assert g.check_framing(standing_pose(), posture="standing") is None   # the chest-height grip
    assert g.check_framing(kneeling, posture="half-kneeling") is None
    assert "in front of your chest" in messages.framing_text(g.HANDS_UP, "half-kneeling")
    assert "chair seat" in messages.framing_text(g.KNEES, "seated")
    crossed = seated.image.copy()
    crossed[15, 0], crossed[16, 0] = crossed[12, 0], crossed[11, 0]   # each hand on the other shoulder
    crossed_pose = PoseFrame(t=pose.t, image=crossed, world=pose.world, width=pose.width, height=pose.height)
    assert g.check_framing(crossed_pose, posture="seated") == g.ARMS_CROSSED
    assert g.check_framing(crossed_pose, posture="standing") == g.TOO_FAR   # not a standing rule
    guide = g.Guide(gate=False, posture="seated")
    assert guide.update(0.0, seated, untracked(), state()).stage == g.CALIBRATING


def test_gated_start_frames_then_counts_down_then_calibrates():
    guide = g.Guide(gate=True, countdown_s=3.0)
    first = guide.update(0.0, None, untracked("no_person"), state())
    assert first.stage == g.FRAMING and first.blocks_calibration and "Nobody" in messages.guide_text(first)
    pose = standing_pose()
    stages = []
    for i in range(0, 150):
        t = 1.0 + i / 30
        stages.append(guide.update(t, pose, untracked(t=t), state()))
    assert stages[0].stage == g.COUNTDOWN and stages[0].countdown == 3 and stages[0].blocks_calibration
    assert [s.countdown for s in stages if s.stage == g.COUNTDOWN][-1] == 1
    calibrating = [s for s in stages if s.stage == g.CALIBRATING]
    assert calibrating and not calibrating[0].blocks_calibration
    assert calibrating[-1].calibration_progress <= 0.95
    kinds = [(c.kind, c.value) for c in guide.cues]
    assert kinds[:5] == [("framing", None), ("countdown", 3), ("countdown", 2), ("countdown", 1),
                         ("calibrating", None)]
    assert guide.cues[0].issue == g.NO_PERSON and "Nobody" in messages.cue_text(guide.cues[0])
    assert messages.cue_text(guide.cues[1]) == ""   # a countdown second is a beep
    # losing the framing starts over
    lost = guide.update(9.0, moved(pose, hide=(23, 24)), untracked(t=9.0), state())
    assert lost.stage == g.FRAMING and lost.issue == g.HIPS
    again = guide.update(9.1, pose, untracked(t=9.1), state())
    assert again.stage == g.COUNTDOWN and again.countdown == 3


def test_ungated_replay_never_blocks_calibration():
    guide = g.Guide(gate=False)
    result = guide.update(0.0, standing_pose(), untracked(), state())
    assert result.stage == g.CALIBRATING and not result.blocks_calibration


def test_coaching_messages_say_why_nothing_is_measured():
    guide = g.Guide()
    tracked = RotationSample(t=1.0, tracked=True, trunk_deg=1.0, pelvis_deg=0.0, separation_deg=1.0, calibrated=True)
    assert messages.guide_text(guide.update(1.0, standing_pose(), tracked, state("neutral"))) is None
    hips = guide.update(2.0, None, RotationSample.untracked(2.0, "hips_not_visible", True), state("neutral"))
    assert hips.stage == g.COACHING and messages.guide_text(hips).startswith("Step back")
    nobody = guide.update(2.0, None, RotationSample.untracked(2.0, "no_person", True), state("neutral"))
    assert "Nobody" in messages.guide_text(nobody)
    paused = guide.update(3.0, None, RotationSample.untracked(3.0, "no_person", True), state("holding", "tracking"))
    assert messages.guide_text(paused) is None  # the coach's own "hold paused" instruction is shown
    assert guide.update(4.0, None, tracked, state("done")).stage == g.DONE


def _step(i: int, events=()) -> PipelineStep:
    frame = Frame(np.zeros((4, 4, 3), np.uint8), i / 30, i)
    sample = RotationSample(t=i / 30, tracked=True, trunk_deg=1.0, pelvis_deg=0.0, separation_deg=1.0,
                            confidence=0.9, calibrated=True)
    return PipelineStep(frame=frame, pose=None, sample=sample, state=state("neutral"), events=list(events))


def test_session_log_writes_as_it_happens(tmp_path: Path):
    db = tmp_path / "s.sqlite3"
    info = SourceInfo(path="camera:0", fps=30.0, frames=None, width=640, height=480, live=True)
    coach = Coach(load_protocol("standing-rotation"))
    estimator = RotationEstimator()
    log = SessionLog(db, info, "full", live=True, batch=10)
    for i in range(5):
        log.add_step(_step(i), coach, estimator)
    assert log.session_id is None  # nothing before calibration
    log.add_step(_step(5, [ev.CoachEvent(5 / 30, ev.CALIBRATED, "Calibrated")]), coach, estimator)
    session = log.session_id
    assert session is not None
    with SessionStore(db) as store:
        assert len(store.load_session(session)["frames"]) == 6  # frames before calibration were flushed
    coach.reps.append(Rep(side="right", start_s=1.0, set_index=1, expected_side="right", completed=True, hold_s=7.0,
                          peak_separation_deg=40.0))
    log.add_step(_step(6, [ev.CoachEvent(0.2, ev.REP_DONE, side="right")]), coach, estimator)
    with SessionStore(db) as store:
        doc = store.load_session(session)
        assert [r["side"] for r in doc["reps"]] == ["right"] and not doc["session"]["finished"]
    for i in range(7, 30):
        log.add_step(_step(i), coach, estimator)
    log.close(coach)
    with SessionStore(db) as store:
        doc = store.load_session(session)
    assert doc["session"]["finished"] and doc["session"]["live"]
    assert len(doc["frames"]) == 30 and doc["summary"]["right"]["holds_completed"] == 1
    assert [e["kind"] for e in doc["events"]] == ["calibrated", "rep_done"]


def test_session_log_reports_a_broken_database_once(tmp_path: Path):
    bad = tmp_path / "plain-file"
    bad.write_text("not a database at all, definitely not sqlite")
    warnings = []
    info = SourceInfo(path="x.mp4", fps=30.0, frames=10, width=64, height=48, live=False)
    coach = Coach(load_protocol("standing-rotation"))
    log = SessionLog(bad, info, "full", live=False, on_warning=warnings.append)
    for i in range(3):
        log.add_step(_step(i, [ev.CoachEvent(0.0, ev.CALIBRATED, "Calibrated")]), coach, RotationEstimator())
    log.close(coach)
    assert len(warnings) == 1 and "not being saved" in warnings[0]
    assert log.failed and not log.enabled


@pytest.mark.parametrize("db", [None])
def test_session_log_without_database(db):
    info = SourceInfo(path="x.mp4", fps=30.0, frames=10, width=64, height=48, live=False)
    coach = Coach(load_protocol("standing-rotation"))
    log = SessionLog(db, info, "full", live=False)
    log.add_step(_step(0, [ev.CoachEvent(0.0, ev.CALIBRATED, "Calibrated")]), coach, RotationEstimator())
    log.close(coach)
    assert log.session_ids == []
