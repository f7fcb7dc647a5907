"""Overlay drawing, tested on images: layout at two frame sizes, mirroring, warnings, geometry."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PyQt6.QtGui import QImage  # noqa: E402

from posecoach.analysis.coach_state import CoachState  # noqa: E402
from posecoach.analysis.protocol import Cues  # noqa: E402
from posecoach.analysis.sample import RotationSample  # noqa: E402
from posecoach.capture.frame_source import Frame  # noqa: E402
from posecoach.pose import skeleton as sk  # noqa: E402
from posecoach.session.guide import GuideState  # noqa: E402
from posecoach.session.pipeline import PipelineStep  # noqa: E402
from posecoach.testing import standing_pose  # noqa: E402
from posecoach.ui import overlay as ov  # noqa: E402

pytestmark = pytest.mark.gui
SIZES = [(640, 480), (960, 540)]


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


def make_step(width=640, height=480, *, sep=42.0, pelvis=1.0, phase="holding", progress=3.4, paused=None,
              warnings=(), tracked=True, pose=True, completed=None, instruction="hold") -> PipelineStep:
    rgb = np.full((height, width, 3), 70, np.uint8)
    sample = RotationSample(t=10.0, tracked=tracked, trunk_deg=sep + pelvis if tracked else None,
                            pelvis_deg=pelvis if tracked else None, separation_deg=sep if tracked else None,
                            confidence=0.9 if tracked else 0.0, calibrated=True,
                            reason=None if tracked else "hips_not_visible")
    state = CoachState(t=10.0, phase=phase, side="right", expected_side="right", hold_progress_s=progress,
                       hold_target_s=7.0, paused_reason=paused, completed=completed or {"right": 3, "left": 2},
                       required_per_side=7, set_index=1, sets=2, instruction=instruction, warnings=tuple(warnings))
    person = standing_pose(width, height, 10.0, trunk_deg=sep + pelvis, pelvis_deg=pelvis) if pose else None
    return PipelineStep(frame=Frame(rgb, 10.0, 300), pose=person, sample=sample, state=state, events=[])


def pixels(image: QImage) -> np.ndarray:
    """(H, W, 3) RGB array of a QImage."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def near_color(rgb: np.ndarray, color, tol=40) -> np.ndarray:
    return np.all(np.abs(rgb.astype(int) - np.array(color)) <= tol, axis=-1)


def shoulder_mid_px(step: PipelineStep, mirrored: bool) -> tuple[int, int]:
    img = step.pose.image
    x = (img[sk.LEFT_SHOULDER, 0] + img[sk.RIGHT_SHOULDER, 0]) / 2
    y = (img[sk.LEFT_SHOULDER, 1] + img[sk.RIGHT_SHOULDER, 1]) / 2
    w, h = step.frame.image.shape[1], step.frame.image.shape[0]
    return int(round((1 - x if mirrored else x) * w)), int(round(y * h))


@pytest.mark.parametrize("size", SIZES)
def test_render_draws_every_element_at_the_frame_size(size):
    step = make_step(*size, warnings=("pelvis", "too_fast"), paused="pelvis")
    image = ov.render_overlay(step.frame.image, ov.OverlayModel(step=step, toast="Good", paused=True))
    assert (image.width(), image.height()) == size
    rgb = pixels(image)
    w, h = size
    u = min(h, w * 0.75) / 100
    # the picture is still there (grey 70) between the panels
    assert near_color(rgb, (70, 70, 70), 3).mean() > 0.25
    # the shoulder line in cyan on the shoulders, the hip line in orange
    x, y = shoulder_mid_px(step, False)
    assert near_color(rgb[y - 3:y + 4, x - 3:x + 4], ov.SHOULDER_COLOR.getRgb()[:3]).any()
    assert near_color(rgb, ov.HIP_COLOR.getRgb()[:3], 30).sum() > 50
    # the pelvis banner (red) and the too-fast banner (amber) above the instruction band
    band_top = int(h - 13 * u)
    assert near_color(rgb[band_top - int(17 * u):band_top], ov.BAD_COLOR.getRgb()[:3], 30).sum() > 200
    assert near_color(rgb[band_top - int(17 * u):band_top], ov.WARN_COLOR.getRgb()[:3], 30).sum() > 200
    # the hold ring is amber while paused
    assert near_color(rgb[:, int(w - 30 * u):], ov.WARN_COLOR.getRgb()[:3], 30)[: int(65 * u)].sum() > 50
    # the instruction band is dark and has white text
    band = rgb[band_top + 2:]
    assert near_color(band, (255, 255, 255), 30).sum() > 100


