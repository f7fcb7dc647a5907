"""Clearer live feedback: one count of the hold's seconds, how sure the measurement is, what comes next."""

from __future__ import annotations

from dataclasses import replace

import pytest

from posecoach.analysis.coach import Coach
from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.next_hold import NextHold, next_hold
from posecoach.analysis.protocol import Cues, Protocol
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import Instruction, Phase, Side
from posecoach.session import messages
from posecoach.ui.overlay_text import OverlayModel, certainty, hold_ring, overlay_text


def holding(progress: float, target: float = 7.0) -> CoachState:
    return CoachState(t=10.0, phase=Phase.HOLDING, side=Side.RIGHT, expected_side=Side.RIGHT,
                      hold_progress_s=progress, hold_target_s=target, paused_reason=None,
                      completed={"right": 0, "left": 0}, required_per_side=7, set_index=1, sets=2,
                      instruction=Instruction.HOLD, rest_remaining_s=0.0, warnings=())


class _Step:
    """Just what the overlay text reads of a pipeline step."""

    def __init__(self, state: CoachState) -> None:
        self.state = state
        self.sample = None
        self.control = None


@pytest.mark.parametrize("progress, expected", [
    (0.0, 7), (0.5, 7), (0.999, 7), (1.0, 6), (1.4, 6), (1.5, 6), (1.6, 6), (2.5, 5), (5.5, 2), (6.0, 1),
    (6.49, 1), (6.5, 1), (6.51, 1), (6.9999, 1), (7.0, 0),
])
def test_ring_and_instruction_show_the_same_seconds(progress, expected):
    state = holding(progress)
    assert messages.hold_seconds_left(state) == expected
    model = OverlayModel(step=_Step(state))  # type: ignore[arg-type]
    _, ring_text, _, _ = hold_ring(model)
    instruction = messages.instruction_text(state, Cues())
    if expected:
        assert ring_text == f"{expected} s"
        assert instruction.endswith(f": {expected} s")
    else:
        assert ring_text == "✓"


def sample(err: float | None, confidence: float = 0.5) -> RotationSample:
    return RotationSample(t=1.0, trunk_deg=41.0, pelvis_deg=1.0, separation_deg=40.0, confidence=confidence,
                          tracked=True, calibrated=True, separation_err_deg=err)


def test_certainty_in_degrees_and_words():
    assert certainty(sample(2.6)) == ("precise ±3°", pytest.approx((15 - 2.6) / 14))
    assert certainty(sample(6.2))[0] == "fair ±6°"
    assert certainty(sample(12.0))[0] == "rough ±12°"
    assert certainty(sample(30.0))[1] == 0.0
    # without the estimator's uncertainty: words, never a percentage
    text, level = certainty(sample(None, confidence=0.5))
    assert text == "seen partly" and level == 0.5 and "%" not in text
    assert certainty(None) == ("not measured", 0.0)


def protocol(order: str = "alternate", first: str = "right", per_side: int = 3, sets: int = 2) -> Protocol:
    return Protocol(name="t", hold_s=7.0, holds_per_side=per_side, sets=sets, side_order=order, first_side=first)


def done_hold(side: Side, right: int, left: int, set_index: int = 1, phase: Phase = Phase.RETURNING) -> CoachState:
    return replace(holding(7.0), phase=phase, side=side, completed={"right": right, "left": left},
                   set_index=set_index, instruction=Instruction.RETURN)


def test_next_hold_follows_the_side_order_and_sets():
    p = protocol()
    assert next_hold(done_hold(Side.RIGHT, 0, 0), p) == NextHold(Side.LEFT, 1, 3, 1)
    assert next_hold(done_hold(Side.LEFT, 1, 0), p) == NextHold(Side.RIGHT, 2, 3, 1)
    assert next_hold(done_hold(Side.RIGHT, 2, 3), p) == NextHold(Side.RIGHT, 1, 3, 2, rest=True)
    assert next_hold(done_hold(Side.RIGHT, 2, 3, set_index=2), p).done
    assert next_hold(done_hold(Side.RIGHT, 0, 0), protocol("right-then-left")) == NextHold(Side.RIGHT, 2, 3, 1)
    assert next_hold(done_hold(Side.RIGHT, 2, 0), protocol("right-then-left")) == NextHold(Side.LEFT, 1, 3, 1)
    assert next_hold(done_hold(Side.LEFT, 0, 0), protocol("left-then-right")) == NextHold(Side.LEFT, 2, 3, 1)
    # one side full: the other side, whatever the order
    assert next_hold(done_hold(Side.LEFT, 3, 1), p) == NextHold(Side.LEFT, 3, 3, 1)
    # nothing to say while the hold is not complete, or between reps
    assert next_hold(replace(done_hold(Side.RIGHT, 0, 0), hold_progress_s=3.0), p) is None
    assert next_hold(replace(done_hold(Side.RIGHT, 0, 0), phase=Phase.NEUTRAL, side=None), p) is None


