"""The pelvis appearance cue on generated pictures."""

from __future__ import annotations

import numpy as np

from posecoach.analysis.pelvis_appearance import CueProblem, PelvisAppearance, make_template, pelvis_change


def scene(shift_texture: float = 0.0, squeeze: float = 1.0, brightness: float = 1.0, seed: int = 0):
    """A 480x640 picture with a textured 'pelvis' block around (320, 260)."""
    rng = np.random.default_rng(seed)
    image = np.full((480, 640, 3), 120, dtype=np.float64)
    texture = rng.uniform(0, 255, size=(80, 200))
    xs = np.clip(((np.arange(200) - 100) * squeeze + 100 + shift_texture).astype(int), 0, 199)
    block = texture[:, xs]
    image[220:300, 220:420] = block[:, :, None]
    return np.clip(image * brightness, 0, 255).astype(np.uint8)


def pixels(dx: float = 0.0, feet_dy: float = 0.0) -> np.ndarray:
    p = np.zeros((33, 2))
    p[11], p[12] = (370, 160), (270, 160)     # shoulders
    p[23], p[24] = (350 + dx, 240), (290 + dx, 240)  # hips
    p[27], p[28] = (350 + dx, 420 + feet_dy), (290 + dx, 420 + feet_dy)  # ankles
    return p


def test_unchanged_pelvis_scores_zero_and_changes_grow():
    neutral = scene()
    template = make_template(neutral, pixels(), torso_px=80.0)
    assert template is not None
    assert pelvis_change(template, neutral, pixels()) < 1e-6
    mild = pelvis_change(template, scene(squeeze=0.93), pixels())
    strong = pelvis_change(template, scene(squeeze=0.8), pixels())
    assert 0.0 < mild < strong


def test_whole_body_sway_is_followed_through_the_feet():
    template = make_template(scene(), pixels(), torso_px=80.0)
    moved = np.roll(scene(), 12, axis=1)          # the person stepped 12 px to the side
    assert pelvis_change(template, moved, pixels(dx=12)) < 0.02


def test_the_search_covers_how_far_the_landmarks_drift_while_the_feet_stay_planted():
    """MediaPipe's lower-body points drift by up to ~0.07 torso heights as the trunk turns
    (on a rendered 640x360 clip the ankles read 6 px higher through a hold while the picture
    stood still). A search only 3 px high lost the pelvis and read a 20-29 deg turn."""
    template = make_template(scene(), pixels(), torso_px=80.0)
    assert template is not None
    drifted = pixels(feet_dy=-4.0)   # 0.05 torso heights: the picture is the same
    assert pelvis_change(template, scene(), drifted, drift_margin=0.07) < 1e-6
    assert pelvis_change(template, scene(), drifted, drift_margin=0.0) > 0.05


def test_lighting_change_alone_is_not_a_turn():
    template = make_template(scene(), pixels(), torso_px=80.0)
    assert pelvis_change(template, scene(brightness=0.7), pixels()) < 0.02


def test_flat_or_off_image_patches_give_no_cue():
    flat = np.full((480, 640, 3), 90, dtype=np.uint8)
    assert make_template(flat, pixels(), torso_px=80.0) is None
    template = make_template(scene(), pixels(), torso_px=80.0)
    assert pelvis_change(template, scene(), pixels(dx=-400)) is None


# --------------------------------------------------------------------------- the tracker
def body_scene(squeeze: float = 1.0, gain: float = 1.0, noise: float = 0.0, seed: int = 0, frame: int = 0):
    """A pelvis block (rows 220-300) and a shins block (rows 320-400) on a grey wall."""
    rng = np.random.default_rng(seed)
    image = np.full((480, 640), 120.0)
    pelvis = rng.uniform(0, 255, size=(80, 200))
    xs = np.clip(((np.arange(200) - 100) * squeeze + 100).astype(int), 0, 199)
    image[220:300, 220:420] = pelvis[:, xs]
    image[320:400, 240:400] = rng.uniform(0, 255, size=(80, 160))
    if noise:
        image += np.random.default_rng(1000 + frame).normal(0, noise, image.shape)
    return np.clip(image[:, :, None].repeat(3, axis=2) * gain, 0, 255).astype(np.uint8)


