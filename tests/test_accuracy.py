"""Scoring functions of the accuracy benchmark."""

import numpy as np
import pytest

from posecoach.tools.accuracy import expected_holds, lag_frames, score_angle


def test_score_angle_counts_errors_bias_and_signs():
    truth = np.array([0.0, 10.0, 20.0, -20.0, np.nan])
    estimate = np.array([1.0, 12.0, 18.0, 3.0, 5.0])
    s = score_angle(estimate, truth)
    assert s.mae == pytest.approx((1 + 2 + 2 + 23) / 4)
    assert s.bias == pytest.approx((1 + 2 - 2 + 23) / 4)
    assert s.sign_error_rate == pytest.approx(1 / 3)  # only |truth| > 5 counts
    assert score_angle(np.array([np.nan]), np.array([1.0])).mae is None


def test_lag_is_found():
    t = np.linspace(0, 10, 300)
    truth = 40 * np.sin(t)
    delayed = np.concatenate([np.zeros(4), truth[:-4]])
    assert lag_frames(delayed, truth) == 4
    assert lag_frames(truth, truth) == 0


def test_expected_holds_follow_the_rules():
    meta = {"reps": [
        {"side": "right", "hold_s": 7.0, "pelvis": 0.0},
        {"side": "left", "hold_s": 4.0, "pelvis": 0.0},
        {"side": "right", "hold_s": 7.0, "pelvis": 12.0},
        {"side": "left", "hold_s": 7.0, "pelvis": 9.0},
    ]}
    assert expected_holds(meta) == {"right": 1, "left": 1}


def test_a_clip_says_what_its_calibration_warned_of():
    """A clip whose neutral stance had the hands held high (or a shirt over the hips) says so
    on its line: its angles are known to be less sure."""
    import io
    from types import SimpleNamespace

    from posecoach.analysis.vocabulary import CalibrationConcern
    from posecoach.tools.accuracy import _print_clip, _score_clip

    n = 60
    truth = {name: np.zeros(n) for name in ("trunk", "pelvis", "separation")}
    got = {name: np.zeros(n) for name in ("trunk", "pelvis", "separation", "err")}
    got.update(tracked=np.ones(n, dtype=bool), reps=[])
    plain = _score_clip("plain", None, truth, {**got, "calibration": SimpleNamespace(concerns=())})
    high = _score_clip("high", None, truth, {**got, "calibration": SimpleNamespace(concerns=(CalibrationConcern.HANDS_HIGH,))})
    assert plain.warned == [] and high.warned == ["hands_high"]
    assert _score_clip("none", None, truth, got).warned == []   # never calibrated
    lines = io.StringIO()
    _print_clip(high, lines)
    assert "warned: hands high" in lines.getvalue()


def test_reps_are_scored_against_the_script_and_their_reported_uncertainty():
    from types import SimpleNamespace

    from posecoach.tools.accuracy import score_reps

    t = np.arange(300)
    rep_index = np.where(t < 150, 0, 1)
    phase = np.where((t % 150 >= 40) & (t % 150 < 110), "hold", "rotate")
    separation = np.where(rep_index == 0, 40.0, -50.0) * (phase == "hold")
    truth = {"rep": rep_index, "phase": phase, "separation": separation}
    meta = {"reps": [{"side": "right", "amplitude": 40, "pelvis": 0, "hold_s": 7.0},
                     {"side": "left", "amplitude": 50, "pelvis": 0, "hold_s": 7.0}]}

    def rep(side, mean, err):
        return SimpleNamespace(side=side, faults=[], completed=True, peak_separation_deg=mean,
                               mean_hold_separation_deg=mean, mean_hold_err_deg=err)

    scores = score_reps([rep("right", 43.0, 4.0), rep("left", 51.0, 0.5)], meta, truth)   # magnitudes, as a Rep keeps them
    assert (scores.reps_right, scores.reps_expected) == (2, 2)
    assert scores.worst_hold_error_deg == pytest.approx(3.0)
    assert (scores.holds_covered, scores.holds_scored) == (1, 2)   # 3 deg within ±4; 1 deg outside ±0.5
