"""Geometry, cues and the rotation estimator on generated landmark sequences."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import synthetic_pose
from posecoach.analysis import sample as reasons
from posecoach.analysis.cues import compute_cues
from posecoach.analysis.geometry import measure
from posecoach.analysis.rotation import EstimatorSettings, RotationEstimator

FPS = 30.0


def feed(estimator, angles, pelvis=None, t0=0.0, **kwargs):
    out = []
    for i, trunk in enumerate(angles):
        p = 0.0 if pelvis is None else pelvis[i]
        image, world = synthetic_pose(trunk, p, **kwargs)
        out.append(estimator.update(t0 + i / FPS, image, world, kwargs.get("width", 640), kwargs.get("height", 480)))
    return out


def test_measures_are_distance_independent():
    near = measure(*synthetic_pose(0.0, distance=2.0), 640, 480)
    far = measure(*synthetic_pose(0.0, distance=3.5), 640, 480)
    assert near.torso_px > far.torso_px * 1.6
    assert near.shoulder_width == pytest.approx(far.shoulder_width, rel=0.03)
    assert near.hands_x == pytest.approx(far.hands_x, abs=0.02)


@pytest.mark.parametrize("angle", [-50, -30, -15, 15, 30, 50])
def test_each_trunk_cue_has_the_right_sign(angle):
    neutral = measure(*synthetic_pose(0.0), 640, 480)
    cues = compute_cues(measure(*synthetic_pose(angle), 640, 480), neutral)
    sign = np.sign(angle)
    assert np.sign(cues.world) == sign
    assert np.sign(cues.foreshortening) == sign
    assert np.sign(cues.hands) == -sign       # the hands move to the image left for a right turn
    assert cues.world == pytest.approx(angle, abs=1.0)   # exact world landmarks give the exact yaw


@pytest.mark.parametrize("side", [1, -1])
def test_the_heads_state_is_seen_from_the_nose_against_the_ears(side):
    """A head that turns with the trunk reads 0, one kept on the screen 1, either way round;
    near neutral the state is not judged; it scales the shoulder cues only."""
    from posecoach.analysis.cues import head_stillness

    neutral = measure(*synthetic_pose(0.0), 640, 480)
    follow = 0.72   # the synthetic nose stands 0.10 m in front of ears 0.14 m apart: 0.71

    def still(trunk, head=None):
        return compute_cues(measure(*synthetic_pose(side * trunk, head_deg=head), 640, 480), neutral,
                            head_follow=follow).head_still

    assert still(45) == pytest.approx(0.0, abs=0.1)
    assert still(45, head=0.0) == pytest.approx(1.0, abs=0.1)
    assert still(45, head=side * 22.5) == pytest.approx(0.5, abs=0.1)
    assert still(5, head=0.0) == 0.0                    # too near neutral to judge
    assert compute_cues(measure(*synthetic_pose(45, head_deg=0.0), 640, 480), neutral).head_still == 0.0
    assert [head_stillness(0.0, 30.0, follow), head_stillness(-0.72 * 0.5, 30.0, follow)] == pytest.approx([1.0, 0.0])
    cues = compute_cues(measure(*synthetic_pose(side * 45, head_deg=0.0), 640, 480), neutral, head_follow=follow)
    features = cues.trunk_features()
    assert features[4] == pytest.approx(cues.world * cues.head_still)
    assert features[5] == pytest.approx(cues.foreshortening * cues.head_still)


def test_foreshortening_follows_the_cosine():
    neutral = measure(*synthetic_pose(0.0), 640, 480)
    for angle in (20, 40, 60):
        cues = compute_cues(measure(*synthetic_pose(angle), 640, 480), neutral)
        assert cues.foreshortening == pytest.approx(angle, abs=4.0)


def test_the_neutral_yaw_is_taken_less_the_pose_models_noise():
    from posecoach.analysis.cues import NEUTRAL_YAW_NOISE_DEG, square_on_yaw

    assert square_on_yaw(0.0) == 0.0
    assert square_on_yaw(NEUTRAL_YAW_NOISE_DEG * 0.9) == 0.0
    assert square_on_yaw(-NEUTRAL_YAW_NOISE_DEG * 0.9) == 0.0
    assert square_on_yaw(14.0) == pytest.approx(14.0 - NEUTRAL_YAW_NOISE_DEG)
    assert square_on_yaw(-14.0) == pytest.approx(-14.0 + NEUTRAL_YAW_NOISE_DEG)
    assert square_on_yaw(2.0, noise_deg=0.0) == 2.0


def test_the_stance_is_what_the_shoulder_and_hip_lines_agree_on():
    """A stance turned from the camera turns both lines; the grip tilts only the shoulders' (and a
    leg's stance only the hips'), so the body's yaw is the smaller of the two, each less its noise."""
    from posecoach.analysis.cues import NEUTRAL_HIP_YAW_NOISE_DEG, NEUTRAL_YAW_NOISE_DEG, stance_yaw

    assert stance_yaw(0.0, 0.0) == 0.0
    # the crossed grip's tilt of the shoulder line, hips square (d04 read 3.5 and 2.4)
    assert stance_yaw(4.7, 0.4) == 0.0
    assert stance_yaw(3.5, 2.4) == pytest.approx(2.4 - NEUTRAL_HIP_YAW_NOISE_DEG)
    # one line one way, the other the other: not a stance
    assert stance_yaw(12.0, -6.0) == 0.0
    # a turned stance: the hips' line is the nearer (x03: 14.7 and 9.0 for a true 9.3)...
    assert stance_yaw(14.7, 9.0) == pytest.approx(9.0 - NEUTRAL_HIP_YAW_NOISE_DEG)
    assert stance_yaw(-14.7, -9.0) == pytest.approx(-9.0 + NEUTRAL_HIP_YAW_NOISE_DEG)
    # ...unless the shoulders' is (z35: -6.3 and -5.9 for a true -8.1)
    assert stance_yaw(-6.3, -5.9) == pytest.approx(-6.3 + NEUTRAL_YAW_NOISE_DEG)


