"""How long a turn or a return took, read from when it crossed two levels of its range.

The drill's movements are smooth: a turn follows close to a minimum-jerk profile, whose
progress ``s(tau) = 10 tau^3 - 15 tau^4 + 6 tau^5`` reaches a given share of the range at a
fixed share of the movement's duration. So the time between the crossings of two levels of
the range (a fifth and four fifths of it) gives the duration of the whole movement,
whatever its range: a large turn made at the drill's pace is not fast, a small one made in
half a second is.

The coach once judged the duration from the peak speed instead (duration = 1.875 x range /
peak speed). A speed is the slope of the estimate over a few frames, and a cue that jumps
for a tenth of a second (MediaPipe's shoulder width as the arms cross the chest) doubles it:
on the rendered clips, clean 1.5 s turns read as short as 0.82 s that way (the limit is
0.8 s) and 1.09-1.68 s from their crossings, while the jerky 0.45-0.6 s turns read 0.26-0.41
s (docs/measurements.md, "Session 18").
"""

from __future__ import annotations

from collections.abc import Sequence

# Peak speed of a minimum-jerk movement = MIN_JERK_PEAK x range / duration.
MIN_JERK_PEAK = 1.875
# The shares of the range whose crossings time a movement: clear of the start and the end,
# where a turn eases in and out and the estimate's lag and a hold's sway blur the crossings.
LOWER_SHARE = 0.2
UPPER_SHARE = 0.8


def min_jerk_progress(tau: float) -> float:
    """Share of the range a minimum-jerk movement has covered at ``tau`` (share of its duration)."""
    tau = min(1.0, max(0.0, tau))
    return tau ** 3 * (10.0 - 15.0 * tau + 6.0 * tau * tau)


def min_jerk_time(share: float) -> float:
    """Share of its duration a minimum-jerk movement takes to cover ``share`` of its range."""
    low, high = 0.0, 1.0
    for _ in range(40):   # bisection: the progress rises monotonically
        middle = 0.5 * (low + high)
        low, high = (middle, high) if min_jerk_progress(middle) < share else (low, middle)
    return 0.5 * (low + high)


def last_crossing(path: Sequence[tuple[float, float]], level: float, rising: bool,
                  before: float | None = None) -> float | None:
    """The last time (interpolated between samples) ``path`` of (t, angle) crossed ``level``
    upwards (``rising``) or downwards, no later than ``before``; None if it never did."""
    for i in range(len(path) - 1, 0, -1):
        (t0, a0), (t1, a1) = path[i - 1], path[i]
        if before is not None and t1 > before:
            continue
        crossed = a0 < level <= a1 if rising else a0 > level >= a1
        if crossed:
            return t0 + (level - a0) / (a1 - a0) * (t1 - t0)
    return None


def movement_duration(path: Sequence[tuple[float, float]], amplitude: float, rising: bool,
                      floor: float = 0.0) -> float | None:
    """The duration of the smooth movement ``path`` (t, angle toward the rep's side) made: a
    turn rising from neutral to ``amplitude``, or a return falling from it to neutral, whose
    lower level is kept at or above ``floor`` (where the return is seen to have ended). The
    last crossings are used: a cue's glitch that crosses a level early only lengthens the
    time. None when the path does not cross both levels."""
    if amplitude <= 0.0:
        return None
    upper = UPPER_SHARE * amplitude
    lower = max(LOWER_SHARE * amplitude, floor)
    if lower >= upper:
        return None
    if rising:
        t_upper = last_crossing(path, upper, rising=True)
        t_lower = None if t_upper is None else last_crossing(path, lower, rising=True, before=t_upper)
        span = min_jerk_time(UPPER_SHARE) - min_jerk_time(lower / amplitude)
        elapsed = None if t_upper is None or t_lower is None else t_upper - t_lower
    else:
        t_lower = last_crossing(path, lower, rising=False)
        t_upper = None if t_lower is None else last_crossing(path, upper, rising=False, before=t_lower)
        span = min_jerk_time(1.0 - lower / amplitude) - min_jerk_time(1.0 - UPPER_SHARE)
        elapsed = None if t_upper is None or t_lower is None else t_lower - t_upper
    if elapsed is None or span <= 0.0:
        return None
    return elapsed / span