@pytest.mark.parametrize("size", SIZES)
def test_mirroring_flips_the_picture_and_skeleton_not_the_numbers(size):
    step = make_step(*size, sep=30.0, pelvis=0.0)
    step.frame.image[:, : size[0] // 4] = (200, 30, 30)  # a red stripe on the image's left
    plain = ov.OverlayModel(step=step, mirrored=False)
    mirrored = ov.OverlayModel(step=step, mirrored=True)
    assert ov.overlay_text(plain) == ov.overlay_text(mirrored)
    assert ov.overlay_text(plain).separation == "30°" and ov.overlay_text(plain).side == "right"
    a, b = pixels(ov.render_overlay(step.frame.image, plain)), pixels(ov.render_overlay(step.frame.image, mirrored))
    w, h = size
    row = int(h * 0.75)
    assert near_color(a[row, 5:20], (200, 30, 30), 10).all() and not near_color(b[row, 5:20], (200, 30, 30), 10).any()
    assert near_color(b[row, w - 20:w - 5], (200, 30, 30), 10).all()
    # the person stands off-centre: the shoulder line moves to the other side
    shifted = make_step(*size)
    shifted = PipelineStep(frame=shifted.frame, pose=standing_pose(w, h, 10.0, 43.0, 1.0, centre=(0.35, 0.5)),
                           sample=shifted.sample, state=shifted.state, events=[])
    for flag in (False, True):
        rgb = pixels(ov.render_overlay(shifted.frame.image, ov.OverlayModel(step=shifted, mirrored=flag)))
        x, y = shoulder_mid_px(shifted, flag)
        assert near_color(rgb[y - 3:y + 4, x - 3:x + 4], ov.SHOULDER_COLOR.getRgb()[:3]).any(), flag


def test_dial_geometry_follows_the_sign_convention():
    # Unmirrored, the person's right end is on the screen's left; turning right moves it away (up).
    x, y = ov.dial_point(0.0, 10.0, False, "right")
    assert x == pytest.approx(-10.0) and y == pytest.approx(0.0)
    x, y = ov.dial_point(30.0, 10.0, False, "right")
    assert x < 0 and y < 0
    x, y = ov.dial_point(-30.0, 10.0, False, "right")
    assert y > 0
    # Mirrored: the same rotation, seen in a mirror: x flips, the depth (y) does not.
    xm, ym = ov.dial_point(30.0, 10.0, True, "right")
    assert xm == pytest.approx(-ov.dial_point(30.0, 10.0, False, "right")[0]) and ym < 0


def test_texts_for_counts_hold_and_untracked():
    text = ov.overlay_text(ov.OverlayModel(step=make_step()))
    assert text.counts == {"right": "Right 3/7", "left": "Left 2/7"}
    # a hold just completed counts at once (the ring says "done"), not when back at centre
    for phase in ("holding", "returning"):
        done = ov.overlay_text(ov.OverlayModel(step=make_step(phase=phase, progress=7.0)))
        assert done.counts == {"right": "Right 4/7", "left": "Left 2/7"}
    assert text.hold_value == "4 s" and text.hold_label == "hold"
    assert text.set_label == "Set 1/2" and text.instruction == "Hold it: 4 s"
    assert text.tracking == "seen well"   # no uncertainty known: the confidence, in words
    sure = ov.overlay_text(ov.OverlayModel(step=dataclasses.replace(
        make_step(), sample=dataclasses.replace(make_step().sample, separation_err_deg=3.4))))
    assert sure.tracking == "precise ±3°"
    warned = ov.overlay_text(ov.OverlayModel(step=make_step(pelvis=-12.4, warnings=("pelvis", "too_fast"),
                                                            paused="pelvis")))
    assert warned.banners == (("pelvis", "Pelvis turned 12°: hold paused"),
                              ("too_fast", "Slower: turn smoothly"))  # the protocol's own too-fast cue
    slower = Cues(too_fast="Easy now")
    assert ov.overlay_text(ov.OverlayModel(step=make_step(warnings=("too_fast",)), cues=slower)).banners == (
        ("too_fast", "Easy now"),)
    assert ov.overlay_text(ov.OverlayModel(step=make_step(warnings=("pelvis",)))).banners[0][1].endswith("forward")
    done = ov.overlay_text(ov.OverlayModel(step=make_step(progress=7.0)))
    assert done.hold_label == "done"
    lost = make_step(tracked=False, pose=False)
    text = ov.overlay_text(ov.OverlayModel(step=lost, guide=GuideState("coaching", untracked="hips_not_visible")))
    assert text.separation == "–" and text.instruction == "Step back: your hips must be in view"
    image = ov.render_overlay(lost.frame.image, ov.OverlayModel(step=lost))
    assert not image.isNull()


def test_guided_start_countdown_and_calibration_ring():
    step = make_step(phase="calibrating", tracked=False)
    countdown = ov.OverlayModel(step=step, guide=GuideState("countdown", countdown=2))
    rgb = pixels(ov.render_overlay(step.frame.image, countdown))
    h, w = rgb.shape[:2]
    centre = rgb[h // 2 - 40:h // 2 + 40, w // 2 - 40:w // 2 + 40]
    assert near_color(centre, (255, 255, 255), 20).sum() > 200  # the big "2"
    calibrating = ov.OverlayModel(step=step, guide=GuideState("calibrating", calibration_progress=0.5))
    assert ov.overlay_text(calibrating).hold_label == "calibrating"
    assert ov.overlay_text(calibrating).instruction == "Hold still: calibrating your neutral stance"


def test_nothing_to_show_yet():
    rgb = np.zeros((480, 640, 3), np.uint8)
    image = ov.render_overlay(rgb, ov.OverlayModel(step=None))
    assert image.width() == 640
    with pytest.raises(ValueError):
        ov.frame_to_qimage(np.zeros((4, 4), np.uint8))


def test_render_scales_to_a_display_size():
    step = make_step()
    image = ov.render_overlay(step.frame.image, ov.OverlayModel(step=step), size=(1280, 960))
    assert (image.width(), image.height()) == (1280, 960)
