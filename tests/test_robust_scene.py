"""What the camera sees: nobody, darkness or glare, two people, hips leaving the picture,
the back turned. Nothing may crash; the frames that cannot be measured say why."""

from __future__ import annotations

import cv2
import numpy as np

from conftest import shared_path
from posecoach.analysis.protocol import Protocol, load_protocol
from posecoach.session import messages
from posecoach.session.analyze import analyze_video
from posecoach.session.coaching import CoachingSession
from posecoach.session.pipeline import PERSON_UNSURE, PersonSelector
from posecoach.testing import ScriptedDetector, SyntheticSource, drill_trunk_deg, standing_pose
from test_robust_files import write_video

PROTOCOL = load_protocol("standing-rotation")


def test_black_white_and_dark_noise_frames_are_nobody(tmp_path, model_path):
    rng = np.random.default_rng(0)
    frames = ([np.zeros((240, 320, 3), np.uint8)] * 8 + [np.full((240, 320, 3), 255, np.uint8)] * 8
              + [rng.integers(0, 12, (240, 320, 3), dtype=np.uint8) for _ in range(8)])
    video = write_video(tmp_path / "light.mp4", frames)
    doc = analyze_video(video, PROTOCOL, model_path, progress=False).document
    assert len(doc["frames"]) == 24
    assert {f["reason"] for f in doc["frames"]} == {"no_person"}
    assert not any(f["tracked"] for f in doc["frames"]) and doc["reps"] == []
    warnings = " ".join(doc["warnings"])
    assert "too dark" in warnings and "overexposed" in warnings


def test_two_people_side_by_side_the_same_one_is_followed(tmp_path, model_path):
    """A rendered clip next to a copy of itself: with --max-people 2 the choice never flips."""
    capture = cv2.VideoCapture(str(shared_path("synth", "c01_baseline.mp4")))
    frames = []
    index = 0
    while len(frames) < 45:
        ok, bgr = capture.read()
        if not ok:
            break
        if index % 12 == 0:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            frames.append(np.concatenate([rgb, rgb], axis=1))
        index += 1
    capture.release()
    video = write_video(tmp_path / "two.mp4", frames, fps=2.5)
    chosen = []

    def on_step(step):
        if step.pose is not None:
            chosen.append((step.people, float(step.pose.image[[23, 24], 0].mean())))

    doc = analyze_video(video, PROTOCOL, model_path, max_people=2, progress=False, on_step=on_step).document
    assert sum(people == 2 for people, _ in chosen) > 0.8 * len(frames)
    sides = {x < 0.5 for _, x in chosen}
    assert len(sides) == 1, "the followed person switched between the two copies"
    assert sum(f.get("people") == 2 for f in doc["frames"]) > 0.8 * len(frames)
    assert "person_switched" not in doc["tracking"]["untracked_reasons"]


def two_people(width, height, t, other_x):
    me = standing_pose(width, height, t, drill_trunk_deg(t, (("right", 40.0, 3.0),)), centre=(0.35, 0.5))
    other = standing_pose(width, height, t, 0.0, centre=(other_x, 0.5), scale=0.40)
    return [other, me]


def test_someone_walking_up_close_makes_the_frames_unsure_then_tracking_resumes():
    """Another person comes within reach of the one followed: say so, do not measure; then carry on."""
    def other_x(t):  # from the far right to next to the person, and away again
        return 0.9 - 0.54 * max(0.0, 1.0 - abs(t - 6.0) / 2.0)

    detector = ScriptedDetector(lambda t: two_people(320, 240, t, other_x(t)))
    source = SyntheticSource(frames=330, size=(320, 240))
    session = CoachingSession(detector, Protocol(name="p", hold_s=2.0, holds_per_side=1))
    coach = session.coach
    steps = list(session.run(source))
    followed = [float(s.pose.image[[23, 24], 0].mean()) for s in steps]
    assert max(abs(x - 0.35) for x in followed) < 0.02, "the followed person must stay the same"
    unsure = [s for s in steps if s.sample.reason == PERSON_UNSURE]
    assert unsure and all(abs(other_x(s.frame.t) - 0.35) < 0.12 for s in unsure)
    assert all(s.people == 2 for s in steps)
    lost = [e for e in coach.events if e.kind == "tracking_lost" and e.data.get("reason") == PERSON_UNSURE]
    assert lost and "not sure whom to follow" in messages.event_text(lost[0], coach.protocol)
    assert steps[-1].sample.tracked  # measured again once the other person moved away


def test_selector_is_sure_with_one_person_and_with_a_duplicate_detection():
    selector = PersonSelector()
    me = standing_pose(320, 240, 0.0)
    assert selector.select([me]) is me and not selector.unsure
    assert selector.select([me, standing_pose(320, 240, 0.0)]) is not None and not selector.unsure
    assert selector.people == 2
    broken = standing_pose(320, 240, 0.0)
    broken.image[:, :2] = np.nan
    assert selector.select([broken, me]) is me and not selector.unsure
    assert selector.select([]) is None and selector.people == 0