@pytest.mark.parametrize("angle", [25, 40, 60])
def test_a_square_body_whose_neutral_yaw_reads_a_little_off_turns_alike_both_ways(angle):
    """The pose model's shoulder yaw reads a few degrees at a neutral square to the camera (the
    crossed grip): taken as the body's yaw, it read one side low and the other high by as much.
    With the hips square it is not taken at all, however large."""
    import dataclasses

    from posecoach.analysis.cues import NEUTRAL_YAW_NOISE_DEG

    square = measure(*synthetic_pose(0.0), 640, 480)
    for shoulders in (0.8 * NEUTRAL_YAW_NOISE_DEG, 1.6 * NEUTRAL_YAW_NOISE_DEG):
        noisy = dataclasses.replace(square, world_shoulder_yaw=shoulders)
        right = compute_cues(measure(*synthetic_pose(angle), 640, 480), noisy)
        left = compute_cues(measure(*synthetic_pose(-angle), 640, 480), noisy)
        assert right.foreshortening == pytest.approx(-left.foreshortening, abs=0.5)
        assert right.hands == pytest.approx(-left.hands, abs=0.005)


def test_a_body_turned_to_the_camera_at_neutral_is_still_corrected():
    """A body stood 15 deg turned to the camera reads its turns from there: the neutral yaw less
    its noise leaves an error of at most twice the larger noise (a turn through square to the
    camera doubles it), where the width read as if square would be 13 deg off one way and blind
    the other."""
    from posecoach.analysis.cues import NEUTRAL_HIP_YAW_NOISE_DEG, NEUTRAL_YAW_NOISE_DEG

    noise = max(NEUTRAL_YAW_NOISE_DEG, NEUTRAL_HIP_YAW_NOISE_DEG)

    stance = 15.0
    neutral = measure(*synthetic_pose(stance, stance), 640, 480)
    assert neutral.world_shoulder_yaw == pytest.approx(stance, abs=0.5)
    assert neutral.world_hip_yaw == pytest.approx(stance, abs=0.5)
    for turn in (30.0, 45.0):
        right = compute_cues(measure(*synthetic_pose(stance + turn, stance), 640, 480), neutral).foreshortening
        left = compute_cues(measure(*synthetic_pose(stance - turn, stance), 640, 480), neutral).foreshortening
        assert right == pytest.approx(turn, abs=2 * noise)
        assert left == pytest.approx(-turn, abs=2 * noise)


def test_pelvis_cue_sees_hip_narrowing():
    neutral = measure(*synthetic_pose(0.0), 640, 480)
    still = compute_cues(measure(*synthetic_pose(40, 0), 640, 480), neutral)
    turned = compute_cues(measure(*synthetic_pose(40, 25), 640, 480), neutral)
    assert turned.hip_narrowing > still.hip_narrowing + 0.05
    assert turned.world_pelvis == pytest.approx(25, abs=1.0)


def calibrated_estimator(**kwargs):
    estimator = RotationEstimator()
    out = feed(estimator, [0.0] * 60, **kwargs)
    assert not out[0].tracked and out[0].reason == reasons.CALIBRATING
    assert estimator.calibrated and out[-1].tracked
    return estimator


