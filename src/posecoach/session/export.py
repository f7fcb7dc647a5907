"""Burn the coaching overlay into a copy of a video (``posecoach export``, File > Export).

:func:`export_annotated` is a plain generator (no Qt): it runs a
:class:`~posecoach.session.coaching.CoachingSession` over the file, as ``posecoach
analyze`` does, hands every step to a drawer (the window's own overlay painter, given by
the caller from ``ui/``), writes the pictures with their original frame rate, and yields
:class:`ExportProgress` as it goes; it returns an :class:`ExportResult`.

The video is written to a hidden file beside the output and renamed at the end, so an
export that is cancelled (the generator closed), interrupted or failing never leaves a
broken file, and an older file of that name stays as it was until the new one is done.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from posecoach.analysis.protocol import Cues
from posecoach.analysis.protocol import Protocol as ExerciseProtocol
from posecoach.capture.video_file import VideoFileSource
from posecoach.capture.video_writer import CODECS, VideoWriter
from posecoach.errors import PosecoachError, SourceError
from posecoach.session.coaching import RECORDED_DETECT_AHEAD, CoachingSession
from posecoach.session.pipeline import PipelineStep, PoseDetector

PROGRESS_EVERY_S = 0.1  # at most ten progress reports a second (and one at the end)


class FrameDrawer(Protocol):
    """Draws one step (its frame and overlay) as an H x W x 3 uint8 BGR picture of ``size`` (w, h)."""

    def __call__(self, step: PipelineStep, cues: Cues, size: tuple[int, int], mirrored: bool) -> np.ndarray: ...


@dataclass(frozen=True)
class ExportProgress:
    """How far an export is: frames written of ``total`` (None when the file does not say)."""

    frames: int
    total: int | None
    elapsed_s: float

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.frames / self.total) if self.total else None

    @property
    def eta_s(self) -> float | None:
        """Seconds still to go at the rate so far (None until known)."""
        if not self.total or self.frames <= 0:
            return None
        return max(0.0, self.elapsed_s / self.frames * (self.total - self.frames))


@dataclass(frozen=True)
class ExportResult:
    """A finished export: where, how many frames, at what size, rate and codec, and how fast."""

    path: Path
    frames: int
    size: tuple[int, int]
    fps: float
    codec: str
    seconds: float
    reps: int
    problem: str | None = None  # the source ended early (damaged file): what the video covers

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def output_size(width: int, height: int, max_width: int | None = None) -> tuple[int, int]:
    """The video's size: the source's, or scaled down to ``max_width`` (aspect kept, even sides)."""
    if max_width is not None and max_width < 16:
        raise PosecoachError(f"--width {max_width} is too small; give at least 16 pixels")
    if max_width is None or max_width >= width:
        return width, height
    scaled_h = max(2, int(round(height * max_width / width / 2)) * 2)
    return max_width - max_width % 2, scaled_h


def check_export_output(path: Path) -> Path:
    """Return ``path`` when an annotated video can be written there; otherwise a clear PosecoachError."""
    path = Path(path)
    if path.is_dir():
        raise PosecoachError(f"cannot write {path}: it is a folder; give a file name")
    if path.suffix.lower() not in CODECS:
        raise PosecoachError(f"cannot write {path}: give a .mp4 file name (or .mov, .m4v, .avi, .mkv)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PosecoachError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PosecoachError(f"cannot write {path}: the folder {folder} is not writable")
    return path


def _scratch_file(out: Path) -> Path:
    """A hidden file name beside ``out`` with its suffix (the suffix picks the container)."""
    return out.with_name(f".{out.stem}.{secrets.token_hex(4)}.part{out.suffix}")


def _check_written(scratch: Path, out: Path, frames: int) -> None:
    """Raise PosecoachError unless ``scratch`` reads back as a video of ``frames`` frames (a full disk
    makes the encoder drop frames without telling)."""
    try:
        with VideoFileSource(scratch) as check:
            count = check.info.frames
    except SourceError:
        count = 0
    if not count or count < frames:
        raise PosecoachError(f"cannot write {out}: the video came out incomplete ({count or 0} of {frames} frames; "
                             "is the disk full?); nothing was written there")


def export_annotated(video: str | Path, out: str | Path, protocol: ExerciseProtocol,
                     make_detector: Callable[[], PoseDetector], draw: FrameDrawer, *, mirrored: bool = False,
                     width: int | None = None, max_seconds: float | None = None,
                     ) -> Generator[ExportProgress, None, ExportResult]:
    """Write ``video`` with the overlay drawn on every frame to ``out``; yield progress, return the result.

    Parameters
    ----------
    video : the source video (a replayed file or a session's recording).
    out : the annotated video; replaced only when the export finishes.
    protocol : the exercise protocol to coach.
    make_detector : builds the pose detector (called here, on the thread that runs the
        export; closed at the end when it has ``close``).
    draw : the overlay painter, see :class:`FrameDrawer`.
    mirrored : show the picture mirrored (the numbers never are).
    width : scale the video down to this width (None: the source's size).
    max_seconds : export only the start of the video.

    Closing the generator stops the export and removes what was written so far.
    Raises SourceError for an unreadable video and PosecoachError for an unwritable output.
    """
    started = time.perf_counter()
    out = check_export_output(Path(out))
    if out.exists() and Path(video).exists() and out.samefile(video):
        raise PosecoachError(f"cannot write {out}: it is the video being exported; choose another name")
    if max_seconds is not None and max_seconds <= 0:
        raise PosecoachError("--max-seconds must be more than 0")
    with contextlib.ExitStack() as resources:
        source = resources.enter_context(VideoFileSource(video))
        info = source.info
        size = output_size(info.width, info.height, width)
        total = info.frames
        if max_seconds is not None:
            limit = max(1, int(round(max_seconds * info.fps)))
            total = min(total, limit) if total else limit
        scratch = _scratch_file(out)
        resources.callback(lambda: scratch.unlink(missing_ok=True))  # a no-op once renamed
        try:
            writer = resources.enter_context(VideoWriter(scratch, info.fps, size))
        except SourceError as exc:
            raise PosecoachError(f"cannot write {out}: the video encoder did not open ({exc})") from exc
        detector = make_detector()
        close = getattr(detector, "close", None)
        if close is not None:
            resources.callback(close)
        session = CoachingSession(detector, protocol)
        cues = protocol.cues
        frames, last_report = 0, 0.0
        steps = session.run(source, RECORDED_DETECT_AHEAD)
        resources.callback(steps.close)
        for step in steps:
            if max_seconds is not None and frames >= total:
                break
            try:
                writer.write(draw(step, cues, size, mirrored))
            except OSError as exc:
                raise PosecoachError(f"cannot write {out} ({exc.strerror or exc})") from exc
            frames += 1
            now = time.perf_counter()
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                yield ExportProgress(frames, total, now - started)
        if frames == 0:
            raise SourceError(f"{video} contains no readable video frames")
        yield ExportProgress(frames, frames, time.perf_counter() - started)
        writer.close()
        _check_written(scratch, out, frames)
        try:
            os.replace(scratch, out)
        except OSError as exc:
            raise PosecoachError(f"cannot write {out} ({exc.strerror or exc}); nothing was written there") from exc
        seconds = time.perf_counter() - started
        return ExportResult(path=out, frames=frames, size=size, fps=info.fps, codec=writer.codec, seconds=seconds,
                            reps=len(session.coach.reps), problem=source.problem)
