"""RotationEstimator: landmarks -> trunk, pelvis and separation yaw, per frame.

Steps per frame: check that the frame can be measured (a person, hips really in view,
facing the camera, the same person as before); measure the body (geometry.py); calibrate
the neutral stance from the first stillness; compute the cues against neutral (cues.py)
and read the pelvis picture (pelvis_appearance.py); fuse them with the fitted
``FusionModel`` (fusion_model.py); filter over time (One Euro); grade a confidence and
the uncertainty of the separation in degrees.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from posecoach.analysis import sample as reasons
from posecoach.analysis.cues import FORESHORTENING_BLIND_DEG, compute_cues, hands_angle, stance_yaw
from posecoach.analysis.fusion_model import DEFAULT_MODEL, FusionModel
from posecoach.analysis.geometry import L_HIP, R_HIP, BodyMeasures, measure, median_measures
from posecoach.analysis.pelvis_appearance import AppearanceReading, AppearanceSettings, CueProblem, PelvisAppearance
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.smoothing import OneEuroFilter
from posecoach.analysis.vocabulary import CalibrationConcern


@dataclass(frozen=True)
class EstimatorSettings:
    """Thresholds of the estimator that are chosen, not fitted (those are in FusionModel)."""

    calibration_s: float = 1.5          # stillness needed to calibrate
    still_tolerance: float = 0.025      # max std (torso heights; x100 degrees) of key measures while still
    min_visibility: float = 0.5
    filter_min_cutoff_hz: float = 1.2
    filter_beta: float = 0.04
    rescale_ratio: float = 0.2          # a torso scale change beyond this asks for recalibration...
    rescale_after_s: float = 1.0        # ...when it lasts this long
    switch_scale_jump: float = 0.35     # torso scale jump in one frame = another person
    switch_move: float = 0.15           # hip centre jump (image widths) in one frame = another person
    # Facing the camera at calibration: the left shoulder on the image right (widths in torso
    # heights), the head between the shoulders, the shoulder line not turned away.
    facing_min_shoulder_width: float = 0.25
    facing_min_hip_width: float = 0.1
    facing_max_nose_offset: float = 0.15
    facing_max_yaw_deg: float = 25.0
    back_turned_width: float = 0.3      # shoulders crossed beyond this share of neutral width: back to the camera
    hips_max_y: float = 0.98            # hip points below this (normalised) are off the bottom edge
    # Hands gripped less than this far below the shoulder line (shoulder widths) at neutral:
    # the raised upper arms pull MediaPipe's shoulder points in (h03: 55 px apart for joints
    # 64 px apart), and read with the chest grip's model the turn came out up to a third too
    # small or too large on rendered clips with such grips, so they are read, in part or
    # wholly, with the high-grip trunk (FusionModel.high_grip_trunk; README "Hands held
    # high"). Chest and belly grips sat 0.25-1.2 below, a chest grip seen from a desk camera
    # as little as 0.15; the framing guide asks for chest height by the same measure.
    high_grip_drop: float = 0.2
    # ... but the grip's height changes the turn's reading gradually, not at a line: from a
    # drop of high_grip_drop to one of this the high-grip trunk takes over linearly from the
    # chest grip's, and at this or less it reads alone (Calibration.high_grip_share). Chosen
    # in session 23 on six renders with the wrists 0.04-0.10 m under the shoulders or a chest
    # grip seen from a desk (0.03-0.40 shoulder widths in the picture), and checked on six
    # others (README "Hands held high", docs/measurements.md "Session 23").
    high_grip_alone_drop: float = 0.1
    # While the pelvis picture reads more than this, the estimator asks whether it stretches
    # as a turned pelvis does (PelvisAppearance.turn_agreement): from below the 10 deg limit,
    # so that a second of it is there when the reading crosses the limit.
    stretch_check_deg: float = 6.0
    # The nose above this (normalised image y) at calibration: the head is out of the picture
    # (the framing guide's margin). A camera aimed that low (session 18's t17: the nose 0.4% of
    # the picture above its top edge) makes MediaPipe lose the shoulders' left and right: their
    # line crossed over at 55-65 deg turns and the world yaw read 87-107, so the turn read 97
    # and a calm one was flagged too fast. Such a person is read from the hands alone.
    head_min_y: float = 0.01
    # Read from the hands alone (the head out of the picture, a crossed-over shoulder line), the
    # trunk is the median of this much of its last readings before the filter: there the pose
    # model flips between two readings of the wrists, 5-10 deg apart from one frame to the next
    # (t17), which kept the held turns from settling. t17's two right holds (3.2 s) timed 0.9 and
    # 1.0 s without it; 3.3 and 2.9 s with 0.1 s; 3.9 and 4.0 s with 0.2 s, as the turns the other
    # way (0.25-0.6 s the same). The price is lag: separation MAE 4.8 -> 5.9, lag 67 -> 133 ms.
    hands_only_median_s: float = 0.2
    # The pelvis turn the picture must show: the promise is that a pelvis turned 12 deg
    # with the trunk is caught. A pelvis picture so plain that the allowance for camera noise on
    # it alone (PelvisModel.plain_share * plainness) is as large as the change such a turn must
    # make (pelvis_magnitude's inverse) is called plain, and the user is told
    # (Calibration.plain_pelvis). With the fitted pelvis model that is a patch contrast under 42
    # grey levels (35 under a shirt's hem). On 53 renders it named four: the two whose 12 deg
    # turns went unseen (x01 cream leggings, contrast 21; z35 light grey trousers, 34) and two
    # with no turn to see (y00 13, y01 35); not hm00 (light khaki under a hem, 41), whose 13 deg
    # turn read 17 (docs/measurements.md "Session 25").
    plain_pelvis_turn_deg: float = 12.0
    appearance: AppearanceSettings = field(default_factory=AppearanceSettings)


@dataclass(frozen=True)
class Calibration:
    """The neutral stance measured at calibration."""

    t: float
    neutral: BodyMeasures
    base: str
    pelvis_picture: bool = False
    # A loose shirt hangs over the hips (its hem below the hip line): the pelvis picture is
    # taken below it, where a turning pelvis shows less and a turning chest more.
    shirt_over_hips: bool = False
    # How far the hands are held up toward the chin or the shoulders, 0 (a chest grip) to 1
    # (the function high_grip_share): raised upper arms pull MediaPipe's shoulder points and the turn
    # reads wrong with the chest grip's trunk, so this share is read with the high grip's.
    high_grip_share: float = 0.0
    # The head is out of the picture (EstimatorSettings.head_min_y): the shoulders' left and
    # right are not to be trusted, and the trunk is read from the hands alone.
    head_out_of_picture: bool = False
    # The pelvis picture is too plain to show a turn of EstimatorSettings.plain_pelvis_turn_deg
    # (plain one-coloured trousers, a dim room): a turning pelvis can go unseen.
    plain_pelvis: bool = False

    @property
    def hands_high(self) -> bool:
        """The hands are held above chest height (EstimatorSettings.high_grip_drop): the user is
        told, and the high-grip trunk reads some or all of the turn."""
        return self.high_grip_share > 0.0

    @property
    def concerns(self) -> tuple[CalibrationConcern, ...]:
        """What this neutral stance showed that the user should be told about."""
        flags = {CalibrationConcern.SHIRT_OVER_HIPS: self.shirt_over_hips, CalibrationConcern.HANDS_HIGH: self.hands_high,
                 CalibrationConcern.HEAD_OUT_OF_PICTURE: self.head_out_of_picture,
                 CalibrationConcern.PLAIN_PELVIS: self.plain_pelvis}
        return tuple(concern for concern, flagged in flags.items() if flagged)

    def to_dict(self) -> dict:
        return {"t": round(self.t, 3), "base": self.base, "torso_px": round(self.neutral.torso_px, 1),
                "shoulder_width": round(self.neutral.shoulder_width, 4),
                "hip_width": round(self.neutral.hip_width, 4),
                "neutral_yaw_deg": round(self.neutral.world_shoulder_yaw, 2),
                "stance_yaw_deg": round(stance_yaw(self.neutral.world_shoulder_yaw, self.neutral.world_hip_yaw), 2),
                "pelvis_appearance": self.pelvis_picture, "shirt_over_hips": self.shirt_over_hips,
                "hands_drop": round(self.neutral.hands_drop, 3), "hands_high": self.hands_high,
                "high_grip_share": round(self.high_grip_share, 3),
                "head_out_of_picture": self.head_out_of_picture, "plain_pelvis": self.plain_pelvis}


@dataclass(frozen=True)
class FrameFeatures:
    """What the fusion saw in one measured frame (for fitting and diagnostics)."""

    t: float
    trunk_features: tuple[float, ...]
    world: float
    hands: float
    foreshortening: float
    nose_shift: float                   # the nose against the ears since neutral (cues.Cues)
    hands_travel: float                 # the hand travel before the grip correction (cues.Cues)
    width_blind: bool                   # the shoulder width was blind (cues.Cues)
    hands_only: bool                    # the trunk was read from the hands alone (RotationEstimator._measured)
    appearance_change: float | None     # None when not trusted
    appearance_plainness: float
    appearance_noise: float
    appearance_problem: str | None
    trunk_deg: float                    # filtered, as published
    pelvis_deg: float


def fuse_trunk(features: np.ndarray, model: FusionModel = DEFAULT_MODEL) -> float:
    """The trunk yaw (degrees) from the trunk features (``Cues.trunk_features``)."""
    return float(np.dot(model.trunk.weights, features))


def cue_spread(world, hands, foreshortening, trunk, model: FusionModel = DEFAULT_MODEL):
    """Degrees by which the single-cue trunk estimates scatter about the fused ``trunk``.

    The shoulder width counts only where it is not blind. Numbers or numpy arrays (the fit).
    """
    world_alone = model.trunk.world_gain * np.asarray(world)
    hands_alone = hands_angle(hands, model.trunk.hands_lever) if model.trunk.uses_hands else trunk
    sighted = np.abs(foreshortening) >= FORESHORTENING_BLIND_DEG
    squares = ((world_alone - trunk) ** 2 + (hands_alone - trunk) ** 2
               + np.where(sighted, (np.asarray(foreshortening) - trunk) ** 2, 0.0))
    return np.sqrt(squares / (1 + int(model.trunk.uses_hands) + sighted))


def too_plain_for(turn_deg: float, plainness: float, model: FusionModel = DEFAULT_MODEL) -> bool:
    """The pelvis picture's allowance for camera noise alone (``plain_share * plainness``) is as
    large as the change a pelvis turn of ``turn_deg`` must make above it to read that turn
    (``pelvis_magnitude`` inverted): such a turn can go unseen."""
    p = model.pelvis
    return p.plain_share * plainness >= (turn_deg / p.gain) ** (1.0 / p.exponent)


def pelvis_magnitude(change, plainness, noise, trunk, model: FusionModel = DEFAULT_MODEL):
    """Unsigned pelvis turn (degrees) from the picture's change (see PelvisModel).
    Numbers or numpy arrays (the fit replays whole clips with it)."""
    p = model.pelvis
    excess = (change - p.plain_share * plainness - p.noise_multiple * noise
              - p.floor - p.trunk_allowance * (np.asarray(trunk) / 45.0) ** 2)
    return p.gain * np.maximum(excess, 0.0) ** p.exponent


def pelvis_from_appearance(reading: AppearanceReading, trunk: float, model: FusionModel = DEFAULT_MODEL) -> float:
    """Unsigned pelvis turn (degrees) from a trusted picture reading."""
    assert reading.change is not None
    return float(pelvis_magnitude(reading.change, reading.plainness, reading.noise, trunk, model))


def uncertainty_terms(separation, pelvis, spread, pelvis_trusted) -> np.ndarray:
    """The terms ``UncertaintyModel.coefficients`` weigh, last axis (numbers or arrays)."""
    separation, pelvis, spread, trusted = np.broadcast_arrays(separation, pelvis, spread, pelvis_trusted)
    return np.stack([np.ones(separation.shape), np.abs(separation), spread, np.abs(pelvis),
                     1.0 - trusted.astype(float)], axis=-1)


def separation_uncertainty(separation: float, pelvis: float, spread: float, pelvis_trusted: bool,
                           model: FusionModel = DEFAULT_MODEL, hands_high: bool = False) -> float:
    """Half-width (degrees) of the ~90% interval of the separation; wider when the hands
    are held high (``FusionModel.high_grip_spread``)."""
    u = model.uncertainty
    width = float(u.scale * uncertainty_terms(separation, pelvis, spread, pelvis_trusted) @ np.array(u.coefficients))
    return width + model.high_grip_spread * abs(separation) if hands_high else width


def high_grip_share(neutral: BodyMeasures, settings: EstimatorSettings) -> float:
    """The share of the turn the high-grip trunk reads for a neutral stance: 0 with the wrists
    ``high_grip_drop`` shoulder widths or more under the shoulders, 1 at ``high_grip_alone_drop``
    or less, linear between."""
    drop = neutral.hands_drop / max(abs(neutral.shoulder_width), 1e-6)
    start, alone = settings.high_grip_drop, settings.high_grip_alone_drop
    if drop >= start:
        return 0.0
    if drop <= alone or start <= alone:
        return 1.0
    return (start - drop) / (start - alone)


def hips_in_view(image: np.ndarray, min_visibility: float, max_y: float = 0.98) -> bool:
    """False when MediaPipe invents the hips: low presence or visibility, or off the frame."""
    hips = image[[L_HIP, R_HIP]]
    inside = np.all((hips[:, 0] > 0.0) & (hips[:, 0] < 1.0) & (hips[:, 1] < max_y))
    seen = np.all(hips[:, 3] >= min_visibility) and (hips.shape[1] < 5 or np.all(hips[:, 4] >= min_visibility))
    return bool(inside and seen)


class RotationEstimator:
    """Stateful per-stream estimator; feed frames in time order, ``reset()`` to start over.

    ``last_features`` holds what the fusion saw in the last measured frame (None otherwise).
    """

    def __init__(self, settings: EstimatorSettings | None = None, model: FusionModel | None = None) -> None:
        self.settings = settings or EstimatorSettings()
        self.model = model or DEFAULT_MODEL
        # the model the person is read with (FusionModel.for_person), and the calibration it
        # was made for (each new calibration may see another grip or hem)
        self._person: tuple[Calibration, FusionModel] | None = None
        self.reset()

    def reset(self) -> None:
        self.calibration: Calibration | None = None
        self._still: deque[tuple[float, BodyMeasures]] = deque()
        s = self.settings
        self._trunk_filter = OneEuroFilter(s.filter_min_cutoff_hz, s.filter_beta)
        self._pelvis_filter = OneEuroFilter(s.filter_min_cutoff_hz, s.filter_beta)
        self._last: BodyMeasures | None = None
        self._off_scale_since: float | None = None
        self._base = "ankles"
        self._frame: np.ndarray | None = None
        self._pixels: np.ndarray | None = None
        self._pelvis_picture = PelvisAppearance(s.appearance)
        self.last_features: FrameFeatures | None = None
        self._hands_alone: deque[tuple[float, float]] = deque()   # (t, the hands' angle) while read alone

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    @property
    def calibration_progress(self) -> float:
        """Fraction [0, 1] of the stillness needed for calibration gathered so far."""
        if self.calibration is not None:
            return 1.0
        if len(self._still) < 2:
            return 0.0
        span = self._still[-1][0] - self._still[0][0]
        return max(0.0, min(1.0, span / self.settings.calibration_s))

    def request_calibration(self) -> None:
        """Forget the neutral stance; the next stillness facing the camera sets a new one."""
        self.calibration = None
        self._still.clear()
        self._trunk_filter.reset()
        self._pelvis_filter.reset()
        self._pelvis_picture.reset()
        self._hands_alone.clear()

    def update(self, t: float, image: np.ndarray | None, world: np.ndarray | None,
               width: int, height: int, frame: np.ndarray | None = None) -> RotationSample:
        """One frame's landmarks (or None when nobody was detected) -> RotationSample.

        ``frame`` (the RGB picture, optional) enables the pelvis appearance cue.
        """
        self._frame = frame
        self.last_features = None
        self._pixels = None if image is None else image[:, :2] * np.array([width, height], dtype=float)
        calibrated = self.calibrated
        if image is None or world is None:
            self._lose()
            return RotationSample.untracked(t, reasons.NO_PERSON, calibrated)
        s = self.settings
        if not hips_in_view(image, s.min_visibility, s.hips_max_y):
            self._lose()
            return RotationSample.untracked(t, reasons.HIPS_NOT_VISIBLE, calibrated)
        if self.calibration is None:
            self._base = _choose_base(image, s.min_visibility)
        m = measure(image, world, width, height, self.calibration.base if self.calibration else self._base)
        if m is None or min(m.shoulder_visibility, m.hip_visibility) < s.min_visibility:
            self._lose()
            return RotationSample.untracked(t, reasons.NO_PERSON, calibrated)
        if self._switched(m):
            self._lose()
            self._last = m
            return RotationSample.untracked(t, reasons.PERSON_SWITCHED, calibrated)
        self._last = m
        if self.calibration is None:
            return self._calibrate(t, m)
        neutral = self.calibration.neutral
        # (with the head out of the picture the shoulders' sides are not the body's: the hands read it)
        if (not self.calibration.head_out_of_picture and _crossed(m, neutral)
                and abs(m.shoulder_width) > s.back_turned_width * abs(neutral.shoulder_width)):
            self._lose()
            return RotationSample.untracked(t, reasons.BACK_TO_CAMERA, True)
        self._check_scale(t, m)
        if self.calibration is None:  # the person moved to another distance: calibrate again
            return self._calibrate(t, m)
        return self._measured(t, m)

    # ------------------------------------------------------------------ internals
    def _lose(self) -> None:
        self._last = None
        self._hands_alone.clear()
        self._trunk_filter.reset()
        self._pelvis_filter.reset()
        self._still.clear()

    def _switched(self, m: BodyMeasures) -> bool:
        """A jump in body scale or position between consecutive frames: another person."""
        last = self._last
        if last is None:
            return False
        scale_jump = abs(m.torso_px - last.torso_px) / last.torso_px
        return scale_jump > self.settings.switch_scale_jump or abs(m.centre_x - last.centre_x) > self.settings.switch_move

    def _facing(self, m: BodyMeasures) -> bool:
        s = self.settings
        return (m.shoulder_width > s.facing_min_shoulder_width and m.hip_width > s.facing_min_hip_width
                and abs(m.nose_x) < s.facing_max_nose_offset and abs(m.world_shoulder_yaw) < s.facing_max_yaw_deg)

    def _calibrate(self, t: float, m: BodyMeasures) -> RotationSample:
        s = self.settings
        # A still rotated hold must not become "neutral": calibrate only facing the camera.
        if not self._facing(m):
            self._still.clear()
            return RotationSample.untracked(t, reasons.NOT_FACING, False)
        self._still.append((t, m))
        # Keep the window just long enough: drop the oldest only while the next one already
        # spans the calibration time (camera timestamps are not on an exact frame grid).
        while len(self._still) > 1 and self._still[1][0] <= t - s.calibration_s:
            self._still.popleft()
        window = [x for _, x in self._still]
        if not _still(window, s.still_tolerance):
            # moving: restart the stillness window from this frame
            self._still.clear()
            self._still.append((t, m))
            return RotationSample.untracked(t, reasons.CALIBRATING, False)
        if t - self._still[0][0] >= s.calibration_s - 1e-6 and len(window) >= 5:
            self._pelvis_picture.reset()
            picture = False
            if self._frame is not None and self._pixels is not None:
                picture = self._pelvis_picture.rebase(t, self._frame, self._pixels, m.torso_px)
            template = self._pelvis_picture.template
            neutral = median_measures(window)
            hem = bool(picture and template is not None and template.below_hem)
            pelvis_model = self.model.for_person(high_grip_share=0.0, shirt_over_hips=hem)  # their pelvis mapping
            self.calibration = Calibration(t=t, neutral=neutral, base=self._base,
                                           pelvis_picture=picture,
                                           shirt_over_hips=hem,
                                           high_grip_share=high_grip_share(neutral, s) if self.model.trunk.uses_hands else 0.0,
                                           head_out_of_picture=neutral.nose_y < s.head_min_y,
                                           plain_pelvis=picture and too_plain_for(
                                               s.plain_pelvis_turn_deg, self._pelvis_picture.plainness, pelvis_model))
            self._still.clear()
            return self._measured(t, m)
        return RotationSample.untracked(t, reasons.CALIBRATING, False)

    def _measured(self, t: float, m: BodyMeasures) -> RotationSample:
        assert self.calibration is not None
        model = self._person_model(self.calibration)
        read = self.model.trunk  # the cues are read as every trunk model was fitted on them
        # ... but the grip's offset as the person's trunk was fitted on it (each grip fits its own)
        cues = compute_cues(m, self.calibration.neutral, read.hands_lever,
                            None if read.uses_hands else read.world_gain, read.centres_grip, read.head_follow,
                            model.trunk.grip_offset_gain)
        features = cues.trunk_features()
        # The shoulder cues are not the body's with the head out of the picture, or once the
        # shoulder line has crossed over, which no turn of this drill does (60-70 deg turns keep a
        # third of the neutral width; the pose model had mixed up the sides): the trunk is then
        # the hands' angle alone (not for a posture whose hands are no trunk cue).
        crossed = _crossed(m, self.calibration.neutral)
        hands_only = model.trunk.uses_hands and (self.calibration.head_out_of_picture or crossed)
        raw_trunk = self._hands_trunk(t, cues.hands, model) if hands_only else fuse_trunk(features, model)
        if not hands_only:
            self._hands_alone.clear()
        trunk = self._trunk_filter(raw_trunk, t)
        # the hip points that place the pelvis picture are as mixed up as the shoulders
        reading = AppearanceReading(None, CueProblem.SIDES_MIXED) if crossed else self._read_pelvis_picture(t, m, trunk)
        prior = model.pelvis.follows_trunk * trunk
        magnitude = pelvis_from_appearance(reading, trunk, model) if reading.trusted else 0.0
        if magnitude > self.settings.stretch_check_deg and self._picture_not_a_turn(t, trunk):
            reading = replace(reading, problem=CueProblem.NOT_A_TURN)
        if reading.trusted:
            raw_pelvis = (math.copysign(magnitude, trunk) if trunk else 0.0) + prior
        else:
            # Nothing trustworthy says the pelvis turned: the drill's prior (it stays put).
            raw_pelvis = prior
        pelvis = self._pelvis_filter(raw_pelvis, t)
        separation = trunk - pelvis
        spread = float(cue_spread(cues.world, cues.hands, cues.foreshortening, raw_trunk, model))
        problem = None if reading.trusted else (reading.problem.value if reading.problem else None)
        self.last_features = FrameFeatures(
            t=t, trunk_features=tuple(features.tolist()), world=cues.world,
            hands=cues.hands, foreshortening=cues.foreshortening, nose_shift=cues.nose_shift,
            hands_travel=cues.hands_travel, width_blind=cues.width_blind, hands_only=hands_only,
            appearance_change=reading.change if reading.trusted else None,
            appearance_plainness=reading.plainness, appearance_noise=reading.noise, appearance_problem=problem,
            trunk_deg=trunk, pelvis_deg=pelvis)
        return RotationSample(t=t, tracked=True, trunk_deg=trunk, pelvis_deg=pelvis,
                              separation_deg=separation, confidence=_confidence(m, spread),
                              calibrated=True,
                              separation_err_deg=separation_uncertainty(separation, pelvis, spread,
                                                                        reading.trusted, model,
                                                                        self.calibration.hands_high),
                              pelvis_cue=problem, pelvis_transient_s=model.pelvis.transient_s)

    def _person_model(self, calibration: Calibration) -> FusionModel:
        """The model this person is read with (FusionModel.for_person), made once per calibration."""
        if self._person is None or self._person[0] is not calibration:
            self._person = (calibration, self.model.for_person(calibration.high_grip_share, calibration.shirt_over_hips))
        return self._person[1]

    def _hands_trunk(self, t: float, hands: float, model: FusionModel) -> float:
        """The trunk from the hands alone: the median of their angle (``TrunkModel.hands_lever``)
        over ``EstimatorSettings.hands_only_median_s``."""
        self._hands_alone.append((t, float(hands_angle(hands, model.trunk.hands_lever))))
        while self._hands_alone[0][0] < t - self.settings.hands_only_median_s:
            self._hands_alone.popleft()
        return float(np.median([angle for _, angle in self._hands_alone]))

    def _picture_not_a_turn(self, t: float, trunk: float) -> bool:
        """The picture reads a turn, but its halves stretch against the trunk's turn past the
        tolerance: not a pelvis turned with the trunk (the soft body or a shadow changed it)."""
        if self._frame is None or self._pixels is None:
            return False
        return self._pelvis_picture.not_a_turn(t, self._frame, self._pixels, trunk)

    def _read_pelvis_picture(self, t: float, m: BodyMeasures, trunk: float) -> AppearanceReading:
        if self._frame is None or self._pixels is None:
            return AppearanceReading(None, None)
        return self._pelvis_picture.observe(t, self._frame, self._pixels, m.torso_px, trunk)

    def _check_scale(self, t: float, m: BodyMeasures) -> None:
        """Ask for a new calibration when the person has moved to another distance."""
        assert self.calibration is not None
        ratio = m.torso_px / self.calibration.neutral.torso_px
        if abs(ratio - 1.0) > self.settings.rescale_ratio:
            if self._off_scale_since is None:
                self._off_scale_since = t
            elif t - self._off_scale_since > self.settings.rescale_after_s:
                self._off_scale_since = None
                self.request_calibration()
        else:
            self._off_scale_since = None


def _choose_base(image: np.ndarray, min_visibility: float) -> str:
    vis = image[:, 3]
    if min(vis[27], vis[28]) >= min_visibility and max(image[27, 1], image[28, 1]) < 1.0:
        return "ankles"
    if min(vis[25], vis[26]) >= min_visibility and max(image[25, 1], image[26, 1]) < 1.0:
        return "knees"
    return "hips"


def _crossed(m: BodyMeasures, neutral: BodyMeasures) -> bool:
    """The shoulder line has crossed over since neutral (its width changed sign)."""
    return m.shoulder_width * neutral.shoulder_width < 0


def _still(window: list[BodyMeasures], tolerance: float) -> bool:
    """True when the key measures barely vary over the window (standard deviations)."""
    if len(window) < 3:
        return True
    def std(name: str) -> float:
        return float(np.std([getattr(x, name) for x in window]))
    return (std("hands_x") < tolerance and std("shoulder_width") < tolerance and std("nose_x") < tolerance
            and std("world_shoulder_yaw") < 100.0 * tolerance)


def _confidence(m: BodyMeasures, spread: float) -> float:
    """Visibility times the agreement of the trunk cues (1 when they agree, 0.5 when far apart)."""
    visibility = min(m.shoulder_visibility, m.hip_visibility, max(m.hands_visibility, 0.3))
    agreement = math.exp(-spread / 20.0)
    return float(max(0.0, min(1.0, visibility * (0.5 + 0.5 * agreement))))