@pytest.mark.parametrize("side", [1, -1])
def test_estimator_tracks_a_rotation_with_sign_and_settles(side):
    estimator = calibrated_estimator()
    ramp = list(side * 45 * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 45))))
    out = feed(estimator, ramp + [side * 45.0] * 60, t0=2.0)
    trunk = np.array([s.trunk_deg for s in out])
    assert np.all(np.sign(trunk[20:]) == side)
    assert 30 < abs(trunk[-1]) < 75                  # weights are fitted to MediaPipe, not to this toy body
    assert abs(trunk[-1] - trunk[-15]) < 0.5          # settled, no drift
    seps = [s.separation_deg for s in out[-10:]]
    assert all(np.sign(x) == side for x in seps)
    assert all(0.0 <= s.confidence <= 1.0 for s in out)


def test_estimator_output_grows_with_the_angle():
    estimator = calibrated_estimator()
    finals = []
    for angle in (10, 25, 40, 55):
        finals.append(feed(estimator, [float(angle)] * 40, t0=2.0 + angle)[-1].trunk_deg)
    assert finals == sorted(finals)


def test_noise_does_not_flip_the_sign_and_is_filtered():
    rng = np.random.default_rng(1)
    estimator = calibrated_estimator()
    out = feed(estimator, [35.0] * 90, t0=2.0, noise=0.002, rng=rng)
    trunk = np.array([s.trunk_deg for s in out[30:]])
    assert np.all(trunk > 0)
    assert trunk.std() < 3.0


def test_missing_frames_and_invisible_hips_are_not_measured():
    estimator = calibrated_estimator()
    nobody = estimator.update(5.0, None, None, 640, 480)
    assert not nobody.tracked and nobody.reason == reasons.NO_PERSON and nobody.trunk_deg is None
    image, world = synthetic_pose(0.0, hips_visible=False)
    cut = estimator.update(5.1, image, world, 640, 480)
    assert not cut.tracked and cut.reason == reasons.HIPS_NOT_VISIBLE and cut.pelvis_deg is None
    back = feed(estimator, [0.0] * 5, t0=6.0)
    assert back[-1].tracked


def test_hips_out_of_frame_never_calibrates():
    estimator = RotationEstimator()
    out = feed(estimator, [0.0] * 90, hips_visible=False)
    assert not estimator.calibrated
    assert {s.reason for s in out} == {reasons.HIPS_NOT_VISIBLE}


def test_back_to_camera_is_refused():
    estimator = calibrated_estimator()
    image, world = synthetic_pose(180.0)
    out = estimator.update(5.0, image, world, 640, 480)
    assert not out.tracked and out.reason == reasons.BACK_TO_CAMERA


def test_another_person_jumping_in_is_reported():
    estimator = calibrated_estimator()
    image, world = synthetic_pose(0.0, distance=1.2)   # someone much nearer
    out = estimator.update(5.0, image, world, 640, 480)
    assert not out.tracked and out.reason == reasons.PERSON_SWITCHED


def test_a_rotated_still_start_does_not_become_neutral():
    estimator = RotationEstimator()
    feed(estimator, [45.0] * 90)
    assert not estimator.calibrated


def test_moving_to_another_distance_asks_for_recalibration():
    estimator = calibrated_estimator()
    # walk back gradually (no jump), then stand still at the new distance
    distances = np.linspace(2.5, 3.6, 60)
    for i, d in enumerate(distances):
        image, world = synthetic_pose(0.0, distance=float(d))
        estimator.update(2.0 + i / FPS, image, world, 640, 480)
    out = feed(estimator, [0.0] * 120, t0=4.0, distance=3.6)
    assert estimator.calibrated and out[-1].tracked
    assert estimator.calibration.neutral.torso_px < 80  # re-measured at the new distance (100 px before)


def test_calibrates_with_jittered_camera_timestamps():
    """A live camera's timestamps are not on an exact 1/30 s grid."""
    rng = np.random.default_rng(7)
    estimator = RotationEstimator()
    t = 0.0
    for _ in range(120):
        t += 1 / FPS + rng.uniform(-0.002, 0.002)
        image, world = synthetic_pose(0.0)
        estimator.update(t, image, world, 640, 480)
        if estimator.calibrated:
            break
    assert estimator.calibrated and t < 1.7
    assert estimator.calibration_progress == 1.0


def test_without_a_picture_the_pelvis_is_the_drills_prior_and_the_error_grows_with_the_angle():
    from posecoach.analysis.fusion_model import DEFAULT_MODEL

    estimator = calibrated_estimator()
    small = feed(estimator, [15.0] * 40, t0=2.0)[-1]
    large = feed(estimator, [55.0] * 40, t0=4.0)[-1]
    for s in (small, large):
        assert s.pelvis_deg == pytest.approx(DEFAULT_MODEL.pelvis.follows_trunk * s.trunk_deg, abs=0.2)
        assert s.separation_err_deg is not None and s.separation_err_deg > 0
    assert large.separation_err_deg >= small.separation_err_deg
    assert estimator.last_features is not None and estimator.last_features.appearance_change is None


