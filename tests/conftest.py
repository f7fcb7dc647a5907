"""Shared test helpers: where ../shared is, and synthetic landmark sequences."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test with a clear reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: the shared test material (../shared) is not checked out beside the repo")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    from posecoach.models import ensure_model
    return ensure_model("full", progress=print)


_ANALYSED: dict[tuple[str, str, bool], dict] = {}


def analysed_video(video: Path, protocol_name: str, model_path: Path, gestures: bool = True) -> dict:
    """The analysis document of ``video`` with ``protocol_name``, made once per test process:
    MediaPipe on a clip is the suite's main cost, so every test that reads the same clip
    shares one run (and one ``xdist_group``, see ``clip_group``)."""
    key = (str(video), protocol_name, gestures)
    if key not in _ANALYSED:
        from posecoach.analysis.gestures import GestureSettings
        from posecoach.analysis.protocol import load_protocol
        from posecoach.session.analyze import analyze_video

        _ANALYSED[key] = analyze_video(video, load_protocol(protocol_name), model_path, progress=False,
                                       gestures=GestureSettings() if gestures else None).document
    return _ANALYSED[key]


def analysed_clip(name: str, model_path: Path) -> dict:
    """``analysed_video`` of ``../shared/NAME.mp4`` (e.g. "synth/c06_broken_hold"), standing drill."""
    return analysed_video(shared_path(*f"{name}.mp4".split("/")), "standing-rotation", model_path)


def clip_group(name: str) -> pytest.MarkDecorator:
    """Tests of one clip run in one pytest-xdist worker, so its analysis is made once."""
    return pytest.mark.xdist_group(name.replace("/", "-"))


# A simple rigid body in metres (x: person's left, y: down, z: away from the camera).
_BODY = {
    0: (0.0, -0.62, -0.10),                 # nose
    2: (0.03, -0.66, -0.08), 5: (-0.03, -0.66, -0.08),
    7: (0.07, -0.63, 0.0), 8: (-0.07, -0.63, 0.0),
    11: (0.19, -0.45, 0.0), 12: (-0.19, -0.45, 0.0),
    13: (0.12, -0.30, -0.22), 14: (-0.12, -0.30, -0.22),
    15: (0.03, -0.34, -0.38), 16: (-0.03, -0.34, -0.38),
    23: (0.12, 0.05, 0.0), 24: (-0.12, 0.05, 0.0),
    25: (0.11, 0.50, -0.04), 26: (-0.11, 0.50, -0.04),
    27: (0.12, 0.92, 0.0), 28: (-0.12, 0.92, 0.0),
}
_UPPER = {0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16}
_HEAD = {0, 2, 5, 7, 8}
_PELVIS = {23, 24}


def _yaw(point: tuple[float, float, float], deg: float) -> tuple[float, float, float]:
    a = math.radians(deg)
    x, y, z = point
    # positive yaw = toward the person's right: the left side (x > 0) comes nearer (z falls)
    return (x * math.cos(a) + z * math.sin(a), y, -x * math.sin(a) + z * math.cos(a))


def synthetic_pose(trunk_deg: float, pelvis_deg: float = 0.0, width: int = 640, height: int = 480,
                   distance: float = 2.5, noise: float = 0.0, rng: np.random.Generator | None = None,
                   hips_visible: bool = True, head_deg: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(image (33, 5), world (33, 3)) arrays of the rigid body seen by a pinhole camera; the
    head turns with the trunk, or by ``head_deg`` when given (the eyes kept on the screen: 0)."""
    focal = 500.0 * width / 640.0
    image = np.zeros((33, 5))
    world = np.zeros((33, 3))
    image[:, 3:] = 0.99
    for index, point in _BODY.items():
        yaw = trunk_deg if index in _UPPER else pelvis_deg if index in _PELVIS else 0.0
        if head_deg is not None and index in _HEAD:
            yaw = head_deg
        x, y, z = _yaw(point, yaw)
        depth = distance + z
        image[index, 0] = (focal * x / depth + width / 2) / width
        image[index, 1] = (focal * (y + 0.1) / depth + height / 2) / height
        image[index, 2] = z * focal / (distance * width)
        world[index] = (x, y, z)
    for index in range(33):  # unlisted points sit on the nose
        if index not in _BODY:
            image[index] = image[0]
            world[index] = world[0]
    if noise and rng is not None:
        image[:, :2] += rng.normal(0.0, noise, size=(33, 2))
        world += rng.normal(0.0, noise * 2, size=(33, 3))
    if not hips_visible:
        image[[23, 24], 3:] = 0.05
        image[[23, 24], 1] = 1.1
    return image, world
