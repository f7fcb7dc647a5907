"""RotationSample: the per-frame output of the rotation estimator."""

from __future__ import annotations

from dataclasses import dataclass

# Reasons a frame carries no measurement (``tracked`` is False).
NO_PERSON = "no_person"
HIPS_NOT_VISIBLE = "hips_not_visible"
BACK_TO_CAMERA = "back_to_camera"
PERSON_SWITCHED = "person_switched"
CALIBRATING = "calibrating"
NOT_FACING = "not_facing"


@dataclass(frozen=True)
class RotationSample:
    """Angles in degrees relative to the calibrated neutral stance; positive = to the right.

    ``tracked`` is False (and the angles None) when the frame cannot be measured; ``reason``
    then says why. ``confidence`` in [0, 1] grades a tracked measurement.
    """

    t: float
    tracked: bool
    trunk_deg: float | None = None
    pelvis_deg: float | None = None
    separation_deg: float | None = None
    confidence: float = 0.0
    reason: str | None = None
    calibrated: bool = False

    @staticmethod
    def untracked(t: float, reason: str, calibrated: bool = False) -> RotationSample:
        return RotationSample(t=t, tracked=False, reason=reason, calibrated=calibrated)
