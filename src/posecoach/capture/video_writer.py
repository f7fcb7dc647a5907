"""Write a video file frame by frame (BGR pictures of one size, constant frame rate).

The codec follows the file name: an ``.mp4``/``.m4v``/``.mov`` file is H.264 when this
OpenCV build can encode it (it plays in browsers and on phones) and MPEG-4 Part 2
("mp4v", in every opencv-python wheel) otherwise; ``.avi`` is Motion JPEG, ``.mkv`` Xvid.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posecoach.capture.video_file import quiet_decoder_logs
from posecoach.errors import SourceError

CODECS: dict[str, tuple[str, ...]] = {".mp4": ("avc1", "mp4v"), ".m4v": ("avc1", "mp4v"), ".mov": ("avc1", "mp4v"),
                                      ".avi": ("MJPG",), ".mkv": ("XVID", "MJPG")}


def _open(path: Path, fourcc: str, fps: float, size: tuple[int, int], quiet: bool) -> cv2.VideoWriter | None:
    """A writer with ``fourcc``, or None; ``quiet`` keeps a failed try's log lines off the terminal."""
    level = cv2.utils.logging.getLogLevel()
    if quiet:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if writer.isOpened():
        return writer
    writer.release()
    return None


class VideoWriter:
    """A video file being written; use as a context manager or call :meth:`close`.

    Parameters
    ----------
    path : the file (its suffix picks the container and codec, see ``CODECS``).
    fps : frames per second.
    size : (width, height) of every frame.

    Raises SourceError when no encoder for the suffix opens.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.size = (int(size[0]), int(size[1]))
        codecs = CODECS.get(self.path.suffix.lower())
        if codecs is None:
            raise SourceError(f"cannot write {self.path}: use a .mp4, .mov, .m4v, .avi or .mkv file name")
        self.codec = ""
        quiet_decoder_logs()  # a codec that does not open is no news to the user
        self._writer: cv2.VideoWriter | None = None
        for i, fourcc in enumerate(codecs):
            self._writer = _open(self.path, fourcc, self.fps, self.size, quiet=i < len(codecs) - 1)
            if self._writer is not None:
                self.codec = fourcc
                break
        if self._writer is None:
            raise SourceError(f"cannot write {self.path}: no video encoder for {self.path.suffix} in this OpenCV "
                              "build; try a .avi file name")
        self.frames_written = 0

    def write(self, bgr: np.ndarray) -> None:
        """Append one H x W x 3 uint8 BGR picture of the writer's size."""
        if self._writer is None:
            raise SourceError(f"{self.path} is already closed")
        if (bgr.shape[1], bgr.shape[0]) != self.size:
            raise ValueError(f"a {bgr.shape[1]}x{bgr.shape[0]} picture for a {self.size[0]}x{self.size[1]} video")
        self._writer.write(bgr)
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file (idempotent)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
