"""A video file played like a camera, for the live benchmark (``posecoach bench``).

A :class:`PacedFileCamera` makes each frame of the video appear at its time on the wall
clock and keeps only the newest one, as :class:`~posecoach.capture.camera.CameraSource`
does, so a slow consumer skips frames exactly as with a webcam. It remembers when each
frame was captured and taken (a ring of timestamps), so latencies can be measured.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.capture.video_file import quiet_decoder_logs
from posecoach.errors import SourceError

_RING = 4096  # frames whose capture/take times are remembered (> any latency, in frames)


class PacedFileCamera:
    """A video file played like a camera: frames appear at their time, only the newest is kept.

    Parameters
    ----------
    path : the video.
    frames : play only the first N frames of the clip (each pass).
    minutes : loop the clip for this long, with continuing timestamps (0: one pass).
    lead_in_s : show the first frame still for this long first (the person framing and
        calibrating in front of a real camera).

    The clock starts at the first ``frames()`` call (after the window loaded the model).
    """

    def __init__(self, path: str | Path, frames: int | None = None, minutes: float = 0.0,
                 lead_in_s: float = 0.0) -> None:
        self.path = Path(path)
        quiet_decoder_logs()
        self._capture = cv2.VideoCapture(str(self.path))
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise SourceError(f"{self.path} contains no readable video frames")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = fps if 1.0 < fps < 1000.0 else 30.0
        self.info = SourceInfo(path=f"camera:bench {self.path.name}", fps=fps, frames=None,
                               width=int(first.shape[1]), height=int(first.shape[0]), live=True)
        self._first = first
        self._pending: np.ndarray | None = first
        self._clip_frames = frames
        self._clip_index = 0
        self._lead = int(round(max(0.0, lead_in_s) * fps))
        self._total = int(round(minutes * 60.0 * fps)) if minutes > 0 else None
        self.ring_index = np.full(_RING, -1, dtype=np.int64)
        self.capture_t = np.zeros(_RING)
        self.taken_t = np.zeros(_RING)
        self.captured = 0
        self.taken = 0
        self.started: float | None = None
        self._latest: tuple[np.ndarray, int] | None = None
        self._cond = threading.Condition()
        self._ended = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def expected_s(self) -> float:
        """How long the source runs (seconds of video, lead-in included)."""
        if self._total is not None:
            return self._total / self.info.fps
        count = self._clip_frames or int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return (self._lead + count) / self.info.fps

    def _next_clip_frame(self) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            self._clip_index = 1
            return frame
        if self._clip_frames is None or self._clip_index < self._clip_frames:
            ok, frame = self._capture.read()
            if ok and frame is not None:
                self._clip_index += 1
                return frame
        if self._total is None:
            return None
        self._capture.release()  # loop: start the clip again
        self._capture = cv2.VideoCapture(str(self.path))
        ok, frame = self._capture.read()
        self._clip_index = 1
        return frame if ok else None

    def _run(self) -> None:
        fps = self.info.fps
        start = self.started = time.perf_counter()
        index = 0
        while not self._stopped and (self._total is None or index < self._total):
            bgr = self._first if index < self._lead else self._next_clip_frame()
            if bgr is None:
                break
            delay = start + index / fps - time.perf_counter()
            while delay > 0 and not self._stopped:
                time.sleep(min(delay, 0.05))
                delay = start + index / fps - time.perf_counter()
            slot = index % _RING
            with self._cond:
                self.ring_index[slot] = index
                self.capture_t[slot] = time.perf_counter()
                self.taken_t[slot] = np.nan
                self._latest = (bgr, index)
                self.captured += 1
                self._cond.notify_all()
            index += 1
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def frames(self) -> Iterator[Frame]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="posecoach-bench-camera", daemon=True)
            self._thread.start()
        fps = self.info.fps
        while True:
            with self._cond:
                while self._latest is None and not self._ended and not self._stopped:
                    self._cond.wait(timeout=0.5)
                if self._latest is None or self._stopped:
                    return
                bgr, index = self._latest
                self._latest = None
                self.taken_t[index % _RING] = time.perf_counter()
                self.taken += 1
            yield Frame(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t=index / fps, index=index)

    def capture_time(self, index: int) -> tuple[float, float] | None:
        """(captured, taken by the worker) perf_counter times of frame ``index``, if still remembered."""
        slot = index % _RING
        with self._cond:
            if self.ring_index[slot] != index:
                return None
            return float(self.capture_t[slot]), float(self.taken_t[slot])

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._capture.release()


