"""Property-based tests (hypothesis) of geometry, estimator and coach on hostile input.

Random, NaN, infinite and huge landmark arrays, random time steps (zero, backwards,
non-finite) and random sample streams: nothing may raise, every output is finite or
None, the confidence stays in [0, 1], and the coach's state machine keeps its invariants.
"""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from conftest import synthetic_pose
from posecoach.analysis import coach as coach_mod
from posecoach.analysis.coach import Coach
from posecoach.analysis.geometry import BodyMeasures, measure
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.rotation import RotationEstimator
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.smoothing import OneEuroFilter

PHASES = {coach_mod.CALIBRATING, coach_mod.NEUTRAL, coach_mod.ROTATING, coach_mod.HOLDING,
          coach_mod.RETURNING, coach_mod.REST, coach_mod.DONE}
REASONS = {"no_person", "hips_not_visible", "back_to_camera", "person_switched", "calibrating", "not_facing"}

FAST = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
extreme = st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, math.inf, -math.inf, math.nan, 0.5, 1.0, -1.0])


def finite_or_none(value) -> bool:
    return value is None or math.isfinite(value)


# --------------------------------------------------------------------------- landmarks
# Strategies draw small recipes (a seed, a few numbers) and the arrays are built from them,
# so a failing example prints in a line instead of as two 33-row arrays.
POOL = np.array([0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, np.inf, -np.inf, np.nan,
                 0.5, 1.0, -1.0, 99.0, 150.0, -3.0, 2.0])

landmark_recipes = st.tuples(
    st.sampled_from(["random", "pool", "damaged", "scaled"]),
    st.integers(0, 2**32 - 1),                       # seed
    st.floats(-200, 200), st.floats(-90, 90),        # trunk, pelvis (degrees)
    st.floats(0.3, 20.0),                            # distance (m)
    st.sampled_from([1e-12, 1e-6, 1e6, 1e12, 1e200, -1.0, 50.0]),  # scale factor
    st.lists(st.tuples(st.integers(0, 32), st.integers(0, 4), extreme), max_size=6),  # damage
)


def build_frame(recipe) -> tuple[np.ndarray, np.ndarray]:
    """(image (33, 5), world (33, 3)) from a recipe of ``landmark_recipes``."""
    kind, seed, trunk, pelvis, distance, factor, damage = recipe
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.uniform(-3, 3, (33, 5)), rng.uniform(-3, 3, (33, 3))
    if kind == "pool":
        return rng.choice(POOL, (33, 5)), rng.choice(POOL, (33, 3))
    image, world = synthetic_pose(trunk, pelvis, distance=distance)
    if kind == "scaled":  # the same body blown up or shrunk to absurd sizes
        image[:, :3] *= factor
        world *= factor
    for row, column, value in damage:
        image[row, column] = value
        world[row, min(column, 2)] = value
    return image, world


def check_measures(m: BodyMeasures | None) -> None:
    if m is None:
        return
    for name in BodyMeasures.__dataclass_fields__:
        value = getattr(m, name)
        assert math.isfinite(value), f"{name} = {value}"
    for name in ("shoulder_visibility", "hip_visibility", "hands_visibility"):
        assert 0.0 <= getattr(m, name) <= 1.0


@FAST
@given(recipe=landmark_recipes, width=st.integers(1, 8000), height=st.integers(1, 8000),
       base=st.sampled_from(["ankles", "knees", "hips"]))
def test_measure_never_raises_and_is_finite_or_none(recipe, width, height, base):
    image, world = build_frame(recipe)
    check_measures(measure(image, world, width, height, base))


# --------------------------------------------------------------------------- estimator
time_steps = st.one_of(
    st.floats(0.0, 0.2),                          # normal, zero and long gaps
    st.sampled_from([1 / 30, 1 / 30, 1 / 30, 0.0, -0.05, -1.0, 5.0]),  # mostly regular, some backwards
)


estimator_streams = st.lists(
    st.tuples(st.one_of(st.just("body"), st.just("none"), landmark_recipes), time_steps,
              st.floats(-70, 70), st.floats(-30, 30)),
    min_size=1, max_size=40)


PICTURE = np.random.default_rng(3).integers(0, 255, (480, 640, 3), dtype=np.uint8)


def check_sample(sample: RotationSample) -> None:
    assert isinstance(sample, RotationSample)
    for value in (sample.trunk_deg, sample.pelvis_deg, sample.separation_deg):
        assert finite_or_none(value)
    assert (sample.separation_deg is None) == (not sample.tracked)
    assert (sample.trunk_deg is None) == (not sample.tracked)
    assert math.isfinite(sample.confidence) and 0.0 <= sample.confidence <= 1.0
    if not sample.tracked:
        assert sample.reason in REASONS


def calibrated_estimator() -> tuple[RotationEstimator, float]:
    estimator = RotationEstimator()
    t = 0.0
    for i in range(60):
        t = i / 30
        estimator.update(t, *synthetic_pose(0.0), 640, 480)
    assert estimator.calibrated
    return estimator, t


@FAST
@given(stream=estimator_streams, calibrated=st.booleans(),
       odd_t=st.sampled_from([None, math.nan, math.inf, -math.inf, 1e300]), with_picture=st.booleans())
