"""Hands-free control from the pose: one hand raised above the head pauses or resumes, both end.

Works on the image landmarks MediaPipe gives (33 x (x, y, z, visibility), x and y as
fractions of the picture, y down) and their timestamps; pure numpy, no clock of its own.

A hand is *raised* when its wrist is clearly above the top of the head (above the nose
by ``above_head`` torso lengths), its elbow above its shoulder and its wrist above its
elbow. The drill never does that: the hands stay gripped together at chest height, also
turned 70 deg. The torso length (shoulders to hips, vertical) is the scale because it
hardly changes when the person turns, unlike the shoulder width.

- one hand raised for ``toggle_s`` (about a second): :attr:`Gesture.TOGGLE_PAUSE`;
- both hands raised together for ``end_s``: :attr:`Gesture.END_SESSION`. Both hands up
  at any time during a one-hand hold cancels the pause: a person ending the session
  does not pause it first (unless the second hand comes after ``toggle_s``).

It never fires unless the body (nose, shoulders, hips, and the raised arm) has been seen
steadily, inside the picture, for ``stable_s``; the caller blocks it during calibration
and while the person selector is unsure. After a gesture, and after any loss of view or
block, both hands must be seen down for ``rearm_s`` before the next one, and no gesture
comes within ``refractory_s`` of the last: someone walking into view with a hand up, or
keeping the hand up after a pause, never fires twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posecoach.analysis.vocabulary import Gesture

_NOSE = 0
_SHOULDERS = (11, 12)
_ELBOWS = (13, 14)
_WRISTS = (15, 16)
_HIPS = (23, 24)


@dataclass(frozen=True)
class GestureSettings:
    """How deliberate a gesture must be (times in seconds, lengths in torso lengths)."""

    min_visibility: float = 0.6   # every landmark used must be at least this visible
    above_head: float = 0.3       # the wrist above the nose by this many torso lengths
    toggle_s: float = 1.0         # one hand up this long: pause / resume
    end_s: float = 2.5            # both hands up this long: end the session
    stable_s: float = 0.5         # the body seen steadily this long before a raise counts
    rearm_s: float = 0.3          # both hands down this long before the next gesture
    refractory_s: float = 1.5     # no gesture this soon after the last
    dropout_s: float = 0.2        # a raise survives a reading lost for less than this
    max_gap_s: float = 0.5        # frames further apart than this: the view was lost
    min_torso: float = 0.06       # a torso shorter than this (picture heights): too far or partial
    edge_margin: float = 0.15     # a raised wrist may leave the top of the picture by this much
    lift_dy: float = 0.12         # one wrist higher than the other by this many torso lengths...
    lift_near_shoulder: float = 0.15  # ...and that wrist within this many below the shoulder line: a hand
                                  # lifted (a seated grip seen from above shows uneven wrists lower down)
    lift_settle_s: float = 0.4    # a lifted hand counts as down again after this long down
    lift_lookback_s: float = 0.5  # a rep begun this soon before a lift was the lift, not the drill


@dataclass(frozen=True)
class GestureProgress:
    """A gesture being made: which, and how far (0..1) toward firing."""

    gesture: Gesture
    fraction: float


def raised_hands(landmarks: np.ndarray, settings: GestureSettings = GestureSettings()) -> tuple[bool, bool] | None:
    """(left raised, right raised) in one frame, or None when the body is not seen well enough.

    Seen well enough: nose, shoulders and hips visible, inside the picture, upright, and a
    torso at least ``min_torso`` of the picture height. Read on plain floats: it runs twice
    a frame on 33 points, where numpy's per-call cost would dominate.
    """
    img = np.asarray(landmarks, dtype=float)
    if img.ndim != 2 or img.shape[0] < 33 or img.shape[1] < 4:
        return None
    pts = img[:33, :4].tolist()
    for index in (_NOSE, *_SHOULDERS, *_HIPS):
        x, y, z, visibility = pts[index]
        if not (_finite(x, y, z, visibility) and visibility >= settings.min_visibility
                and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return None
    shoulder_y = (pts[_SHOULDERS[0]][1] + pts[_SHOULDERS[1]][1]) / 2.0
    torso = (pts[_HIPS[0]][1] + pts[_HIPS[1]][1]) / 2.0 - shoulder_y
    if torso < settings.min_torso:
        return None
    line = pts[_NOSE][1] - settings.above_head * torso
    raised = []
    for shoulder, elbow, wrist in zip(_SHOULDERS, _ELBOWS, _WRISTS, strict=True):
        elbow_pt, wrist_pt = pts[elbow], pts[wrist]
        ok = (_finite(*elbow_pt, *wrist_pt) and elbow_pt[3] >= settings.min_visibility
              and wrist_pt[3] >= settings.min_visibility
              and -settings.edge_margin <= wrist_pt[1] and 0.0 <= wrist_pt[0] <= 1.0)
        raised.append(ok and wrist_pt[1] < line and elbow_pt[1] < pts[shoulder][1] and wrist_pt[1] < elbow_pt[1])
    return raised[0], raised[1]


def _finite(*values: float) -> bool:
    return all(math.isfinite(value) for value in values)


@dataclass(frozen=True)
class GripReference:
    """Where the arms rest in this person's grip, from the calibrated neutral stance (torso
    lengths above the shoulder line; negative: below): a lift is a hand leaving it upward.

    The drill's chest grip rests well below the shoulder line; a person gripping at the chin
    rests at it, which must not count as a hand lifted for a gesture.
    """

    wrist_rise: tuple[float, float]   # left, right
    elbow_rise: tuple[float, float]
    wrist_gap: float                  # how much higher one wrist sits than the other


def _rises(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Each wrist's and elbow's height above its shoulder (torso lengths), the shoulder line's
    height and the torso length (picture heights)."""
    shoulders = img[list(_SHOULDERS), 1]
    shoulder_y = float(np.mean(shoulders))
    torso = float(np.mean(img[list(_HIPS), 1])) - shoulder_y
    return ((shoulders - img[list(_WRISTS), 1]) / torso, (shoulders - img[list(_ELBOWS), 1]) / torso, shoulder_y, torso)


