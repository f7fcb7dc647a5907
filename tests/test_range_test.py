"""The rotation range test: protocol, trial scoring, trend labels, words (pure units)."""

from __future__ import annotations

import math

import pytest

from posecoach.analysis.coach import Coach
from posecoach.analysis.fusion_model import DEFAULT_MODEL
from posecoach.analysis.protocol import load_protocol, parse_protocol
from posecoach.analysis.range_test import TrendPoint, classify, noise_of, range_trend, result_from_document, score_range_test, trial_status
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import Side, Trend, TrialStatus
from posecoach.errors import ProtocolError
from posecoach.session.messages import event_text, instruction_text, range_test_lines


def rep(side, value, *, pelvis=2.0, completed=True, faults=(), err=3.0, peak=None):
    sign = 1 if side == "right" else -1
    return {"side": side, "completed": completed, "mean_hold_separation_deg": None if value is None else sign * value,
            "peak_separation_deg": sign * (peak if peak is not None else (value or 20.0) + 1.5),
            "max_pelvis_deg": pelvis, "faults": list(faults), "mean_hold_err_deg": err}


TRIALS = [rep("right", 50.0), rep("left", 44.0), rep("right", 58.0, pelvis=14.0, completed=False,
                                                        faults=["pelvis_rotation", "hold_broken"]),
          rep("left", 46.0), rep("right", 52.0), rep("left", 45.0)]


# -- protocol -------------------------------------------------------------------------------------------------
def test_rotation_test_protocol_is_a_range_test_with_a_pass_mark():
    p = load_protocol("rotation-test")
    assert p.is_range_test and p.range_test is not None and p.range_test.pass_mark_deg == 45.0
    assert (p.holds_per_side, p.hold_s, p.sets) == (3, 2.0, 1)
    assert p.contract()["kind"] == "range-test" and p.contract()["pass_mark_deg"] == 45.0
    assert p.with_pass_mark(50).range_test.pass_mark_deg == 50.0
    drill = load_protocol("standing-rotation")
    assert not drill.is_range_test and "kind" not in drill.contract()
    with pytest.raises(ProtocolError, match="not a range test"):
        drill.with_pass_mark(50)
    with pytest.raises(ProtocolError, match="between 0 and 180"):
        p.with_pass_mark(-5)


@pytest.mark.parametrize("text, message", [
    ("name = 'x'\nkind = 'quiz'", "kind must be one of drill, range-test"),
    ("name = 'x'\n[range_test]\npass_mark_deg = 40", "needs kind"),
    ("name = 'x'\nkind = 'range-test'\n[range_test]\npass_mark_deg = 400", "between 0 and 180"),
    ("name = 'x'\nkind = 'range-test'\n[range_test]\npass_mark_deg = 'far'", "between 0 and 180"),
    ("name = 'x'\nkind = 'range-test'\n[range_test]\nmark = 40", "unknown setting"),
    ("name = 'x'\nkind = 'range-test'\nsets = 2", "one set"),
])
def test_bad_range_test_protocols_say_what_is_wrong(text, message):
    with pytest.raises(ProtocolError, match=message):
        parse_protocol(text)


def test_a_range_test_without_a_section_gets_the_default_mark():
    assert parse_protocol("name = 'x'\nkind = 'range-test'").range_test.pass_mark_deg == 45.0


# -- scoring --------------------------------------------------------------------------------------------------
def test_best_and_mean_leave_out_the_pelvis_trial():
    result = score_range_test(TRIALS, 45.0, 10.0)
    right, left = result.right, result.left
    assert [t.status for t in right.trials] == [TrialStatus.OK, TrialStatus.PELVIS, TrialStatus.OK]
    assert right.trials[1].pelvis_deg == 14.0 and right.trials[1].value_deg == 58.0
    assert right.best_deg == 52.0 and right.mean_deg == 51.0    # 58 (pelvis) is not the best
    assert right.spread_deg == 2.0 and right.sd_deg == pytest.approx(math.sqrt(2.0))
    assert left.best_deg == 46.0 and left.mean_deg == pytest.approx(45.0)
    assert left.spread_deg == 2.0 and left.sd_deg == pytest.approx(1.0)
    assert result.asymmetry_deg == 6.0 and result.smaller_side == Side.LEFT
    assert result.asymmetry_pct == pytest.approx(100 * 6 / 52)
    assert right.passed and left.passed and result.passed