def test_estimator_outputs_are_finite_or_null(stream, calibrated, odd_t, with_picture):
    estimator, t = calibrated_estimator() if calibrated else (RotationEstimator(), 0.0)
    for i, (what, dt, trunk, pelvis) in enumerate(stream):
        if what == "body":
            image, world = synthetic_pose(trunk, pelvis)
        elif what == "none":
            image = world = None
        else:
            image, world = build_frame(what)
        t = t + dt
        when = odd_t if (odd_t is not None and i == len(stream) // 2) else t
        frame = PICTURE if with_picture else None
        check_sample(estimator.update(when, image, world, 640, 480, frame))
    assert 0.0 <= estimator.calibration_progress <= 1.0


@FAST
@given(values=st.lists(st.tuples(any_float, any_float), min_size=1, max_size=30))
def test_one_euro_filter_is_finite_once_it_has_seen_a_finite_value(values):
    f = OneEuroFilter(1.2, 0.04)
    seen = False
    for x, t in values:
        out = f(x, t)
        seen = seen or (math.isfinite(x) and math.isfinite(t))
        if seen:
            assert math.isfinite(out) and math.isfinite(f.speed)


# --------------------------------------------------------------------------- coach
maybe_angle = st.one_of(st.floats(-120, 120), extreme, st.none())
sample_recipes = st.lists(
    st.tuples(
        st.sampled_from(["drill", "drill", "drill", "untracked", "hostile"]),
        st.one_of(st.just(1 / 30), st.floats(0.0, 3.0), st.sampled_from([-0.5, 0.0, 12.0])),  # time step
        st.floats(-70, 70), st.floats(-20, 20),                    # separation, pelvis of a drill sample
        st.sampled_from(sorted(REASONS) + [None, "??"]),           # reason
        st.booleans(), st.booleans(),                              # tracked, calibrated
        st.tuples(maybe_angle, maybe_angle, maybe_angle, st.one_of(st.floats(0, 1), extreme),
                  st.one_of(st.none(), extreme)),                  # hostile: angles, confidence, time
    ),
    min_size=1, max_size=150)


def build_samples(recipes) -> list[RotationSample]:
    """Plausible drill-like samples mixed with untracked, None, NaN and extreme ones."""
    t = 0.0
    samples = []
    for kind, dt, sep, pelvis, reason, tracked, calibrated, hostile in recipes:
        t += dt
        if kind == "drill":
            samples.append(RotationSample(t=t, tracked=True, trunk_deg=sep + pelvis, pelvis_deg=pelvis,
                                          separation_deg=sep, confidence=0.9, calibrated=True))
        elif kind == "untracked":
            samples.append(RotationSample.untracked(t, reason or "no_person", calibrated=calibrated))
        else:
            trunk, pelvis_deg, separation, confidence, when = hostile
            samples.append(RotationSample(t=t if when is None else when, tracked=tracked, trunk_deg=trunk,
                                          pelvis_deg=pelvis_deg, separation_deg=separation,
                                          confidence=confidence, reason=reason, calibrated=calibrated))
    return samples


def short_protocol(hold_s: float, holds: int, sets: int) -> Protocol:
    return Protocol(name="prop", hold_s=hold_s, holds_per_side=holds, sets=sets, rest_s=2.0)


def check_rep_dict(rep: dict) -> None:
    for key, value in rep.items():
        if isinstance(value, float):
            assert math.isfinite(value), f"{key} = {value}"
    assert rep["side"] in ("right", "left")
    assert rep["hold_s"] >= 0.0


# Long sample streams shrink slowly; a failure is reported as found (still reproducible by seed).
COACH = settings(FAST, phases=[Phase.explicit, Phase.reuse, Phase.generate])


@COACH
@given(recipes=sample_recipes, hold_s=st.sampled_from([0.5, 1.0, 7.0]), holds=st.integers(1, 3),
       sets=st.integers(1, 2))
def test_coach_state_machine_invariants(recipes, hold_s, holds, sets):
    coach = Coach(short_protocol(hold_s, holds, sets))
    last_t = -math.inf
    reps_seen = completed_seen = 0
    last_set, last_counts = 1, {"right": 0, "left": 0}
    for sample in build_samples(recipes):
        state = coach.update(sample)
        assert state.phase in PHASES
        assert math.isfinite(state.t) and state.t >= last_t, "time went backwards"
        last_t = state.t
        assert 0.0 <= state.hold_progress_s <= hold_s + 1e-9
        assert last_set <= state.set_index <= sets
        if state.set_index == last_set:  # per-set counts only grow (a new set starts them at 0)
            assert all(state.completed[side] >= last_counts[side] for side in ("right", "left"))
        last_set, last_counts = state.set_index, dict(state.completed)
        in_set = [r for r in coach.reps if r.set_index == state.set_index]
        for side in ("right", "left"):
            done = sum(r.completed for r in in_set if r.side == side)
            assert state.completed[side] == done <= sum(r.side == side for r in in_set)
        assert state.side in (None, "right", "left")
        assert state.paused_reason in (None, "pelvis", "tracking")
        assert math.isfinite(state.rest_remaining_s) and state.rest_remaining_s >= 0.0
        reps = len(coach.reps)
        completed = sum(r.completed for r in coach.reps)
        assert reps >= reps_seen and completed >= completed_seen, "counts went down"
        assert completed <= reps
        reps_seen, completed_seen = reps, completed
    coach.finish(last_t)
    for rep in coach.reps:
        check_rep_dict(rep.to_dict())
        if rep.completed:
            assert rep.hold_s >= hold_s - 1e-6
    for event in coach.events:
        assert math.isfinite(event.t)


@COACH
@given(recipes=sample_recipes)
def test_coach_events_and_reps_are_json_safe(recipes):
    coach = Coach(short_protocol(1.0, 2, 1))
    last = 0.0
    for sample in build_samples(recipes):
        last = coach.update(sample).t
    coach.finish(last)
    json.dumps([e.to_dict() for e in coach.events], allow_nan=False)
    json.dumps([r.to_dict() for r in coach.reps], allow_nan=False)
