"""RotationEstimator: landmarks -> trunk, pelvis and separation yaw, per frame.

Steps per frame: check that the frame can be measured (a person, hips really in view,
facing the camera, the same person as before); measure the body (geometry.py); calibrate
the neutral stance from the first stillness; compute the cues against neutral (cues.py);
fuse them; filter over time (One Euro); grade a confidence.

Fusion weights were fitted by least squares on rendered clips with exact ground truth and
checked leave-one-clip-out (see README "How the angle is measured"); they are constants,
not per-clip tuning.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from posecoach.analysis import sample as reasons
from posecoach.analysis.cues import Cues, compute_cues
from posecoach.analysis.geometry import L_HIP, R_HIP, BodyMeasures, measure, median_measures
from posecoach.analysis.pelvis_appearance import PelvisTemplate, make_template, pelvis_change
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.smoothing import OneEuroFilter

# Trunk = TRUNK_WEIGHTS . (foreshortening, world, hands, hands^3, nose)
TRUNK_WEIGHTS = np.array([0.2336, 0.6615, -52.50, 4.870, 84.34])
# Pelvis = PELVIS_WEIGHTS . (hip narrowing, world*|world|/100): hip narrowing beyond the trunk twist's.
PELVIS_WEIGHTS = np.array([152.1, -0.1928])
# Pelvis from its changed appearance: |pelvis| = GAIN * max(0, change - FLOOR) ** EXPONENT,
# blended with the landmark estimate by APPEARANCE_SHARE (pelvis_appearance.py). The cube root
# (rather than the square root of small-deformation theory) tempers views where the picture
# changes faster per degree, such as a camera off to one side.
APPEARANCE_GAIN = 71.1
APPEARANCE_FLOOR = 0.01
APPEARANCE_EXPONENT = 1.0 / 3.0
APPEARANCE_SHARE = 0.8
# Even a "fixed" pelvis follows the trunk a little (the lumbar spine's share of the twist):
# this fraction of the trunk angle is the pelvis's prior, the cues add what goes beyond it.
PELVIS_FOLLOWS_TRUNK = 0.03
APPEARANCE_WINDOW_S = 0.2  # the cue is the minimum over this window: brief picture glitches
                           # (a shake, motion blur) vanish, a turned pelvis stays


@dataclass(frozen=True)
class EstimatorSettings:
    calibration_s: float = 1.5          # stillness needed to calibrate
    still_tolerance: float = 0.025      # max std (torso heights; x100 degrees) of key measures while still
    min_visibility: float = 0.5
    filter_min_cutoff_hz: float = 1.2
    filter_beta: float = 0.04
    rescale_ratio: float = 0.2          # a torso scale change beyond this asks for recalibration
    switch_scale_jump: float = 0.35     # torso scale jump in one frame = another person
    switch_move: float = 0.15           # hip centre jump (image widths) in one frame = another person


@dataclass(frozen=True)
class Calibration:
    """The neutral stance measured at calibration."""

    t: float
    neutral: BodyMeasures
    base: str
    pelvis_template: PelvisTemplate | None = None

    def to_dict(self) -> dict:
        return {"t": round(self.t, 3), "base": self.base, "torso_px": round(self.neutral.torso_px, 1),
                "shoulder_width": round(self.neutral.shoulder_width, 4),
                "hip_width": round(self.neutral.hip_width, 4),
                "neutral_yaw_deg": round(self.neutral.world_shoulder_yaw, 2),
                "pelvis_appearance": self.pelvis_template is not None}


def fuse_trunk(cues: Cues) -> float:
    return float(TRUNK_WEIGHTS @ cues.trunk_features())


def fuse_pelvis(cues: Cues) -> float:
    return float(PELVIS_WEIGHTS @ np.array([cues.hip_narrowing, cues.world * abs(cues.world) / 100.0]))


def hips_in_view(image: np.ndarray, min_visibility: float) -> bool:
    """False when MediaPipe invents the hips: low presence or visibility, or off the frame."""
    hips = image[[L_HIP, R_HIP]]
    inside = np.all((hips[:, 0] > 0.0) & (hips[:, 0] < 1.0) & (hips[:, 1] < 0.98))
    seen = np.all(hips[:, 3] >= min_visibility) and (hips.shape[1] < 5 or np.all(hips[:, 4] >= min_visibility))
    return bool(inside and seen)


class RotationEstimator:
    """Stateful per-stream estimator; feed frames in time order, ``reset()`` to start over."""

    def __init__(self, settings: EstimatorSettings | None = None) -> None:
        self.settings = settings or EstimatorSettings()
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
        self._appearance: deque[tuple[float, float]] = deque()
        self._t = 0.0

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

    def update(self, t: float, image: np.ndarray | None, world: np.ndarray | None,
               width: int, height: int, frame: np.ndarray | None = None) -> RotationSample:
        """One frame's landmarks (or None when nobody was detected) -> RotationSample.

        ``frame`` (the RGB picture, optional) enables the pelvis appearance cue.
        """
        self._frame = frame
        self._t = t
        self._pixels = None if image is None else image[:, :2] * np.array([width, height], dtype=float)
        calibrated = self.calibrated
        if image is None or world is None:
            self._lose()
            return RotationSample.untracked(t, reasons.NO_PERSON, calibrated)
        s = self.settings
        if not hips_in_view(image, s.min_visibility):
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
        if m.shoulder_width * neutral.shoulder_width < 0 and abs(m.shoulder_width) > 0.3 * abs(neutral.shoulder_width):
            self._lose()
            return RotationSample.untracked(t, reasons.BACK_TO_CAMERA, True)
        self._check_scale(t, m)
        if self.calibration is None:  # the person moved to another distance: calibrate again
            return self._calibrate(t, m)
        return self._measured(t, m)

    # ------------------------------------------------------------------ internals
    def _lose(self) -> None:
        self._last = None
        self._trunk_filter.reset()
        self._pelvis_filter.reset()
        self._still.clear()
        self._appearance.clear()

    def _switched(self, m: BodyMeasures) -> bool:
        """A jump in body scale or position between consecutive frames: another person."""
        last = self._last
        if last is None:
            return False
        scale_jump = abs(m.torso_px - last.torso_px) / last.torso_px
        return scale_jump > self.settings.switch_scale_jump or abs(m.centre_x - last.centre_x) > self.settings.switch_move

    def _calibrate(self, t: float, m: BodyMeasures) -> RotationSample:
        s = self.settings
        # Facing the camera: left shoulder on the image right, head between the shoulders,
        # shoulder line not turned away (a still rotated hold must not become "neutral").
        facing = (m.shoulder_width > 0.25 and m.hip_width > 0.1 and abs(m.nose_x) < 0.15
                  and abs(m.world_shoulder_yaw) < 25.0)
        if not facing:
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
            template = None
            if self._frame is not None and self._pixels is not None:
                template = make_template(self._frame, self._pixels, m.torso_px)
            self.calibration = Calibration(t=t, neutral=median_measures(window), base=self._base,
                                           pelvis_template=template)
            self._still.clear()
            return self._measured(t, m)
        return RotationSample.untracked(t, reasons.CALIBRATING, False)

    def _measured(self, t: float, m: BodyMeasures) -> RotationSample:
        assert self.calibration is not None
        cues = compute_cues(m, self.calibration.neutral)
        trunk = self._trunk_filter(fuse_trunk(cues), t)
        pelvis = self._pelvis_filter(self._fused_pelvis(cues, trunk), t)
        return RotationSample(t=t, tracked=True, trunk_deg=trunk, pelvis_deg=pelvis,
                              separation_deg=trunk - pelvis, confidence=_confidence(m, cues, trunk),
                              calibrated=True)

    def _fused_pelvis(self, cues: Cues, trunk: float) -> float:
        # In this drill the pelvis turns with the trunk or not at all: the landmark cues' small
        # swings against the trunk's direction are noise (they made the pelvis's sign flicker).
        landmark_estimate = _not_against(fuse_pelvis(cues), trunk) + PELVIS_FOLLOWS_TRUNK * trunk
        template = self.calibration.pelvis_template if self.calibration else None
        if template is None or self._frame is None or self._pixels is None:
            return landmark_estimate
        change = pelvis_change(template, self._frame, self._pixels)
        if change is None:
            self._appearance.clear()
            return landmark_estimate
        t = self._t
        self._appearance.append((t, change))
        while self._appearance and self._appearance[0][0] < t - APPEARANCE_WINDOW_S:
            self._appearance.popleft()
        change = min(value for _, value in self._appearance)
        magnitude = APPEARANCE_GAIN * max(0.0, change - APPEARANCE_FLOOR) ** APPEARANCE_EXPONENT
        appearance = math.copysign(magnitude, trunk) if trunk else 0.0
        return APPEARANCE_SHARE * (appearance + PELVIS_FOLLOWS_TRUNK * trunk) + (1.0 - APPEARANCE_SHARE) * landmark_estimate

    def _check_scale(self, t: float, m: BodyMeasures) -> None:
        """Ask for a new calibration when the person has moved to another distance."""
        assert self.calibration is not None
        ratio = m.torso_px / self.calibration.neutral.torso_px
        if abs(ratio - 1.0) > self.settings.rescale_ratio:
            if self._off_scale_since is None:
                self._off_scale_since = t
            elif t - self._off_scale_since > 1.0:
                self._off_scale_since = None
                self.request_calibration()
        else:
            self._off_scale_since = None


def _not_against(value: float, direction: float) -> float:
    """``value``, or 0 where its sign is opposite to ``direction``'s."""
    return value if value * direction >= 0.0 else 0.0


