"""Record a video's detected landmarks once and replay them, so estimator work can be
re-run without re-running the pose model. Files are keyed by video content and model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from posecoach.pose.mirror_views import PassesReadingOn
from posecoach.pose.types import PoseFrame

_NAN_IMAGE = np.full((33, 5), np.nan)
_NAN_WORLD = np.full((33, 3), np.nan)


def cache_key(video: Path, model: str, two_views: bool = True) -> str:
    """The file name for ``video``'s landmarks read with ``model``, from one view or two
    (``mirror_views.py``): the readings differ, so neither is reused for the other."""
    digest = hashlib.sha1()
    with open(video, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{Path(video).stem}-{digest.hexdigest()[:12]}-{model}-{'2views' if two_views else '1view'}.npz"


class RecordingDetector(PassesReadingOn):
    """Wrap a detector; remember the first person found in each frame."""

    def __init__(self, detector) -> None:
        self.detector = detector
        self.images: list[np.ndarray] = []
        self.worlds: list[np.ndarray] = []
        self.size = (0, 0)

    def detect(self, image: np.ndarray, t: float) -> list[PoseFrame]:
        people = self.detector.detect(image, t)
        self.size = (image.shape[1], image.shape[0])
        self.images.append(people[0].image if people else _NAN_IMAGE)
        self.worlds.append(people[0].world if people else _NAN_WORLD)
        return people[:1]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".part.npz")
        np.savez_compressed(scratch, image=np.array(self.images), world=np.array(self.worlds),
                            size=np.array(self.size))
        scratch.replace(path)


class ReplayDetector:
    """Serve recorded landmarks frame by frame, in the order they were recorded."""

    def __init__(self, path: Path) -> None:
        data = np.load(path)
        self.images = data["image"]
        self.worlds = data["world"]
        self.width, self.height = (int(v) for v in data["size"])
        self._next = 0

    def detect(self, image: np.ndarray, t: float) -> list[PoseFrame]:
        index = self._next
        self._next += 1
        if index >= len(self.images) or np.isnan(self.images[index][0, 0]):
            return []
        return [PoseFrame(t=t, image=self.images[index], world=self.worlds[index],
                          width=self.width, height=self.height)]