def test_pelvis_from_the_picture_grows_with_the_change_beyond_its_allowances():
    from posecoach.analysis.fusion_model import DEFAULT_MODEL
    from posecoach.analysis.pelvis_appearance import AppearanceReading
    from posecoach.analysis.rotation import pelvis_from_appearance

    p = DEFAULT_MODEL.pelvis
    assert pelvis_from_appearance(AppearanceReading(p.floor * 0.5), 0.0) == 0.0
    values = [pelvis_from_appearance(AppearanceReading(c), 30.0) for c in (0.01, 0.02, 0.05, 0.1)]
    assert values == sorted(values) and values[-1] > values[0] > 0.0
    # the same change means less turn when the trunk is turned far (its own share of the change)
    assert pelvis_from_appearance(AppearanceReading(0.02), 60.0) <= pelvis_from_appearance(AppearanceReading(0.02), 0.0)


def test_postures_without_a_hand_cue_take_the_blind_zone_and_sign_from_the_world_yaw():
    from posecoach.analysis.posture import posture_setup

    standing, seated, kneeling = (posture_setup(p) for p in ("standing", "seated", "half-kneeling"))
    # seated with the hands together in front: the upper body of the standing drill
    assert standing.model.trunk.uses_hands and seated.model.trunk.uses_hands
    from posecoach.analysis.fusion_model import SESSION_12_STANDING_TRUNK

    ratio = np.array(seated.model.trunk.weights[:4]) / np.array(SESSION_12_STANDING_TRUNK.weights[:4])
    assert np.allclose(ratio, ratio[0], rtol=1e-3) and 1.0 < ratio[0] < 1.3   # one gain on the standing model it was fitted on
    assert not kneeling.model.trunk.uses_hands and kneeling.model.trunk.weights[2:] == (0.0, 0.0, 0.0, 0.0)
    neutral = measure(*synthetic_pose(0.0), 640, 480)
    small = measure(*synthetic_pose(6.0), 640, 480)
    assert compute_cues(small, neutral, blind_world_gain=1.2).foreshortening == pytest.approx(1.2 * 6.0, abs=0.5)
    # hands that travel the wrong way (a stick across the shoulders) do not flip the sign
    turned = measure(*synthetic_pose(30.0), 640, 480)
    wrong_hands = turned.__class__(**{**turned.__dict__, "hands_x": neutral.hands_x + 0.3})
    assert compute_cues(wrong_hands, neutral, blind_world_gain=1.2).foreshortening > 20
    assert compute_cues(wrong_hands, neutral).foreshortening < 0


def test_the_estimator_follows_its_posture(side=1):
    from posecoach.analysis.posture import posture_setup

    setup = posture_setup("half-kneeling")
    estimator = RotationEstimator(setup.settings, setup.model)
    feed(estimator, [0.0] * 60)
    out = feed(estimator, [side * 40.0] * 45, t0=2.0)[-1]
    assert out.tracked and out.trunk_deg == pytest.approx(side * 40.0, abs=8.0)


def test_a_session_takes_the_estimator_of_its_protocols_posture():
    from posecoach.analysis.fusion_model import HALF_KNEELING_MODEL, SEATED_MODEL
    from posecoach.analysis.protocol import load_protocol
    from posecoach.session.coaching import CoachingSession

    session = CoachingSession(detector=None, protocol=load_protocol("seated-rotation"))
    assert session.estimator.model is SEATED_MODEL
    session.restart(load_protocol("half-kneeling-rotation"))
    assert session.estimator.model is HALF_KNEELING_MODEL
    assert session.guide.posture == "half-kneeling"


def _hands_seen(turn_deg: float, side_offset: float, lever: float, yaw0_deg: float = 0.0) -> float:
    """Image x (torso heights, + = image right) of hands gripped ``side_offset`` toward the
    person's right and ``lever`` in front of the spine, body at ``yaw0 + turn``."""
    phi = np.radians(yaw0_deg + turn_deg)
    return -(side_offset * np.cos(phi) + lever * np.sin(phi))


@pytest.mark.parametrize("side_offset, yaw0", [(0.0, 0.0), (0.12, 0.0), (-0.08, 0.0), (0.0, 14.0), (0.1, -9.0)])
def test_an_off_centre_grip_reads_the_same_turn_to_either_side(side_offset, yaw0):
    from posecoach.analysis.cues import centred_hand_travel, hands_angle

    lever = 0.77
    neutral = _hands_seen(0.0, side_offset, lever, yaw0)
    for turn in (10.0, 30.0, 45.0, 60.0):
        right = centred_hand_travel(_hands_seen(turn, side_offset, lever, yaw0) - neutral, neutral, yaw0, lever)
        left = centred_hand_travel(_hands_seen(-turn, side_offset, lever, yaw0) - neutral, neutral, yaw0, lever)
        assert hands_angle(right, lever) == pytest.approx(turn, abs=0.01)
        assert hands_angle(left, lever) == pytest.approx(-turn, abs=0.01)
    if side_offset or yaw0:
        # the plain sine reads the two sides differently: what the correction removes
        raw_right = hands_angle(_hands_seen(45.0, side_offset, lever, yaw0) - neutral, lever)
        raw_left = hands_angle(_hands_seen(-45.0, side_offset, lever, yaw0) - neutral, lever)
        assert abs(raw_right + raw_left) > 1.0


