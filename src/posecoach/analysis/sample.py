"""RotationSample: the per-frame output of the rotation estimator."""

from __future__ import annotations

from dataclasses import dataclass

from posecoach.analysis.vocabulary import Reason

# Reasons a frame carries no measurement (``tracked`` is False): the names the estimator uses.
NO_PERSON = Reason.NO_PERSON
HIPS_NOT_VISIBLE = Reason.HIPS_NOT_VISIBLE
BACK_TO_CAMERA = Reason.BACK_TO_CAMERA
PERSON_SWITCHED = Reason.PERSON_SWITCHED
CALIBRATING = Reason.CALIBRATING
NOT_FACING = Reason.NOT_FACING


@dataclass(frozen=True)
class RotationSample:
    """Angles in degrees relative to the calibrated neutral stance; positive = to the right.

    ``tracked`` is False (and the angles None) when the frame cannot be measured; ``reason``
    then says why. ``confidence`` in [0, 1] grades a tracked measurement, and
    ``separation_err_deg`` bounds its separation's error (about 90% of the time, on clips the
    model was not fitted on). ``pelvis_cue`` says why the pelvis picture was not read
    (hands over it, the light jumping...): the pelvis is then the drill's prior.
    ``pelvis_transient_s`` says how long the pelvis must read past a limit to count.
    """

    t: float
    tracked: bool
    trunk_deg: float | None = None
    pelvis_deg: float | None = None
    separation_deg: float | None = None
    confidence: float = 0.0
    reason: Reason | None = None
    calibrated: bool = False
    separation_err_deg: float | None = None   # half-width of the ~90% interval of the separation
    pelvis_cue: str | None = None             # why the pelvis picture was not read (None: it was)
    # How long a pelvis reading past the drill's limit must last to be a turn rather than
    # one of the pelvis picture's own transients (the person's PelvisModel.transient_s);
    # None: nothing says, and the coach's own minimum applies.
    pelvis_transient_s: float | None = None

    @staticmethod
    def untracked(t: float, reason: Reason, calibrated: bool = False) -> RotationSample:
        return RotationSample(t=t, tracked=False, reason=reason, calibrated=calibrated)
