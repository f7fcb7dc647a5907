"""The guided start: framing check, countdown, neutral calibration, then the protocol.

Plain Python (no Qt): the coaching session runs it after every frame, the overlay shows
its :class:`GuideState` (codes: the words are :mod:`posecoach.session.messages`'s). With ``gate=True`` (live cameras) it holds the rotation
estimator back from calibrating until the person is framed and the countdown has run;
with ``gate=False`` (replays of recordings) it only describes what it sees, so a replay
calibrates exactly as ``posecoach analyze`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.rotation import EstimatorSettings, hips_in_view
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import FramingIssue, GuideCueKind, GuideStage, Phase, Posture, Reason
from posecoach.pose import skeleton as sk
from posecoach.pose.types import PoseFrame

# Stages, in the order a session goes through them.
FRAMING, COUNTDOWN, CALIBRATING, COACHING, DONE = GuideStage

# Framing issues, most important first.
NO_PERSON, HEAD, HIPS, KNEES, TOO_FAR, OFF_CENTRE, NOT_FACING, HANDS_UP, ARMS_CROSSED, HANDS_HIGH = FramingIssue

_MIN_VISIBILITY = 0.5
_CENTRE_MARGIN = 0.18     # hip centre must stay this far from the left/right edges
_CROSSED_SHARE = 0.3      # the left wrist this far (of the shoulder width) right of the right one: arms crossed
# both wrists less than this (of the shoulder width) below the shoulders: hands at the chin
_CHEST_DROP = EstimatorSettings.high_grip_drop


@dataclass(frozen=True)
class FramingRule:
    """How big a posture must appear: the nose down to ``span_to`` (knees or hips) must cover
    ``min_span`` of the picture height. Head to knees must be in the picture in every posture
    (seated: the knees, and so the chair seat at the hips, are in view). ``hands_low``: the
    wrists must be below the shoulders (half-kneeling: with a stick across the shoulders the
    raised arms hide the shoulder line from the pose model). ``arms_uncrossed``: the hands
    together in front, not crossed on the chest (seated: crossed arms hide most of the turn).
    ``hands_at_chest``: the gripped hands at chest height, not at the chin (standing: raised
    that high, the arms cover the shoulder joints and every trunk cue reads 10-25 deg low at
    55-65 deg turns; the drill asks for chest height, where the wrists sit about 0.4-0.5
    shoulder widths below the shoulders). Measured on rendered clips, README "Drills" and
    "Known limits"."""

    span_to: str = "knees"
    min_span: float = 0.35
    hands_low: bool = False
    arms_uncrossed: bool = False
    hands_at_chest: bool = False


FRAMING_RULES = {
    # standing: nose to knees ~1.2 m of a 1.75 m person
    Posture.STANDING: FramingRule("knees", 0.35, hands_at_chest=True),
    # half-kneeling: the back knee is on the floor, the nose ~1.25 m above it
    Posture.HALF_KNEELING: FramingRule("knees", 0.35, hands_low=True),
    # seated: the knees are at about hip height; nose to hips ~0.65 m, the same pixels per metre
    Posture.SEATED: FramingRule("hips", 0.19, arms_uncrossed=True),
}


def check_framing(pose: PoseFrame | None, sample: RotationSample | None = None,
                  posture: Posture = Posture.STANDING) -> FramingIssue | None:
    """Return the most important framing issue of one frame, or None when framed well.

    Well framed: one person, head to knees inside the picture, big enough to measure
    (``FRAMING_RULES`` of the posture), roughly centred and facing the camera.
    """
    rule = FRAMING_RULES[Posture(posture)]
    if pose is None:
        return NO_PERSON
    img = pose.image

    def seen(index: int, margin: float = 0.0) -> bool:
        x, y, vis = img[index, 0], img[index, 1], img[index, 3]
        return bool(vis >= _MIN_VISIBILITY and margin <= x <= 1.0 - margin and margin <= y <= 1.0 - margin)

    if not seen(sk.NOSE, 0.01):
        return HEAD
    if not hips_in_view(img, _MIN_VISIBILITY):
        return HIPS
    if not (seen(sk.LEFT_KNEE, 0.01) and seen(sk.RIGHT_KNEE, 0.01)):
        return KNEES
    low = (sk.LEFT_KNEE, sk.RIGHT_KNEE) if rule.span_to == "knees" else (sk.LEFT_HIP, sk.RIGHT_HIP)
    low_y = max(img[low[0], 1], img[low[1], 1])
    if low_y - img[sk.NOSE, 1] < rule.min_span:
        return TOO_FAR

    def wrists_above(below_shoulders: float) -> bool:
        """Both wrists seen, and higher than ``below_shoulders`` (picture heights) under their shoulders."""
        return all(seen(w) and img[w, 1] < img[s, 1] + below_shoulders
                   for w, s in ((sk.LEFT_WRIST, sk.LEFT_SHOULDER), (sk.RIGHT_WRIST, sk.RIGHT_SHOULDER)))

    if rule.hands_low and wrists_above(0.0):
        return HANDS_UP
    shoulder_width = abs(img[sk.LEFT_SHOULDER, 0] - img[sk.RIGHT_SHOULDER, 0])
    if rule.hands_at_chest and wrists_above(_CHEST_DROP * shoulder_width * pose.width / max(pose.height, 1)):
        return HANDS_HIGH
    if (rule.arms_uncrossed and seen(sk.LEFT_WRIST) and seen(sk.RIGHT_WRIST)
            and img[sk.LEFT_WRIST, 0] < img[sk.RIGHT_WRIST, 0] - _CROSSED_SHARE * shoulder_width):
        return ARMS_CROSSED
    centre_x = float(np.mean(img[[sk.LEFT_HIP, sk.RIGHT_HIP], 0]))
    if not _CENTRE_MARGIN <= centre_x <= 1.0 - _CENTRE_MARGIN:
        return OFF_CENTRE
    if sample is not None and sample.reason in (Reason.NOT_FACING, Reason.BACK_TO_CAMERA):
        return NOT_FACING
    return None


@dataclass(frozen=True)
class GuideState:
    """What the guide says after one frame.

    ``issue`` is what is wrong with the picture while framing; ``untracked`` why a frame
    is not measured once coaching (unless the coach's paused hold says it already).
    ``countdown`` is the whole seconds left before calibration starts;
    ``calibration_progress`` in [0, 1] while calibrating (an estimate: the estimator
    decides when it is still enough). ``messages.guide_text`` words it; those words
    replace the coach's instruction.
    """

    stage: GuideStage
    issue: FramingIssue | None = None
    untracked: Reason | None = None
    countdown: int | None = None
    calibration_progress: float | None = None
    posture: Posture = Posture.STANDING   # the framing words follow it

    @property
    def blocks_calibration(self) -> bool:
        return self.stage in (FRAMING, COUNTDOWN)


@dataclass(frozen=True)
class GuideCue:
    """Something the guide wants said or beeped (a stage change or a countdown second)."""

    kind: GuideCueKind
    issue: FramingIssue | None = None   # framing: what to fix
    value: int | None = None            # countdown: the seconds left
    posture: Posture = Posture.STANDING


class Guide:
    """Follow the start of a session; one instance per session, ``reset()`` to start over.

    Parameters
    ----------
    gate : hold calibration back until framed and counted down (live cameras).
    countdown_s : seconds of good framing before calibrating.
    calibration_s : the estimator's stillness time, for the progress estimate.
    posture : the protocol's posture; the framing check follows it.
    """

    def __init__(self, gate: bool = True, countdown_s: float = 3.0, calibration_s: float = 1.5,
                 posture: Posture = Posture.STANDING) -> None:
        self.gate = gate
        self.posture = Posture(posture)
        self.countdown_s = countdown_s
        self.calibration_s = calibration_s
        self.reset()

    def reset(self) -> None:
        self._framed_since: float | None = None
        self._calibrating_since: float | None = None
        self._last_count: int | None = None
        self._last_stage: str | None = None
        self._last_issue: str | None = None
        self.cues: list[GuideCue] = []

    def update(self, t: float, pose: PoseFrame | None, sample: RotationSample, state: CoachState) -> GuideState:
        """Advance with one frame; new cues are appended to ``self.cues``."""
        if state.phase == Phase.DONE:
            guide = GuideState(DONE)
        elif state.phase != Phase.CALIBRATING:
            untracked = None if sample.tracked else (sample.reason or Reason.TRACKING)
            if state.phase == Phase.HOLDING and state.paused_reason:
                untracked = None  # the coach's own "hold paused" instruction says it better
            guide = GuideState(COACHING, untracked=untracked)
        else:
            guide = self._starting(t, pose, sample)
        self._cue(guide)
        return guide

    def _starting(self, t: float, pose: PoseFrame | None, sample: RotationSample) -> GuideState:
        issue = check_framing(pose, sample, self.posture)
        if issue is not None:
            self._framed_since = None
            self._calibrating_since = None
            return GuideState(FRAMING, issue=issue, posture=self.posture)
        if self._framed_since is None:
            self._framed_since = t
        remaining = self.countdown_s - (t - self._framed_since) if self.gate else 0.0
        if remaining > 0:
            return GuideState(COUNTDOWN, countdown=int(np.ceil(remaining - 1e-9)))
        if self._calibrating_since is None:
            self._calibrating_since = t
        progress = min(0.95, (t - self._calibrating_since) / max(self.calibration_s, 1e-6))
        return GuideState(CALIBRATING, calibration_progress=progress)

    def _cue(self, guide: GuideState) -> None:
        if guide.stage == FRAMING and (guide.issue != self._last_issue or self._last_stage != FRAMING):
            self.cues.append(GuideCue(GuideCueKind.FRAMING, issue=guide.issue, posture=self.posture))
        if guide.stage == COUNTDOWN and guide.countdown != self._last_count:
            self.cues.append(GuideCue(GuideCueKind.COUNTDOWN, value=guide.countdown))
        if guide.stage == CALIBRATING and self._last_stage != CALIBRATING:
            self.cues.append(GuideCue(GuideCueKind.CALIBRATING))
        self._last_stage = guide.stage
        self._last_issue = guide.issue
        self._last_count = guide.countdown