@pytest.mark.parametrize("understated", [0.5, 0.4])
def test_a_grip_whose_offset_the_wrists_understate_is_centred_with_the_offset_gain(understated):
    """Wrists that show only part of the grip's offset at neutral: taken 1/understated times
    (TrunkModel.grip_offset_gain) the two sides read alike again, as they do not with the offset as seen."""
    from posecoach.analysis.cues import centred_hand_travel, hands_angle

    lever, offset = 0.77, 0.12
    true_neutral = _hands_seen(0.0, offset, lever)
    seen_neutral = understated * true_neutral
    for turn in (20.0, 45.0, 65.0):
        right = _hands_seen(turn, offset, lever) - true_neutral
        left = _hands_seen(-turn, offset, lever) - true_neutral
        gain = 1.0 / understated
        assert hands_angle(centred_hand_travel(right, seen_neutral, 0.0, lever, gain), lever) == pytest.approx(turn, abs=0.01)
        assert hands_angle(centred_hand_travel(left, seen_neutral, 0.0, lever, gain), lever) == pytest.approx(-turn, abs=0.01)
        as_seen = [hands_angle(centred_hand_travel(x, seen_neutral, 0.0, lever), lever) for x in (right, left)]
        assert abs(as_seen[0] + as_seen[1]) > 0.5   # a left/right difference the gain removes
    # whole clips at once, as the fit reads them, give the frame-by-frame numbers
    travel = np.array([-0.3, 0.0, 0.25, np.nan])
    together = centred_hand_travel(travel, seen_neutral, 5.0, lever, 2.0)
    one_by_one = [centred_hand_travel(x, seen_neutral, 5.0, lever, 2.0) for x in travel]
    assert np.allclose(together, one_by_one, equal_nan=True)


def test_a_centred_grip_square_to_the_camera_is_left_as_it_is():
    from posecoach.analysis.cues import centred_hand_travel

    for travel in (-0.5, -0.1, 0.0, 0.2, 0.6):
        assert centred_hand_travel(travel, 0.0, 0.0, 0.77) == pytest.approx(travel)


def _calibrate_with_wrists(estimator, below_shoulders: float):
    """Calibrate on the still synthetic body with both wrists ``below_shoulders`` shoulder widths
    under the shoulders (0.4-0.5: chest height; 0: at the shoulders)."""
    for i in range(60):
        image, world = synthetic_pose(0.0)
        shoulder_width_y = abs(image[11, 0] - image[12, 0]) * 640 / 480
        image[[15, 16], 1] = image[[11, 12], 1] + below_shoulders * shoulder_width_y
        estimator.update(i / FPS, image, world, 640, 480)
    assert estimator.calibration is not None
    return estimator.calibration


def test_hands_held_at_the_shoulders_are_seen_at_calibration():
    """Raised upper arms pull MediaPipe's shoulder points: the calibration says so (the window
    and the analysis then ask for a chest-height grip); a chest-height grip is not flagged."""
    from posecoach.analysis.posture import posture_setup

    chest = _calibrate_with_wrists(RotationEstimator(), 0.45)
    assert not chest.hands_high and chest.to_dict()["hands_high"] is False
    assert not _calibrate_with_wrists(RotationEstimator(), 0.25).hands_high
    high = _calibrate_with_wrists(RotationEstimator(), 0.0)
    assert abs(high.neutral.hands_drop) < 0.02 and high.hands_high
    assert high.to_dict()["hands_high"] is True
    assert _calibrate_with_wrists(RotationEstimator(), 0.15).hands_high
    # a posture whose hands are no trunk cue (a stick held in front) is not asked to lower them
    setup = posture_setup("half-kneeling")
    assert not _calibrate_with_wrists(RotationEstimator(setup.settings, setup.model), 0.0).hands_high


