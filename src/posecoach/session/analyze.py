"""Headless replay of a video through the whole pipeline (``posecoach analyze``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from posecoach.analysis.coach import Coach
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.rotation import RotationEstimator
from posecoach.capture.video_file import VideoFileSource
from posecoach.session.analysis_doc import AnalysisRecorder
from posecoach.session.pipeline import PipelineStep, run_pipeline


@dataclass(frozen=True)
class AnalysisResult:
    document: dict[str, Any]
    stage_seconds: dict[str, float]
    wall_seconds: float


def analyze_video(path: str | Path, protocol: Protocol, model_path: Path, model_name: str = "full",
                  max_people: int = 1, progress: bool | None = None,
                  on_step: Callable[[PipelineStep], None] | None = None) -> AnalysisResult:
    """Run the pipeline over a video file and return the analysis document.

    ``progress``: show a progress bar on stderr (default: only when stderr is a terminal).
    """
    import time

    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator

    started = time.perf_counter()
    with VideoFileSource(path) as source, MediaPipePoseEstimator(model_path, num_poses=max_people) as detector:
        estimator = RotationEstimator()
        coach = Coach(protocol)
        recorder = AnalysisRecorder(source.info, coach, estimator, model_name)
        stage = {"decode": 0.0, "inference": 0.0, "estimation": 0.0, "coaching": 0.0}
        show = sys.stderr.isatty() if progress is None else progress
        bar = None
        if show:
            from tqdm import tqdm
            bar = tqdm(total=source.info.frames, unit="frame", desc=Path(path).name, file=sys.stderr,
                       dynamic_ncols=True, leave=False)
        try:
            for step in run_pipeline(source, detector, estimator, coach):
                recorder.add(step)
                for key, value in step.timings.items():
                    stage[key] += value
                if on_step is not None:
                    on_step(step)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        document = recorder.document()
    document["analyzed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return AnalysisResult(document=document, stage_seconds=stage, wall_seconds=time.perf_counter() - started)