def body_pixels(wrists_at: tuple[float, float] | None = None) -> np.ndarray:
    p = pixels()
    p[25], p[26] = (345, 330), (295, 330)            # knees
    p[13], p[14] = (400, 200), (240, 200)            # elbows, out to the sides
    p[15], p[16] = (330, 150), (310, 150)            # wrists at the chest
    if wrists_at is not None:
        p[15] = p[16] = wrists_at
    return p


def feed(tracker, start: float, seconds: float, trunk: float, **scene_kw):
    readings = []
    for k in range(int(seconds * 30)):
        t = start + k / 30
        readings.append(tracker.observe(t, body_scene(frame=int(t * 30), **scene_kw), body_pixels(), 80.0, trunk))
    return readings


def test_tracker_reads_a_turn_and_nothing_when_still():
    tracker = PelvisAppearance()
    assert tracker.rebase(0.0, body_scene(), body_pixels(), 80.0)
    still = feed(tracker, 0.0, 1.0, trunk=30.0)
    turned = feed(tracker, 1.0, 1.0, trunk=30.0, squeeze=0.85)
    assert all(r.trusted for r in still + turned)
    assert max(r.change for r in still) < 1e-3
    assert min(r.change for r in turned[10:]) > 0.01


def test_tracker_takes_a_new_neutral_picture_at_each_pause_at_centre():
    tracker = PelvisAppearance()
    tracker.rebase(0.0, body_scene(), body_pixels(), 80.0)
    drifted = feed(tracker, 0.0, 0.2, trunk=30.0, squeeze=0.9)      # turned away: the old picture
    assert drifted[-1].change > 0.01
    feed(tracker, 0.2, 0.6, trunk=1.0, squeeze=0.9)                   # back at centre, still
    after = feed(tracker, 0.8, 0.5, trunk=30.0, squeeze=0.9)
    assert after[-1].trusted and after[-1].change < 1e-3


def test_hands_over_the_pelvis_make_the_cue_decline():
    tracker = PelvisAppearance()
    tracker.rebase(0.0, body_scene(), body_pixels(), 80.0)
    reading = tracker.observe(0.1, body_scene(), body_pixels(wrists_at=(320, 250)), 80.0, 20.0)
    assert not reading.trusted and reading.problem == CueProblem.HANDS_OVER_PELVIS


def test_a_light_jump_voids_the_picture_until_the_next_pause():
    tracker = PelvisAppearance()
    tracker.rebase(0.0, body_scene(), body_pixels(), 80.0)
    feed(tracker, 0.0, 0.5, trunk=30.0)
    lamp = feed(tracker, 0.5, 1.0, trunk=30.0, gain=1.4)
    assert all(r.problem == CueProblem.LIGHT_CHANGING for r in lamp)
    feed(tracker, 1.5, 0.6, trunk=0.0, gain=1.4)                     # a pause at centre
    later = feed(tracker, 2.1, 0.5, trunk=30.0, gain=1.4)
    assert all(r.trusted for r in later)


def test_a_plain_patch_says_how_much_noise_can_move_it():
    tracker = PelvisAppearance()
    tracker.rebase(0.0, body_scene(), body_pixels(), 80.0)
    textured = feed(tracker, 0.0, 0.3, trunk=30.0)[-1].plainness
    plain = body_scene()
    plain[220:300, 220:420] = (plain[220:300, 220:420].astype(float) * 0.05 + 100).astype(np.uint8)
    tracker.rebase(1.0, plain, body_pixels(), 80.0)
    reading = tracker.observe(1.1, plain, body_pixels(), 80.0, 30.0)
    assert reading.trusted and reading.plainness > 50 * textured


def test_a_loose_hem_over_the_hips_moves_the_patch_below_it():
    from posecoach.analysis.pelvis_appearance import AppearanceSettings, hem_below_hips, patch_box

    def shirt_to(bottom: int) -> np.ndarray:
        scene = body_scene()
        scene[200:bottom, 200:440] = (40, 160, 60)         # a green shirt over the hip line (y = 240)
        return scene

    tucked_in = body_scene()
    tucked_in[150:225, 200:440] = (40, 160, 60)            # ends above the hip line
    default_top = patch_box(body_pixels(), 80.0)[1]
    tucked = make_template(tucked_in, body_pixels(), 80.0)
    assert tucked.y0 == default_top and not tucked.below_hem
    # a hem hanging 8 px (0.1 torso heights) below the hips: found, and the patch's usual top
    # already lies the clearance below it
    short_shirt = shirt_to(248)
    short = make_template(short_shirt, body_pixels(), 80.0)
    assert 0.0 < hem_below_hips(short_shirt, body_pixels(), 80.0) < 0.12
    assert short.below_hem and short.y0 == default_top
    # one hanging 16 px below them: the patch starts the clearance below the hem
    long_shirt = shirt_to(256)
    hem = hem_below_hips(long_shirt, body_pixels(), 80.0)
    assert hem is not None and 0.12 < hem < 0.25
    below_hem = make_template(long_shirt, body_pixels(), 80.0)
    clearance = AppearanceSettings().hem_clearance
    assert below_hem.below_hem and below_hem.y0 >= 240 + (hem + clearance) * 80.0 - 1 > default_top


