"""The pelvis appearance cue on generated pictures."""

from __future__ import annotations

import numpy as np

from posecoach.analysis.pelvis_appearance import make_template, pelvis_change


def scene(shift_texture: float = 0.0, squeeze: float = 1.0, brightness: float = 1.0, seed: int = 0):
    """A 480x640 picture with a textured 'pelvis' block around (320, 260)."""
    rng = np.random.default_rng(seed)
    image = np.full((480, 640, 3), 120, dtype=np.float64)
    texture = rng.uniform(0, 255, size=(80, 200))
    xs = np.clip(((np.arange(200) - 100) * squeeze + 100 + shift_texture).astype(int), 0, 199)
    block = texture[:, xs]
    image[220:300, 220:420] = block[:, :, None]
    return np.clip(image * brightness, 0, 255).astype(np.uint8)


def pixels(dx: float = 0.0) -> np.ndarray:
    p = np.zeros((33, 2))
    p[11], p[12] = (370, 160), (270, 160)     # shoulders
    p[23], p[24] = (350 + dx, 240), (290 + dx, 240)  # hips
    p[27], p[28] = (350 + dx, 420), (290 + dx, 420)  # ankles
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


def test_lighting_change_alone_is_not_a_turn():
    template = make_template(scene(), pixels(), torso_px=80.0)
    assert pelvis_change(template, scene(brightness=0.7), pixels()) < 0.02


def test_flat_or_off_image_patches_give_no_cue():
    flat = np.full((480, 640, 3), 90, dtype=np.uint8)
    assert make_template(flat, pixels(), torso_px=80.0) is None
    template = make_template(scene(), pixels(), torso_px=80.0)
    assert pelvis_change(template, scene(), pixels(dx=-400)) is None
