"""Rotation cues: each turns one frame's measurements, against the neutral stance, into
evidence about the trunk or pelvis yaw (degrees, positive = toward the person's right).

The cues and their failure modes (DESIGN.md section 3):

- ``world``: yaw of the shoulder line in MediaPipe's 3D world landmarks, relative to
  neutral. Learned depth: smooth and signed, but compresses large angles.
- ``foreshortening``: the shoulder width against its neutral width, corrected for the
  neutral's own yaw to the camera (what MediaPipe's shoulder and hip lines agree on at
  neutral, less their noise: ``stance_yaw``). Blind near 0 degrees and unsigned by itself:
  the sign comes from the hand travel.
- ``hands``: sideways travel of the gripped hands, which sit in front of the chest, against
  the feet; grows like sin(angle), with sign. Saturates past ~50 degrees. Hands gripped off
  the body's midline (one hand holds the other wrist, so the wrists sit to one side) or a
  body turned to the camera at neutral make the travel lopsided: the same turn carries the
  hands further one way than the other. ``centred_hand_travel`` undoes that from the
  neutral picture alone.
- The head is *not* a trunk cue: people doing the drill in front of a laptop often keep
  their eyes on the screen, so the nose does not follow the trunk. But MediaPipe reads the
  shoulders as if they turned with the head: a head kept facing the camera pulls the shoulder
  cues back toward it (their gain fell from 1.0-1.1 to 0.7-0.9 on rendered clips with the
  eyes on the screen, while the hands were unaffected). ``head_still`` says how far the head
  stays (the nose's shift against the ears, the head's own turn, against the hands' turn), so
  the fusion can undo that pull; it is a state that scales the shoulder cues, not a reading
  of the trunk.
- pelvis: the hip line's world yaw, and the narrowing of the hip width beyond what the
  trunk's twist explains, are kept for the record; MediaPipe's hip points follow the
  shoulders, so the pelvis is read from its picture instead (pelvis_appearance.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posecoach.analysis.geometry import BodyMeasures


@dataclass(frozen=True)
class Cues:
    """Cue values of one frame, each relative to the neutral stance."""

    world: float
    foreshortening: float
    hands: float
    world_pelvis: float
    hip_narrowing: float
    # the nose's sideways shift against the ears since neutral, in neutral ear widths (NaN: ears not seen apart)
    nose_shift: float = math.nan
    head_still: float = 0.0    # 0: the head turns with the trunk .. 1: it keeps facing the camera
    hands_travel: float = math.nan  # the hand travel as seen, before the grip correction (``hands``)
    width_blind: bool = False  # the shoulder width was blind: ``foreshortening`` is the hands' (or world's) angle

    def trunk_features(self) -> np.ndarray:
        """The trunk cues in the order of ``fusion_model.TRUNK_FEATURES``."""
        return trunk_feature_values(self.foreshortening, self.world, self.hands, self.head_still)


def trunk_feature_values(foreshortening, world, hands, head_still) -> np.ndarray:
    """The trunk features of ``fusion_model.TRUNK_FEATURES`` from the cues, along the last axis
    (numbers, or numpy arrays of whole clips for the fit)."""
    return np.stack([foreshortening, world, hands, hands ** 3, world * head_still, foreshortening * head_still], axis=-1)


HANDS_SIGN_DEADBAND = 0.02  # torso heights: below this hand travel, the sign comes from the world yaw
FORESHORTENING_BLIND_DEG = 12.0  # below this the shoulder-width angle is noise, not signal
DEFAULT_HANDS_LEVER = 0.77  # torso heights; the fitted value is fusion_model's TrunkModel.hands_lever
# MediaPipe's shoulder yaw at neutral, as far as it is noise: on 19 renders whose neutral stance is
# square to the camera within 0.5 deg it read 0.1-4.7 deg (mean 1.5, all one way: the arms' crossed
# grip). Taken as the body's yaw to the camera it read every turn one way low and the other high by
# as much (d04: 4.7 deg made the shoulder width read 10 deg more left/right difference than a square
# reading). A body really turned to the camera reads far more (c10, a camera 8 deg off the body's
# line and the body turned 6 deg toward it: 14.7 read, 13.9 true).
NEUTRAL_YAW_NOISE_DEG = 3.0
# The hip line's world yaw at neutral, as far as it is noise. The grip does not tilt the hips: on
# 44 renders square to the camera within 0.5 deg it read -0.6 to +2.4 deg (mean of its size 0.7;
# the shoulders' 0.2-3.8 on the same clips), and on the turned ones it came nearer the truth than
# the shoulders' (x00 10.3 and 14.1 for 9.9, x03 9.0 and 14.7 for 9.3, z34 7.0 and 9.5 for 6.8;
# c10 11.4 and 14.8 for 13.9). Chosen: 2 takes every square render but d04 (2.4) to zero
# (docs/measurements.md "Session 24").
NEUTRAL_HIP_YAW_NOISE_DEG = 2.0


# The head's state is judged once the hands say the trunk has turned this far (a ramp from
# the first to the second): nearer neutral the nose's shift is too small to tell, and the
# shoulder cues it scales are small too.
HEAD_JUDGED_FROM_DEG = (10.0, 20.0)
MIN_EAR_WIDTH = 0.05  # torso heights: ears closer at neutral are not seen well enough to judge the head


def head_stillness(nose_shift: float, trunk_deg: float, full_follow: float) -> float:
    """How far the head keeps facing the camera while the trunk turns: 0 when it turns with
    the trunk, 1 when it stays.

    A head that turns with the trunk by ``phi`` shifts the nose sideways of the ears' midpoint
    by ``full_follow * sin(phi)`` ear widths (the nose stands in front of the ears' line:
    ~0.1 m against ears ~0.14 m apart); one that stays does not shift it. ``nose_shift``: the
    shift since neutral, in neutral ear widths, positive to the image right; ``trunk_deg``:
    the turn the hands say (positive toward the person's right, which moves the nose to the
    image left).
    """
    low, high = HEAD_JUDGED_FROM_DEG
    judged = min(1.0, max(0.0, (abs(trunk_deg) - low) / (high - low)))
    if judged == 0.0:
        return 0.0
    follows = -nose_shift / math.sin(math.radians(trunk_deg)) / full_follow
    return min(1.0, max(0.0, 1.0 - follows)) * judged


def hands_angle(hands, lever: float):
    """The trunk angle (degrees) the hand travel alone says: travel = -lever * sin(angle).
    Works on numbers and on numpy arrays alike (the fit uses it on whole clips)."""
    return np.degrees(np.arcsin(np.clip(-np.asarray(hands) / lever, -1.0, 1.0)))


def centred_hand_travel(hands, offset, neutral_yaw_deg, lever: float, offset_gain: float = 1.0):
    """The hand travel a grip centred on the spine and square to the camera would show.

    The hands circle the spine: seen from the camera their sideways position toward the
    person's right is ``u = a cos(phi) + d sin(phi) = R sin(phi + psi)`` at body yaw
    ``phi``, with ``d`` the lever in front of the spine, ``a`` the grip's offset to the
    side, ``R = hypot(a, d)`` and ``psi = atan2(a, d)``. The neutral picture shows
    ``u0 = offset_gain * offset`` at ``phi = yaw0``, which gives ``a``; the turn is then
    ``asin((u0 + travel) / R) - asin(u0 / R)``, independent of the side. An off-centre grip
    (``a != 0``) moves the hands by ``a (cos(turn) - 1)`` on both sides, which a plain
    ``sin`` reads as a smaller turn one way and a larger the other: 4-8 degrees of
    left/right difference on the rendered drills, where one hand grips the other wrist.

    ``offset_gain`` (``TrunkModel.grip_offset_gain``, fitted): the grip's offset in units of
    the offset the wrists show at neutral; 1 takes it as seen. Mirroring a crossed grip moved
    the hands cue's left/right difference by 7-8 degrees on renders, of which the offset as
    seen accounts for 1.6; taken twice it evened the hands cue out, but not the fused turn
    (docs/measurements.md, sessions 14 and 15), so the fit keeps 1.

    ``hands``: travel since neutral (image x over torso height, positive to the image
    right); ``offset``: the wrists' neutral position from the spine (the hip midpoint),
    same units; returns ``-lever * sin(turn)``, the travel of a centred, square grip.
    Numbers or numpy arrays (the fit uses it on whole clips).
    """
    yaw0 = np.radians(neutral_yaw_deg)
    u0 = -offset_gain * np.asarray(offset, dtype=float)  # toward the person's right = toward the image left
    side = (u0 - lever * np.sin(yaw0)) / np.maximum(np.cos(yaw0), 0.2)
    reach = np.hypot(side, lever)
    start = np.arcsin(np.clip(u0 / reach, -1.0, 1.0))
    turn = np.arcsin(np.clip((u0 - np.asarray(hands, dtype=float)) / reach, -1.0, 1.0)) - start
    return -lever * np.sin(turn)


def square_on_yaw(neutral_yaw_deg: float, noise_deg: float = NEUTRAL_YAW_NOISE_DEG) -> float:
    """A neutral world yaw less its noise, toward zero."""
    return math.copysign(max(0.0, abs(neutral_yaw_deg) - noise_deg), neutral_yaw_deg)


def stance_yaw(shoulder_yaw_deg: float, hip_yaw_deg: float) -> float:
    """The body's yaw to the camera at neutral that the shoulder width and the grip correction
    take: the shoulder line's and the hip line's world yaws, each less its noise, and the
    smaller of the two when they agree in direction (0 when they do not).

    A stance turned from the camera turns both lines. The crossed grip tilts the pose model's
    shoulder line (``NEUTRAL_YAW_NOISE_DEG``), and the legs' stance might tilt its hip line
    (a knee forward when half-kneeling; not measured): what one line alone shows is not taken.
    """
    shoulders = square_on_yaw(shoulder_yaw_deg, NEUTRAL_YAW_NOISE_DEG)
    hips = square_on_yaw(hip_yaw_deg, NEUTRAL_HIP_YAW_NOISE_DEG)
    if shoulders * hips <= 0.0:
        return 0.0
    return math.copysign(min(abs(shoulders), abs(hips)), shoulders)


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def compute_cues(m: BodyMeasures, neutral: BodyMeasures, hands_lever: float = DEFAULT_HANDS_LEVER,
                 blind_world_gain: float | None = None, centre_grip: bool = True,
                 head_follow: float | None = None, grip_offset_gain: float = 1.0) -> Cues:
    """All cues of frame ``m`` against the calibrated ``neutral``; ``hands_lever`` (torso
    heights) turns the hand travel into an angle where the shoulder width is blind.

    ``blind_world_gain``: for postures whose grip makes the hands no trunk cue (arms crossed
    on the chest, a stick across the shoulders), the world yaw times this gain fills the
    shoulder width's blind zone and gives its sign, instead of the hands.
    ``centre_grip``: correct the hand travel for a grip off the spine's line at neutral
    (``centred_hand_travel``, with ``grip_offset_gain``).
    ``head_follow``: the nose's shift per sine of the turn of a head that turns with the trunk
    (``head_stillness``); None, or no hand cue, or ears not seen apart: ``head_still`` is 0.
    """
    world = _wrap(m.world_shoulder_yaw - neutral.world_shoulder_yaw)
    neutral_yaw = stance_yaw(neutral.world_shoulder_yaw, neutral.world_hip_yaw)
    travel = m.hands_x - neutral.hands_x
    hands = travel
    if centre_grip:
        hands = float(centred_hand_travel(travel, neutral.hands_x - neutral.hips_x, neutral_yaw,
                                          hands_lever, grip_offset_gain))
    # A rotation to the right carries the hands toward the image left (negative x).
    if blind_world_gain is None and abs(hands) > HANDS_SIGN_DEADBAND:
        sign = -math.copysign(1.0, hands)
    else:
        sign = math.copysign(1.0, world or 1.0)
    yaw0 = math.radians(neutral_yaw)
    ratio = m.shoulder_width / neutral.shoulder_width if neutral.shoulder_width > 1e-6 else 1.0
    phi = math.acos(max(-1.0, min(1.0, ratio * math.cos(yaw0))))
    width_blind = math.degrees(phi) < FORESHORTENING_BLIND_DEG
    if width_blind:
        # Blind near 0 deg (the cosine is flat there: 2% of width noise reads as 11 deg, with
        # a random sign): the hands, which move most there, speak for it.
        foreshortening = (float(hands_angle(hands, hands_lever)) if blind_world_gain is None
                          else blind_world_gain * world)
    else:
        foreshortening = math.degrees(sign * phi - yaw0)
    hip_ratio = m.hip_width / neutral.hip_width if abs(neutral.hip_width) > 1e-6 else 1.0
    trunk_sign = math.copysign(1.0, world) if world else 0.0
    ears = abs(neutral.ear_width)
    nose_shift = (m.nose_ears_x - neutral.nose_ears_x) / ears if ears >= MIN_EAR_WIDTH else math.nan
    head_still = 0.0
    if head_follow is not None and blind_world_gain is None and math.isfinite(nose_shift):
        head_still = head_stillness(nose_shift, float(hands_angle(hands, hands_lever)), head_follow)
    return Cues(
        world=world,
        foreshortening=foreshortening,
        hands=hands,
        world_pelvis=_wrap(m.world_hip_yaw - neutral.world_hip_yaw),
        hip_narrowing=trunk_sign * (1.0 - hip_ratio),
        nose_shift=nose_shift,
        head_still=head_still,
        hands_travel=travel,
        width_blind=width_blind,
    )
