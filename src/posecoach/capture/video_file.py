"""Frames from a recorded video file, timestamped by their presentation time.

Timestamps: a frame's time is the container's presentation time of that frame, counted
from the first frame, so a 7 s hold lasts 7 s in a variable-frame-rate phone video or a
recording that dropped frames. For constant-rate files it equals ``index / fps`` (the
DESIGN.md convention), and is then reported as exactly that. Times never go backwards:
a missing, non-increasing or implausible (over a minute ahead) presentation time
continues the clock by one frame period.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from posecoach.capture.frame_source import Frame, SourceInfo
from posecoach.capture.read_ahead import ReadAhead
from posecoach.errors import SourceError

_DEFAULT_FPS = 30.0
_MAX_PTS_GAP_S = 60.0  # a presentation time further ahead than this is not believed
_SAME_TIME_S = 1e-3    # presentation times this close to index / fps are index / fps
# Frames decoded ahead of the pipeline, on a second thread: enough to cover a slow frame's
# decode; each waiting frame holds one RGB picture (25 MB at 4K).
READ_AHEAD = 2


def quiet_decoder_logs() -> None:
    """Keep FFmpeg's and OpenCV's own log lines ("moov atom not found") off the terminal.

    They would clutter the one-line errors we give. FFmpeg reads its level when OpenCV
    first opens a file with it, so call this before the first ``cv2.VideoCapture`` of a
    file; a level the user set in the environment is kept.
    """
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def _iso_media_problem(path: Path) -> str | None:
    """Why an MP4/MOV (ISO media) file cannot be read, from its top-level boxes; None if unknown."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(12)
            if len(head) < 8 or head[4:8] != b"ftyp":
                return None
            offset, boxes = 0, {}
            while offset + 8 <= size:
                handle.seek(offset)
                header = handle.read(16)
                if len(header) < 8:
                    break
                box_size, kind = struct.unpack(">I4s", header[:8])
                if box_size == 1 and len(header) >= 16:
                    box_size = struct.unpack(">Q", header[8:16])[0]
                elif box_size == 0:
                    box_size = size - offset
                if box_size < 8:
                    return "its structure is damaged"
                if offset + box_size > size:
                    return ("the file was cut short: it ends in the middle of its data, so the "
                            "recording was probably interrupted or the copy is incomplete")
                boxes[kind] = boxes.get(kind, 0) + box_size
                offset += box_size
    except OSError:
        return None
    if b"moov" not in boxes:
        return ("the file is incomplete: its index (the 'moov' part written when a recording "
                "stops) is missing, so the recording was probably interrupted")
    if boxes.get(b"mdat", 0) <= 16:
        return "the recording is empty: it contains no video frames"
    return None


def _open_problem(path: Path) -> str:
    """A plain-words reason why OpenCV could not open ``path``."""
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except PermissionError:
        return "permission denied: the file cannot be read"
    except OSError as exc:
        return exc.strerror or str(exc)
    if size == 0:
        return "the file is empty (0 bytes)"
    return _iso_media_problem(path) or "unknown or damaged format"


class VideoFileSource:
    """Read a video file frame by frame (streamed: constant memory whatever its length).

    Raises SourceError with a readable message for a missing path, a directory, a file
    that cannot be read, an incomplete recording, or a file OpenCV cannot decode. Frames
    come out RGB with the container's rotation applied (``info.width`` and ``height`` are
    those of the upright picture).

    After ``frames()`` is exhausted, ``frames_read`` says how many frames were decoded and
    ``problem`` (None when all is well) says in plain words if the file ended early.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"no such file: {self.path}")
        if self.path.is_dir():
            raise SourceError(f"{self.path} is a folder, not a video file")
        self.frames_read = 0
        self.problem: str | None = None
        self._reader: ReadAhead[Frame] | None = None
        quiet_decoder_logs()
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            self._capture.release()
            raise SourceError(f"cannot open {self.path} as a video ({_open_problem(self.path)})")
        self._capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
        ok, first = self._read()
        if not ok or first is None:
            self._capture.release()
            reason = _iso_media_problem(self.path) or "an empty or damaged recording"
            raise SourceError(f"{self.path} contains no readable video frames ({reason})")
        self._first: np.ndarray | None = first
        self._first_pts = self._pts()
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not np.isfinite(fps) or fps <= 1e-3 or fps > 1000:
            fps = _DEFAULT_FPS
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        count = int(count) if count and math.isfinite(count) and count > 0 else 0
        self.info = SourceInfo(
            path=str(self.path), fps=fps, frames=count if count > 0 else None,
            width=int(first.shape[1]), height=int(first.shape[0]), live=False, file=str(self.path.resolve()),
        )

    def _read(self) -> tuple[bool, np.ndarray | None]:
        try:
            return self._capture.read()
        except cv2.error:  # a decoder failure deep in a damaged file
            return False, None

    def _pts(self) -> float | None:
        """Presentation time (seconds) of the frame just read, when the container gives one."""
        try:
            ms = float(self._capture.get(cv2.CAP_PROP_POS_MSEC))
        except (cv2.error, TypeError, ValueError):
            return None
        return ms / 1000.0 if math.isfinite(ms) and ms >= 0.0 else None

    def _time(self, index: int, pts: float | None, last_t: float | None) -> float:
        """The frame's time: its presentation time (``index / fps`` when they agree)."""
        period = 1.0 / self.info.fps
        nominal = index / self.info.fps
        t = None
        if pts is not None and self._first_pts is not None:
            shown = pts - self._first_pts
            floor = last_t if last_t is not None else -period
            if floor < shown < floor + _MAX_PTS_GAP_S:
                t = nominal if abs(shown - nominal) <= _SAME_TIME_S else shown
        if t is None:  # no believable presentation time: continue the clock by one frame
            t = nominal if last_t is None else last_t + period
        if last_t is not None and not t > last_t:
            t = last_t + period
        return t

    def frames(self) -> Iterator[Frame]:
        """Yield every decodable frame; stops at the end or at a damaged or missing tail.

        The frames are decoded on a second thread, ``READ_AHEAD`` frames ahead (read_ahead.py).
        """
        reader = self._reader = ReadAhead(self._decoded(), READ_AHEAD, name="posecoach-decode")
        try:
            yield from reader
        finally:
            reader.close()

    def _decoded(self) -> Iterator[Frame]:
        index = 0
        last_t: float | None = None
        while True:
            if self._first is not None:
                bgr, self._first = self._first, None
                pts = self._first_pts
            else:
                ok, bgr = self._read()
                if not ok or bgr is None:
                    break
                pts = self._pts()
            t = self._time(index, pts, last_t)
            last_t = t
            self.frames_read = index + 1
            yield Frame(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t=t, index=index)
            index += 1
        self.problem = self._ended_early()

    def _ended_early(self) -> str | None:
        expected = self.info.frames
        if not expected or self.frames_read >= expected - max(2, int(0.02 * expected)):
            return None
        return (f"the video ends early: only {self.frames_read} of its {expected} frames could be read "
                f"(the file was cut short or is damaged); the analysis covers what could be read")

    def close(self) -> None:
        if self._reader is not None:  # stop decoding before the decoder goes
            self._reader.close()
        self._capture.release()

    def __enter__(self) -> VideoFileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
