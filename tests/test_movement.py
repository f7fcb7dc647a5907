"""Timing a movement by the crossings of its range (analysis/movement.py)."""

import numpy as np
import pytest

from posecoach.analysis.movement import last_crossing, min_jerk_progress, min_jerk_time, movement_duration

FPS = 30.0


def min_jerk_path(amplitude: float, duration: float, rising: bool, before_s: float = 0.5, after_s: float = 0.5):
    """(t, angle) of one minimum-jerk turn (or return), with still time either side."""
    t = np.arange(0.0, before_s + duration + after_s, 1.0 / FPS)
    share = np.array([min_jerk_progress((x - before_s) / duration) for x in t])
    angle = amplitude * (share if rising else 1.0 - share)
    return list(zip(t.tolist(), angle.tolist()))


def test_min_jerk_time_inverts_the_progress():
    for share in (0.1, 0.2, 0.5, 0.8, 0.95):
        assert min_jerk_progress(min_jerk_time(share)) == pytest.approx(share, abs=1e-9)
    assert min_jerk_time(0.5) == pytest.approx(0.5)


@pytest.mark.parametrize("amplitude", [20.0, 45.0, 70.0])
@pytest.mark.parametrize("duration", [0.5, 1.5])
def test_the_duration_does_not_depend_on_the_range(amplitude, duration):
    turn = movement_duration(min_jerk_path(amplitude, duration, rising=True), amplitude, rising=True)
    back = movement_duration(min_jerk_path(amplitude, duration, rising=False, after_s=0.0), amplitude,
                             rising=False, floor=8.0)
    assert turn == pytest.approx(duration, rel=0.05)
    assert back == pytest.approx(duration, rel=0.08)


def test_a_glitch_that_runs_ahead_does_not_shorten_the_turn():
    path = min_jerk_path(40.0, 1.5, rising=True)
    jumped = [(t, a + 10.0) if 0.8 <= t < 0.95 else (t, a) for t, a in path]   # a cue jumps for 0.15 s
    assert movement_duration(jumped, 40.0, rising=True) == pytest.approx(1.5, rel=0.1)


def test_no_duration_without_both_crossings():
    assert movement_duration([(0.0, 0.0), (1.0, 20.0)], 40.0, rising=True) is None
    assert movement_duration(min_jerk_path(40.0, 1.5, rising=True), 0.0, rising=True) is None
    assert last_crossing([(0.0, 5.0), (1.0, 1.0)], 3.0, rising=True) is None
    assert last_crossing([(0.0, 5.0), (1.0, 1.0)], 3.0, rising=False) == pytest.approx(0.5)
