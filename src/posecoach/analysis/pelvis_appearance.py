"""Pelvis appearance cue: how much the picture of the pelvis has changed since neutral.

MediaPipe's hip landmarks hardly move when the pelvis turns 10-20 degrees (they follow the
shoulders more than the hips), but the picture of the pelvis does change: the crotch and
the tops of the thighs turn, shading and folds move. A pure spine twist leaves them nearly
untouched. So we keep a small grey patch of the pelvis from a neutral moment and measure,
each frame, the best normalised cross-correlation (NCC) of the patch within a small search
window anchored to the feet (which stay planted). ``1 - NCC`` grows with the pelvis turn;
it is unsigned (the sign comes from the trunk: the fault is the pelvis turning *with* it).

What keeps it honest in a real room (``PelvisAppearance``):

- The patch lies *below* the waistband (the crotch and the tops of the thighs), and below a
  shirt's hem when one hangs over the hips (found as a colour step across the whole body):
  a loose hem twists with the chest.
- The neutral picture is taken again at every pause at centre (trunk back within a few
  degrees, still): the pelvis faces forward there, and slow changes of light, exposure or
  clothing between reps no longer count as a turn.
- The cue declines to read (``trusted`` False, with a reason) while the hands or forearms
  are over the patch, and after the light jumps (a lamp switched on): the neutral picture's
  light is gone until the next pause at centre. Slow exposure drift does not matter: NCC
  ignores gain.
- A picture can change without the pelvis turning: the soft body around the hips twisting
  with the trunk, a shadow moving over plain trousers. A pelvis turned with the trunk also
  *stretches* its picture one way: the patch is mostly the insides of the thighs, and as the
  pelvis turns to the person's right the inside of their right thigh (image left) comes to face
  the camera and widens while the left one's turns away and narrows. So while the picture reads
  a turn, each half of the neutral patch is matched at several sideways stretches
  (``halves_stretch``); a picture whose halves stretch the other way from the trunk's turn is
  not a turned pelvis (``CueProblem.NOT_A_TURN``).
- Light shading moving over plain, light trousers changes the grey picture as much as a
  turned pelvis does (the soft body around the hips of a heavy person twisting with the
  trunk), while the picture's fine structure (edges, folds, the crotch line) stays. A turned
  pelvis moves that structure: on 11 of 12 rendered turns its shading-free picture (log
  intensity less its local mean) changed 3.3-5.7 times as much as its grey one, a moving
  shading's 0.5-0.9 times. So the change read is at most the shading-free change over
  ``shading_ratio`` (``shading_free_change``).
- A plain patch (dark, one-coloured trousers in a dim room) is at the mercy of camera noise
  and compression, which re-encode it whenever anything moves nearby: the reading carries
  how plain the patch is (``plainness``: nominal noise over the patch's contrast, squared),
  and the fusion discounts the change by it. The change measured at neutral right after
  each new template is reported too (``noise``).

Pure numpy: the caller passes the RGB frame as an array.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from posecoach.analysis.geometry import L_ANKLE, L_ELBOW, L_HIP, L_KNEE, L_WRIST, R_ANKLE, R_ELBOW, R_HIP, R_KNEE, R_WRIST

_GREY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # RGB to luma (Rec. 601)
PATCH_WIDTH = 40  # pixels after downsampling: the cue costs the same at any resolution


class PatchRegion(StrEnum):
    """Which picture stands for the pelvis.

    ``crotch``: below the hip line between the thighs (standing, seated: the lap).
    ``front_thigh``: the upper thigh of the leg in front (half-kneeling), which is fixed to
    the pelvis and swings sideways when the pelvis turns; the front knee is the higher one.
    """

    CROTCH = "crotch"
    FRONT_THIGH = "front_thigh"


class CueProblem(StrEnum):
    """Why the pelvis picture is not read in a frame."""

    NO_TEMPLATE = "no_template"          # no neutral picture yet (or a flat, textureless one)
    OFF_IMAGE = "off_image"              # the search region leaves the picture
    HANDS_OVER_PELVIS = "hands_over_pelvis"
    LIGHT_CHANGING = "light_changing"
    NOT_A_TURN = "not_a_turn"            # it changed, but its halves stretch against the trunk's turn
    SIDES_MIXED = "sides_mixed"          # the shoulder line crossed over: the pose's sides (and hips) are not the body's


@dataclass(frozen=True)
class AppearanceSettings:
    """Where the patch lies and when the cue is trusted (lengths in torso heights)."""

    band_top: float = 0.12            # below the hip line: under the waistband...
    hem_clearance: float = 0.05       # ...and this far below a shirt's hem found lower down: a
                                      # loose hem hangs to the crotch and twists with the chest.
                                      # Chosen: the crotch's turn shows just below the hem, so
                                      # 0.08 (session 10) hid it. On 7 loose-shirt renders
                                      # (d02, w01, hm00-hm04; docs/measurements.md "Session 21")
                                      # 0.05 caught hm01's 15 deg turn that 0.08 missed and read
                                      # d02's for its whole hold (pelvis MAE 2.49 -> 1.14), with
                                      # no still rep flagged either way; 0.14-0.20 (session 10)
                                      # had been worse
    hem_min_step: float = 25.0        # a colour step (0-255, any channel) this large across rows is a hem...
    hem_search_depth: float = 0.30    # ...looked for down to this far below the hip line (a long shirt
                                      # hangs to the crotch or past it: 0.12-0.14 on a render)...
    hem_level_tolerance: float = 0.05  # ...when both thighs show one too, this close in height: a hem
                                      # crosses the whole body, the crotch only the gap between the legs
    band_bottom: float = 0.40
    band_half_width: float = 0.25     # of the hip width (at least ``min_half_width``): the crotch
    min_half_width: float = 0.06
    search_frac: float = 0.25         # search margin, of the patch width (half that vertically)...
    drift_margin: float = 0.07        # ...and at least this either way: MediaPipe's lower-body points
                                      # drift by up to ~0.07 while the feet stay planted (a turned
                                      # trunk pulls them: 5-6 pixels in a 640x360 picture), and a
                                      # tighter search reads that drift as a turn. 0 for the front
                                      # thigh, whose sideways swing is the signal.
    window_s: float = 0.2             # the cue is the minimum over this window: brief glitches vanish
    refresh_trunk_deg: float = 4.0    # a pause at centre: |trunk| within this...
    refresh_still_s: float = 0.3      # ...for this long renews the neutral picture
    noise_window_s: float = 0.5       # after a new template, the change measured this long is noise
    occlusion_margin: float = 0.08    # hands or forearms this close to the patch cover it
    light_jump: float = 0.08          # the picture's brightness changing this much (relative)...
    light_jump_s: float = 0.15        # ...within this time is a light jump (a lamp), not drift:
                                      # the cue is not read until the next neutral picture
    nominal_noise: float = 2.0        # grey levels of camera noise a plain patch is judged against
    check_stretch: bool = True        # judge whether a changed picture stretches as a turned pelvis
                                      # does (standing: the crotch seen from the front)
    stretch_every_s: float = 0.1      # the halves' stretch is measured this often (2-12 ms each)...
    stretch_window_s: float = 1.0     # ...and judged on its median over this long...
    stretch_tolerance: float = 0.03   # ...and contradicts the trunk's turn past this much (chosen:
                                      # on 47 rendered clips no pelvis turned 12-25 deg lost its fault
                                      # with 0.03; with 0 one under a loose shirt's hem did)
    # The change read is at most the shading-free picture's change over this (0: off). Chosen,
    # not fitted: over their holds (medians), 10 of 11 pelvises turned 12-25 deg not under a hem
    # changed their shading-free picture 3.8-5.7 times as much as their grey one (d02's under a
    # hem 3.3; the 11th, t04's, a turn under the same moving shading as below, 1.4, still read
    # 20 deg), and the five still pelvises of two heavy bodies in light trousers that read
    # 17-33 deg 0.5-0.9 times (docs/measurements.md, "Session 18"). 3 leaves the turns' readings
    # alone.
    shading_ratio: float = 3.0
    region: PatchRegion = PatchRegion.CROTCH
    thigh_span: tuple[float, float] = (0.2, 0.95)   # front thigh: share of the hip-to-knee line
    thigh_half_width: float = 0.6     # front thigh: of the hip width, both outlines in the patch


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
    contrast: float = 0.0  # standard deviation of the patch's grey levels (0-255)
    below_hem: bool = False  # a shirt's hem hangs below the hip line: the patch lies below it
    torso_px: float = 0.0    # the torso height (pixels) it was taken at: the search's scale
    shading_free: np.ndarray | None = None  # the patch's shading-free picture (zero-mean, unit-norm)


@dataclass(frozen=True)
class AppearanceReading:
    """One frame's reading, or the reason the picture was not read.

    ``change``: how much the pelvis picture differs from neutral (0 = the same), its minimum
    over a short window; ``plainness``: how much camera noise can move it (nominal noise over
    the patch's contrast, squared); ``noise``: the change measured at neutral right after the
    template was taken. How these make an angle is the fusion model's.
    """

    change: float | None
    problem: CueProblem | None = None
    plainness: float = 0.0
    noise: float = 0.0

    @property
    def trusted(self) -> bool:
        return self.problem is None and self.change is not None


def _grey(image: np.ndarray, x0: int, y0: int, x1: int, y1: int, step: int) -> np.ndarray | None:
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 * step or y1 - y0 < 2 * step:
        return None
    hh, ww = ((y1 - y0) // step) * step, ((x1 - x0) // step) * step
    crop = image[y0:y0 + hh, x0:x0 + ww].astype(np.float32)
    # Cell means first, then the grey weights: the same numbers, a step^2 smaller product.
    if crop.ndim == 3:
        cells = crop.reshape(hh // step, step, ww // step, step, crop.shape[2]).mean(axis=(1, 3))
        return _blurred(cells @ _GREY_WEIGHTS[:cells.shape[2]])
    return _blurred(crop.reshape(hh // step, step, ww // step, step).mean(axis=(1, 3)))


def _blurred(grey: np.ndarray) -> np.ndarray:
    """A 3x3 binomial blur: the NCC then varies smoothly with sub-pixel shifts and ignores
    pixel noise and compression blocks."""
    rows = np.empty_like(grey)  # edges repeat the border pixel
    rows[1:-1] = (grey[:-2] + 2.0 * grey[1:-1] + grey[2:]) * 0.25
    rows[0] = (3.0 * grey[0] + grey[1]) * 0.25
    rows[-1] = (grey[-2] + 3.0 * grey[-1]) * 0.25
    out = np.empty_like(rows)
    out[:, 1:-1] = (rows[:, :-2] + 2.0 * rows[:, 1:-1] + rows[:, 2:]) * 0.25
    out[:, 0] = (3.0 * rows[:, 0] + rows[:, 1]) * 0.25
    out[:, -1] = (rows[:, -2] + 3.0 * rows[:, -1]) * 0.25
    return out


def _normalised(patch: np.ndarray, flat_per_cell: float = 1e-3) -> np.ndarray | None:
    """``patch`` centred and scaled to unit norm; None when flatter than ``flat_per_cell`` per
    cell (grey levels: no texture to follow; 0 for a part of a patch already normalised)."""
    centred = patch - patch.mean()
    norm = float(np.sqrt((centred ** 2).sum()))
    return centred / norm if norm > max(flat_per_cell * centred.size, 1e-9) else None


def patch_box(pixels: np.ndarray, torso_px: float, settings: AppearanceSettings | None = None,
              top: float | None = None) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the pelvis patch for landmark ``pixels`` (33 x 2, in pixels);
    ``top`` (torso heights below the hip line) moves its upper edge down, below a hem."""
    s = settings or AppearanceSettings()
    hip_l, hip_r = pixels[L_HIP], pixels[R_HIP]
    if s.region == PatchRegion.FRONT_THIGH:
        return _front_thigh_box(pixels, torso_px, s, top)
    hip_x, hip_y = (hip_l + hip_r) / 2
    half = max(abs(hip_l[0] - hip_r[0]) * s.band_half_width, s.min_half_width * torso_px)
    top = s.band_top if top is None else max(top, s.band_top)
    bottom = s.band_bottom + (top - s.band_top)
    return (int(round(hip_x - half)), int(round(hip_y + top * torso_px)),
            int(round(hip_x + half)), int(round(hip_y + bottom * torso_px)))


def _front_thigh_box(pixels: np.ndarray, torso_px: float, s: AppearanceSettings,
                     top: float | None) -> tuple[int, int, int, int]:
    """The front thigh's patch: the leg whose knee is higher in the picture (the back knee is
    on the floor), from ``thigh_span[0]`` to ``thigh_span[1]`` of its hip-to-knee line (but
    below a hem), ``thigh_half_width`` hip widths either side of it."""
    front_right = pixels[R_KNEE][1] < pixels[L_KNEE][1]
    hip = pixels[R_HIP] if front_right else pixels[L_HIP]
    knee = pixels[R_KNEE] if front_right else pixels[L_KNEE]
    half = max(abs(pixels[L_HIP][0] - pixels[R_HIP][0]) * s.thigh_half_width, s.min_half_width * torso_px)
    drop = max(float(knee[1] - hip[1]), 0.15 * torso_px)
    y0 = hip[1] + s.thigh_span[0] * drop
    if top is not None:
        y0 = max(y0, hip[1] + top * torso_px)
    y1 = max(hip[1] + s.thigh_span[1] * drop, y0 + 0.1 * torso_px)
    cx = hip[0] + 0.5 * (s.thigh_span[0] + s.thigh_span[1]) * (knee[0] - hip[0])
    return int(round(cx - half)), int(round(y0)), int(round(cx + half)), int(round(y1))


def hem_below_hips(image: np.ndarray, pixels: np.ndarray, torso_px: float,
                   settings: AppearanceSettings | None = None) -> float | None:
    """Where the shirt ends over the hips: the first strong colour step across rows down the
    body's middle (shirt to trousers) that both thighs show too, at about the same height, in
    torso heights below the hip line; None when none is found. A loose hem twists with the
    chest, so the pelvis patch must start below it. The step between the legs that the
    crotch makes (trousers to the room behind, 0.14-0.24 below MediaPipe's hip line on the
    renders) is not a hem: over the thighs the trousers go on (their steps there: 1-19,
    against 57-90 under a loose hem)."""
    s = settings or AppearanceSettings()
    hip_l, hip_r = pixels[L_HIP], pixels[R_HIP]
    hip_x, hip_y = (hip_l + hip_r) / 2
    half = max(2, int(abs(hip_l[0] - hip_r[0]) * s.band_half_width))
    y0, y1 = int(hip_y - 0.05 * torso_px), int(hip_y + s.hem_search_depth * torso_px)
    h, w = image.shape[:2]
    columns = [hip_x, hip_l[0], hip_r[0]]   # the body's middle, then over each thigh
    if y0 < 5 or y1 + 5 > h or image.ndim != 3 or min(columns) - half < 0 or max(columns) + half > w:
        return None

    def steps(cx: float) -> np.ndarray:
        """The colour change (any channel) from 4 rows to the 4 rows 6 below, per row; the
        rows' mean colours, so a fabric's texture averages out and a colour's edge stays."""
        rows = image[y0 - 5:y1 + 5, int(cx - half):int(cx + half)].astype(np.float32).mean(axis=1)
        cumulative = np.concatenate([np.zeros((1, rows.shape[1])), np.cumsum(rows, axis=0)])
        blocks = (cumulative[4:] - cumulative[:-4]) / 4                     # blocks[i]: rows i..i+3
        return np.abs(blocks[8:] - blocks[:-8]).max(axis=1)                  # [j]: across row y0 + j

    middle, *thighs = (steps(cx) for cx in columns)
    near = max(1, int(s.hem_level_tolerance * torso_px))
    for row in np.flatnonzero(middle >= s.hem_min_step):
        lo, hi = max(0, row - near), row + near + 1
        if all(thigh[lo:hi].max() >= s.hem_min_step for thigh in thighs):
            edge = row + int(np.argmax(middle[row:row + near + 1]))   # where the step is sharpest
            return float((y0 + edge - hip_y) / torso_px)
    return None


def make_template(image: np.ndarray, pixels: np.ndarray, torso_px: float,
                  settings: AppearanceSettings | None = None) -> PelvisTemplate | None:
    """The neutral pelvis patch (see ``patch_box``), below any hem; None when off the picture or flat."""
    s = settings or AppearanceSettings()
    hem = hem_below_hips(image, pixels, torso_px, s)
    x0, y0, x1, y1 = patch_box(pixels, torso_px, s, None if hem is None else hem + s.hem_clearance)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    step = max(1, (x1 - x0) // PATCH_WIDTH)
    h, w = image.shape[:2]
    if x0 - step < 0 or y0 - step < 0 or x1 + step > w or y1 + step > h:
        return None
    # Blurred with one cell of its surroundings, as the same pixels are inside a search region.
    grey = _grey(image, x0 - step, y0 - step, x1 + step, y1 + step, step)
    if grey is None or grey.shape[0] < 6 or grey.shape[1] < 6:
        return None
    inner = grey[1:-1, 1:-1]
    patch = _normalised(inner)
    if patch is None:  # a flat patch (no texture, no light) cannot be followed
        return None
    ankles = (pixels[L_ANKLE] + pixels[R_ANKLE]) / 2
    pad = _SHADING_PAD * step
    wide = _grey(image, x0 - pad, y0 - pad, x1 + pad, y1 + pad, step) if s.shading_ratio > 0 else None
    shading_free = None
    if wide is not None and wide.shape == (inner.shape[0] + 2 * _SHADING_PAD, inner.shape[1] + 2 * _SHADING_PAD):
        shading_free = _normalised(_shading_free(wide)[_SHADING_PAD:-_SHADING_PAD, _SHADING_PAD:-_SHADING_PAD], 0.0)
    return PelvisTemplate(patch, x0, y0, x1 - x0, y1 - y0, step, float(ankles[0]), float(ankles[1]),
                          float(inner.std()), hem is not None and hem > 0.0, float(torso_px), shading_free)


def _search_region(template: PelvisTemplate, image: np.ndarray, pixels: np.ndarray,
                   search_frac: float, drift_margin: float, pad_cells: int = 0) -> np.ndarray | None:
    """The grey cells around the patch's feet-anchored place (see ``pelvis_change``), with
    ``pad_cells`` more on every side; None if off-image."""
    ankles = (pixels[L_ANKLE] + pixels[R_ANKLE]) / 2
    dx = int(round(ankles[0] - template.anchor_x))
    dy = int(round(ankles[1] - template.anchor_y))
    step = template.step
    drift = int(drift_margin * template.torso_px)
    margin_x = max(step, int(template.width * search_frac), drift) + pad_cells * step
    margin_y = max(step, int(template.height * search_frac / 2), drift) + pad_cells * step
    x0 = template.x0 + dx - margin_x
    y0 = template.y0 + dy - margin_y
    h, w = image.shape[:2]
    if x0 < 0 or y0 < 0 or x0 + template.width + 2 * margin_x > w or y0 + template.height + 2 * margin_y > h:
        return None
    region = _grey(image, x0, y0, x0 + template.width + 2 * margin_x, y0 + template.height + 2 * margin_y, step)
    ph, pw = template.patch.shape
    if region is None or region.shape[0] < ph or region.shape[1] < pw:
        return None
    return region.astype(np.float64)


def _ncc_scores(region: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """The NCC of a zero-mean, unit-norm ``patch`` at every place in ``region``."""
    ph, pw = patch.shape
    windows = np.lib.stride_tricks.sliding_window_view(region, (ph, pw))
    # The patch has zero mean and unit norm, so a window's own mean drops out of the dot
    # product, and its centred norm follows from its sums, which summed-area tables give
    # for every window at once: no centred copy of every window.
    dots = np.einsum("ijkl,kl->ij", windows, patch)
    sums, squares = _window_sums(region, ph, pw), _window_sums(region * region, ph, pw)
    norms = np.sqrt(np.maximum(squares - sums * sums / (ph * pw), 0.0))
    return dots / np.maximum(norms, 1e-6)


def pelvis_change(template: PelvisTemplate, image: np.ndarray, pixels: np.ndarray,
                  search_frac: float = 0.25, drift_margin: float = 0.0) -> float | None:
    """1 - best NCC of the neutral patch around its feet-anchored place; None if off-image.
    The search reaches ``search_frac`` of the patch's width (half that of its height), and at
    least ``drift_margin`` torso heights, either way."""
    region = _search_region(template, image, pixels, search_frac, drift_margin)
    return None if region is None else _change(region, template.patch)


def _change(region: np.ndarray, patch: np.ndarray) -> float:
    """1 - the best NCC of ``patch`` within ``region``, refined between cells."""
    return float(min(1.0, max(0.0, 1.0 - _subpixel_peak(_ncc_scores(region, patch)))))


# The local mean the shading-free picture subtracts: a box this many cells wide (of the
# patch's 40), broad against the crotch line and the folds, narrow against the shading.
SHADING_BOX = 11
_SHADING_PAD = SHADING_BOX // 2 + 1   # cells read beyond a picture for its local mean (and blur)


def _shading_free(grey: np.ndarray) -> np.ndarray:
    """Log intensity less its mean over a ``SHADING_BOX`` box: a smooth change of light (a
    shadow, shading moving over a curved surface) drops out, edges and folds stay."""
    log = np.log1p(np.maximum(grey, 0.0))
    half = SHADING_BOX // 2
    padded = np.pad(log, half, mode="reflect")
    return log - _window_sums(padded, SHADING_BOX, SHADING_BOX) / (SHADING_BOX * SHADING_BOX)


def both_changes(template: PelvisTemplate, image: np.ndarray, pixels: np.ndarray,
                 search_frac: float = 0.25, drift_margin: float = 0.0) -> tuple[float | None, float | None]:
    """``pelvis_change`` and the same for the neutral patch's shading-free picture, from one
    read of the picture; the second is None when the template has none or the wider read
    leaves the picture."""
    if template.shading_free is not None:
        wide = _search_region(template, image, pixels, search_frac, drift_margin, pad_cells=_SHADING_PAD)
        if wide is not None:
            cut = slice(_SHADING_PAD, -_SHADING_PAD)
            free = _shading_free(wide)[cut, cut]
            ph, pw = template.shading_free.shape
            if free.shape[0] >= ph and free.shape[1] >= pw:
                return _change(wide[cut, cut], template.patch), _change(free, template.shading_free)
    return pelvis_change(template, image, pixels, search_frac, drift_margin), None


def shading_free_change(template: PelvisTemplate, image: np.ndarray, pixels: np.ndarray,
                        search_frac: float = 0.25, drift_margin: float = 0.0) -> float | None:
    """1 - best NCC of the neutral patch's shading-free picture within the same search as
    ``pelvis_change``; None when off-image or when the template has none."""
    return both_changes(template, image, pixels, search_frac, drift_margin)[1]


# Sideways stretches each half of the neutral patch is tried at (``halves_stretch``): the
# halves of c04's pelvis turned 20-25 deg differed by 0.04-0.24 from frame to frame.
STRETCHES = np.linspace(0.85, 1.15, 7)


def _stretched(region: np.ndarray, factor: float) -> np.ndarray:
    """``region`` stretched sideways by ``factor`` about its middle (linear interpolation): a
    half that matches it best at ``factor`` is seen narrowed by about that much."""
    width = region.shape[1]
    centre = (width - 1) / 2
    source = np.clip(centre + (np.arange(width) - centre) / factor, 0.0, width - 1.0)
    left = np.minimum(source.astype(int), width - 2) if width > 1 else np.zeros(width, dtype=int)
    share = source - left
    right = np.minimum(left + 1, width - 1)
    return region[:, left] * (1.0 - share) + region[:, right] * share


def _best_stretch(region: np.ndarray, half: np.ndarray) -> float:
    """The sideways stretch of ``region`` under which ``half`` matches it best (refined between
    the tried stretches by a parabola)."""
    scores = np.array([_ncc_scores(_stretched(region, f), half).max() for f in STRETCHES])
    i = int(np.argmax(scores))
    best = float(STRETCHES[i])
    if 0 < i < len(STRETCHES) - 1:
        curvature = scores[i - 1] - 2.0 * scores[i] + scores[i + 1]
        if curvature < 0.0:
            best += 0.5 * (scores[i - 1] - scores[i + 1]) / curvature * float(STRETCHES[1] - STRETCHES[0])
    return best


def halves_stretch(template: PelvisTemplate, image: np.ndarray, pixels: np.ndarray,
                   search_frac: float = 0.25, drift_margin: float = 0.0) -> float | None:
    """How much more the picture is stretched sideways under the left half of the neutral
    patch than under its right half (image left and right; 0: alike); None if off-image or
    flat. A pelvis turned to the person's right shows the inside of their right thigh (image
    left) more and of the left one less: positive then, negative on a turn to their left.
    Each half is looked for on its own side of the search region."""
    region = _search_region(template, image, pixels, search_frac, drift_margin)
    if region is None:
        return None
    patch = template.patch
    half = patch.shape[1] // 2
    left, right = _normalised(patch[:, :half], 0.0), _normalised(patch[:, -half:], 0.0)
    if left is None or right is None or half < 3:
        return None
    margin = (region.shape[1] - patch.shape[1]) // 2   # the search's reach either way
    own = half + 2 * margin + 1
    # the stretch of the region that undoes the picture's: the picture's own is its inverse
    return _best_stretch(region[:, -own:], right) - _best_stretch(region[:, :own], left)


def _window_sums(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """The sum of every ``height`` x ``width`` window of ``values`` (a summed-area table)."""
    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    table[1:, 1:] = values.cumsum(axis=0).cumsum(axis=1)
    return table[height:, width:] - table[:-height, width:] - table[height:, :-width] + table[:-height, :-width]


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


def _segment_near_box(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """True when the segment a-b passes through ``box`` (x0, y0, x1, y1): the segment clipped
    to the box (Liang-Barsky) is not empty."""
    x0, y0, x1, y1 = box
    ax, ay = float(a[0]), float(a[1])
    dx, dy = float(b[0]) - ax, float(b[1]) - ay
    enter, leave = 0.0, 1.0
    for direction, room in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
        if direction == 0.0:
            if room < 0.0:  # parallel to this edge and outside it
                return False
        elif direction < 0.0:
            enter = max(enter, room / direction)
        else:
            leave = min(leave, room / direction)
        if enter > leave:
            return False
    return True


def brightness(image: np.ndarray) -> float:
    """Mean grey level of a sparse grid of pixels (cheap; enough to see the light jump)."""
    sample = image[::16, ::16].astype(np.float32)
    return float(sample.mean())


class PelvisAppearance:
    """Per-stream pelvis picture cue: template, refresh at neutral, noise floor, trust checks.

    Feed every measured frame in time order with ``observe``; ``rebase`` sets a new neutral
    picture (at calibration); ``reset`` forgets everything.
    """

    def __init__(self, settings: AppearanceSettings | None = None) -> None:
        self.settings = settings or AppearanceSettings()
        self.reset()

    def reset(self) -> None:
        self.template: PelvisTemplate | None = None
        self.noise = 0.0                      # typical change at neutral since the template
        self.plainness = 0.0                  # how much camera noise can move the template's patch
        self._noise_samples: list[float] = []
        self._template_t = 0.0
        self._centre_since: float | None = None
        self._recent: deque[tuple[float, float]] = deque()   # (t, change) for the minimum
        self._light: deque[tuple[float, float]] = deque()    # (t, brightness)
        self._light_jumped = False            # since the template: its light is gone
        self._stretches: deque[tuple[float, float]] = deque()  # (t, stretch signed by the trunk's turn)

    def rebase(self, t: float, image: np.ndarray, pixels: np.ndarray, torso_px: float) -> bool:
        """Take the neutral picture now; False when the patch cannot be taken (off-image, flat)."""
        template = make_template(image, pixels, torso_px, self.settings)
        if template is None:
            return False
        self.template = template
        self.plainness = (self.settings.nominal_noise / max(template.contrast, 1e-3)) ** 2
        self._template_t = t
        self._noise_samples = []
        self._recent.clear()
        self._stretches.clear()
        self._light_jumped = False
        return True

    def observe(self, t: float, image: np.ndarray, pixels: np.ndarray, torso_px: float,
                trunk_deg: float) -> AppearanceReading:
        """Read the pelvis picture of one frame (``trunk_deg``: the current trunk estimate)."""
        s = self.settings
        light_steady = self._watch_light(t, image)
        if abs(trunk_deg) > s.refresh_trunk_deg:
            self._centre_since = None
        elif self._centre_since is None:
            self._centre_since = t
        at_centre_for = -1.0 if self._centre_since is None else t - self._centre_since
        at_centre = at_centre_for >= 0.0
        covered = self._hands_over(pixels, torso_px)
        if (light_steady and not covered and at_centre_for >= s.refresh_still_s
                and t - self._template_t >= s.refresh_still_s):
            self.rebase(t, image, pixels, torso_px)
        if self.template is None:
            return AppearanceReading(None, CueProblem.NO_TEMPLATE)
        if covered:
            self._recent.clear()
            return AppearanceReading(None, CueProblem.HANDS_OVER_PELVIS)
        change, free = both_changes(self.template, image, pixels, s.search_frac, s.drift_margin)
        if change is None:
            self._recent.clear()
            return AppearanceReading(None, CueProblem.OFF_IMAGE)
        if s.shading_ratio > 0 and free is not None:
            change = min(change, free / s.shading_ratio)
        if at_centre and t - self._template_t <= s.noise_window_s:
            self._noise_samples.append(change)
            self.noise = float(np.median(self._noise_samples))
        if self._light_jumped:
            self._recent.clear()
            return AppearanceReading(None, CueProblem.LIGHT_CHANGING)
        self._recent.append((t, change))
        while self._recent and self._recent[0][0] < t - s.window_s:
            self._recent.popleft()
        lowest = min(value for _, value in self._recent)
        return AppearanceReading(lowest, None, plainness=self.plainness, noise=self.noise)

    def turn_agreement(self, t: float, image: np.ndarray, pixels: np.ndarray, trunk_deg: float) -> float | None:
        """Whether the picture stretches as a pelvis turned with the trunk does: the halves'
        stretch difference (``halves_stretch``) signed by the trunk's turn, its median over
        ``stretch_window_s`` (positive: as a turned pelvis; negative: the other way). None when
        not judged (off, no template, fewer than three measures yet). Each measure costs 14
        matches, so it is taken every ``stretch_every_s`` and only while the picture reads a
        turn."""
        s = self.settings
        if not s.check_stretch or self.template is None or trunk_deg == 0.0:
            return None
        due = not self._stretches or t - self._stretches[-1][0] >= s.stretch_every_s - 1e-6
        stretch = halves_stretch(self.template, image, pixels, s.search_frac, s.drift_margin) if due else None
        if stretch is not None:
            self._stretches.append((t, stretch if trunk_deg > 0 else -stretch))
        while self._stretches and self._stretches[0][0] < t - s.stretch_window_s:
            self._stretches.popleft()
        if len(self._stretches) < 3:
            return None
        return float(np.median([value for _, value in self._stretches]))

    def not_a_turn(self, t: float, image: np.ndarray, pixels: np.ndarray, trunk_deg: float) -> bool:
        """The picture stretches against the trunk's turn past ``stretch_tolerance``: whatever
        changed it, it is not a pelvis turned with the trunk (``CueProblem.NOT_A_TURN``)."""
        agreement = self.turn_agreement(t, image, pixels, trunk_deg)
        return agreement is not None and agreement < -self.settings.stretch_tolerance

    # ------------------------------------------------------------------ trust checks
    def _hands_over(self, pixels: np.ndarray, torso_px: float) -> bool:
        """The wrists or forearms over (or right beside) the patch."""
        x0, y0, x1, y1 = patch_box(pixels, torso_px, self.settings)
        if self.template is not None:  # the patch as taken (below a hem), following the feet
            dx = (pixels[L_ANKLE][0] + pixels[R_ANKLE][0]) / 2 - self.template.anchor_x
            dy = (pixels[L_ANKLE][1] + pixels[R_ANKLE][1]) / 2 - self.template.anchor_y
            x0, y0 = self.template.x0 + dx, min(y0, self.template.y0 + dy)
            x1, y1 = self.template.x0 + self.template.width + dx, self.template.y0 + self.template.height + dy
        m = self.settings.occlusion_margin * torso_px
        box = (x0 - m, y0 - m, x1 + m, y1 + m)
        return (_segment_near_box(pixels[L_ELBOW], pixels[L_WRIST], box)
                or _segment_near_box(pixels[R_ELBOW], pixels[R_WRIST], box))

    def _watch_light(self, t: float, image: np.ndarray) -> bool:
        """False while the picture's brightness jumps; a jump also voids the template's light."""
        level = brightness(image)
        light = self._light
        light.append((t, level))
        while len(light) > 2 and light[0][0] < t - self.settings.light_jump_s:
            light.popleft()
        reference = max(light[0][1], 1.0)
        if abs(level - reference) / reference > self.settings.light_jump:
            self._light_jumped = True
            return False
        return True
