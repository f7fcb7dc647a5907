"""Frames from a recorded video file, timestamped by frame index / fps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# FFmpeg's own log lines ("moov atom not found") would clutter the one-line errors we give.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import cv2  # noqa: E402
import numpy as np

from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.errors import SourceError

_DEFAULT_FPS = 30.0


class VideoFileSource:
    """Read a video file frame by frame (streamed: constant memory whatever its length).

    Raises SourceError with a readable message for a missing path, a directory, or a
    file OpenCV cannot decode. Frames come out RGB with the container's rotation applied.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise SourceError(f"{self.path} is a folder, not a video file")
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"cannot open {self.path} as a video (unknown or damaged format)")
        self._capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise SourceError(f"{self.path} contains no readable video frames")
        self._first: np.ndarray | None = first
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not np.isfinite(fps) or fps <= 1e-3 or fps > 1000:
            fps = _DEFAULT_FPS
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.info = SourceInfo(
            path=str(self.path), fps=fps, frames=count if count > 0 else None,
            width=int(first.shape[1]), height=int(first.shape[0]), live=False,
        )

    def frames(self) -> Iterator[Frame]:
        """Yield every decodable frame; stops quietly at the end or at a damaged tail."""
        index = 0
        fps = self.info.fps
        while True:
            if self._first is not None:
                bgr, self._first = self._first, None
            else:
                ok, bgr = self._capture.read()
                if not ok or bgr is None:
                    return
            yield Frame(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t=index / fps, index=index)
            index += 1

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoFileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
