"""A simulated camera and pose detector, for tests and demos of the window without MediaPipe.

Like pymmcore-widgets' demo camera: the real window, worker and coach run on frames and
landmarks made up here, so their behaviour can be tested quickly and deterministically.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np

from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.errors import SourceError
from posecoach.pose import skeleton as sk
from posecoach.pose.types import PoseFrame

# A standing person facing the camera: (x to the image right, y down, z away), metres from the hip centre.
_BODY = {
    sk.NOSE: (0.0, -0.62, -0.10), sk.LEFT_EYE: (0.03, -0.65, -0.08), sk.RIGHT_EYE: (-0.03, -0.65, -0.08),
    sk.LEFT_EAR: (0.07, -0.63, 0.0), sk.RIGHT_EAR: (-0.07, -0.63, 0.0),
    sk.LEFT_SHOULDER: (0.18, -0.45, 0.0), sk.RIGHT_SHOULDER: (-0.18, -0.45, 0.0),
    sk.LEFT_ELBOW: (0.22, -0.22, -0.12), sk.RIGHT_ELBOW: (-0.22, -0.22, -0.12),
    sk.LEFT_WRIST: (0.04, -0.30, -0.30), sk.RIGHT_WRIST: (-0.04, -0.30, -0.30),
    sk.LEFT_HIP: (0.10, 0.0, 0.0), sk.RIGHT_HIP: (-0.10, 0.0, 0.0),
    sk.LEFT_KNEE: (0.11, 0.45, -0.02), sk.RIGHT_KNEE: (-0.11, 0.45, -0.02),
    sk.LEFT_ANKLE: (0.11, 0.88, 0.03), sk.RIGHT_ANKLE: (-0.11, 0.88, 0.03),
}
_UPPER = {sk.NOSE, sk.LEFT_EYE, sk.RIGHT_EYE, sk.LEFT_EAR, sk.RIGHT_EAR, sk.LEFT_SHOULDER, sk.RIGHT_SHOULDER,
          sk.LEFT_ELBOW, sk.RIGHT_ELBOW, sk.LEFT_WRIST, sk.RIGHT_WRIST}
_PELVIS = {sk.LEFT_HIP, sk.RIGHT_HIP}


def standing_pose(width: int = 640, height: int = 480, t: float = 0.0, trunk_deg: float = 0.0,
                  pelvis_deg: float = 0.0, scale: float = 0.42, centre: tuple[float, float] = (0.5, 0.5),
                  visibility: float = 0.98) -> PoseFrame:
    """Landmarks of a standing person facing the camera, trunk and pelvis turned (degrees).

    Positive angles turn toward the person's right (their left shoulder comes nearer the
    camera). ``scale`` is the height of one metre as a fraction of the picture height.
    """
    world = np.zeros((33, 3))
    for index, (x, y, z) in _BODY.items():
        angle = math.radians(trunk_deg if index in _UPPER else pelvis_deg if index in _PELVIS else 0.0)
        # person's right = image left; turning right brings the left side (x > 0) nearer (z < 0)
        world[index] = (x * math.cos(angle) + z * math.sin(angle), y, -x * math.sin(angle) + z * math.cos(angle))
    image = np.zeros((33, 5))
    image[:, 0] = centre[0] + world[:, 0] * scale * height / width
    image[:, 1] = centre[1] + world[:, 1] * scale
    image[:, 2] = world[:, 2] * scale
    image[:, 3:] = visibility
    return PoseFrame(t=t, image=image, world=world, width=width, height=height)


class SyntheticSource:
    """A FrameSource of plain frames: ``frames`` frames at ``fps`` (or endless when None).

    ``live`` makes it pose as a camera (timestamps from a clock, no frame count);
    ``fail`` raises SourceError on opening, like an absent camera.
    """

    def __init__(self, frames: int | None = 90, fps: float = 30.0, size: tuple[int, int] = (160, 120),
                 live: bool = False, fail: str | None = None, realtime: bool = False) -> None:
        if fail:
            raise SourceError(fail)
        self.count = frames
        self.realtime = realtime or live
        width, height = size
        self.info = SourceInfo(path="camera:99" if live else "synthetic.mp4", fps=fps,
                               frames=None if live else frames, width=width, height=height, live=live)
        self.closed = False
        self.yielded = 0
        self._base = np.full((height, width, 3), 96, np.uint8)

    def frames(self) -> Iterator[Frame]:
        index = 0
        started = time.monotonic()
        fps = self.info.fps
        while not self.closed and (self.count is None or index < self.count):
            if self.info.live:  # a camera keeps running: after a slow consumer comes the newest frame
                index = max(index, int((time.monotonic() - started) * fps))
            t = index / fps  # a perfect clock: real cameras jitter by a few milliseconds
            if self.realtime:
                delay = started + t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            image = self._base.copy()
            image[:4, : (index % image.shape[1]) + 1] = 255  # a visible frame counter
            self.yielded += 1
            yield Frame(image=image, t=t, index=index)
            index += 1

    def close(self) -> None:
        self.closed = True


class ScriptedDetector:
    """A PoseDetector whose people follow ``script(t) -> list[PoseFrame]`` (default: one standing person)."""

    def __init__(self, script: Callable[[float], list[PoseFrame]] | None = None, delay_s: float = 0.0) -> None:
        self.script = script
        self.delay_s = delay_s
        self.calls = 0
        self.closed = False

    def detect(self, image: np.ndarray, t: float) -> list[PoseFrame]:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        height, width = image.shape[:2]
        if self.script is not None:
            return self.script(t)
        return [standing_pose(width, height, t)]

    def close(self) -> None:
        self.closed = True


def drill_trunk_deg(t: float, reps: tuple[tuple[str, float, float], ...] = (("right", 40.0, 8.0), ("left", 40.0, 8.0)),
                    neutral_s: float = 2.5, turn_s: float = 1.5, pause_s: float = 1.5) -> float:
    """Trunk angle at ``t`` of a scripted drill: neutral, then each rep (side, degrees, hold seconds)."""
    u = t - neutral_s
    for side, amplitude, hold_s in reps:
        angle = amplitude if side == "right" else -amplitude
        if u < 0:
            return 0.0
        if u < turn_s:
            return angle * u / turn_s
        if u < turn_s + hold_s:
            return angle
        if u < 2 * turn_s + hold_s:
            return angle * (1.0 - (u - turn_s - hold_s) / turn_s)
        u -= 2 * turn_s + hold_s + pause_s
    return 0.0


def drill_duration_s(reps: tuple[tuple[str, float, float], ...], neutral_s: float = 2.5, turn_s: float = 1.5,
                     pause_s: float = 1.5) -> float:
    """Length of the scripted drill of :func:`drill_trunk_deg`."""
    return neutral_s + sum(2 * turn_s + hold + pause_s for _, _, hold in reps)


def drill_detector(width: int, height: int, reps: tuple[tuple[str, float, float], ...] = (
        ("right", 40.0, 8.0), ("left", 40.0, 8.0)), pelvis_deg: float = 0.0, delay_s: float = 0.0) -> ScriptedDetector:
    """A detector showing one person doing the scripted drill (pelvis turned by ``pelvis_deg`` in reps)."""

    def script(t: float) -> list[PoseFrame]:
        trunk = drill_trunk_deg(t, reps)
        pelvis = pelvis_deg * trunk / max(abs(a) for _, a, _ in reps) if pelvis_deg else 0.0
        return [standing_pose(width, height, t, trunk, pelvis)]

    return ScriptedDetector(script, delay_s=delay_s)
