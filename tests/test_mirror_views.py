"""Two views per scene (pose/mirror_views.py): mapping mirrored landmarks back, and blending."""

from __future__ import annotations

import numpy as np
import pytest

from posecoach.pose.mirror_views import MIRROR_ORDER, MirrorBlend, agree, unmirrored
from posecoach.pose.types import PoseFrame


def pose(t: float, x: float, yaw_bias: float = 0.0, seed: int = 0) -> PoseFrame:
    """A person whose hip centre is at ``x`` (image widths); ``yaw_bias`` moves the world
    shoulders' depth, as a view's own error would."""
    rng = np.random.default_rng(seed)
    image = np.column_stack([rng.uniform(0.3, 0.7, 33), rng.uniform(0.1, 0.9, 33), rng.normal(0, 0.1, 33),
                             np.full(33, 0.9), np.full(33, 0.95)])
    image[23, 0], image[24, 0] = x + 0.05, x - 0.05
    image[11, 0], image[12, 0] = x + 0.08, x - 0.08      # the left shoulder on the picture's right
    world = rng.normal(0.0, 0.2, (33, 3))
    world[11], world[12] = (0.2, -0.4, 0.0), (-0.2, -0.4, 0.0)
    world[11, 2] += yaw_bias
    world[12, 2] -= yaw_bias
    return PoseFrame(t=t, image=image, world=world, width=640, height=480)


def test_the_mirror_order_swaps_left_and_right_and_keeps_the_middle():
    assert np.array_equal(MIRROR_ORDER[MIRROR_ORDER], np.arange(33))
    assert MIRROR_ORDER[0] == 0                                    # nose
    assert (MIRROR_ORDER[11], MIRROR_ORDER[23], MIRROR_ORDER[31]) == (12, 24, 32)


def test_unmirroring_twice_gives_the_landmarks_back():
    p = pose(0.0, 0.4)
    back = unmirrored(unmirrored(p))
    assert np.allclose(back.image, p.image) and np.allclose(back.world, p.world)
    once = unmirrored(p)
    assert once.image[12, 0] == pytest.approx(1.0 - p.image[11, 0])   # the left shoulder seen on the right
    assert once.world[12, 0] == pytest.approx(-p.world[11, 0])
    assert once.image[12, 2] == pytest.approx(p.image[11, 2])         # depth and visibility unchanged


def test_opposite_errors_of_the_two_views_cancel_on_a_moving_person():
    """Each view errs by +-0.05 in depth; the person moves steadily. The first frame is read by
    both views; the second, with one earlier reading of the other view, trails by half a step;
    from the third on each frame has the true landmarks (the other view carried forward)."""
    blend = MirrorBlend()
    base = pose(0.0, 0.5)
    out = []
    for k in range(12):
        t = k / 30.0
        view = k % 2
        truth_image = base.image.copy()
        truth_image[:, 0] += 0.01 * k                     # walking sideways, 0.3 widths a second
        truth_world = base.world.copy()
        truth_world[11, 2] += 0.02 * k                    # and turning
        world = truth_world.copy()
        world[11, 2] += 0.05 if view == 0 else -0.05
        seen = PoseFrame(t=t, image=truth_image, world=world, width=640, height=480)
        if k == 0:
            assert blend.stale(1, t)                      # nothing from the other view yet: read both
            other_world = truth_world.copy()
            other_world[11, 2] -= 0.05
            result = blend.add_both(0, t, [seen], [PoseFrame(t, truth_image, other_world, 640, 480)])
        else:
            assert not blend.stale(1 - view, t)
            result = blend.add(view, t, [seen])
        out.append((result[0], truth_image, truth_world))
    got, truth_image, _ = out[1]
    assert np.allclose(got.image[:, 0], truth_image[:, 0] - 0.005)
    for got, truth_image, truth_world in out[:1] + out[2:]:
        assert np.allclose(got.image, truth_image, atol=1e-9)
        assert np.allclose(got.world, truth_world, atol=1e-9)


