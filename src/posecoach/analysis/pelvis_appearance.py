"""Pelvis appearance cue: how much the picture of the pelvis has changed since neutral.

MediaPipe's hip landmarks hardly move when the pelvis turns 10-20 degrees (they follow the
shoulders more than the hips), but the picture of the pelvis does change: its front turns,
shading and clothing folds move. A pure spine twist leaves it nearly untouched. So we keep
a small grey patch of the pelvis from the neutral stance and measure, each frame, the best
normalised cross-correlation (NCC) of the patch within a small search window anchored to
the feet (which stay planted). ``1 - NCC`` grows with the pelvis rotation; it is unsigned
(the sign comes from the trunk: the fault is the pelvis turning *with* the trunk).

Pure numpy: the caller passes the RGB frame as an array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PATCH_WIDTH = 40  # pixels after downsampling: the cue costs the same at any resolution


@dataclass(frozen=True)
class PelvisTemplate:
    patch: np.ndarray      # zero-mean, unit-norm grey patch (downsampled)
    x0: int                # top-left of the patch in full-resolution pixels
    y0: int
    width: int             # full-resolution size of the patch
    height: int
    step: int              # downsampling factor
    anchor_x: float        # ankle midpoint x (pixels) at neutral
    anchor_y: float


def _grey(image: np.ndarray, x0: int, y0: int, x1: int, y1: int, step: int) -> np.ndarray | None:
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 * step or y1 - y0 < 2 * step:
        return None
    crop = image[y0:y1, x0:x1].astype(np.float32)
    grey = crop @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if crop.ndim == 3 else crop
    hh, ww = (grey.shape[0] // step) * step, (grey.shape[1] // step) * step
    return _blurred(grey[:hh, :ww].reshape(hh // step, step, ww // step, step).mean(axis=(1, 3)))


def _blurred(grey: np.ndarray) -> np.ndarray:
    """A 3x3 binomial blur: the NCC then varies smoothly with sub-pixel shifts and ignores
    pixel noise and compression blocks (it halves the cue's noise on a still pelvis)."""
    padded = np.pad(grey, 1, mode="edge")
    rows = (padded[:-2] + 2.0 * padded[1:-1] + padded[2:]) * 0.25
    return (rows[:, :-2] + 2.0 * rows[:, 1:-1] + rows[:, 2:]) * 0.25


def _normalised(patch: np.ndarray) -> np.ndarray | None:
    centred = patch - patch.mean()
    norm = float(np.sqrt((centred ** 2).sum()))
    return centred / norm if norm > 1e-3 * centred.size else None


def make_template(image: np.ndarray, pixels: np.ndarray, torso_px: float) -> PelvisTemplate | None:
    """The neutral pelvis patch: from just above the hip line to a third of a torso below,
    the width of the hips. ``pixels`` are the (33, 2) landmark positions in pixels."""
    hip_l, hip_r = pixels[23], pixels[24]
    hip_x, hip_y = (hip_l + hip_r) / 2
    half = max(abs(hip_l[0] - hip_r[0]) * 0.3, 0.06 * torso_px)
    x0, x1 = int(round(hip_x - half)), int(round(hip_x + half))
    y0, y1 = int(round(hip_y - 0.05 * torso_px)), int(round(hip_y + 0.3 * torso_px))
    step = max(1, (x1 - x0) // PATCH_WIDTH)
    h, w = image.shape[:2]
    if x0 - step < 0 or y0 - step < 0 or x1 + step > w or y1 + step > h:
        return None
    # Blurred with one cell of its surroundings, as the same pixels are inside a search region.
    grey = _grey(image, x0 - step, y0 - step, x1 + step, y1 + step, step)
    if grey is None or grey.shape[0] < 6 or grey.shape[1] < 6:
        return None
    grey = grey[1:-1, 1:-1]
    patch = _normalised(grey)
    if patch is None:  # a flat patch (no texture, no light) cannot be followed
        return None
    ankles = (pixels[27] + pixels[28]) / 2
    return PelvisTemplate(patch, x0, y0, x1 - x0, y1 - y0, step, float(ankles[0]), float(ankles[1]))


def pelvis_change(template: PelvisTemplate, image: np.ndarray, pixels: np.ndarray,
                  search_frac: float = 0.25) -> float | None:
    """1 - best NCC of the neutral patch around its feet-anchored place; None if off-image."""
    ankles = (pixels[27] + pixels[28]) / 2
    dx = int(round(ankles[0] - template.anchor_x))
    dy = int(round(ankles[1] - template.anchor_y))
    step = template.step
    margin_x = max(step, int(template.width * search_frac))
    margin_y = max(step, int(template.height * search_frac / 2))
    x0 = template.x0 + dx - margin_x
    y0 = template.y0 + dy - margin_y
    h, w = image.shape[:2]
    if x0 < 0 or y0 < 0 or x0 + template.width + 2 * margin_x > w or y0 + template.height + 2 * margin_y > h:
        return None
    region = _grey(image, x0, y0, x0 + template.width + 2 * margin_x, y0 + template.height + 2 * margin_y, step)
    if region is None:
        return None
    ph, pw = template.patch.shape
    if region.shape[0] < ph or region.shape[1] < pw:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(region, (ph, pw))
    means = windows.mean(axis=(2, 3), keepdims=True)
    centred = windows - means
    norms = np.sqrt((centred ** 2).sum(axis=(2, 3)))
    scores = (centred * template.patch).sum(axis=(2, 3)) / np.maximum(norms, 1e-6)
    return float(min(1.0, max(0.0, 1.0 - _subpixel_peak(scores))))


def _subpixel_peak(scores: np.ndarray) -> float:
    """The maximum of ``scores`` refined by a parabola through its neighbours on each axis,
    so that a pelvis lying between two pixel positions is not scored as changed."""
    iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
    peak = float(scores[iy, ix])
    refined = peak
    for line, i in ((scores[iy, :], ix), (scores[:, ix], iy)):
        if 0 < i < len(line) - 1:
            before, after = float(line[i - 1]), float(line[i + 1])
            curvature = before - 2.0 * peak + after
            if curvature < 0.0:
                refined -= 0.125 * (before - after) ** 2 / curvature
    return min(refined, 1.0)
