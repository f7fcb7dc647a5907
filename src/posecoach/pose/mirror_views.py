"""Two views of every scene: the picture and its mirror image, read on alternate frames.

MediaPipe's pose model is not mirror-symmetric. Its learned depth of a person and of the
same person's mirror image can differ by 20 deg of shoulder yaw, so a right turn and a left
turn of equal size read differently, and a clip played mirrored does not give the negated
angles. Reading every frame twice would cost twice the inference. Instead the detector reads
even frames as they are and odd frames mirrored (with a second landmarker, so each keeps its
own tracking), maps the mirrored landmarks back, and gives each frame the mean of the view
it just read and the other view carried forward to the same moment (extrapolated from its
last two readings). The side-dependent part of the model's error then cancels, at the
inference cost of one view. Where the views disagree (past a quarter turn one may swap left
and right), they are not averaged: the one continuing the last reported shoulder line is kept.

Measured on the 15 measurable shared clips with the standing model (``posecoach accuracy``):
separation MAE 2.60 -> 2.43 deg, worst clip 4.58 -> 3.85; a mirrored clip (d03) gives the
negated separation within 0.29 deg, against 2.31 with one view, and a real man twisting past
a quarter turn the negated trunk within 1.71 deg (mean, frames within 70 deg); on 4 held-out renders
separation 5.41 -> 4.61 and the error of the reported asymmetry 8.9 -> 5.8 points. The seated
and half-kneeling models were fitted on one view and read one (``FusionModel.two_views``).

Pure: numpy and the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from posecoach.pose.types import PoseFrame

# The landmark each landmark becomes in the mirror image (left and right swap places).
_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
          (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32))
MIRROR_ORDER = np.arange(33)
for _a, _b in _PAIRS:
    MIRROR_ORDER[_a], MIRROR_ORDER[_b] = _b, _a

_HIPS = (23, 24)
_SHOULDERS = (11, 12)


def unmirrored(pose: PoseFrame) -> PoseFrame:
    """The landmarks read on a mirrored picture, as they are in the picture itself."""
    image = pose.image[MIRROR_ORDER].copy()
    image[:, 0] = 1.0 - image[:, 0]
    world = pose.world[MIRROR_ORDER].copy()
    world[:, 0] = -world[:, 0]
    return PoseFrame(t=pose.t, image=image, world=world, width=pose.width, height=pose.height)


@dataclass(frozen=True)
class MirrorSettings:
    """When the other view may stand in for the current frame."""

    max_age_s: float = 0.15       # the other view's last reading is at most this old...
    max_span_s: float = 0.25      # ...and its two last readings this far apart, to extrapolate
    same_person: float = 0.08     # hip centres this close (image widths) are the same person
    # The views must agree on the shoulder line to be blended: the same side on the left of the
    # picture, and world shoulder lines this close in yaw. Past a quarter turn the model may
    # swap left and right in one view only, and a mean of the two would be neither.
    max_disagreement_deg: float = 45.0


def _hip_centre(pose: PoseFrame) -> np.ndarray:
    return pose.image[list(_HIPS), :2].mean(axis=0)


def _shoulder_cosine(a: PoseFrame, b: PoseFrame) -> float:
    """Cosine of the yaw between two readings' world shoulder lines (-1 when one is degenerate)."""
    left, right = _SHOULDERS
    line_a = a.world[left, [0, 2]] - a.world[right, [0, 2]]
    line_b = b.world[left, [0, 2]] - b.world[right, [0, 2]]
    norms = float(np.linalg.norm(line_a) * np.linalg.norm(line_b))
    return float(np.dot(line_a, line_b)) / norms if norms > 0.0 else -1.0


def agree(a: PoseFrame, b: PoseFrame, max_deg: float) -> bool:
    """True when two readings put the shoulders the same way round, their world shoulder
    lines within ``max_deg`` of each other in yaw."""
    left, right = _SHOULDERS
    if (a.image[left, 0] - a.image[right, 0]) * (b.image[left, 0] - b.image[right, 0]) <= 0.0:
        return False
    return _shoulder_cosine(a, b) >= float(np.cos(np.radians(max_deg)))


def _nearest(pose: PoseFrame, people: list[PoseFrame], limit: float) -> PoseFrame | None:
    if not people:
        return None
    centre = _hip_centre(pose)
    distances = [float(np.linalg.norm(_hip_centre(p) - centre)) for p in people]
    best = int(np.argmin(distances))
    return people[best] if distances[best] <= limit else None


