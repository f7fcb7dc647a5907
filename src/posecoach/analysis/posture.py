"""What a posture changes in the rotation estimator: its fitted model and its pelvis picture.

The standing drill's cues assume hands gripped in front of the chest and a pelvis seen
between planted feet. The other drills break some of that (see README "Drills"):

- **seated**, hands together in front: the upper body is the standing drill's, so the trunk
  is the standing model times one fitted gain (MediaPipe compresses a seated turn more).
  The pelvis picture is the lap, with its own fitted mapping. Arms crossed on the chest hide
  most of the turn: the framing guide asks for the hands in front instead.
- **half-kneeling**, a stick held in front: its grip's lever differs from the standing grip,
  so the hands are no trunk cue. The pelvis picture is the thigh of the front leg, which is
  fixed to the pelvis; the gap between the thighs shows the room behind and flickers. A
  stick across the shoulders hides the shoulder line: the guide asks for it in front.

Pure: numpy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from posecoach.analysis.fusion_model import MODELS_BY_POSTURE, FusionModel
from posecoach.analysis.pelvis_appearance import PatchRegion
from posecoach.analysis.rotation import EstimatorSettings
from posecoach.analysis.vocabulary import Posture


@dataclass(frozen=True)
class PostureSetup:
    """The estimator's fitted model and settings for one posture."""

    posture: Posture
    model: FusionModel
    settings: EstimatorSettings


def posture_setup(posture: Posture | str = Posture.STANDING) -> PostureSetup:
    """The model and settings the estimator uses for ``posture``."""
    posture = Posture(posture)
    settings = EstimatorSettings()
    # The standing drill's search follows MediaPipe's drifting lower-body points
    # (AppearanceSettings.drift_margin); the other drills' pelvis mappings were fitted on the
    # tighter search, and the front thigh's sideways swing is the signal itself.
    # The halves' stretch (AppearanceSettings.check_stretch) was measured on the crotch seen
    # standing, as was the shading-free picture's ratio (AppearanceSettings.shading_ratio); the
    # lap and the front thigh keep the pictures their mappings were fitted on.
    if posture == Posture.HALF_KNEELING:
        thigh = replace(settings.appearance, region=PatchRegion.FRONT_THIGH, drift_margin=0.0, check_stretch=False,
                        shading_ratio=0.0)
        settings = replace(settings, appearance=thigh)
    elif posture == Posture.SEATED:
        settings = replace(settings, appearance=replace(settings.appearance, drift_margin=0.0, check_stretch=False,
                                                        shading_ratio=0.0))
    return PostureSetup(posture, MODELS_BY_POSTURE[posture], settings)
