"""The live part of ``posecoach bench``: the real window, offscreen, fed by a video played like a camera.

A :class:`~posecoach.capture.paced_file.PacedFileCamera` plays the video like a camera.
The real :class:`~posecoach.ui.main_window.MainWindow` runs on it: worker thread (pose,
estimator, coach, guide, session log into a temporary database), overlay render thread,
pull timer, video view. Each frame's latency runs from its capture to the paint of the
view that shows it; a frame never painted is dropped (skipped by the worker, or overtaken
before the window pulled it). Everything kept per frame is of constant size (a ring of
timestamps, fixed histograms), so a long run (``minutes``) measures the application's
own memory growth; with ``trace_python`` tracemalloc names where Python memory grows.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer, qInstallMessageHandler
from PyQt6.QtWidgets import QApplication

from posecoach.capture.paced_file import PacedFileCamera
from posecoach.measure import Histogram, current_rss_mb, growth_per_1000, peak_rss_mb
from posecoach.session.updates import LatestSlot

logger = logging.getLogger(__name__)


class _TappedSlot(LatestSlot):
    """The renderer's output slot, remembering what the GUI thread last took from it."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: Any = None

    def get(self) -> tuple[int, Any]:
        got = super().get()
        self.taken = got[1]
        return got


class _DisplayProbe(QObject):
    """Times each new frame at the paint of the view that shows it."""

    def __init__(self, window, cameras: list[PacedFileCamera]) -> None:
        super().__init__(window)
        self.cameras = cameras
        self.latency = Histogram()    # capture -> painted
        self.pipeline = Histogram()   # taken by the worker -> painted
        self.inference = Histogram()  # of the frames shown
        self.render = Histogram()     # overlay render of the frames shown
        self.shown = 0
        self.first_shown: float | None = None
        self._pending: Any = None
        self._last_index = -1
        self._slot = _TappedSlot()
        self._slot.on_put = getattr(window.renderer.output, "on_put", None)
        window.renderer.output = self._slot  # before any frame: the worker is still loading the model
        view = window.view
        original = view.set_image

        def set_image(image) -> None:
            self._pending = self._slot.taken
            original(image)

        view.set_image = set_image
        view.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint and self._pending is not None:
            self._painted(self._pending, time.perf_counter())
            self._pending = None
        return False

    def _painted(self, rendered: Any, now: float) -> None:
        step = rendered.published.step
        index = step.frame.index
        if index == self._last_index or not self.cameras:
            return  # the same frame again (the overlay changed)
        self._last_index = index
        times = self.cameras[-1].capture_time(index)
        if times is None:
            return
        captured, taken = times
        self.shown += 1
        if self.first_shown is None:
            self.first_shown = now
        self.latency.add((now - captured) * 1000.0)
        if np.isfinite(taken):
            self.pipeline.add((now - taken) * 1000.0)
        self.inference.add(step.timings.get("inference", 0.0) * 1000.0)
        self.render.add(rendered.render_ms)


def _quiet_qt(mode, context, message: str) -> None:
    """Qt's messages, less the offscreen platform's notes about window hints."""
    if "propagateSizeHints" not in message:
        logger.warning("Qt: %s", message)


def _top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, count: int = 5) -> list[dict[str, Any]]:
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__))
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    return [{"where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}", "kb": round(s.size_diff / 1024, 1)}
            for s in stats[:count] if s.size_diff > 0]


def run_live(video: str | Path, model_name: str, frames: int | None = None, lead_in_s: float = 4.5,
             minutes: float = 0.0, protocol_name: str = "standing-rotation",
             trace_python: bool = False) -> dict[str, Any]:
    """Run the window on the video played like a camera; return latency, drops and memory.

    Without a running QApplication, one is made on Qt's offscreen platform (unless
    ``QT_QPA_PLATFORM`` says otherwise): the measurement needs no display.
    """
    app = QApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication([sys.argv[0] if sys.argv else "posecoach"])
    previous_handler = qInstallMessageHandler(_quiet_qt)
    try:
        return _run_live(app, video, model_name, frames, lead_in_s, minutes, protocol_name, trace_python)
    finally:
        qInstallMessageHandler(previous_handler)


