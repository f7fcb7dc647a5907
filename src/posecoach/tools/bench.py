"""``posecoach bench VIDEO``: how close the pipeline comes to the bare pose model.

Measured in one run, on the same frames of one video:

- **bare**: the bare MediaPipe PoseLandmarker loop: decode, BGR->RGB, inference, nothing else;
- **analyze**: the ``posecoach analyze`` pipeline (the
  :class:`~posecoach.session.coaching.CoachingSession` with an analysis recorder, as
  :func:`posecoach.session.analyze.analyze_video` runs it: decoding and the pose detector
  on threads of their own, a few frames ahead of the measuring and coaching) and the
  session stored in a SessionStore in a temporary folder, with the time of every stage
  (they overlap);
- **start-up**: a fresh ``posecoach`` process until its first analysed frame;
- **live** (:mod:`posecoach.ui.live_bench`, needs Qt): the window (offscreen) fed by the
  video played like a camera at real time: frame-to-display latency and dropped frames;
  with ``--minutes`` a long looping session for memory growth per frame.

Detector creation is outside the throughput figures of both loops (start-up measures it).
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.capture.frame_source import Frame, FrameSource
from posecoach.measure import current_rss_mb, growth_per_1000, peak_rss_mb
from posecoach.tools.bench_report import check_targets, format_report

SCHEMA = "posecoach.bench/1"
Say = Callable[[str], None]


# ---------------------------------------------------------------------------- loops
@dataclass
class LoopResult:
    """Frames, wall seconds and seconds per stage of one loop over the video."""

    frames: int = 0
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        n = max(self.frames, 1)
        return {"frames": self.frames, "seconds": round(self.seconds, 3), "fps": round(self.fps, 2),
                "ms_per_frame": round(1000 * self.seconds / n, 3),
                "stages_ms": {k: round(1000 * v / n, 3) for k, v in self.stages.items()},
                **self.extra}


class FirstFrames:
    """A FrameSource of the first ``count`` frames of another (all when None)."""

    def __init__(self, source: FrameSource, count: int | None) -> None:
        self.source = source
        self.info = source.info
        self.count = count

    def frames(self) -> Iterator[Frame]:
        return itertools.islice(self.source.frames(), self.count)

    def close(self) -> None:
        self.source.close()

    def __enter__(self) -> FirstFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bare_loop(video: Path, model_path: Path, frames: int | None, result: LoopResult) -> Iterator[None]:
    """Decode, convert to RGB and run PoseLandmarker on each frame: the floor of the pipeline.

    A generator that does one frame per ``next()`` and adds its times to ``result``. It
    uses the landmarker inside :class:`MediaPipePoseEstimator` directly (only that module
    imports mediapipe): no conversion of the results, no estimation, nothing stored.
    """
    import cv2

    from posecoach.capture.video_file import quiet_decoder_logs
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator, _native_stderr_silenced

    result.stages = {"decode": 0.0, "inference": 0.0}
    quiet_decoder_logs()
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
    detector = MediaPipePoseEstimator(model_path, num_poses=1, two_views=False)
    landmarker, make_image, image_format = detector._landmarkers[0], detector._mp_image, detector._mp_format
    clock = time.perf_counter
    try:
        limit = frames if frames is not None else sys.maxsize
        while result.frames < limit:
            t0 = clock()
            ok, bgr = capture.read()
            if not ok or bgr is None:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            t1 = clock()
            image = make_image(image_format=image_format, data=rgb)
            timestamp_ms = int(round(result.frames * 1000.0 / fps))
            if result.frames < 3:  # MediaPipe logs its graph set-up on the first inferences
                with _native_stderr_silenced():
                    landmarker.detect_for_video(image, timestamp_ms)
            else:
                landmarker.detect_for_video(image, timestamp_ms)
            t2 = clock()
            result.stages["decode"] += t1 - t0
            result.stages["inference"] += t2 - t1
            result.seconds += t2 - t0
            result.frames += 1
            yield
    finally:
        capture.release()
        detector.close()


def analyze_loop(video: Path, model_path: Path, model_name: str, frames: int | None, result: LoopResult,
                 protocol_name: str = "standing-rotation") -> Iterator[None]:
    """The ``posecoach analyze`` pipeline over the same frames, then the session stored.

    A generator like :func:`bare_loop`; the last ``next()`` assembles the analysis
    document and saves it to a SessionStore in a temporary folder (timed as storage).
    """
    from posecoach.analysis.protocol import load_protocol
    from posecoach.capture.video_file import VideoFileSource
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
    from posecoach.session.analysis_doc import AnalysisRecorder
    from posecoach.session.coaching import RECORDED_DETECT_AHEAD, CoachingSession
    from posecoach.session.store import SessionStore

    protocol = load_protocol(protocol_name)
    stages = result.stages = {"decode": 0.0, "inference": 0.0, "estimation": 0.0, "coaching": 0.0,
                              "recording": 0.0, "storage": 0.0}
    clock = time.perf_counter
    with FirstFrames(VideoFileSource(video), frames) as source, \
            MediaPipePoseEstimator(model_path, num_poses=1) as detector, \
            tempfile.TemporaryDirectory(prefix="posecoach-bench-") as scratch:
        started_at = datetime.now(UTC).isoformat(timespec="seconds")
        recorder = AnalysisRecorder(source.info, model_name)
        steps = CoachingSession(detector, protocol, sinks=[recorder]).run(
            source, RECORDED_DETECT_AHEAD)
        while True:
            t0 = clock()
            step = next(steps, None)  # the last call closes the rep in progress
            if step is None:
                result.seconds += clock() - t0
                break
            for key, value in step.timings.items():
                stages[key] += value
            result.seconds += clock() - t0
            result.frames += 1
            yield
        t0 = clock()
        document = recorder.document()
        t1 = clock()
        with SessionStore(Path(scratch) / "bench.db") as store:
            store.save_analysis(document, started_at=started_at, model=model_name, live=False,
                                ended_at=datetime.now(UTC).isoformat(timespec="seconds"))
        t2 = clock()
        stages["recording"] += t1 - t0
        stages["storage"] += t2 - t1
        result.seconds += t2 - t0
        # decode and inference run ahead on threads of their own, so the stages overlap and
        # add up to more than the wall time: no "other" remainder
        result.extra = {"tracked_rate": document["tracking"]["rate"], "reps": len(document["reps"]),
                        "calibrated": document["calibration"] is not None,
                        "detect_ahead_frames": RECORDED_DETECT_AHEAD}


def interleave(loops: list[Iterator[None]], block: int) -> list[tuple[int, float]]:
    """Run the loops in turns of ``block`` frames each until all are done.

    Taking turns on the same stretch of video shares any background load between the
    loops, so their ratio holds on a busy machine. Returns (frames per loop so far, RSS MB)
    after each full turn, for the memory growth.
    """
    active = list(loops)
    samples: list[tuple[int, float]] = []
    done = 0
    while active:
        for loop in list(active):
            for _ in range(block):
                if next(loop, StopIteration) is StopIteration:
                    active.remove(loop)
                    break
        done += block
        samples.append((done, current_rss_mb()))
    return samples


# ---------------------------------------------------------------------------- start-up
def startup_probe(video: Path, model: str | None, protocol_name: str = "standing-rotation") -> int:
    """Child side of the start-up measurement: what ``posecoach analyze`` does up to its first frame.

    Prints one JSON line of wall-clock (``time.time()``) marks for the parent.
    """
    marks = {"entered": time.time()}
    from posecoach.analysis.protocol import load_protocol
    from posecoach.capture.video_file import VideoFileSource
    from posecoach.models import ensure_model, model_spec
    from posecoach.session.analysis_doc import AnalysisRecorder
    from posecoach.session.coaching import RECORDED_DETECT_AHEAD, CoachingSession

    protocol = load_protocol(protocol_name)
    VideoFileSource(video).close()
    name = model_spec(model).name
    model_path = ensure_model(name)
    marks["model_checked"] = time.time()
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
    with VideoFileSource(video) as source, MediaPipePoseEstimator(model_path) as detector:
        marks["model_loaded"] = time.time()
        steps = CoachingSession(detector, protocol, sinks=[AnalysisRecorder(source.info, name)]).run(
            source, RECORDED_DETECT_AHEAD)
        next(steps)
        marks["first_frame"] = time.time()
        steps.close()
    print(json.dumps(marks), flush=True)
    return 0


def measure_startup(video: Path, model: str) -> dict[str, float]:
    """Start ``posecoach bench --startup-probe`` in a fresh process; seconds to its first analysed frame."""
    started = time.time()
    completed = subprocess.run(
        [sys.executable, "-m", "posecoach", "bench", str(video), "--model", model, "--startup-probe"],
        capture_output=True, text=True, timeout=300)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"start-up probe failed: {tail}"}  # type: ignore[dict-item]
    marks = json.loads(lines[-1])
    return {"first_frame_s": round(marks["first_frame"] - started, 3),
            "python_and_imports_s": round(marks["entered"] - started, 3),
            "model_check_s": round(marks["model_checked"] - marks["entered"], 3),
            "model_load_s": round(marks["model_loaded"] - marks["model_checked"], 3),
            "first_step_s": round(marks["first_frame"] - marks["model_loaded"], 3)}


# ---------------------------------------------------------------------------- the whole bench
def run_bench(video: Path, model: str | None = None, frames: int | None = None, live: bool = True,
              minutes: float = 0.0, block: int = 30, lead_in_s: float = 4.5,
              protocol_name: str = "standing-rotation", say: Say | None = None) -> dict[str, Any]:
    """Run every measurement and return the report (a JSON-able dict).

    ``frames``: the first N frames of the video (all when None); ``block``: frames each
    loop runs before the other takes its turn; ``minutes`` > 0 adds the memory soak.
    """
    from posecoach.capture.video_file import VideoFileSource
    from posecoach.models import ensure_model, model_spec

    say = say or (lambda message: None)
    with VideoFileSource(video) as probe:
        info = probe.info
    name = model_spec(model).name
    model_path = ensure_model(name, progress=say)
    rss_start = current_rss_mb()
    say(f"start-up: a fresh process until its first analysed frame ({name} model)…")
    startup = measure_startup(video, name)
    say(f"bare PoseLandmarker loop and analyze pipeline, taking turns every {block} frames…")
    bare, analyzed = LoopResult(), LoopResult()
    samples = interleave([bare_loop(video, model_path, frames, bare),
                          analyze_loop(video, model_path, name, frames, analyzed, protocol_name)], max(1, block))
    steady = np.array(samples[1:-1] or samples, dtype=float)  # after the first turn (models loaded), before storage
    growth = growth_per_1000(steady[:, 0], steady[:, 1])
    ratio = analyzed.fps / bare.fps if bare.fps > 0 else 0.0
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "video": {"path": str(video), "fps": round(info.fps, 3), "width": info.width, "height": info.height,
                  "frames": analyzed.frames},
        "model": name,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "bare": bare.to_dict(),
        "analyze": analyzed.to_dict(),
        "ratio": round(ratio, 4),
        "overhead_ms_per_frame": round(1000 * (analyzed.seconds / max(analyzed.frames, 1)
                                               - bare.seconds / max(bare.frames, 1)), 3),
        "startup": startup,
        "memory": {"rss_start_mb": round(rss_start, 1), "rss_after_first_turn_mb": round(samples[0][1], 1),
                   "rss_after_loops_mb": round(samples[-1][1], 1),
                   "peak_rss_after_loops_mb": round(peak_rss_mb(), 1),
                   "loops_growth_mb_per_1000_frames": None if growth is None else round(growth, 3)},
        "live": None,
        "soak": None,
    }
    if live or minutes > 0:
        from posecoach.ui.live_bench import run_live
        if live:
            say("live: the window (offscreen) fed by the video like a camera, at real time…")
            report["live"] = run_live(video, name, frames=frames, lead_in_s=lead_in_s, protocol_name=protocol_name)
        if minutes > 0:
            say(f"soak: a {minutes:g}-minute live session, the video looping…")
            report["soak"] = run_live(video, name, frames=frames, lead_in_s=lead_in_s, minutes=minutes,
                                      protocol_name=protocol_name, trace_python=True)
    report["memory"]["peak_rss_mb"] = round(peak_rss_mb(), 1)
    report["targets"] = check_targets(report)
    return report


def run_bench_command(args: Any) -> int:
    """``posecoach bench`` (from cli.main)."""
    if args.startup_probe:
        return startup_probe(args.video, args.model)
    from posecoach.capture.video_file import VideoFileSource
    from posecoach.errors import PosecoachError

    if args.frames is not None and args.frames < 1:
        raise PosecoachError("--frames must be at least 1")
    VideoFileSource(args.video).close()  # a bad path fails here, with its one-line message

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run_bench(args.video, model=args.model, frames=args.frames, live=not args.no_live,
                       minutes=args.minutes, block=args.block, lead_in_s=args.lead_in, say=say)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(format_report(report))
    return 0