class MirrorBlend:
    """Blend each view's reading with the other view's, carried forward to the same moment.

    ``add(view, t, people)`` takes the people one view found at ``t`` (already mapped back
    to the picture) and returns the people to report for that frame: each blended with its
    partner in the other view, then anyone the other view saw and this one missed. When the other view has
    no recent reading (the first frame, or after nobody was in view), ``stale`` says so and
    the caller reads the frame with both views once, through ``add_both``.
    """

    def __init__(self, settings: MirrorSettings | None = None) -> None:
        self.settings = settings or MirrorSettings()
        self.reset()

    def reset(self) -> None:
        # per view: the last two readings (t, people), newest last
        self._history: dict[int, list[tuple[float, list[PoseFrame]]]] = {0: [], 1: []}
        self._reported: list[PoseFrame] = []   # what the last frame reported

    def add(self, view: int, t: float, people: list[PoseFrame]) -> list[PoseFrame]:
        history = self._history[view]
        history.append((t, people))
        del history[:-2]
        other = self._history[1 - view]
        recent = other and 0.0 < t - other[-1][0] <= self.settings.max_age_s
        return self._paired(people, other[-1][1] if recent else [], t, other if recent else [])

    def stale(self, view: int, t: float) -> bool:
        """True when ``view`` has no recent reading of anybody to stand in at ``t``."""
        history = self._history[view]
        return not history or not history[-1][1] or not 0.0 < t - history[-1][0] <= self.settings.max_age_s

    def add_both(self, view: int, t: float, people: list[PoseFrame], others: list[PoseFrame]) -> list[PoseFrame]:
        """Both views read the same frame: ``people`` by ``view``, ``others`` by the other one."""
        for which, found in ((view, people), (1 - view, others)):
            self._history[which].append((t, found))
            del self._history[which][:-2]
        return self._paired(people, others, t, [])

    def _paired(self, people: list[PoseFrame], others: list[PoseFrame], t: float,
                history: list[tuple[float, list[PoseFrame]]]) -> list[PoseFrame]:
        """Each of ``people`` blended with its partner among ``others`` (carried forward from
        ``history`` when it is older than ``t``); then the others nobody matched, as they are,
        so that a person one view missed is still reported."""
        s = self.settings
        out, used = [], set()
        for pose in people:
            partner = _nearest(pose, others, s.same_person)
            if partner is None:
                out.append(pose)
                continue
            used.add(id(partner))
            carried = self._carried(pose, partner, t, history)
            out.append(_mean(pose, carried) if agree(pose, partner, s.max_disagreement_deg)
                       else self._continuing(pose, carried))
        out += [replace(other, t=t) for other in others if id(other) not in used]
        self._reported = out
        return out

    def _carried(self, pose: PoseFrame, partner: PoseFrame, t: float,
                 history: list[tuple[float, list[PoseFrame]]]) -> PoseFrame:
        """``partner`` carried forward to ``t`` from its two last readings when they are
        recent enough (at ``pose``'s time)."""
        image, world = partner.image.copy(), partner.world.copy()
        if len(history) == 2:
            (t0, people0), (t1, _) = history
            before = _nearest(partner, people0, self.settings.same_person)
            if before is not None and 0.0 < t1 - t0 <= self.settings.max_span_s and t > t1:
                ahead = (t - t1) / (t1 - t0)
                image[:, :3] += ahead * (partner.image[:, :3] - before.image[:, :3])
                world += ahead * (partner.world - before.world)
        return PoseFrame(t=pose.t, image=image, world=world, width=pose.width, height=pose.height)

    def _continuing(self, pose: PoseFrame, carried: PoseFrame) -> PoseFrame:
        """Of two views that disagree (one has swapped left and right), the one whose
        shoulder line is nearer the last reported one; with nothing reported, this frame's.
        The rule does not depend on which view read the frame, so a mirrored clip makes the
        same choice."""
        last = _nearest(pose, self._reported, self.settings.same_person)
        if last is None:
            return pose
        return carried if _shoulder_cosine(carried, last) > _shoulder_cosine(pose, last) else pose


def _mean(pose: PoseFrame, other: PoseFrame) -> PoseFrame:
    return PoseFrame(t=pose.t, image=0.5 * (pose.image + other.image), world=0.5 * (pose.world + other.world),
                     width=pose.width, height=pose.height)


class PassesReadingOn:
    """For wrappers of a detector (``self.detector``): ``two_views`` is the wrapped detector's,
    so the coaching session can set the reading through them; AttributeError when the
    detector has one reading only. ``_reading_changed`` lets a wrapper drop what it kept."""

    detector: object

    @property
    def two_views(self) -> bool:
        return self.detector.two_views  # type: ignore[attr-defined]

    @two_views.setter
    def two_views(self, value: bool) -> None:
        changed = value != self.two_views
        self.detector.two_views = value  # type: ignore[attr-defined]
        if changed:
            self._reading_changed()

    def _reading_changed(self) -> None:
        """The detector now reads the other way (nothing to do unless overridden)."""