def _run_live(app, video, model_name, frames, lead_in_s, minutes, protocol_name, trace_python) -> dict[str, Any]:
    from posecoach.session.sources import SourceRequest, mediapipe_factory
    from posecoach.session.store import SessionStore
    from posecoach.ui.main_window import AppOptions, MainWindow
    from posecoach.ui.perf import GuiHeartbeat

    cameras: list[PacedFileCamera] = []
    probe_camera = PacedFileCamera(video, frames=frames, minutes=minutes, lead_in_s=lead_in_s)
    expected_s = probe_camera.expected_s
    probe_camera.close()

    def open_camera() -> PacedFileCamera:
        camera = PacedFileCamera(video, frames=frames, minutes=minutes, lead_in_s=lead_in_s)
        cameras.append(camera)
        return camera

    with tempfile.TemporaryDirectory(prefix="posecoach-bench-live-") as scratch:
        db_path = Path(scratch) / "bench.db"
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        options = AppOptions(request=SourceRequest(factory=open_camera, live_factory=True),
                             protocol_name=protocol_name, detector_factory=mediapipe_factory(model_name),
                             model_name=model_name, db_path=db_path, realtime=True, audio=False,
                             probe_cameras=False, persist=False)
        opened = time.perf_counter()
        window = MainWindow(options, settings)
        probe = _DisplayProbe(window, cameras)
        window.show()
        heartbeat = GuiHeartbeat(parent=window)
        heartbeat.start()
        problems: list[str] = []
        loop = QEventLoop()
        window.session_ended.connect(lambda end: QTimer.singleShot(300, loop.quit))
        window.problem.connect(lambda message: (problems.append(message), loop.quit()))

        samples = np.full((int(expected_s) + 200, 2), np.nan)  # (frames processed, RSS MB) each second
        state = {"n": 0, "warm": None, "snapshot": None}
        warm_after_s = min(60.0, 0.2 * expected_s)

        def sample() -> None:
            worker = window.worker
            camera = cameras[-1] if cameras else None
            if worker is None or camera is None or camera.started is None or state["n"] >= len(samples):
                return
            samples[state["n"]] = (worker.frames_processed, current_rss_mb())
            state["n"] += 1
            if state["warm"] is None and time.perf_counter() - camera.started >= warm_after_s:
                state["warm"] = state["n"] - 1
                if trace_python:
                    tracemalloc.start()
                    state["snapshot"] = (tracemalloc.take_snapshot(), worker.frames_processed)

        sampler = QTimer(window)
        sampler.setInterval(1000)
        sampler.timeout.connect(sample)
        sampler.start()
        deadline = QTimer(window)
        deadline.setSingleShot(True)
        deadline.timeout.connect(lambda: (problems.append("timed out"), loop.quit()))
        deadline.start(int((expected_s + 180) * 1000))
        try:
            loop.exec()
            sample()
            python_growth = None
            top: list[dict[str, Any]] = []
            if state["snapshot"] is not None:
                snapshot, at_frames = state["snapshot"]
                end_snapshot = tracemalloc.take_snapshot()
                tracemalloc.stop()
                ignore = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__))
                grown = (sum(s.size for s in end_snapshot.filter_traces(ignore).statistics("filename"))
                         - sum(s.size for s in snapshot.filter_traces(ignore).statistics("filename")))
                done = max(1, window.worker.frames_processed - at_frames) if window.worker else 1
                python_growth = round(grown / 1024 * 1000 / done, 2)
                top = _top_growth(snapshot, end_snapshot)
            processed = window.worker.frames_processed if window.worker else 0
        finally:
            sampler.stop()
            heartbeat.stop()
            window.shutdown()
            window.close()
            window.deleteLater()
            app.processEvents()
        stored = _stored(db_path, SessionStore)

    camera = cameras[-1] if cameras else None
    captured = camera.captured if camera else 0
    taken = camera.taken if camera else 0
    seconds = (captured / camera.info.fps) if camera else 0.0
    used = samples[: state["n"]]
    warm = state["warm"] if state["warm"] is not None else 0
    steady = used[warm:]
    growth = growth_per_1000(steady[:, 0], steady[:, 1]) if minutes > 0 else None
    late = steady[len(steady) // 2:]
    late_growth = growth_per_1000(late[:, 0], late[:, 1]) if minutes > 0 else None
    by_minute = [{"minute": i // 60, "frames": int(used[i, 0]), "rss_mb": round(float(used[i, 1]), 1)}
                 for i in range(0, len(used), 60)] if minutes > 0 else []
    return {
        "source": "video played like a camera (newest frame only), real time",
        "problems": problems,
        "fps": camera.info.fps if camera else None,
        "seconds": round(seconds, 1),
        "lead_in_s": lead_in_s,
        "captured": captured,
        "processed": processed,
        "taken": taken,
        "shown": probe.shown,
        "drop_rate": round(1 - probe.shown / captured, 4) if captured else None,
        "skipped_by_worker_rate": round(1 - taken / captured, 4) if captured else None,
        "skipped_by_display_rate": round((taken - probe.shown) / captured, 4) if captured else None,
        "latency_ms": probe.latency.summary(),
        "pipeline_latency_ms": probe.pipeline.summary(),
        "inference_ms": probe.inference.summary(),
        "render_ms": probe.render.summary(),
        "window_to_first_frame_s": round(probe.first_shown - opened, 3) if probe.first_shown else None,
        "gui_max_block_ms": round(heartbeat.max_block_ms, 1),
        "stored": stored,
        "rss_mb": {"warm": round(float(steady[0, 1]), 1) if len(steady) else None,
                   "end": round(float(steady[-1, 1]), 1) if len(steady) else None,
                   "peak": round(peak_rss_mb(), 1)},
        "rss_growth_mb_per_1000_frames": None if growth is None else round(growth, 4),
        "rss_growth_second_half_mb_per_1000_frames": None if late_growth is None else round(late_growth, 4),
        "rss_by_minute": by_minute,
        "python_growth_kb_per_1000_frames": python_growth,
        "python_growth_top": top,
    }


def _stored(db_path: Path, store_class) -> dict[str, Any]:
    """What the live session saved: sessions, frames, reps."""
    if not db_path.exists():
        return {"sessions": 0, "frames": 0, "reps": 0}
    with store_class(db_path, create=False) as store:
        docs = [store.load_session(s.id) for s in store.list_sessions()]
    return {"sessions": len(docs), "frames": sum(len(d["frames"]) for d in docs),
            "reps": sum(len(d["reps"]) for d in docs)}
