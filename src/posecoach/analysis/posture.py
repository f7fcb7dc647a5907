"""What a posture changes in the rotation estimator: its fitted model and its pelvis picture.

The standing drill's cues assume hands gripped in front of the chest and a pelvis seen
between planted feet. The other drills break some of that (see README "Drills"):

- **seated**: the arms are crossed on the chest, so the hands sit on the rotation axis and
  barely travel: the hands are no trunk cue. The chair holds the pelvis; the pelvis picture
  (the lap between the hips and the knees) still shows a pelvis that turns on the seat.
- **half-kneeling**: the grip is a stick, held in front or across the shoulders, whose
  lever differs from the standing grip (and is none across the shoulders): the hands are no
  trunk cue. The pelvis picture is the thigh of the front leg, which is fixed to the pelvis;
  the gap between the thighs shows the room behind and flickers as the arms move.

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
    if posture == Posture.HALF_KNEELING:
        settings = replace(settings, appearance=replace(settings.appearance, region=PatchRegion.FRONT_THIGH))
    return PostureSetup(posture, MODELS_BY_POSTURE[posture], settings)
