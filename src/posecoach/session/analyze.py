"""Headless replay of a video through a coaching session (``posecoach analyze``).

The video is streamed: one frame is in memory at a time, whatever its length or size;
the document keeps one small record per frame (about half a kilobyte).

Ctrl+C (SIGINT) or SIGTERM while the analysis runs stops it cleanly at the next frame:
the rep in progress is closed as at the end of a file and the partial document comes
back with ``interrupted`` set, so the caller can still save it. A second Ctrl+C
interrupts at once.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posecoach.analysis.gestures import GestureSettings
from posecoach.analysis.protocol import Protocol
from posecoach.capture.video_file import VideoFileSource
from posecoach.session.analysis_doc import AnalysisRecorder
from posecoach.session.coaching import RECORDED_DETECT_AHEAD, CoachingSession
from posecoach.session.pipeline import PipelineStep, PoseDetector


@dataclass(frozen=True)
class AnalysisResult:
    document: dict[str, Any]
    stage_seconds: dict[str, float]
    wall_seconds: float
    interrupted_by: int | None = None  # the signal number that stopped the analysis early

    @property
    def interrupted(self) -> bool:
        return self.interrupted_by is not None


class StopRequests:
    """While active (main thread only), SIGINT and SIGTERM ask for a stop instead of killing.

    ``signum`` is the first signal received (None until then); a second one raises
    KeyboardInterrupt at once, so a stuck analysis can still be abandoned.
    """

    SIGNALS = tuple(s for s in (signal.SIGINT, getattr(signal, "SIGTERM", None)) if s is not None)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                try:
                    self._previous[signum] = signal.signal(signum, self._handler)
                except (ValueError, OSError):  # not allowed here (embedded interpreter)
                    pass
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


def analyze_video(path: str | Path, protocol: Protocol, model_path: Path | None = None, model_name: str = "full",
                  max_people: int = 1, progress: bool | None = None,
                  on_step: Callable[[PipelineStep], None] | None = None,
                  detector: PoseDetector | None = None, gestures: GestureSettings | None = None) -> AnalysisResult:
    """Run a coaching session over a video file and return the analysis document.

    ``detector``: the pose detector to use (not closed here); by default MediaPipe with
    the model at ``model_path``, finding up to ``max_people`` people a frame.
    ``progress``: show a progress bar on stderr (default: only when stderr is a terminal).
    ``gestures``: follow hands-free gestures (a raised hand pauses and resumes, both hands
    end the analysis there); the document's ``controls`` lists them.
    The document's ``warnings`` say in plain words what limited the analysis (a file cut
    short, pictures too dark); ``interrupted`` is True when a signal stopped it early.
    """
    started = time.perf_counter()
    stop = StopRequests()
    with contextlib.ExitStack() as resources:
        source = resources.enter_context(VideoFileSource(path))
        if detector is None:
            from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
            if model_path is None:
                raise ValueError("give a detector or the model_path of the MediaPipe model")
            detector = resources.enter_context(MediaPipePoseEstimator(model_path, num_poses=max_people))
        resources.enter_context(stop)
        recorder = AnalysisRecorder(source.info, model_name)
        session = CoachingSession(detector, protocol, sinks=[recorder], gestures=gestures)
        stage: dict[str, float] = {}
        show = sys.stderr.isatty() if progress is None else progress
        bar = None
        if show:
            from tqdm import tqdm
            bar = tqdm(total=source.info.frames, unit="frame", desc=Path(path).name, file=sys.stderr,
                       dynamic_ncols=True, leave=False)
        last: PipelineStep | None = None
        steps = session.run(source, RECORDED_DETECT_AHEAD)
        try:
            for step in steps:
                last = step
                for key, value in step.timings.items():
                    stage[key] = stage.get(key, 0.0) + value
                if on_step is not None:
                    on_step(step)
                if bar is not None:
                    bar.update(1)
                if stop.signum is not None:
                    break
        finally:
            steps.close()
            if bar is not None:
                bar.close()
        if stop.signum is not None:
            session.finish()  # keep the rep in progress
            where = f"{last.frame.t:.1f} s (frame {last.frame.index + 1})" if last is not None else "the start"
            recorder.warnings.append(f"the analysis was interrupted at {where}: it covers the video up to there")
        elif source.problem:
            recorder.warnings.append(source.problem)
        document = recorder.document()
        document["controls"] = [event.to_dict() for event in session.controls]
    document["analyzed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if stop.signum is not None:
        document["interrupted"] = True
    if source.problem:
        document["source"]["frames_expected"] = source.info.frames
    return AnalysisResult(document=document, stage_seconds=stage, wall_seconds=time.perf_counter() - started,
                          interrupted_by=stop.signum)