def test_pass_mark_per_side():
    result = score_range_test(TRIALS, 50.0)
    assert result.right.passed is True and result.left.passed is False and result.passed is False
    assert score_range_test(TRIALS, 52.0).right.passed is True      # reaching the mark passes
    nothing = score_range_test([rep("right", 60.0, faults=["pelvis_rotation"])], 45.0)
    assert nothing.right.best_deg is None and nothing.right.passed is None and nothing.passed is None
    assert nothing.left.trials == () and nothing.asymmetry_deg is None


def test_trial_status_order_and_reasons():
    assert trial_status(rep("right", 50, completed=False, faults=["pelvis_rotation"])) == TrialStatus.PELVIS
    assert trial_status(rep("right", None, completed=False, faults=["hold_broken"])) == TrialStatus.NO_PAUSE
    assert trial_status(rep("right", 50, completed=False, faults=["hold_broken"])) == TrialStatus.SHORT_PAUSE
    assert trial_status(rep("right", 50, faults=["too_fast"])) == TrialStatus.OK


def test_uncertainty_combines_estimator_and_trial_scatter():
    right = score_range_test(TRIALS, 45.0).right
    scatter = 1.645 * math.sqrt(2.0) / math.sqrt(2)
    assert right.uncertainty_deg == pytest.approx(math.hypot(3.0, scatter))
    one = score_range_test([rep("right", 50.0, err=None)], 45.0).right
    assert one.uncertainty_deg is None and one.spread_deg is None and one.sd_deg is None


def test_result_from_document_only_for_range_tests():
    contract = load_protocol("rotation-test").contract()
    assert result_from_document(contract, TRIALS).pass_mark_deg == 45.0
    assert result_from_document(load_protocol("standing-rotation").contract(), TRIALS) is None


# -- trend ----------------------------------------------------------------------------------------------------
def session(values_r, values_l, err=1.0):
    reps = [rep("right", v, err=err) for v in values_r] + [rep("left", v, err=err) for v in values_l]
    return score_range_test(reps, 45.0)


def test_mdc_from_pooled_trial_sd_with_the_estimator_floor():
    a, b = session([48, 52, 56], [42, 45, 48]), session([53, 57, 61], [42, 45, 48])
    noise = noise_of([a, b])
    pooled = math.sqrt((2 * 16.0 + 2 * 9.0 + 2 * 16.0 + 2 * 9.0) / 8)
    assert noise.df == 8 and noise.pooled_sd_deg == pytest.approx(pooled)
    u = DEFAULT_MODEL.uncertainty
    assert pooled > u.scale * u.base / 1.645                # above the estimator's floor...
    assert noise.sem_deg == pytest.approx(pooled)          # ...so the trials' own spread is the SEM
    assert noise.mdc_deg == pytest.approx(1.96 * math.sqrt(2) * pooled)
    # the floor: the estimator's uncertainty less its per-person gain part (which a change
    # between two tests of the same person cancels), as an SD
    steady = noise_of([session([50, 50, 50], [50, 50, 50], err=12.0)])
    kept = 12.0 - u.scale * u.per_degree * 50
    assert steady.pooled_sd_deg == 0.0 and steady.sem_deg == pytest.approx(kept / 1.645)
    tiny = noise_of([session([50, 50, 50], [50, 50, 50], err=1.0)])
    assert tiny.sem_deg == pytest.approx(u.scale * u.base / 1.645)   # never below the base term
    assert noise_of([session([50], [45], err=None)]).mdc_deg is None


