"""Record a frame stream to a video file so a live session can be replayed later.

Encoding runs on its own thread behind a bounded queue, so recording never slows the
pipeline down; when the encoder cannot keep up, frames are dropped and counted. The file
has a constant frame rate: a frame is written as many times as needed to keep the video's
clock on the frames' timestamps, so a replay runs at the speed the session was lived.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from posecoach.capture.frame_source import Frame, FrameSource, SourceInfo
from posecoach.errors import SourceError

_FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}
_STOP = object()


def check_record_path(path: str | Path) -> Path:
    """Return ``path`` if a recording can go there; SourceError says why not."""
    path = Path(path)
    if path.suffix.lower() not in _FOURCC:
        raise SourceError(f"cannot record to {path}: use a .mp4, .avi, .mkv or .mov file name")
    if not path.parent.is_dir():
        raise SourceError(f"cannot record to {path}: the folder {path.parent} does not exist")
    return path


class VideoRecorder:
    """Write RGB frames with timestamps to ``path`` at ``fps`` frames per second.

    Parameters
    ----------
    path : output file; the container follows the suffix (.mp4, .avi, .mkv, .mov).
    fps, width, height : the video's frame rate and size (frames of another size are resized).
    max_queue : frames waiting for the encoder before new ones are dropped.
    """

    def __init__(self, path: str | Path, fps: float, width: int, height: int, max_queue: int = 60) -> None:
        self.path = check_record_path(path)
        suffix = self.path.suffix.lower()
        self.fps = float(fps) if fps and fps > 1.0 else 30.0
        self.size = (int(width), int(height))
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*_FOURCC[suffix]), self.fps, self.size)
        if not self._writer.isOpened():
            self._writer.release()
            raise SourceError(f"cannot record to {self.path} (the video encoder did not open)")
        self.frames_written = 0
        self.dropped = 0
        self._shift = 0.0  # seconds removed from the clock (long gaps are not replayed as frozen video)
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="posecoach-recorder", daemon=True)
        self._thread.start()

    def write(self, image: np.ndarray, t: float) -> None:
        """Queue one RGB frame taken at ``t`` seconds; never blocks."""
        if self._closed:
            return
        try:
            self._queue.put_nowait((image, t))
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        """Write what is queued, then close the file (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                image, t = item
                copies = self._copies(t)
                if copies <= 0:
                    continue
                bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
                if (bgr.shape[1], bgr.shape[0]) != self.size:
                    bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA)
                for _ in range(copies):
                    self._writer.write(bgr)
                self.frames_written += copies
        finally:
            self._writer.release()

    def _copies(self, t: float) -> int:
        """How many times to write a frame taken at ``t`` to keep the file on the clock."""
        due = int(round((t - self._shift) * self.fps)) + 1  # frames the file should hold after this one
        missing = due - self.frames_written
        if missing > self.fps:  # a long gap (paused, stalled camera): do not fill it with a still
            self._shift += (missing - 1) / self.fps
            return 1
        return missing if self.frames_written else max(missing, 1)

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordingSource:
    """A FrameSource that also records every frame it yields to a video file.

    Closing it closes the wrapped source too. When the recorder cannot be created the
    SourceError propagates and the wrapped source stays open (the caller still owns it).
    """

    def __init__(self, source: FrameSource, path: str | Path) -> None:
        self.source = source
        info: SourceInfo = source.info
        self.recorder = VideoRecorder(path, info.fps, info.width, info.height)
        self.info = replace(info, file=str(self.recorder.path.resolve()))  # sessions remember their recording

    def frames(self) -> Iterator[Frame]:
        for frame in self.source.frames():
            self.recorder.write(frame.image, frame.t)
            yield frame

    def close(self) -> None:
        try:
            self.source.close()
        finally:
            self.recorder.close()
