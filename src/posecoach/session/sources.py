"""What the worker reads from: source requests, the pose detector factory, and wrappers.

Plain Python (no Qt): opening cameras and files, the MediaPipe factory, the landmark
cache that makes seeking cheap, the clock that takes pauses out of a live session, and
the thread-priority helper that keeps the GUI thread first in line for the CPU.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posecoach.capture.frame_source import Frame, FrameSource
from posecoach.pose.mirror_views import PassesReadingOn
from posecoach.pose.types import PoseFrame
from posecoach.session.pipeline import PoseDetector

DetectorFactory = Callable[[Callable[[str], None]], PoseDetector]
POSE_CACHE_FRAMES = 60 * 60 * 30  # landmarks kept for seeking (~2 kB a frame: one hour at 30 fps)


@dataclass(frozen=True)
class SourceRequest:
    """What to open: a video file, or a camera (whose stream may be recorded)."""

    camera: int = 0
    path: Path | None = None
    record: Path | None = None
    factory: Callable[[], FrameSource] | None = None  # tests: any FrameSource
    live_factory: bool = False                        # whether ``factory`` gives a live source

    @property
    def live(self) -> bool:
        return self.live_factory if self.factory is not None else self.path is None

    @property
    def label(self) -> str:
        if self.path is not None:
            return Path(self.path).name
        return "test source" if self.factory is not None else f"camera {self.camera}"


class PoseCache(PassesReadingOn):
    """Remembers the detections of a file's frames so a seek need not run inference again."""

    def __init__(self, detector: PoseDetector, limit: int = POSE_CACHE_FRAMES) -> None:
        self.detector = detector
        self.limit = limit
        self._cache: dict[int, list[PoseFrame]] = {}

    def _reading_changed(self) -> None:
        self._cache.clear()   # landmarks read the other way are not these

    def detect(self, image: np.ndarray, t: float) -> list[PoseFrame]:
        key = int(round(t * 1e6))
        people = self._cache.get(key)
        if people is None:
            people = self.detector.detect(image, t)
            if len(self._cache) < self.limit:
                self._cache[key] = people
        return people


class LiveClock:
    """Wrap a live source: time spent paused is taken out of the timestamps.

    The coach then sees a continuous session (a pause in the middle of a hold does not
    count as holding), and a recording of the stream has no frozen stretch.
    """

    def __init__(self, source: FrameSource) -> None:
        self.source = source
        self.info = source.info
        self._offset = 0.0
        self._pending = 0.0
        self._last_t: float | None = None

    def add_pause(self, seconds: float) -> None:
        self._pending += max(0.0, seconds)

    def frames(self) -> Iterator[Frame]:
        for frame in self.source.frames():
            self._offset += self._pending
            self._pending = 0.0
            t = frame.t - self._offset
            if self._last_t is not None and t <= self._last_t:
                t = self._last_t + 1e-3
            self._last_t = t
            yield Frame(image=frame.image, t=t, index=frame.index)

    def close(self) -> None:
        self.source.close()


def lower_thread_priority(niceness: int = 5) -> None:
    """Give the calling thread (and the inference threads it creates) a lower CPU priority.

    The GUI thread then wins the CPU when both want it, so the window stays responsive
    on a busy machine. Linux schedules threads by their own nice value, which new threads
    inherit; elsewhere QThread's LowPriority (set at start) does the job.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (OSError, AttributeError):
        pass


def open_source(request: SourceRequest) -> FrameSource:
    """Open the requested source (raises SourceError with a message for the user)."""
    if request.factory is not None:
        return request.factory()
    if request.path is not None:
        from posecoach.capture.video_file import VideoFileSource
        return VideoFileSource(request.path)
    from posecoach.capture.camera import CameraSource
    return CameraSource(request.camera)


def mediapipe_factory(model_name: str | None = None, max_people: int = 1) -> DetectorFactory:
    """A detector factory for the real MediaPipe pose landmarker (fetched once if needed)."""

    def make(progress: Callable[[str], None]) -> PoseDetector:
        from posecoach.models import ensure_model
        from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
        return MediaPipePoseEstimator(ensure_model(model_name, progress=progress), num_poses=max_people)

    return make