def test_a_long_hem_is_found_and_the_crotch_is_not_taken_for_one():
    """A hem crosses the whole body, the crotch only the gap between the legs: a shirt hanging
    0.2 torso heights below the hip line (further than a waistband search reaches) is a hem;
    dark trousers whose legs part there, showing the wall between them, are not (session 15:
    a render's long shirt read a still pelvis as 12-19 deg, two false pelvis faults)."""
    from posecoach.analysis.pelvis_appearance import hem_below_hips

    long_shirt = body_scene()
    long_shirt[200:256, 200:440] = (150, 100, 125)        # hangs 16 px (0.2 torso heights) below the hips
    hem = hem_below_hips(long_shirt, body_pixels(), 80.0)
    assert hem is not None and 0.15 < hem < 0.25
    trousers = body_scene()
    trousers[200:300, 260:380] = (30, 30, 40)              # trousers over the hips and thighs...
    trousers[254:300, 312:328] = (200, 200, 200)           # ...whose legs part at the crotch
    assert hem_below_hips(trousers, body_pixels(), 80.0) is None
    assert not make_template(trousers, body_pixels(), 80.0).below_hem


def test_half_kneeling_reads_the_front_thigh():
    """The front knee is the higher one; the patch lies on its thigh, between hip and knee."""
    from posecoach.analysis.pelvis_appearance import AppearanceSettings, PatchRegion, patch_box

    settings = AppearanceSettings(region=PatchRegion.FRONT_THIGH)
    p = body_pixels()
    p[23], p[24] = (345, 220), (295, 220)            # hips
    p[25], p[26] = (350, 330), (285, 290)            # the right knee in front (higher)
    x0, y0, x1, y1 = patch_box(p, 80.0, settings)
    assert x0 < 285 < x1 and x1 < 330                # around the right thigh, not the left
    assert 220 < y0 < y1 <= 290
    p[25], p[26] = (350, 290), (285, 330)            # swapped knees: the left thigh
    x0, _, x1, _ = patch_box(p, 80.0, settings)
    assert x0 < 350 < x1 and x0 > 300


def turned_scene(left_stretch: float, right_stretch: float, seed: int = 0) -> np.ndarray:
    """``scene()`` whose texture is stretched sideways by ``left_stretch`` left of the crotch's
    middle (x 320) and by ``right_stretch`` right of it, as a turned pelvis shows the inside of
    one thigh more and of the other less."""
    rng = np.random.default_rng(seed)
    image = np.full((480, 640, 3), 120, dtype=np.float64)
    texture = rng.uniform(0, 255, size=(80, 200))
    offsets = np.arange(200) - 100.0
    columns = 100 + offsets / np.where(offsets < 0, left_stretch, right_stretch)
    image[220:300, 220:420] = texture[:, np.clip(np.round(columns).astype(int), 0, 199)][:, :, None]
    return image.astype(np.uint8)


def test_a_turned_pelvis_stretches_the_halves_of_its_picture_opposite_ways():
    """The side of a turning pelvis's picture that comes to face the camera widens, the other
    narrows; the same squeeze on both halves (the whole picture narrower) is no difference."""
    from posecoach.analysis.pelvis_appearance import halves_stretch

    template = make_template(scene(), pixels(), torso_px=80.0)
    assert template is not None
    assert abs(halves_stretch(template, scene(), pixels())) < 0.01
    to_the_right = halves_stretch(template, turned_scene(1.08, 0.93), pixels())
    to_the_left = halves_stretch(template, turned_scene(0.93, 1.08), pixels())
    assert to_the_right > 0.08 and to_the_left < -0.08
    assert abs(halves_stretch(template, turned_scene(0.92, 0.92), pixels())) < 0.03