def test_hips_out_of_frame_and_back_to_the_camera_mid_hold_pause_it_with_the_reason():
    """During a hold the person steps too close (hips leave the picture), then turns around."""
    reps = (("right", 40.0, 6.0),)

    def script(t):
        trunk = drill_trunk_deg(t, reps)
        if 6.0 <= t < 7.0:  # too close: the hips are below the picture
            return [standing_pose(320, 240, t, trunk, centre=(0.5, 1.05), scale=0.9)]
        if 8.0 <= t < 9.0:  # back to the camera
            return [standing_pose(320, 240, t, 180.0)]
        return [standing_pose(320, 240, t, trunk)]

    source = SyntheticSource(frames=420, size=(320, 240))
    session = CoachingSession(ScriptedDetector(script), Protocol(name="p", hold_s=9.0, holds_per_side=1))
    coach = session.coach
    steps = list(session.run(source))
    reasons = {s.sample.reason for s in steps if 6.1 < s.frame.t < 6.9}
    assert reasons == {"hips_not_visible"}
    assert {s.sample.reason for s in steps if 8.1 < s.frame.t < 8.9} <= {"back_to_camera", "person_switched"}
    paused = [s for s in steps if 6.1 < s.frame.t < 6.9]
    assert all(s.state.paused_reason == "tracking" for s in paused)
    said = [messages.event_text(e, coach.protocol) for e in coach.events if e.kind == "tracking_lost"]
    assert "Step back: your hips must be in view" in said
    assert any(e.kind == "tracking_regained" for e in coach.events)


def test_a_frame_of_the_wrong_size_or_kind_does_not_crash_the_detector(model_path):
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
    with MediaPipePoseEstimator(model_path) as detector:
        assert detector.detect(np.zeros((120, 160), np.uint8), 0.0) == []            # grey
        assert detector.detect(np.zeros((120, 160, 4), np.uint8), 0.1) == []         # RGBA
        assert detector.detect(np.zeros((120, 160, 3), np.float32), 0.2) == []       # float
        assert detector.detect(np.zeros((4000, 6000, 3), np.uint8)[::2, ::2], 0.3) == []  # strided, big


def test_hands_held_at_the_shoulders_are_warned_of_in_the_analysis(tmp_path):
    """A recorded drill whose neutral stance has the wrists level with the shoulders: the
    document's calibration and warnings say so (the turn is read with the high-grip trunk,
    a little less surely)."""
    from dataclasses import replace

    video = write_video(tmp_path / "plain.mp4", [np.full((240, 320, 3), 90, np.uint8)] * 75)

    def raised(t: float):
        pose = standing_pose(320, 240, t)
        image = pose.image.copy()
        image[[15, 16], 1] = image[[11, 12], 1]   # wrists at shoulder height
        return [replace(pose, image=image)]

    doc = analyze_video(video, PROTOCOL, progress=False, detector=ScriptedDetector(raised)).document
    assert doc["calibration"]["hands_high"] is True
    assert any(w == messages.HANDS_HIGH for w in doc["warnings"])
    chest = analyze_video(video, PROTOCOL, progress=False, detector=ScriptedDetector(lambda t: [standing_pose(320, 240, t)]))
    assert chest.document["calibration"]["hands_high"] is False
    assert messages.HANDS_HIGH not in chest.document["warnings"]


def test_a_drill_with_the_hands_at_the_shoulders_is_coached_with_gestures_on(tmp_path):
    """Wrists level with the shoulders are above the line a lifted hand crosses; judged
    against where they rested at calibration, the grip is not a gesture's lift, so the
    coach is not held and both reps count (before, `posecoach analyze` counted none)."""
    from dataclasses import replace

    from posecoach.analysis.gestures import GestureSettings

    video = write_video(tmp_path / "plain.mp4", [np.full((240, 320, 3), 90, np.uint8)] * 720)

    def raised(t: float):
        pose = standing_pose(320, 240, t, trunk_deg=drill_trunk_deg(t))
        image = pose.image.copy()
        image[[15, 16], 1] = image[[11, 12], 1] - 0.02   # wrists at the chin, just above the shoulders
        return [replace(pose, image=image)]

    doc = analyze_video(video, PROTOCOL, progress=False, detector=ScriptedDetector(raised),
                        gestures=GestureSettings()).document
    assert doc["calibration"]["hands_high"] is True
    assert [rep["side"] for rep in doc["reps"]] == ["right", "left"]
    assert all(rep["completed"] for rep in doc["reps"]) and doc["controls"] == []
