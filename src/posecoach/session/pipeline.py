"""The pipeline generator: frames -> pose -> rotation -> coach, one step per frame.

It knows nothing of Qt or files: the live window's worker, ``posecoach analyze`` and the
tests all iterate the same generator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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


class PersonSelector:
    """Pick the person to follow among MediaPipe's detections: the one nearest the last."""

    def __init__(self) -> None:
        self._last: np.ndarray | None = None  # hip centre and torso size, normalised

    def reset(self) -> None:
        self._last = None

    @staticmethod
    def _signature(pose: PoseFrame) -> np.ndarray:
        img = pose.image
        hips = (img[23, :2] + img[24, :2]) / 2
        shoulders = (img[11, :2] + img[12, :2]) / 2
        return np.array([hips[0], hips[1], np.hypot(*(shoulders - hips))])

    def select(self, people: list[PoseFrame]) -> PoseFrame | None:
        if not people:
            return None
        signatures = [self._signature(p) for p in people]
        if self._last is None:
            # First sight: the biggest person (usually the nearest, the one exercising).
            index = int(np.argmax([s[2] for s in signatures]))
        else:
            index = int(np.argmin([np.abs(s - self._last).sum() for s in signatures]))
        self._last = signatures[index]
        return people[index]


def run_pipeline(source: FrameSource, detector: PoseDetector, estimator: RotationEstimator,
                 coach: Coach, selector: PersonSelector | None = None) -> Iterator[PipelineStep]:
    """Yield one PipelineStep per frame of ``source``; closes the rep in progress at the end."""
    selector = selector or PersonSelector()
    clock = time.perf_counter
    last_t = 0.0
    frames = source.frames()
    while True:
        t0 = clock()
        frame = next(frames, None)
        t1 = clock()
        if frame is None:
            break
        last_t = frame.t
        pose = selector.select(detector.detect(frame.image, frame.t))
        t2 = clock()
        height, width = frame.image.shape[:2]
        sample = estimator.update(frame.t, pose.image if pose else None, pose.world if pose else None,
                                  width, height, frame.image)
        t3 = clock()
        first_event = len(coach.events)
        state = coach.update(sample)
        t4 = clock()
        yield PipelineStep(frame=frame, pose=pose, sample=sample, state=state,
                           events=coach.events[first_event:],
                           timings={"decode": t1 - t0, "inference": t2 - t1,
                                    "estimation": t3 - t2, "coaching": t4 - t3})
    coach.finish(last_t)