def grip_reference(landmarks: np.ndarray, settings: GestureSettings = GestureSettings()) -> GripReference | None:
    """The resting grip of a neutral frame's landmarks; None unless the arms are seen well."""
    img = np.asarray(landmarks, dtype=float)
    if raised_hands(img, settings) is None:
        return None
    arms = list(_WRISTS + _ELBOWS)
    if not (np.all(np.isfinite(img[arms, 1])) and np.all(img[arms, 3] >= settings.min_visibility)):
        return None
    wrists, elbows, _, _ = _rises(img)
    return GripReference((float(wrists[0]), float(wrists[1])), (float(elbows[0]), float(elbows[1])),
                         float(abs(wrists[0] - wrists[1])))


def hands_lifted(landmarks: np.ndarray, settings: GestureSettings = GestureSettings(),
                 grip: GripReference | None = None) -> bool | None:
    """Whether a hand has left the drill's grip upward (the start of a gesture), or None when not seen.

    Lifted: a wrist or an elbow above the shoulder line, or one wrist higher than the other
    by ``lift_dy`` torso lengths and near the shoulder line (the drill keeps both hands
    together at chest height). With the person's resting ``grip``, a wrist or elbow that
    rests at or above the shoulder line is lifted only ``lift_dy`` above where it rests, and
    the wrists' difference counts beyond theirs at rest.
    Only landmarks seen well count. Earlier and looser than :func:`raised_hands`: a lifted
    arm moves the landmarks the rotation is measured from, so the coach is held meanwhile.
    """
    img = np.asarray(landmarks, dtype=float)
    if raised_hands(img, settings) is None:
        return None
    wrist_rise, elbow_rise, shoulder_y, torso = _rises(img)
    seen = {i: bool(math.isfinite(img[i, 1]) and img[i, 3] >= settings.min_visibility) for i in _ELBOWS + _WRISTS}
    for side, (elbow, wrist) in enumerate(zip(_ELBOWS, _WRISTS, strict=True)):
        wrist_allowed = 0.0 if grip is None else max(0.0, grip.wrist_rise[side] + settings.lift_dy)
        elbow_allowed = 0.0 if grip is None else max(0.0, grip.elbow_rise[side] + settings.lift_dy)
        if (seen[wrist] and wrist_rise[side] > wrist_allowed) or (seen[elbow] and elbow_rise[side] > elbow_allowed):
            return True
    left, right = _WRISTS
    higher = min(img[left, 1], img[right, 1])
    gap_allowed = settings.lift_dy + (0.0 if grip is None else grip.wrist_gap)
    return bool(seen[left] and seen[right] and abs(img[left, 1] - img[right, 1]) > gap_allowed * torso
                and higher < shoulder_y + settings.lift_near_shoulder * torso)


