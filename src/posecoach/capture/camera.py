"""Frames from a live camera: a reader thread keeps only the newest frame."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import cv2
import numpy as np

from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.errors import SourceError


@contextlib.contextmanager
def _opencv_quiet() -> Iterator[None]:
    """Silence OpenCV's own log lines while probing devices (our errors say it in plain words)."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    try:
        previous = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    except (AttributeError, cv2.error):
        yield
        return
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def _open_capture(index: int) -> cv2.VideoCapture:
    with _opencv_quiet():
        return cv2.VideoCapture(index)


def list_cameras(max_index: int = 6) -> list[int]:
    """Indices of cameras that open and deliver a frame (probes 0..max_index-1)."""
    found = []
    for index in range(max_index):
        capture = _open_capture(index)
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
    (unplugged) or when ``close()`` is called; ``failed`` then tells the two apart.
    Opening raises SourceError when the camera does not exist, or delivers no picture
    within ``open_timeout_s`` seconds (busy, or failing for ``stall_s``).
    """

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720, stall_s: float = 3.0,
                 open_timeout_s: float = 5.0) -> None:
        self.index = index
        self.stall_s = stall_s
        if index < 0:
            raise SourceError(f"there is no camera {index}: camera numbers start at 0")
        try:
            self._capture = _open_capture(index)
        except cv2.error as exc:
            raise SourceError(f"camera {index} is not available ({exc})") from exc
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"camera {index} is not available (not connected, or used by another program)")
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._t0 = time.monotonic()
        self._latest: tuple[np.ndarray, float] | None = None
        self._condition = threading.Condition()
        self._stopped = False
        self._stuck = False  # the reader thread is blocked inside the driver
        self.failed = False
        # The reader thread takes the first picture too, so a driver that blocks (a camera
        # held by another program) cannot hang the caller: it waits at most open_timeout_s.
        self._thread = threading.Thread(target=self._read_loop, name=f"camera-{index}", daemon=True)
        self._thread.start()
        with self._condition:
            self._condition.wait_for(lambda: self._latest is not None or self._stopped,
                                     timeout=max(open_timeout_s, 0.0))
            first = self._latest
        if first is None:
            self._stuck = True
            self.close()
            raise SourceError(f"camera {index} opened but delivers no picture (is it used by another program?)")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.info = SourceInfo(
            path=f"camera:{index}", fps=fps if 1.0 < fps < 240.0 else 30.0, frames=None,
            width=int(first[0].shape[1]), height=int(first[0].shape[0]), live=True,
        )

    def _read_loop(self) -> None:
        last_ok = time.monotonic()
        while not self._stopped:
            try:
                ok, bgr = self._capture.read()
            except cv2.error:  # a driver error is a camera that stopped delivering
                ok, bgr = False, None
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
        """Yield the newest frames until the camera stops delivering or ``close()`` is called.

        When the camera stalls for ``stall_s`` seconds (unplugged, taken by another program,
        or a driver whose read blocks forever) the iteration ends and ``failed`` is True.
        """
        index = 0
        last_t = -1.0
        while True:
            waiting_since = time.monotonic()
            with self._condition:
                while self._latest is None and not self._stopped:
                    if time.monotonic() - waiting_since > self.stall_s:
                        self.failed = self._stuck = True  # the reader is stuck inside the driver
                        self._stopped = True
                        break
                    self._condition.wait(timeout=min(0.5, self.stall_s))
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
        """Stop reading and release the camera (idempotent; never blocks for long)."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        self._thread.join(timeout=0.2 if self._stuck else 2.0)
        if self._thread.is_alive():
            # The reader is stuck inside the driver: releasing the device under it could
            # crash; the daemon thread and the device go with the process.
            return
        self._capture.release()

    def __enter__(self) -> CameraSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