def test_the_other_view_does_not_stand_in_when_old_or_for_another_person():
    blend = MirrorBlend()
    first = pose(0.0, 0.3, yaw_bias=0.1)
    blend.add(0, 0.0, [first])
    later = pose(1.0, 0.3, yaw_bias=-0.1, seed=1)
    assert blend.add(1, 1.0, [later])[0] is later          # a second later: too old to stand in
    elsewhere = pose(1.03, 0.8, seed=2)
    assert blend.add(0, 1.03, [elsewhere])[0] is elsewhere  # someone else, across the picture
    assert blend.stale(1, 1.1) is False and blend.stale(0, 2.0) is True


def test_nobody_in_the_other_view_makes_it_stale():
    blend = MirrorBlend()
    blend.add(1, 0.0, [])
    assert blend.stale(1, 0.033)
    alone = pose(0.033, 0.5)
    assert blend.add(0, 0.033, [alone])[0] is alone


def test_views_that_disagree_on_the_shoulder_line_are_not_blended():
    """Past a quarter turn one view may swap left and right: its reading is not averaged in."""
    facing = pose(0.0, 0.5)
    swapped_image = facing.image.copy()
    swapped_image[[11, 12]] = swapped_image[[12, 11]]
    swapped = PoseFrame(0.033, swapped_image, facing.world.copy(), 640, 480)
    turned_world = facing.world.copy()
    turned_world[11], turned_world[12] = (0.1, -0.4, -0.17), (-0.1, -0.4, 0.17)   # 60 deg of yaw
    turned = PoseFrame(0.033, facing.image.copy(), turned_world, 640, 480)
    assert agree(facing, facing, 45.0)
    assert not agree(facing, swapped, 45.0) and not agree(facing, turned, 45.0)
    assert agree(facing, turned, 70.0)
    for first in (0, 1):   # either view first: a mirrored clip swaps the views' roles
        blend = MirrorBlend()
        blend.add(first, 0.0, [facing])
        assert blend.add(1 - first, 0.033, [swapped])[0] is swapped   # same world line: this frame's
        # Of two views that disagree, the one continuing the last reported shoulder line is
        # reported, whichever view read the frame: a 60 deg jump in 33 ms is the swapped view.
        kept = blend.add(first, 0.066, [turned])[0]
        assert kept is not turned and np.allclose(kept.world, facing.world)


def test_a_person_one_view_missed_is_still_reported():
    """Two people; each view found only one of them. Both are reported, each where it stands."""
    blend = MirrorBlend()
    left, right = pose(0.0, 0.25), pose(0.0, 0.75, seed=3)
    both = blend.add_both(0, 0.0, [left], [right])
    assert [round(float(p.image[[23, 24], 0].mean()), 2) for p in both] == [0.25, 0.75]
    alone = pose(0.033, 0.25, seed=4)
    reported = blend.add(1, 0.033, [alone])
    assert len(reported) == 2 and reported[1].t == 0.033   # the right one, carried from the last frame
    assert blend.add(0, 1.0, [])  == []                      # nothing recent to carry


def test_the_session_sets_the_reading_through_the_wrappers_a_replay_uses():
    """Seated and half-kneeling read one view, standing two; a replay's landmark cache and the
    accuracy recorder pass the setting on (a cache read the other way is dropped), and a
    detector with one reading only is left alone."""
    from posecoach.analysis.protocol import load_protocol
    from posecoach.pose.landmark_cache import RecordingDetector
    from posecoach.session.coaching import CoachingSession
    from posecoach.session.sources import PoseCache

    class TwoViewDetector:
        two_views = True

        def detect(self, image, t):
            return [pose(t, 0.5)]

    class OneViewDetector:
        def detect(self, image, t):
            return []

    inner = TwoViewDetector()
    cache = PoseCache(inner)
    cache.detect(np.zeros((4, 4, 3), np.uint8), 0.0)
    session = CoachingSession(cache, load_protocol("seated-rotation"))
    assert inner.two_views is False and cache._cache == {}
    session.restart(load_protocol("standing-rotation"))
    assert inner.two_views is True
    CoachingSession(RecordingDetector(inner), load_protocol("half-kneeling-rotation"))
    assert inner.two_views is False
    plain = PoseCache(OneViewDetector())
    CoachingSession(plain, load_protocol("seated-rotation"))
    assert not hasattr(plain, "two_views")