def test_hands_held_high_widen_the_uncertainty_with_the_angle():
    """Held high, the hands' unknown reach sets the turn's gain: the interval grows by
    FusionModel.high_grip_spread per degree; at neutral it is the same."""
    import dataclasses

    from posecoach.analysis.fusion_model import DEFAULT_MODEL

    # the same reading for both grips, and a widening large enough to see
    one_trunk = dataclasses.replace(DEFAULT_MODEL, high_grip_trunk=None, high_grip_spread=0.05)
    chest, high = RotationEstimator(model=one_trunk), RotationEstimator(model=one_trunk)
    _calibrate_with_wrists(chest, 0.45)
    _calibrate_with_wrists(high, 0.0)
    turned = [feed(e, [40.0] * 45, t0=2.0)[-1] for e in (chest, high)]
    assert turned[1].separation_deg == pytest.approx(turned[0].separation_deg, abs=0.5)
    extra = turned[1].separation_err_deg - turned[0].separation_err_deg
    assert extra == pytest.approx(0.05 * abs(turned[1].separation_deg), rel=0.05)
    assert extra > 1.5


def test_hands_held_high_are_read_with_the_high_grip_trunk():
    """A person calibrated with the hands high is read with FusionModel.high_grip_trunk: the
    same cues give that model's fused trunk, not the chest grip's."""
    import dataclasses

    from posecoach.analysis.fusion_model import DEFAULT_MODEL

    assert DEFAULT_MODEL.high_grip_trunk is not None
    assert DEFAULT_MODEL.for_person(1.0).trunk == DEFAULT_MODEL.high_grip_trunk
    assert DEFAULT_MODEL.for_person(0.0) is DEFAULT_MODEL
    high, chest_read = RotationEstimator(), RotationEstimator(model=dataclasses.replace(DEFAULT_MODEL, high_grip_trunk=None))
    for estimator in (high, chest_read):
        _calibrate_with_wrists(estimator, 0.0)
        feed(estimator, [40.0] * 45, t0=2.0)
    features = np.array(high.last_features.trunk_features)
    assert high.last_features.trunk_features == pytest.approx(chest_read.last_features.trunk_features)
    expected = [float(features @ np.array(m.weights)) for m in (DEFAULT_MODEL.high_grip_trunk, DEFAULT_MODEL.trunk)]
    assert abs(expected[0] - expected[1]) > 1.0
    assert high.last_features.trunk_deg == pytest.approx(expected[0], abs=0.5)
    assert chest_read.last_features.trunk_deg == pytest.approx(expected[1], abs=0.5)


def test_a_grip_between_the_chest_and_the_chin_is_read_with_a_blend_of_the_two_trunks():
    """The high-grip trunk takes over from the chest grip's as the wrists rise from
    high_grip_drop to high_grip_alone_drop shoulder widths under the shoulders: halfway, each
    reads half the turn, and the blended trunk reads the mean of the two trunks' angles."""
    import dataclasses

    from posecoach.analysis.fusion_model import DEFAULT_MODEL, blend_trunks
    from posecoach.analysis.rotation import high_grip_share

    s = EstimatorSettings()
    start, alone = s.high_grip_drop, s.high_grip_alone_drop
    assert 0.0 < alone < start
    halfway = _calibrate_with_wrists(RotationEstimator(), (start + alone) / 2)
    assert halfway.high_grip_share == pytest.approx(0.5, abs=0.1) and halfway.hands_high
    assert halfway.to_dict()["high_grip_share"] == pytest.approx(halfway.high_grip_share, abs=1e-3)
    assert _calibrate_with_wrists(RotationEstimator(), 0.0).high_grip_share == 1.0
    assert _calibrate_with_wrists(RotationEstimator(), 0.45).high_grip_share == 0.0
    neutral = halfway.neutral
    width = abs(neutral.shoulder_width)
    shares = [high_grip_share(dataclasses.replace(neutral, hands_drop=r * width), s) for r in (0.3, start, 0.15, alone, 0.0)]
    assert shares == pytest.approx([0.0, 0.0, (start - 0.15) / (start - alone), 1.0, 1.0])

    chest, high = DEFAULT_MODEL.trunk, DEFAULT_MODEL.high_grip_trunk
    assert high is not None
    assert blend_trunks(chest, high, 0.0) is chest and blend_trunks(chest, high, 1.0) is high
    mixed = blend_trunks(chest, high, 0.25)
    features = np.array([30.0, 25.0, -0.45, -0.09, 2.0, 1.0])
    angles = [float(features @ np.array(m.weights)) for m in (chest, high, mixed)]
    assert angles[2] == pytest.approx(0.75 * angles[0] + 0.25 * angles[1])
    assert mixed.hands_lever == pytest.approx(0.75 * chest.hands_lever + 0.25 * high.hands_lever)
    assert DEFAULT_MODEL.for_person(0.25).trunk == mixed
    with pytest.raises(ValueError):
        blend_trunks(chest, dataclasses.replace(high, centres_grip=False), 0.5)

    # the estimator reads the person halfway up with that blend
    estimator = RotationEstimator()
    calibration = _calibrate_with_wrists(estimator, (start + alone) / 2)
    feed(estimator, [40.0] * 45, t0=2.0)
    features = np.array(estimator.last_features.trunk_features)
    share = calibration.high_grip_share
    expected = (1 - share) * float(features @ np.array(chest.weights)) + share * float(features @ np.array(high.weights))
    assert estimator.last_features.trunk_deg == pytest.approx(expected, abs=0.5)