def test_a_picture_stretching_against_the_trunks_turn_is_not_a_turned_pelvis():
    """``turn_agreement`` signs the halves' stretch by the trunk's turn: positive when the
    picture stretches as a pelvis turned with the trunk, negative (past the tolerance: the
    estimator then says ``not_a_turn``) when it stretches the other way; judged on a median,
    so one frame says nothing yet."""
    cue = PelvisAppearance()
    assert cue.rebase(0.0, scene(), pixels(), torso_px=80.0)
    picture = turned_scene(1.08, 0.93)           # stretched as a turn to the person's right
    assert cue.turn_agreement(0.1, picture, pixels(), trunk_deg=30.0) is None
    along = [cue.turn_agreement(0.1 + 0.1 * k, picture, pixels(), trunk_deg=30.0) for k in range(1, 4)]
    assert along[-1] is not None and along[-1] > 0.08
    against = PelvisAppearance()
    assert against.rebase(0.0, scene(), pixels(), torso_px=80.0)
    readings = [against.turn_agreement(0.1 * k, picture, pixels(), trunk_deg=-30.0) for k in range(1, 5)]
    assert readings[-1] is not None and readings[-1] < -against.settings.stretch_tolerance
    assert against.not_a_turn(0.5, picture, pixels(), trunk_deg=-30.0)
    assert not cue.not_a_turn(0.5, picture, pixels(), trunk_deg=30.0)
    # the median covers the last second only: an old contradiction is forgotten
    assert against.turn_agreement(5.0, turned_scene(0.93, 1.08), pixels(), trunk_deg=-30.0) is None


def test_the_stretch_is_judged_on_the_standing_crotch_only():
    from posecoach.analysis.posture import posture_setup

    assert posture_setup("standing").settings.appearance.check_stretch
    assert not posture_setup("seated").settings.appearance.check_stretch
    assert not posture_setup("half-kneeling").settings.appearance.check_stretch
    off = PelvisAppearance(posture_setup("seated").settings.appearance)
    assert off.rebase(0.0, scene(), pixels(), torso_px=80.0)
    assert all(off.turn_agreement(0.1 * k, turned_scene(1.08, 0.93), pixels(), 30.0) is None for k in range(5))


# ------------------------------------------------------------------ shading against structure
def shaded_scene(light_from_left: bool, squeeze: float = 1.0) -> np.ndarray:
    """The pelvis block of ``body_scene`` under a smooth shading across it (a light trouser
    leg's curve lit from one side): dim on one side, bright on the other."""
    image = body_scene(squeeze=squeeze).astype(np.float64)
    ramp = np.linspace(0.45, 1.0, 200) if light_from_left else np.linspace(1.0, 0.45, 200)
    image[220:300, 220:420] *= ramp[None, :, None]
    return np.clip(image, 0, 255).astype(np.uint8)


def test_shading_moving_over_the_pelvis_is_not_read_as_a_turn():
    """Heavy bodies in light trousers: the soft body twisting with the trunk moves the shading
    over a still pelvis, which changed the grey picture by 0.03-0.10 (read 17-32 deg) while its
    fine structure stayed. The shading-free picture does not change, so neither does the reading;
    a squeezed picture (the pelvis turned) still reads as changed."""
    from posecoach.analysis.pelvis_appearance import AppearanceSettings, shading_free_change

    neutral, shaded = shaded_scene(True), shaded_scene(False)
    template = make_template(neutral, body_pixels(), torso_px=80.0)
    assert template is not None and template.shading_free is not None
    grey = pelvis_change(template, shaded, body_pixels())
    free = shading_free_change(template, shaded, body_pixels())
    assert grey > 0.03 and free < grey
    readings = {}
    for ratio in (0.0, 3.0):
        tracker = PelvisAppearance(AppearanceSettings(shading_ratio=ratio))
        tracker.rebase(0.0, neutral, body_pixels(), 80.0)
        readings[ratio] = tracker.observe(0.1, shaded, body_pixels(), 80.0, 40.0).change
    assert readings[0.0] > 0.03 and readings[3.0] < readings[0.0] / 3
    tracker = PelvisAppearance()
    tracker.rebase(0.0, neutral, body_pixels(), 80.0)
    assert tracker.observe(0.1, shaded_scene(True, squeeze=0.85), body_pixels(), 80.0, 40.0).change > 0.01
