"""MediaPipe PoseLandmarker (Tasks API, VIDEO mode): the only module importing mediapipe."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from posecoach.errors import ModelError
from posecoach.pose.mirror_views import MirrorBlend, unmirrored
from posecoach.pose.types import PoseFrame

MAX_SIDE = 1920  # pixels: larger frames are shrunk before inference

_native_logs = False  # let MediaPipe's own log lines through (``posecoach --verbose``)


def show_native_logs(show: bool = True) -> None:
    """Let MediaPipe's C++ log lines (glog, absl, TFLite) reach stderr; call before the first model."""
    global _native_logs
    _native_logs = show


def _quiet_native_logging() -> None:
    """Ask MediaPipe's C++ loggers for errors only, before mediapipe is first imported.

    glog and TensorFlow read these when the library loads; a level set in the
    environment by the user is kept. What still comes (TFLite's "INFO: ..." lines) is
    caught by :func:`_native_stderr_silenced` around model creation, warm-up and closing.
    """
    if not _native_logs:
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def preload() -> None:
    """Import MediaPipe now (slow, holds the GIL) so later frames do not wait for it."""
    _quiet_native_logging()
    from mediapipe.tasks.python import vision  # noqa: F401


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide MediaPipe's C++ chatter (it writes to fd 2 directly), unless native logs are shown."""
    if _native_logs:
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


class MediaPipePoseEstimator:
    """Detect people in RGB frames; frames must come with increasing timestamps.

    Parameters
    ----------
    model_path : a verified ``pose_landmarker_*.task`` file.
    num_poses : how many people MediaPipe may return per frame. 1 is fastest; more
        lets the caller keep following the same person when several are in view.
    max_side : frames whose longer side exceeds this many pixels (4K and up) are shrunk
        to it before inference. The model works on 256-pixel crops, so this changes the
        landmarks by well under 1% of the picture (measured on 4K renders: key joints
        within 0.5%), while it bounds the memory and copying per frame. The landmarks
        are normalised, and PoseFrame keeps the original width and height. None: never.
    two_views : read odd frames mirrored, with a second landmarker, and blend the two views
        (``mirror_views.py``): MediaPipe is not mirror-symmetric, and the blend cancels the
        part of its error that depends on the side, at the cost of one view. Settable: the
        coaching session sets it to what its posture's fusion model was measured with.
    """

    def __init__(self, model_path: str | Path, num_poses: int = 1,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 max_side: int | None = MAX_SIDE, two_views: bool = True) -> None:
        _quiet_native_logging()
        from mediapipe.tasks.python import BaseOptions, vision

        self._mp_image = __import__("mediapipe").Image
        self._mp_format = __import__("mediapipe").ImageFormat.SRGB
        self._options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._model_path = model_path
        self._landmarkers: list = []
        self._blend = MirrorBlend()
        self._two_views = False
        self._frames = 0
        self._last_ms = -1
        self._warmup = 0
        self.max_side = max_side
        self._add_landmarker()
        self.two_views = two_views

    def _add_landmarker(self) -> None:
        from mediapipe.tasks.python import vision
        try:
            with _native_stderr_silenced():
                self._landmarkers.append(vision.PoseLandmarker.create_from_options(self._options))
        except (RuntimeError, ValueError) as exc:
            self.close()
            raise ModelError(f"MediaPipe cannot load the pose model {self._model_path}: {exc}") from exc
        self._warmup += 3  # its first inferences log their graph set-up

    @property
    def two_views(self) -> bool:
        """Whether frames are read from the picture and its mirror image in turn, and blended."""
        return self._two_views

    @two_views.setter
    def two_views(self, value: bool) -> None:
        if value and len(self._landmarkers) < 2:
            self._add_landmarker()
        self._two_views = bool(value)
        self._blend.reset()

    def _prepared(self, image: np.ndarray) -> np.ndarray:
        """``image`` as MediaPipe takes it: contiguous uint8 RGB, at most ``max_side`` pixels."""
        data = np.asarray(image)
        if data.ndim == 2:
            data = np.repeat(data[:, :, None], 3, axis=2)
        elif data.shape[2] == 4:
            data = data[:, :, :3]
        if data.dtype != np.uint8:
            data = np.clip(np.nan_to_num(data), 0, 255).astype(np.uint8)
        height, width = data.shape[:2]
        longest = max(height, width)
        if self.max_side and longest > self.max_side:
            import cv2
            scale = self.max_side / longest
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            data = cv2.resize(data, size, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(data)

    def detect(self, image: np.ndarray, t: float) -> list[PoseFrame]:
        """All people found in ``image`` (H x W x 3 uint8 RGB) at time ``t`` seconds."""
        if not np.isfinite(t):
            t = (self._last_ms + 1) / 1000.0
        timestamp_ms = max(int(round(t * 1000.0)), self._last_ms + 1)
        self._last_ms = timestamp_ms
        height, width = np.shape(image)[:2]
        data = self._prepared(image)
        view = self._frames % 2 if self._two_views else 0
        self._frames += 1
        people = self._read(view, data, timestamp_ms, t, width, height)
        if not self._two_views:
            return people
        if people and self._blend.stale(1 - view, t):  # the other view has nothing recent: read both once
            others = self._read(1 - view, data, timestamp_ms, t, width, height)
            return self._blend.add_both(view, t, people, others)
        return self._blend.add(view, t, people)

    def _read(self, view: int, data: np.ndarray, timestamp_ms: int, t: float, width: int,
              height: int) -> list[PoseFrame]:
        """The people one view finds (view 1 reads the picture mirrored), as in the picture."""
        if view:
            import cv2
            data = cv2.flip(data, 1)  # ten times faster than numpy's reversed copy (0.2 ms at 640x480)
        frame = self._mp_image(image_format=self._mp_format, data=data)
        landmarker = self._landmarkers[view]
        if self._warmup > 0:  # the first inferences log their graph set-up
            self._warmup -= 1
            with _native_stderr_silenced():
                result = landmarker.detect_for_video(frame, timestamp_ms)
        else:
            result = landmarker.detect_for_video(frame, timestamp_ms)
        people = []
        for landmarks, world in zip(result.pose_landmarks, result.pose_world_landmarks):
            image_array = np.array(
                [(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in landmarks], dtype=float)
            world_array = np.array([(p.x, p.y, p.z) for p in world], dtype=float)
            pose = PoseFrame(t=t, image=image_array, world=world_array, width=width, height=height)
            people.append(unmirrored(pose) if view else pose)
        return people

    def close(self) -> None:
        landmarkers, self._landmarkers = getattr(self, "_landmarkers", []), []
        if landmarkers:
            with _native_stderr_silenced():  # it logs the accelerators it destroys
                for landmarker in landmarkers:
                    landmarker.close()

    def __enter__(self) -> MediaPipePoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # MediaPipe complains at interpreter exit if never closed
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter may be shutting down
            pass