def test_samples_carry_how_long_the_persons_pelvis_picture_transients_last():
    """The coach judges the pelvis fault on the person's pelvis model: a still pelvis's picture
    can read a turn for up to about a second, with or without a shirt's hem over the hips (whose
    turned pelvises read past the limit for 6.7-8 s on renders since the picture is taken below
    the hem), so the hem's mapping waits as long."""
    import dataclasses

    from posecoach.analysis.fusion_model import DEFAULT_MODEL

    assert DEFAULT_MODEL.hem_pelvis is not None
    assert DEFAULT_MODEL.for_person(0.0, True).pelvis.transient_s == DEFAULT_MODEL.pelvis.transient_s >= 1.0
    slow = dataclasses.replace(DEFAULT_MODEL, pelvis=dataclasses.replace(DEFAULT_MODEL.pelvis, transient_s=2.5))
    for model in (DEFAULT_MODEL, slow):
        estimator = RotationEstimator(model=model)
        _calibrate_with_wrists(estimator, 0.45)
        sample = feed(estimator, [40.0] * 10, t0=2.0)[-1]
        assert sample.tracked and sample.pelvis_transient_s == model.pelvis.transient_s


class _ChangedPicture:
    """A pelvis picture that reads a large change, stretched ``agreement`` with the trunk's turn."""

    def __init__(self, agreement):
        from posecoach.analysis.pelvis_appearance import AppearanceSettings

        self.settings = AppearanceSettings()
        self.agreement = agreement

    def observe(self, t, image, pixels, torso_px, trunk_deg):
        from posecoach.analysis.pelvis_appearance import AppearanceReading

        return AppearanceReading(0.05)

    def not_a_turn(self, t, image, pixels, trunk_deg):
        return self.agreement is not None and self.agreement < -self.settings.stretch_tolerance


@pytest.mark.parametrize("agreement, turned", [(-0.1, False), (0.1, True), (None, True)])
def test_a_picture_stretching_against_the_turn_is_set_aside(agreement, turned):
    """A picture that reads a turned pelvis but stretches against the trunk's turn is not one:
    the frame says ``not_a_turn`` and the pelvis is the drill's prior; stretched with the turn,
    or not judged yet, the reading stands."""
    from posecoach.analysis.fusion_model import DEFAULT_MODEL

    estimator = calibrated_estimator()
    estimator._pelvis_picture = _ChangedPicture(agreement)
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    for i in range(30):
        image, world = synthetic_pose(40.0, 0.0)
        s = estimator.update(2.0 + i / FPS, image, world, 640, 480, frame=frame)
    prior = DEFAULT_MODEL.pelvis.follows_trunk * s.trunk_deg
    if turned:
        assert s.pelvis_deg > prior + 10.0 and s.pelvis_cue is None
    else:
        assert s.pelvis_deg == pytest.approx(prior, abs=0.5) and s.pelvis_cue == "not_a_turn"
        assert estimator.last_features.appearance_change is None


def _head_cut(image: np.ndarray) -> np.ndarray:
    """The same pose with the head above the picture's top edge (a camera aimed low)."""
    cut = image.copy()
    cut[[0, 2, 5, 7, 8], 1] = -0.01
    return cut