def test_next_words_after_a_completed_hold():
    p = protocol(per_side=7)
    state = done_hold(Side.RIGHT, 1, 2)
    text = messages.instruction_text(state, p.cues, next_hold(state, p))
    assert text == f"{messages.RETURN_TEXT}\nNext: left, 3 of 7"
    rest = done_hold(Side.RIGHT, 6, 7)
    assert messages.instruction_text(rest, p.cues, next_hold(rest, p)).endswith("Next: rest, then set 2")
    last = done_hold(Side.RIGHT, 6, 7, set_index=2)
    assert messages.instruction_text(last, p.cues, next_hold(last, p)) == messages.RETURN_TEXT
    model = OverlayModel(step=_Step(state), cues=p.cues, next_hold=next_hold(state, p))  # type: ignore[arg-type]
    assert overlay_text(model).instruction.endswith("Next: left, 3 of 7")


@pytest.mark.parametrize("order, first", [("alternate", "right"), ("alternate", "left"), ("right-then-left", "right"),
                                          ("left-then-right", "right")])
def test_next_hold_agrees_with_the_coach(order, first):
    """Drive the coach through whole sessions; after each completed hold the prediction is the coach's next side."""
    p = protocol(order, first, per_side=2, sets=2)
    coach = Coach(p)
    t, dt = 0.0, 1 / 30
    predictions: list[NextHold] = []

    def feed(angle: float, seconds: float) -> None:
        nonlocal t
        for _ in range(int(seconds / dt)):
            state = coach.update(RotationSample(t=t, trunk_deg=angle, pelvis_deg=0.0, separation_deg=angle,
                                                confidence=0.9, tracked=True, calibrated=True))
            upcoming = next_hold(state, p)
            if upcoming is not None and state.phase == Phase.RETURNING:
                predictions.append(upcoming)
            t += dt

    feed(0.0, 2.0)
    checked = 0
    for _ in range(8):
        if coach.phase == Phase.DONE:
            break
        side = coach.expected_side()
        angle = 40.0 if side == Side.RIGHT else -40.0
        for k in range(1, 11):
            feed(angle * k / 10, 0.1)
        feed(angle, 7.6)
        predictions.clear()
        feed(angle * 0.5, 0.3)
        upcoming = predictions[-1]
        feed(0.0, 1.5)
        if coach.phase == Phase.REST:
            assert upcoming.rest
            feed(0.0, p.rest_s + 0.5)
        if coach.phase == Phase.DONE:
            assert upcoming.done
            break
        state = coach.state(t)
        assert (state.expected_side, state.set_index) == (upcoming.side, upcoming.set_index)
        assert state.completed[upcoming.side] + 1 == upcoming.number
        checked += 1
    assert checked >= 5 and coach.phase == Phase.DONE


def test_paused_coaching_and_a_gesture_in_progress_are_shown():
    from posecoach.analysis.gestures import GestureProgress
    from posecoach.analysis.vocabulary import BannerKind, Gesture
    from posecoach.session.control import ControlState

    step = _Step(holding(3.0))
    step.control = ControlState(paused=True, gesture=GestureProgress(Gesture.TOGGLE_PAUSE, 0.4))
    text = overlay_text(OverlayModel(step=step))  # type: ignore[arg-type]
    assert text.coaching_paused
    assert text.instruction == messages.PAUSED_HINT[True]
    assert (BannerKind.GESTURE, "Hand up: keep it there to resume") in text.banners
    step.control = ControlState(paused=False, gesture=GestureProgress(Gesture.END_SESSION, 0.4), gestures_on=True)
    text = overlay_text(OverlayModel(step=step))  # type: ignore[arg-type]
    assert not text.coaching_paused and text.instruction.startswith("Hold")
    assert text.banners == ((BannerKind.GESTURE, "Both hands up: keep them there to end the session"),)
    step.control = ControlState(paused=True, gestures_on=False)
    assert overlay_text(OverlayModel(step=step)).instruction == messages.PAUSED_HINT[False]  # type: ignore[arg-type]
    # a hand up from the grip without a gesture (hands drifting to the chin): the frozen count is explained
    step.control = ControlState(lifted=True)
    assert overlay_text(OverlayModel(step=step)).instruction == messages.HAND_LIFTED_HINT  # type: ignore[arg-type]
    step.control = ControlState(lifted=True, gesture=GestureProgress(Gesture.TOGGLE_PAUSE, 0.4))
    assert overlay_text(OverlayModel(step=step)).instruction.startswith("Hold")  # type: ignore[arg-type]