class GestureDetector:
    """Follow one person's hands frame by frame; :meth:`update` returns a gesture when one is made."""

    def __init__(self, settings: GestureSettings = GestureSettings()) -> None:
        self.settings = settings
        self.fired: list[tuple[float, Gesture]] = []
        self.reset()

    def reset(self) -> None:
        """Forget the view (a new session, a seek): the hands must be seen down again."""
        self._last_t: float | None = None
        self._seen_since: float | None = None
        self._armed = False
        self._down_since: float | None = None
        self._one_since: float | None = None
        self._both_since: float | None = None
        self._spoiled = False          # both hands were up: no pause from this raise
        self._last_up_t: float | None = None
        self._last_fire = -np.inf
        self.progress: GestureProgress | None = None

    @property
    def armed(self) -> bool:
        return self._armed

    def _lose_view(self) -> None:
        self._seen_since = None
        self._armed = False
        self._down_since = None
        self._clear_raise()

    def _clear_raise(self) -> None:
        self._one_since = None
        self._both_since = None
        self._spoiled = False
        self._last_up_t = None
        self.progress = None

    def update(self, t: float, landmarks: np.ndarray | None, blocked: bool = False) -> Gesture | None:
        """Advance to frame time ``t``; ``blocked``: calibration, or not sure whom we follow."""
        s = self.settings
        gap = self._last_t is not None and not (0.0 <= t - self._last_t <= s.max_gap_s)
        self._last_t = t
        hands = None if blocked or landmarks is None else raised_hands(landmarks, s)
        if hands is None or gap:
            self._lose_view()
            if hands is None:
                return None
        assert hands is not None
        if self._seen_since is None:
            self._seen_since = t
        if t - self._seen_since < s.stable_s:
            return None
        left, right = hands
        if not (left or right):
            if self._last_up_t is not None and t - self._last_up_t < s.dropout_s:
                return None   # a reading lost mid-raise: not down yet
            self._clear_raise()
            if self._down_since is None:
                self._down_since = t
            if t - self._down_since >= s.rearm_s:
                self._armed = True
            return None
        self._down_since = None
        self._last_up_t = t
        if not self._armed or t - self._last_fire < s.refractory_s:
            self.progress = None
            return None
        if left and right:
            self._one_since = None
            self._spoiled = True
            if self._both_since is None:
                self._both_since = t
            held = t - self._both_since
            self.progress = GestureProgress(Gesture.END_SESSION, min(1.0, held / s.end_s))
            return self._fire(t, Gesture.END_SESSION) if held >= s.end_s else None
        self._both_since = None
        if self._spoiled:
            self.progress = None
            return None
        if self._one_since is None:
            self._one_since = t
        held = t - self._one_since
        self.progress = GestureProgress(Gesture.TOGGLE_PAUSE, min(1.0, held / s.toggle_s))
        return self._fire(t, Gesture.TOGGLE_PAUSE) if held >= s.toggle_s else None

    def _fire(self, t: float, gesture: Gesture) -> Gesture:
        self._armed = False
        self._last_fire = t
        self._clear_raise()
        self._last_up_t = t
        self.fired.append((t, gesture))
        return gesture
