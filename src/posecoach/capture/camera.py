"""Frames from a live camera: a reader thread keeps only the newest frame."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np

from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.errors import SourceError


def list_cameras(max_index: int = 6) -> list[int]:
    """Indices of cameras that open and deliver a frame (probes 0..max_index-1)."""
    found = []
    for index in range(max_index):
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened() and capture.read()[0]:
                found.append(index)
        finally:
            capture.release()
    return found


class CameraSource:
    """A webcam read on a background thread.

    Frames are timestamped with a monotonic clock (seconds since the source opened).
    Only the newest frame is kept: a slow consumer skips frames instead of falling
    behind. ``frames()`` ends when the camera stops delivering for ``stall_s`` seconds
    (unplugged) or when ``close()`` is called.
    """

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720, stall_s: float = 3.0) -> None:
        self.index = index
        self.stall_s = stall_s
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"camera {index} is not available (not connected, or used by another program)")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise SourceError(f"camera {index} opened but delivers no picture (is it used by another program?)")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.info = SourceInfo(
            path=f"camera:{index}", fps=fps if 1.0 < fps < 240.0 else 30.0, frames=None,
            width=int(first.shape[1]), height=int(first.shape[0]), live=True,
        )
        self._t0 = time.monotonic()
        self._latest: tuple[np.ndarray, float] | None = (first, 0.0)
        self._condition = threading.Condition()
        self._stopped = False
        self.failed = False
        self._thread = threading.Thread(target=self._read_loop, name=f"camera-{index}", daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        last_ok = time.monotonic()
        while not self._stopped:
            ok, bgr = self._capture.read()
            now = time.monotonic()
            if ok and bgr is not None:
                last_ok = now
                with self._condition:
                    self._latest = (bgr, now - self._t0)
                    self._condition.notify_all()
            elif now - last_ok > self.stall_s:
                self.failed = True
                break
            else:
                time.sleep(0.01)
        with self._condition:
            self._stopped = True
            self._condition.notify_all()

    def frames(self) -> Iterator[Frame]:
        index = 0
        last_t = -1.0
        while True:
            with self._condition:
                while self._latest is None and not self._stopped:
                    self._condition.wait(timeout=0.5)
                if self._latest is None:
                    return
                bgr, t = self._latest
                self._latest = None
            if t <= last_t:  # never hand out time going backwards
                continue
            last_t = t
            yield Frame(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t=t, index=index)
            index += 1

    def close(self) -> None:
        self._stopped = True
        self._thread.join(timeout=2.0)
        self._capture.release()

    def __enter__(self) -> CameraSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
