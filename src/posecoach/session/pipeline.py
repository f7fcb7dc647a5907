"""The pipeline generator: frames -> pose -> rotation -> coach, one step per frame.

It knows nothing of Qt or files: the live window's worker, ``posecoach analyze`` and the
tests all iterate the same generator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from posecoach.analysis.coach import Coach, CoachState
from posecoach.analysis.events import CoachEvent
from posecoach.analysis.rotation import RotationEstimator
from posecoach.analysis.sample import RotationSample
from posecoach.capture.frame_source import Frame, FrameSource
from posecoach.pose.types import PoseFrame


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


# Why a frame is not measured, beyond the estimator's reasons (analysis/sample.py).
PERSON_UNSURE = "person_unsure"

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


def run_pipeline(source: FrameSource, detector: PoseDetector, estimator: RotationEstimator,
                 coach: Coach, selector: PersonSelector | None = None) -> Iterator[PipelineStep]:
    """Yield one PipelineStep per frame of ``source``; closes the rep in progress at the end."""
    selector = selector or PersonSelector()
    clock = time.perf_counter
    last_t: float | None = None
    frames = source.frames()
    while True:
        t0 = clock()
        frame = next(frames, None)
        t1 = clock()
        if frame is None:
            break
        frame = _in_time_order(frame, last_t)
        last_t = frame.t
        people = detector.detect(frame.image, frame.t)
        pose = selector.select(people)
        t2 = clock()
        height, width = frame.image.shape[:2]
        measured = None if selector.unsure else pose
        sample = estimator.update(frame.t, measured.image if measured else None,
                                  measured.world if measured else None, width, height, frame.image)
        if selector.unsure:
            sample = replace(sample, reason=PERSON_UNSURE)
        t3 = clock()
        first_event = len(coach.events)
        state = coach.update(sample)
        t4 = clock()
        yield PipelineStep(frame=frame, pose=pose, sample=sample, state=state,
                           events=coach.events[first_event:],
                           timings={"decode": t1 - t0, "inference": t2 - t1,
                                    "estimation": t3 - t2, "coaching": t4 - t3},
                           people=len(people))
    coach.finish(last_t if last_t is not None else 0.0)


def _in_time_order(frame: Frame, last_t: float | None) -> Frame:
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