def test_trend_labels_against_the_mdc():
    assert classify(5.0, 4.0) == Trend.IMPROVED and classify(-5.0, 4.0) == Trend.WORSE
    assert classify(3.9, 4.0) == classify(-3.9, 4.0) == Trend.NO_REAL_CHANGE
    assert classify(10.0, None) is None
    first = TrendPoint(1, "2026-01-01T10:00:00", session([50, 52, 54], [44, 45, 46]))
    second = TrendPoint(2, "2026-02-01T10:00:00", session([60, 62, 64], [45, 46, 47]))
    third = TrendPoint(3, "2026-03-01T10:00:00", session([50, 52, 54], [45, 46, 47]))
    trend = range_trend([third, first, second])      # sorted by time
    assert [p.session_id for p in trend.points] == [1, 2, 3]
    mdc = trend.noise.mdc_deg
    assert 3.0 < mdc < 10.0
    right = trend.change(1, Side.RIGHT)
    assert right.change_deg == 10.0 and right.label == Trend.IMPROVED
    assert trend.change(1, Side.LEFT).label == Trend.NO_REAL_CHANGE     # +1 deg is noise
    assert trend.change(2, Side.RIGHT).label == Trend.WORSE
    assert trend.overall(Side.RIGHT).label == Trend.NO_REAL_CHANGE and trend.change(0, Side.RIGHT) is None
    table = trend.to_dict()
    assert table["tests"][1]["right"]["trend"] == "improved" and table["mdc_deg"] == round(mdc, 1)


# -- the coach's trials and the words -------------------------------------------------------------------------
def run_coach(protocol, script):
    """Feed the coach (trunk, pelvis) per 1/30 s; returns it."""
    coach = Coach(protocol)
    coach.update(RotationSample(t=0.0, tracked=True, trunk_deg=0, pelvis_deg=0, separation_deg=0, calibrated=True))
    t = 0.0
    for trunk, pelvis in script:
        t += 1 / 30
        coach.update(RotationSample(t=t, tracked=True, trunk_deg=trunk, pelvis_deg=pelvis,
                                    separation_deg=trunk - pelvis, confidence=0.9, calibrated=True,
                                    separation_err_deg=2.5))
    coach.finish(t)
    return coach


def turn(angle, pelvis=0.0, hold_s=2.6):
    up = [(angle * k / 30, pelvis * k / 30) for k in range(1, 31)]
    return (up + [(angle, pelvis)] * int(hold_s * 30) + [(a, p) for a, p in reversed(up)]
            + [(0.0, 0.0)] * 30)


def test_the_coach_makes_the_trials_and_the_protocol_words_them():
    protocol = load_protocol("rotation-test")
    script = (turn(52) + turn(-46) + turn(60, pelvis=14) + turn(-48) + turn(54) + turn(-47) + turn(56))
    coach = run_coach(protocol, script)
    reps = [r.to_dict() for r in coach.reps]
    assert [r["side"] for r in reps] == ["right", "left", "right", "left", "right", "left", "right"]
    assert all(r["mean_hold_err_deg"] == pytest.approx(2.5) for r in reps)
    result = score_range_test(reps, protocol.range_test.pass_mark_deg)
    assert [t.status for t in result.right.trials] == [TrialStatus.OK, TrialStatus.PELVIS, TrialStatus.OK,
                                                        TrialStatus.OK]
    assert result.right.best_deg == pytest.approx(56, abs=0.5) and result.right.mean_deg == pytest.approx(54, abs=0.5)
    assert result.left.mean_deg == pytest.approx(47, abs=0.5) and result.passed
    asks = [event_text(e, protocol) for e in coach.events if e.kind == "rotate_now"]
    assert asks[:3] == ["Turn as far as you can to your right, trial 1 of 3",
                        "Turn as far as you can to your left, trial 1 of 3",
                        "Turn as far as you can to your right, trial 2 of 3"]
    assert asks[4] == "Turn as far as you can to your right, trial 2 of 3"   # the pelvis trial is made again
    lines = range_test_lines(result)
    assert lines[0] == "Rotation range test: passed"
    assert any("right trial 2: pelvis turned: not counted (pelvis 14°)" in line for line in lines)


def test_instruction_counts_the_trials():
    protocol = load_protocol("rotation-test")
    coach = run_coach(protocol, turn(52))
    state = coach.state(100.0)
    assert instruction_text(state, protocol.cues) == "Turn as far as you can to your left, trial 1 of 3"
    drill = load_protocol("standing-rotation")
    assert instruction_text(Coach(drill).state(0.0), drill.cues) != ""
