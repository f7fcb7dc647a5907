"""The pipeline's pieces: what one frame gives (PipelineStep), whom to follow, time order.

:class:`~posecoach.session.coaching.CoachingSession` puts them together: frames -> pose
-> rotation -> coach, one step per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.events import CoachEvent
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import Reason
from posecoach.capture.frame_source import Frame
from posecoach.pose.types import PoseFrame
from posecoach.session.control import ControlState
from posecoach.session.guide import GuideState


class PoseDetector(Protocol):
    def detect(self, image: np.ndarray, t: float) -> list[PoseFrame]: ...


@dataclass(frozen=True)
class PipelineStep:
    """Everything known after one frame."""

    frame: Frame
    pose: PoseFrame | None
    sample: RotationSample
    state: CoachState
    events: list[CoachEvent]          # events raised by this frame
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    people: int = 1                   # people detected in the frame (the one followed is ``pose``)
    guide: GuideState | None = None   # what the guided start says after this frame
    control: ControlState | None = None  # coaching paused, a hands-free gesture being made


# Why a frame is not measured, beyond the estimator's reasons.
PERSON_UNSURE = Reason.PERSON_UNSURE

_UNSURE_MARGIN = 0.05  # another person within this much of the followed one's last place: unsure
_SAME_PERSON = 0.03    # two detections this close are one person seen twice, not two people
_TIME_STEP_S = 1e-3    # a frame not later than the previous one is placed this much after it


class PersonSelector:
    """Pick the person to follow among MediaPipe's detections: the one nearest the last.

    After each ``select()``, ``people`` holds how many were detected and ``unsure`` is True
    when another person stands about as close to the followed one's last place (two people
    crossing or overlapping): the caller should then not measure that frame.
    """

    def __init__(self) -> None:
        self._last: np.ndarray | None = None  # hip centre and torso size, normalised
        self.people = 0
        self.unsure = False

    def reset(self) -> None:
        self._last = None
        self.people = 0
        self.unsure = False

    @staticmethod
    def _signature(pose: PoseFrame) -> np.ndarray:
        img = pose.image
        hips = (img[23, :2] + img[24, :2]) / 2
        shoulders = (img[11, :2] + img[12, :2]) / 2
        return np.array([hips[0], hips[1], np.hypot(*(shoulders - hips))])

    def select(self, people: list[PoseFrame]) -> PoseFrame | None:
        self.people = len(people)
        self.unsure = False
        if not people:
            return None
        signatures = [self._signature(p) for p in people]
        if self._last is None:
            # First sight: the biggest person (usually the nearest, the one exercising).
            sizes = [s[2] if np.isfinite(s[2]) else -np.inf for s in signatures]
            index = int(np.argmax(sizes))
        else:
            distances = np.array([np.abs(s - self._last).sum() for s in signatures])
            distances[~np.isfinite(distances)] = np.inf
            order = np.argsort(distances, kind="stable")
            index = int(order[0])
            if len(order) > 1 and np.isfinite(distances[order[1]]):
                apart = float(np.abs(signatures[order[0]] - signatures[order[1]]).sum())
                self.unsure = apart > _SAME_PERSON and distances[order[1]] - distances[order[0]] < _UNSURE_MARGIN
        if not self.unsure and np.all(np.isfinite(signatures[index])):
            self._last = signatures[index]  # while unsure, remember where the followed person was
        return people[index]


def in_time_order(frame: Frame, last_t: float | None) -> Frame:
    """The frame, re-timed just after the previous one if it came late, out of order or without a time.

    Every stage downstream (MediaPipe's video mode, the filters, the coach's timers)
    needs time to move forward; a late frame keeps its picture and its place.
    """
    t = frame.t
    if not math.isfinite(t):
        t = 0.0 if last_t is None else last_t + _TIME_STEP_S
    elif last_t is not None and t <= last_t:
        t = last_t + _TIME_STEP_S
    return frame if t == frame.t else replace(frame, t=t)