def _choose_base(image: np.ndarray, min_visibility: float) -> str:
    vis = image[:, 3]
    if min(vis[27], vis[28]) >= min_visibility and max(image[27, 1], image[28, 1]) < 1.0:
        return "ankles"
    if min(vis[25], vis[26]) >= min_visibility and max(image[25, 1], image[26, 1]) < 1.0:
        return "knees"
    return "hips"


def _still(window: list[BodyMeasures], tolerance: float) -> bool:
    """True when the key measures barely vary over the window (standard deviations)."""
    if len(window) < 3:
        return True
    def std(name: str) -> float:
        return float(np.std([getattr(x, name) for x in window]))
    return (std("hands_x") < tolerance and std("shoulder_width") < tolerance and std("nose_x") < tolerance
            and std("world_shoulder_yaw") < 100.0 * tolerance)


def _confidence(m: BodyMeasures, cues: Cues, trunk: float) -> float:
    """Visibility times the agreement of the main trunk cues."""
    visibility = min(m.shoulder_visibility, m.hip_visibility, max(m.hands_visibility, 0.3))
    world_alone = 1.17 * cues.world
    disagreement = abs(world_alone - trunk)
    agreement = math.exp(-disagreement / 20.0)
    return float(max(0.0, min(1.0, visibility * (0.5 + 0.5 * agreement))))
