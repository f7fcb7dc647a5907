"""The live part of ``posecoach bench``: the real window, offscreen, fed by a video played like a camera.

A :class:`PacedFileCamera` makes each frame of the video appear at its time on the wall
clock and keeps only the newest one, as :class:`~posecoach.capture.camera.CameraSource`
does, so a slow consumer skips frames exactly as with a webcam. The real
:class:`~posecoach.ui.main_window.MainWindow` runs on it: worker thread (pose, estimator,
coach, guide, session log into a temporary database), overlay render thread, pull timer,
video view. Each frame's latency runs from its capture to the paint of the view that
shows it; a frame never painted is dropped (skipped by the worker, or overtaken before
the window pulled it). Everything kept per frame is of constant size (a ring of
timestamps, fixed histograms), so a long run (``minutes``) measures the application's
own memory growth; with ``trace_python`` tracemalloc names where Python memory grows.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
from PyQt6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer, qInstallMessageHandler  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

from posecoach.bench import Histogram, current_rss_mb, growth_per_1000, peak_rss_mb  # noqa: E402
from posecoach.capture.frame_source import Frame, SourceInfo  # noqa: E402
from posecoach.errors import SourceError  # noqa: E402
from posecoach.ui.messages import LatestSlot  # noqa: E402

_RING = 4096  # frames whose capture/take times are remembered (> any latency, in frames)


class PacedFileCamera:
    """A video file played like a camera: frames appear at their time, only the newest is kept.

    Parameters
    ----------
    path : the video.
    frames : play only the first N frames of the clip (each pass).
    minutes : loop the clip for this long, with continuing timestamps (0: one pass).
    lead_in_s : show the first frame still for this long first (the person framing and
        calibrating in front of a real camera).

    The clock starts at the first ``frames()`` call (after the window loaded the model).
    """

    def __init__(self, path: str | Path, frames: int | None = None, minutes: float = 0.0,
                 lead_in_s: float = 0.0) -> None:
        self.path = Path(path)
        self._capture = cv2.VideoCapture(str(self.path))
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise SourceError(f"{self.path} contains no readable video frames")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = fps if 1.0 < fps < 1000.0 else 30.0
        self.info = SourceInfo(path=f"camera:bench {self.path.name}", fps=fps, frames=None,
                               width=int(first.shape[1]), height=int(first.shape[0]), live=True)
        self._first = first
        self._pending: np.ndarray | None = first
        self._clip_frames = frames
        self._clip_index = 0
        self._lead = int(round(max(0.0, lead_in_s) * fps))
        self._total = int(round(minutes * 60.0 * fps)) if minutes > 0 else None
        self.ring_index = np.full(_RING, -1, dtype=np.int64)
        self.capture_t = np.zeros(_RING)
        self.taken_t = np.zeros(_RING)
        self.captured = 0
        self.taken = 0
        self.started: float | None = None
        self._latest: tuple[np.ndarray, int] | None = None
        self._cond = threading.Condition()
        self._ended = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def expected_s(self) -> float:
        """How long the source runs (seconds of video, lead-in included)."""
        if self._total is not None:
            return self._total / self.info.fps
        count = self._clip_frames or int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return (self._lead + count) / self.info.fps

    def _next_clip_frame(self) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            self._clip_index = 1
            return frame
        if self._clip_frames is None or self._clip_index < self._clip_frames:
            ok, frame = self._capture.read()
            if ok and frame is not None:
                self._clip_index += 1
                return frame
        if self._total is None:
            return None
        self._capture.release()  # loop: start the clip again
        self._capture = cv2.VideoCapture(str(self.path))
        ok, frame = self._capture.read()
        self._clip_index = 1
        return frame if ok else None

    def _run(self) -> None:
        fps = self.info.fps
        start = self.started = time.perf_counter()
        index = 0
        while not self._stopped and (self._total is None or index < self._total):
            bgr = self._first if index < self._lead else self._next_clip_frame()
            if bgr is None:
                break
            delay = start + index / fps - time.perf_counter()
            while delay > 0 and not self._stopped:
                time.sleep(min(delay, 0.05))
                delay = start + index / fps - time.perf_counter()
            slot = index % _RING
            with self._cond:
                self.ring_index[slot] = index
                self.capture_t[slot] = time.perf_counter()
                self.taken_t[slot] = np.nan
                self._latest = (bgr, index)
                self.captured += 1
                self._cond.notify_all()
            index += 1
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def frames(self) -> Iterator[Frame]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="posecoach-bench-camera", daemon=True)
            self._thread.start()
        fps = self.info.fps
        while True:
            with self._cond:
                while self._latest is None and not self._ended and not self._stopped:
                    self._cond.wait(timeout=0.5)
                if self._latest is None or self._stopped:
                    return
                bgr, index = self._latest
                self._latest = None
                self.taken_t[index % _RING] = time.perf_counter()
                self.taken += 1
            yield Frame(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t=index / fps, index=index)

    def capture_time(self, index: int) -> tuple[float, float] | None:
        """(captured, taken by the worker) perf_counter times of frame ``index``, if still remembered."""
        slot = index % _RING
        with self._cond:
            if self.ring_index[slot] != index:
                return None
            return float(self.capture_t[slot]), float(self.taken_t[slot])

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._capture.release()


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
        print(message, file=sys.stderr)


def _top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, count: int = 5) -> list[dict[str, Any]]:
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__))
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    return [{"where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}", "kb": round(s.size_diff / 1024, 1)}
            for s in stats[:count] if s.size_diff > 0]


def run_live(video: str | Path, model_name: str, frames: int | None = None, lead_in_s: float = 4.5,
             minutes: float = 0.0, protocol_name: str = "standing-rotation",
             trace_python: bool = False) -> dict[str, Any]:
    """Run the window on the video played like a camera; return latency, drops and memory."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "posecoach"])
    previous_handler = qInstallMessageHandler(_quiet_qt)
    try:
        return _run_live(app, video, model_name, frames, lead_in_s, minutes, protocol_name, trace_python)
    finally:
        qInstallMessageHandler(previous_handler)


def _run_live(app, video, model_name, frames, lead_in_s, minutes, protocol_name, trace_python) -> dict[str, Any]:
    from posecoach.session.store import SessionStore
    from posecoach.ui.main_window import AppOptions, MainWindow
    from posecoach.ui.perf import GuiHeartbeat
    from posecoach.ui.sources import SourceRequest, mediapipe_factory

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