def _sides_mixed(image: np.ndarray, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pose model's mix-up without a head: the shoulders' left and right swapped."""
    image, world = image.copy(), world.copy()
    image[[11, 12]] = image[[12, 11]]
    world[[11, 12]] = world[[12, 11]]
    return image, world


@pytest.mark.parametrize("side", [1, -1])
def test_a_head_out_of_the_picture_is_seen_at_calibration_and_the_turn_read_from_the_hands(side):
    """Without the head MediaPipe mixes up the shoulders' sides (session 18's t17 read a 57 deg
    turn as 105): the calibration says so, and the trunk is the hands' angle alone, so a turn
    whose shoulders come out swapped still reads as the hands show it, not as a back turned."""
    from posecoach.analysis.cues import hands_angle
    from posecoach.analysis.vocabulary import CalibrationConcern

    normal = calibrated_estimator()
    assert not normal.calibration.head_out_of_picture
    assert CalibrationConcern.HEAD_OUT_OF_PICTURE not in normal.calibration.concerns
    cut = RotationEstimator()
    for i in range(60):
        image, world = synthetic_pose(0.0)
        cut.update(i / FPS, _head_cut(image), world, 640, 480)
    assert cut.calibration is not None and cut.calibration.head_out_of_picture
    assert CalibrationConcern.HEAD_OUT_OF_PICTURE in cut.calibration.concerns
    assert cut.calibration.to_dict()["head_out_of_picture"] is True
    t0 = 60 / FPS
    for i in range(45):
        image, world = _sides_mixed(*synthetic_pose(side * 50.0))
        swapped = cut.update(t0 + i / FPS, _head_cut(image), world, 640, 480)
        refused = normal.update(t0 + i / FPS, image, world, 640, 480)
    assert not refused.tracked and refused.reason == reasons.BACK_TO_CAMERA
    features = cut.last_features
    assert swapped.tracked and features is not None and features.hands_only
    lever = cut.model.for_person(cut.calibration.high_grip_share).trunk.hands_lever
    assert swapped.trunk_deg == pytest.approx(float(hands_angle(features.hands, lever)), abs=0.5)
    assert 35.0 < side * swapped.trunk_deg < 65.0


def test_a_shoulder_line_crossed_over_reads_the_hands_and_not_the_pelvis_picture():
    """No turn of the drill crosses the shoulder line over (60-70 deg keep a third of the
    width): where it crossed, the pose's sides are mixed up, so the shoulder cues are set aside
    for the hands and the pelvis picture, placed by the hip points, is not read."""
    estimator = calibrated_estimator()
    turned = feed(estimator, [60.0] * 30, t0=60 / FPS)[-1]
    assert turned.tracked and not estimator.last_features.hands_only and turned.pelvis_cue != "sides_mixed"
    crossed = feed(estimator, [97.0] * 30, t0=90 / FPS)[-1]   # width -0.12 of neutral: not a back turned
    assert crossed.tracked and estimator.last_features.hands_only
    assert crossed.pelvis_cue == "sides_mixed" and abs(crossed.pelvis_deg) < 3.0


@pytest.mark.parametrize("side", [1, -1])
def test_hands_read_alone_hold_steady_through_the_pose_models_flicker(side):
    """Without the head the pose model flips between two readings of the wrists in bursts (t17:
    5-10 deg apart): the hands' angle is taken as its median over 0.2 s
    (EstimatorSettings.hands_only_median_s), so a held turn settles and its hold is timed."""
    import dataclasses

    def spread(settings):
        estimator = RotationEstimator(settings)
        for i in range(60):
            image, world = synthetic_pose(0.0)
            estimator.update(i / FPS, _head_cut(image), world, 640, 480)
        assert estimator.calibration.head_out_of_picture
        readings = []
        for i in range(90):
            turn = 58.0 if i % 7 in (5, 6) else 48.0
            image, world = _sides_mixed(*synthetic_pose(side * turn))
            readings.append(estimator.update(2.0 + i / FPS, _head_cut(image), world, 640, 480).trunk_deg)
        return float(np.ptp(readings[-30:]))

    settings = EstimatorSettings()
    assert spread(settings) < 0.5
    assert spread(dataclasses.replace(settings, hands_only_median_s=0.0)) > 2.0


def test_a_pelvis_picture_too_plain_for_a_12_degree_turn_is_named():
    """The allowance for camera noise on a plain patch against the change a 12 deg turn must
    make above it: with the fitted mapping, a contrast of 42 grey levels is the line."""
    import dataclasses

    from posecoach.analysis.fusion_model import DEFAULT_MODEL
    from posecoach.analysis.rotation import pelvis_magnitude, too_plain_for

    def plainness(contrast: float) -> float:
        return (2.0 / contrast) ** 2   # AppearanceSettings.nominal_noise over the contrast, squared

    assert too_plain_for(12.0, plainness(21.0)) and too_plain_for(12.0, plainness(41.0))
    assert not too_plain_for(12.0, plainness(44.0)) and not too_plain_for(12.0, plainness(80.0))
    # a smaller turn changes the picture less, so a more detailed patch is too plain for it
    assert too_plain_for(8.0, plainness(60.0)) and not too_plain_for(15.0, plainness(35.0))
    # the line is where the allowance equals what a 12 deg reading needs above it
    p = DEFAULT_MODEL.pelvis
    needed = (12.0 / p.gain) ** (1 / p.exponent)
    at_line = needed / p.plain_share
    change = 2 * needed   # the change a 12 deg turn must make on a patch just this plain
    reading = pelvis_magnitude(change + p.floor, at_line, 0.0, 0.0)
    assert abs(reading - 12.0) < 1e-6
    assert too_plain_for(12.0, at_line * 1.001) and not too_plain_for(12.0, at_line * 0.999)
    # under a shirt's hem the pelvis is read with its own mapping, and the line moves
    hem = dataclasses.replace(DEFAULT_MODEL, pelvis=DEFAULT_MODEL.hem_pelvis)
    assert too_plain_for(12.0, plainness(34.0), hem) and not too_plain_for(12.0, plainness(37.0), hem)
