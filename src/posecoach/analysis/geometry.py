"""Per-frame body measurements from landmarks, made distance-independent.

Every length is divided by the torso height (shoulder midpoint to hip midpoint in the
image), which a rotation about the vertical axis does not change; so the measurements
compare across distances and cameras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOSE, L_EAR, R_EAR = 0, 7, 8
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
_MAX_COORD = 100.0  # largest plausible |coordinate|: image units (x, y, z) or metres (world)


@dataclass(frozen=True)
class BodyMeasures:
    """Raw measurements of one frame (image lengths in torso heights, angles in degrees).

    Image x grows to the image right, i.e. toward the person's left for an unmirrored
    camera facing them.
    """

    torso_px: float            # torso height in pixels (distance scale)
    centre_x: float            # hip midpoint, normalised image x
    shoulder_width: float      # left minus right shoulder x
    hip_width: float
    knee_width: float
    hands_x: float             # wrist midpoint relative to the base (ankles, knees or hips)
    hands_drop: float          # wrist midpoint below the shoulder midpoint (image y)
    nose_x: float              # nose relative to the shoulder midpoint
    nose_y: float              # nose, normalised image y (0 at the picture's top edge, 1 at its bottom)
    nose_ears_x: float         # nose relative to the ears' midpoint (the head's own turn)
    ear_width: float           # left minus right ear x
    hips_x: float              # hip midpoint relative to the base
    shoulder_depth: float      # left minus right shoulder image z, in torso heights
    hip_depth: float
    world_shoulder_yaw: float  # yaw of the shoulder line in world landmarks
    world_hip_yaw: float
    shoulder_visibility: float
    hip_visibility: float
    hands_visibility: float


def _yaw_deg(left: np.ndarray, right: np.ndarray) -> float:
    """Yaw of the line right->left about the vertical; positive when the left end is nearer."""
    dx = left[0] - right[0]
    dz = left[2] - right[2]
    return math.degrees(math.atan2(-dz, dx))


def _seen(visibility: float) -> float:
    """A landmark's visibility clipped to 0..1; NaN (not reported) counts as not seen."""
    return 0.0 if math.isnan(visibility) else min(1.0, max(0.0, visibility))


def measure(image: np.ndarray, world: np.ndarray, width: int, height: int, base: str = "ankles") -> BodyMeasures | None:
    """Measurements of one frame; None when the torso is degenerate (no usable scale).

    ``image`` is (33, >=4): x, y normalised, z, visibility; ``world`` is (33, 3).
    ``base`` chooses the fixed reference for hand travel: ankles, knees or hips.
    """
    image = np.asarray(image, dtype=float)
    world = np.asarray(world, dtype=float)
    if (image.ndim != 2 or image.shape[0] < 29 or image.shape[1] < 4 or world.ndim != 2
            or world.shape[0] < 29 or world.shape[1] < 3 or not width >= 1 or not height >= 1):
        return None
    body, world_body = image[:29, :3], world[:29, :3]
    # Non-finite or absurd coordinates (beyond 100 image sizes, or 100 m) are not a body;
    # bounding them also keeps every derived ratio (and its cube, in the cues) finite.
    # (NaN fails the comparison, so one bound check also rejects it.)
    if not ((np.abs(body) <= _MAX_COORD).all() and (np.abs(world_body) <= _MAX_COORD).all()):
        return None
    px = image[:, 0] * width
    py = image[:, 1] * height
    shoulder_mid = np.array([(px[L_SHOULDER] + px[R_SHOULDER]) / 2, (py[L_SHOULDER] + py[R_SHOULDER]) / 2])
    hip_mid = np.array([(px[L_HIP] + px[R_HIP]) / 2, (py[L_HIP] + py[R_HIP]) / 2])
    torso = float(np.hypot(*(shoulder_mid - hip_mid)))
    if not torso > 1e-3 * max(width, height):
        return None
    if base == "ankles":
        base_x = (px[L_ANKLE] + px[R_ANKLE]) / 2
    elif base == "knees":
        base_x = (px[L_KNEE] + px[R_KNEE]) / 2
    else:
        base_x = hip_mid[0]
    vis = image[:, 3].tolist()
    return BodyMeasures(
        torso_px=torso,
        centre_x=float(hip_mid[0] / width),
        shoulder_width=float((px[L_SHOULDER] - px[R_SHOULDER]) / torso),
        hip_width=float((px[L_HIP] - px[R_HIP]) / torso),
        knee_width=float((px[L_KNEE] - px[R_KNEE]) / torso),
        hands_x=float(((px[L_WRIST] + px[R_WRIST]) / 2 - base_x) / torso),
        hands_drop=float(((py[L_WRIST] + py[R_WRIST]) / 2 - shoulder_mid[1]) / torso),
        nose_x=float((px[NOSE] - shoulder_mid[0]) / torso),
        nose_y=float(image[NOSE, 1]),
        nose_ears_x=float((px[NOSE] - (px[L_EAR] + px[R_EAR]) / 2) / torso),
        ear_width=float((px[L_EAR] - px[R_EAR]) / torso),
        hips_x=float((hip_mid[0] - base_x) / torso),
        shoulder_depth=float((image[L_SHOULDER, 2] - image[R_SHOULDER, 2]) * width / torso),
        hip_depth=float((image[L_HIP, 2] - image[R_HIP, 2]) * width / torso),
        world_shoulder_yaw=_yaw_deg(world[L_SHOULDER], world[R_SHOULDER]),
        world_hip_yaw=_yaw_deg(world[L_HIP], world[R_HIP]),
        shoulder_visibility=min(_seen(vis[L_SHOULDER]), _seen(vis[R_SHOULDER])),
        hip_visibility=min(_seen(vis[L_HIP]), _seen(vis[R_HIP])),
        hands_visibility=min(_seen(vis[L_WRIST]), _seen(vis[R_WRIST])),
    )


def median_measures(samples: list[BodyMeasures]) -> BodyMeasures:
    """Field-wise median of several frames' measurements."""
    names = BodyMeasures.__dataclass_fields__.keys()
    return BodyMeasures(**{name: float(np.median([getattr(s, name) for s in samples])) for name in names})
