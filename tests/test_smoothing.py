import numpy as np

from posecoach.analysis.smoothing import OneEuroFilter


def test_one_euro_reduces_noise_on_a_still_signal():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.05)
    raw = 10 + rng.normal(0, 2, 300)
    out = np.array([f(x, i / 30) for i, x in enumerate(raw)])
    assert out[60:].std() < raw[60:].std() / 2
    assert abs(out[60:].mean() - 10) < 0.5


def test_one_euro_follows_a_step_quickly():
    f = OneEuroFilter(min_cutoff=1.2, beta=0.04)
    values = [f(0.0 if i < 30 else 45.0, i / 30) for i in range(90)]
    # within 2 degrees of the new level in under 0.5 s
    settle = next(i for i, v in enumerate(values) if i >= 30 and v > 43.0)
    assert (settle - 30) / 30 < 0.5
    assert abs(values[-1] - 45.0) < 0.5


def test_one_euro_ignores_non_increasing_time():
    f = OneEuroFilter()
    assert f(1.0, 0.0) == 1.0
    assert f(100.0, 0.0) == 1.0
    f.reset()
    assert f(5.0, 1.0) == 5.0
