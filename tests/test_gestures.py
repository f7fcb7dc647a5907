"""The hands-free gesture detector on generated landmark sequences (no camera, no model)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posecoach.analysis.gestures import GestureDetector, GestureSettings, raised_hands
from posecoach.analysis.vocabulary import Gesture

FPS = 30.0


def body(turn_deg: float = 0.0, left_up: float = 0.0, right_up: float = 0.0, x: float = 0.5, vis: float = 0.95,
         grip_y: float = 0.40, rng: np.random.Generator | None = None) -> np.ndarray:
    """Image landmarks (33 x (x, y, z, visibility)) of a person facing the camera.

    ``turn_deg`` turns the shoulders (the drill); ``left_up``/``right_up`` in [0, 1] raise a
    hand from the chest grip to straight above the head; ``x`` is where the person stands.
    """
    lm = np.zeros((33, 4))
    lm[:, 3] = vis
    half = 0.10 * math.cos(math.radians(turn_deg))
    lm[0, :2] = (x, 0.20)
    lm[11, :2], lm[12, :2] = (x + half, 0.30), (x - half, 0.30)       # the person's left is on the image's right
    lm[23, :2], lm[24, :2] = (x + 0.07, 0.55), (x - 0.07, 0.55)
    lm[25, :2], lm[26, :2] = (x + 0.07, 0.75), (x - 0.07, 0.75)
    for side, (shoulder, elbow, wrist), up in ((1, (11, 13, 15), left_up), (-1, (12, 14, 16), right_up)):
        sx = lm[shoulder, 0]
        grip_elbow = np.array([sx + side * 0.02, 0.45])
        grip_wrist = np.array([x - side * 0.02, grip_y])
        top_elbow = np.array([sx + side * 0.05, 0.17])
        top_wrist = np.array([sx + side * 0.04, 0.04])
        lm[elbow, :2] = grip_elbow + up * (top_elbow - grip_elbow)
        lm[wrist, :2] = grip_wrist + up * (top_wrist - grip_wrist)
    if rng is not None:
        lm[:, :2] += rng.normal(0.0, 0.004, (33, 2))
    return lm


def run(detector: GestureDetector, frames, t0: float = 0.0, blocked=lambda t: False):
    """Feed ``frames`` (landmarks or None) at 30 fps; return [(t, gesture)] fired."""
    fired = []
    t = t0
    for lm in frames:
        gesture = detector.update(t, lm, blocked=blocked(t))
        if gesture is not None:
            fired.append((round(t, 3), gesture))
        t += 1.0 / FPS
    return fired


def still(seconds: float, **pose) -> list[np.ndarray]:
    return [body(**pose) for _ in range(int(round(seconds * FPS)))]


def raise_hand(seconds: float, hand: str = "right", ramp_s: float = 0.3) -> list[np.ndarray]:
    """Raise a hand over ``ramp_s``, keep it up, lower it over ``ramp_s``."""
    n_ramp = int(ramp_s * FPS)
    levels = list(np.linspace(0, 1, n_ramp)) + [1.0] * int(seconds * FPS) + list(np.linspace(1, 0, n_ramp))
    key = {"right": ("right_up",), "left": ("left_up",), "both": ("left_up", "right_up")}[hand]
    return [body(**{k: level for k in key}) for level in levels]


def test_raised_hands_reads_one_frame():
    assert raised_hands(body()) == (False, False)
    assert raised_hands(body(right_up=1.0)) == (False, True)
    assert raised_hands(body(left_up=1.0, right_up=1.0)) == (True, True)
    # a hand at the forehead (scratching, adjusting glasses) is not above the head
    assert raised_hands(body(right_up=0.62)) == (False, False)
    # the body not seen well: nothing is read
    assert raised_hands(body(right_up=1.0, vis=0.3)) is None
    assert raised_hands(body(right_up=1.0, x=0.95)) is None       # a shoulder outside the picture
    assert raised_hands(np.zeros((5, 4))) is None
    nan = body(right_up=1.0)
    nan[23, 1] = np.nan
    assert raised_hands(nan) is None


def test_a_proper_raise_fires_exactly_once_after_about_a_second():
    detector = GestureDetector()
    frames = still(1.5) + raise_hand(3.0) + still(2.0)
    fired = run(detector, frames)
    assert [g for _, g in fired] == [Gesture.TOGGLE_PAUSE]
    up_at = 1.5 + 0.3 * 0.62   # the hand passes the line about 60 % of the way up
    assert up_at + 0.9 <= fired[0][0] <= up_at + 1.3


def test_both_hands_end_the_session_without_pausing_first():
    fired = run(GestureDetector(), still(1.0) + raise_hand(3.5, "both") + still(1.0))
    assert [g for _, g in fired] == [Gesture.END_SESSION]
    assert 1.0 + 2.5 <= fired[0][0] <= 1.0 + 3.0


def test_a_short_raise_does_not_fire():
    assert run(GestureDetector(), still(1.0) + raise_hand(0.6) + still(1.0)) == []


def test_the_hand_must_come_down_between_gestures():
    s = GestureSettings()
    detector = GestureDetector(s)
    # fired, then the hand dips for less than the re-arm time and goes up again: nothing more
    frames = still(1.0) + raise_hand(1.3, ramp_s=0.1) + still(0.1) + raise_hand(2.0, ramp_s=0.1)
    fired = run(detector, frames)
    assert [g for _, g in fired] == [Gesture.TOGGLE_PAUSE]
    # down long enough (re-armed, past the refractory time): the next raise resumes
    frames = still(1.0) + raise_hand(1.3) + still(1.0) + raise_hand(1.3) + still(1.0)
    fired = run(GestureDetector(s), frames)
    assert [g for _, g in fired] == [Gesture.TOGGLE_PAUSE, Gesture.TOGGLE_PAUSE]
    assert fired[1][0] - fired[0][0] >= s.refractory_s


@pytest.mark.parametrize("amplitude", [0, 20, 45, 70])
def test_the_drill_never_fires(amplitude):
    """Reps with the hands gripped at chest height, turning up to 70 deg, for a minute, with noise."""
    rng = np.random.default_rng(amplitude)
    frames = []
    t = np.arange(0, 60, 1 / FPS)
    turn = amplitude * np.sin(2 * np.pi * t / 12.0)
    grip = 0.40 - 0.05 * np.abs(np.sin(2 * np.pi * t / 12.0))    # the hands rise a little at end range
    for angle, grip_y in zip(turn, grip, strict=True):
        frames.append(body(turn_deg=angle, grip_y=grip_y, rng=rng))
    assert run(GestureDetector(), frames) == []


def test_walking_in_and_out_with_a_hand_up_never_fires():
    frames = []
    for x in np.linspace(-0.3, 0.5, 60):          # walking in from the left, waving
        vis = 0.95 if 0.15 < x < 0.85 else 0.3
        frames.append(body(x=float(x), right_up=1.0, vis=vis) if x > -0.1 else None)
    frames += still(2.0, right_up=1.0)             # stops, hand still up: never seen down, not armed
    frames += still(1.0)
    for x in np.linspace(0.5, 1.3, 45):           # walking out, waving goodbye
        vis = 0.95 if x < 0.8 else 0.25
        frames.append(body(x=float(x), right_up=1.0 if x > 0.8 else 0.0, vis=vis))
    frames += [None] * 30
    assert run(GestureDetector(), frames) == []


def test_half_a_body_or_flickering_visibility_never_fires():
    rng = np.random.default_rng(3)
    frames = still(1.0)
    for _ in range(150):   # hand up, but the body seen only every other frame
        frames.append(body(right_up=1.0, vis=0.95 if rng.random() < 0.5 else 0.2))
    assert run(GestureDetector(), frames) == []


def test_calibration_and_an_unsure_selector_block_it():
    frames = still(1.0) + raise_hand(3.0) + still(1.0)
    assert run(GestureDetector(), frames, blocked=lambda t: True) == []
    # blocked in the middle of a raise (another person crossing): the raise starts over, too short now
    frames = still(1.0) + raise_hand(1.6) + still(1.0)
    assert run(GestureDetector(), frames, blocked=lambda t: 1.7 < t < 1.8) == []


def test_a_gap_in_time_restarts_the_view():
    detector = GestureDetector()
    fired = run(detector, still(1.0) + raise_hand(0.7, ramp_s=0.0)[:15])
    assert fired == []
    # frames resume 2 s later with the hand up: the view was lost, the hand must come down first
    assert run(detector, still(2.0, right_up=1.0), t0=3.0) == []


def test_one_lost_reading_does_not_break_a_raise():
    frames = still(1.0) + raise_hand(1.5, ramp_s=0.0)
    frames[45] = body(right_up=1.0)
    frames[45][16, 3] = 0.2                      # one frame where the raised wrist is not seen well
    fired = run(GestureDetector(), frames)
    assert [g for _, g in fired] == [Gesture.TOGGLE_PAUSE]


def test_a_grip_at_the_chin_is_not_a_lift_once_its_rest_is_known():
    """Judged against where the hands rest at calibration: a grip at the chin (above the
    shoulder line) is no lift, at any turn; a hand raised from it is; a chest grip's rest
    changes nothing."""
    from posecoach.analysis.gestures import grip_reference, hands_lifted

    chin = body(grip_y=0.28)
    assert hands_lifted(chin) is True                     # the shoulder line alone takes it for a lift
    grip = grip_reference(chin)
    assert grip is not None and min(grip.wrist_rise) > 0
    rng = np.random.default_rng(4)
    for turn in (0, 45, 70):
        assert hands_lifted(body(turn_deg=turn, grip_y=0.28, rng=rng), grip=grip) is False
    assert hands_lifted(body(grip_y=0.28, right_up=0.5), grip=grip) is True
    chest = grip_reference(body())
    for up in (0.0, 0.2, 0.4, 1.0):
        assert hands_lifted(body(right_up=up), grip=chest) == hands_lifted(body(right_up=up))
    assert grip_reference(body(vis=0.3)) is None          # arms not seen well: no reference
