"""The FrameSource interface and the Frame it yields."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One RGB image and its time in seconds from the start of the source."""

    image: np.ndarray  # H x W x 3, uint8, RGB
    t: float
    index: int


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source before reading it."""

    path: str  # file path, or "camera:N"
    fps: float
    frames: int | None  # None for live cameras; an estimate for some files
    width: int
    height: int
    live: bool
    file: str | None = None  # absolute path of the video file holding these frames (a file, a recording)


class FrameSource(Protocol):
    """Anything that yields Frames in time order and can be closed."""

    info: SourceInfo

    def frames(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...
