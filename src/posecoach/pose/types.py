"""PoseFrame: one detected person, in plain numpy arrays (no third-party types)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PoseFrame:
    """Landmarks of one person in one frame.

    Attributes
    ----------
    t : seconds from the start of the source.
    image : (33, 5) array: x, y normalised to [0, 1] by image width and height,
        z (relative depth, roughly in units of image width, smaller = nearer the camera),
        visibility and presence in [0, 1].
    world : (33, 3) array: metres, origin between the hips, x to the image right,
        y down, z away from the camera (MediaPipe's learned, up-to-scale estimate).
    width, height : image size in pixels, to turn ``image`` into pixels.
    """

    t: float
    image: np.ndarray
    world: np.ndarray
    width: int
    height: int

    def pixels(self) -> np.ndarray:
        """(33, 2) landmark positions in pixels."""
        return self.image[:, :2] * np.array([self.width, self.height], dtype=float)

    @property
    def visibility(self) -> np.ndarray:
        return self.image[:, 3]

    @property
    def presence(self) -> np.ndarray:
        return self.image[:, 4]
