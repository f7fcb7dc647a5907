"""The words users see and hear: one place that turns the vocabulary's codes into English.

The coach, the guide and the estimator speak in codes (:mod:`posecoach.analysis.vocabulary`)
and numbers; the overlay, the toasts, the voice and the analysis document's event
messages all take their words from here. The exercise protocol owns the coaching cues
(its TOML ``[cues]``): they are used as given, wherever the same thing is said.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.events import CoachEvent
from posecoach.analysis.fusion_model import ASYMMETRY_RESOLUTION_PCT
from posecoach.analysis.next_hold import NextHold
from posecoach.analysis.protocol import Cues, Protocol
from posecoach.analysis.range_test import RangeTestResult, SideResult
from posecoach.analysis.rotation import Calibration
from posecoach.analysis.summary import Summary
from posecoach.analysis.vocabulary import (
    CalibrationConcern,
    Control,
    ControlSource,
    EventKind,
    Fault,
    FramingIssue,
    Gesture,
    GuideCueKind,
    GuideStage,
    Instruction,
    Pause,
    Posture,
    Reason,
    Trend,
    TrialStatus,
)
from posecoach.session.guide import GuideCue, GuideState

FRAMING_TEXT: dict[FramingIssue, str] = {
    FramingIssue.NO_PERSON: "Nobody in view: step in front of the camera",
    FramingIssue.HEAD: "Your head must be in view: step back or tilt the camera",
    FramingIssue.HIPS: "Step back: your hips must be in view",
    FramingIssue.KNEES: "Step back until your knees are in view",
    FramingIssue.TOO_FAR: "Come a little closer to the camera",
    FramingIssue.OFF_CENTRE: "Move to the middle of the picture",
    FramingIssue.NOT_FACING: "Face the camera",
    FramingIssue.HANDS_UP: "Hold the stick in front of your chest: across the shoulders the camera cannot see the turn",
    FramingIssue.ARMS_CROSSED: "Hold your hands together in front of your chest: crossed arms hide the turn from the camera",
    FramingIssue.HANDS_HIGH: "Lower your hands to chest height (or raise a low camera): at the chin they hide your shoulders",
}

# Where a posture needs other words (seated: the camera moves, not the person).
POSTURE_FRAMING_TEXT: dict[tuple[Posture, FramingIssue], str] = {
    (Posture.SEATED, FramingIssue.HIPS): "Move the camera back or lower: your hips and the seat must be in view",
    (Posture.SEATED, FramingIssue.KNEES): "Move the camera back: head to knees and the chair seat must be in view",
    (Posture.SEATED, FramingIssue.TOO_FAR): "Move the chair a little closer to the camera",
    (Posture.HALF_KNEELING, FramingIssue.KNEES): "Move back: both knees (the one on the floor too) must be in view",
}


def framing_text(issue: FramingIssue, posture: Posture = Posture.STANDING) -> str:
    """What to fix in the picture, in the words of the posture."""
    return POSTURE_FRAMING_TEXT.get((Posture(posture), issue), FRAMING_TEXT[issue])


def protocol_intro(protocol: Protocol) -> str:
    """One line on a drill for the user: its title and what it cannot measure, if anything."""
    title = protocol.title or protocol.name
    return f"{title}. Limits: {protocol.limits}" if protocol.limits else title


UNTRACKED_TEXT: dict[str, str] = {
    Reason.NO_PERSON: FRAMING_TEXT[FramingIssue.NO_PERSON],
    Reason.HIPS_NOT_VISIBLE: FRAMING_TEXT[FramingIssue.HIPS],
    Reason.BACK_TO_CAMERA: FRAMING_TEXT[FramingIssue.NOT_FACING],
    Reason.NOT_FACING: FRAMING_TEXT[FramingIssue.NOT_FACING],
    Reason.PERSON_SWITCHED: "Someone else is in view: only one person, please",
    Reason.PERSON_UNSURE: "Several people close together: not sure whom to follow",
    Reason.CALIBRATING: "Stand still facing the camera: calibrating again",
}
NOT_SEEN = "Cannot see you clearly"   # a frame not measured for no reason worded above

FAULT_TEXT: dict[str, str] = {     # reports: a rep's faults
    Fault.PELVIS_ROTATION: "pelvis rotated", Fault.TOO_FAST: "too fast", Fault.HOLD_BROKEN: "hold broken",
    Fault.WRONG_SIDE: "wrong side",
}
FAULT_LABELS: dict[str, str] = {   # tables: fault counts, in a word
    Fault.PELVIS_ROTATION: "pelvis", Fault.TOO_FAST: "fast", Fault.HOLD_BROKEN: "broken",
    Fault.WRONG_SIDE: "side",
}

CALIBRATE_TEXT = "Stand facing the camera, arms at chest height, and keep still"
COUNTDOWN_TEXT = "Good. Stand facing the camera, arms at chest height"
CALIBRATING_TEXT = "Hold still: calibrating your neutral stance"
PAUSED_TRACKING_TEXT = "Hold paused: step into view"
RETURN_TEXT = "Inhale and return to centre"


def untracked_text(reason: str | None) -> str:
    """Why a frame is not measured, as the user is told."""
    return UNTRACKED_TEXT.get(reason, NOT_SEEN) if reason else NOT_SEEN


def hold_seconds_left(state: CoachState) -> int:
    """The whole seconds of the hold still to go, as the ring and the instruction both show them.

    Rounded up: "1 s" until the hold is complete, never "0 s" while it is not.
    """
    return max(0, math.ceil(state.hold_target_s - state.hold_progress_s - 1e-6))


def next_text(upcoming: NextHold | None) -> str:
    """After a completed hold, what comes next: "Next: left, 3 of 7" ("" when nothing is known)."""
    if upcoming is None or upcoming.done:
        return ""
    where = f"Next: {upcoming.side}, {upcoming.number} of {upcoming.of}"
    return f"Next: rest, then set {upcoming.set_index}" if upcoming.rest else where


def instruction_text(state: CoachState, cues: Cues, upcoming: NextHold | None = None) -> str:
    """The coach's instruction of ``state``, in words (the protocol's cues where it has one).

    ``upcoming``: the hold after the one just completed, said after the instruction.
    """
    text = _instruction_text(state, cues)
    then = next_text(upcoming) if state.instruction in (Instruction.HOLD_COMPLETE, Instruction.RETURN) else ""
    return f"{text}\n{then}" if then else text


def _instruction_text(state: CoachState, cues: Cues) -> str:
    code = state.instruction
    if code == Instruction.CALIBRATE:
        return CALIBRATE_TEXT
    if code == Instruction.DONE:
        return cues.done
    if code == Instruction.REST:
        return cues.rest.format(seconds=int(state.rest_remaining_s))
    if code == Instruction.HOLD_COMPLETE:
        return cues.hold_complete
    if code == Instruction.HOLD_PAUSED_PELVIS:
        return cues.pelvis
    if code == Instruction.HOLD_PAUSED_TRACKING:
        return PAUSED_TRACKING_TEXT
    if code == Instruction.HOLD:
        return f"{cues.hold}: {hold_seconds_left(state)} s"
    if code == Instruction.RETURN:
        return RETURN_TEXT
    side = state.side or state.expected_side
    trial = state.completed.get(side, 0) + 1 if side else 1
    return cues.rotate.format(side=side, trial=min(trial, state.required_per_side), trials=state.required_per_side)


def event_text(event: CoachEvent, protocol: Protocol) -> str:
    """What to show or say for one coach event ("" for events that say nothing)."""
    cues, data, kind = protocol.cues, event.data, event.kind
    if kind == EventKind.CALIBRATED:
        return "Calibrated: neutral stance recorded"
    if kind == EventKind.ROTATE_NOW:
        return cues.rotate.format(side=event.side, trial=data.get("number", 1), trials=protocol.holds_per_side)
    if kind == EventKind.WRONG_SIDE:
        return f"The other side: this one should be to your {data['expected']}"
    if kind in (EventKind.HOLD_STARTED, EventKind.HOLD_RESUMED):
        return cues.hold
    if kind == EventKind.HOLD_TICK:
        remaining = data["remaining"]
        return str(int(round(remaining))) if remaining > 0 else ""
    if kind == EventKind.HOLD_PAUSED:
        return cues.pelvis if data["reason"] == Pause.PELVIS else "Hold paused: cannot see you"
    if kind == EventKind.HOLD_COMPLETE:
        return cues.hold_complete
    if kind == EventKind.HOLD_BROKEN:
        return f"Hold the end position for the full {protocol.hold_s:g} seconds"
    if kind == EventKind.FAULT:
        return {Fault.PELVIS_ROTATION: cues.pelvis, Fault.TOO_FAST: cues.too_fast}.get(data["fault"], "")
    if kind == EventKind.SET_COMPLETE:
        return f"Set {data['set']} complete"
    if kind == EventKind.REST:
        return cues.rest.format(seconds=int(protocol.rest_s))
    if kind == EventKind.REST_OVER:
        return f"Set {data['set']} of {protocol.sets}"
    if kind == EventKind.SESSION_COMPLETE:
        return cues.done
    if kind == EventKind.TRACKING_LOST:
        return untracked_text(data.get("reason"))
    if kind == EventKind.TRACKING_REGAINED:
        return "Tracking again"
    return ""


def event_record(event: CoachEvent, protocol: Protocol) -> dict[str, Any]:
    """The event as stored (analysis document, session log): its codes, numbers and words."""
    return event.to_dict(event_text(event, protocol))


def guide_text(guide: GuideState) -> str | None:
    """What the guided start says (it replaces the coach's instruction), or None."""
    if guide.stage == GuideStage.FRAMING and guide.issue is not None:
        return framing_text(guide.issue, guide.posture)
    if guide.stage == GuideStage.COUNTDOWN:
        return COUNTDOWN_TEXT
    if guide.stage == GuideStage.CALIBRATING:
        return CALIBRATING_TEXT
    if guide.stage == GuideStage.COACHING and guide.untracked is not None:
        return untracked_text(guide.untracked)
    return None


def cue_text(cue: GuideCue) -> str:
    """What to say for a guide cue (a countdown second is a beep, not words)."""
    if cue.kind == GuideCueKind.FRAMING and cue.issue is not None:
        return framing_text(cue.issue, cue.posture)
    if cue.kind == GuideCueKind.CALIBRATING:
        return CALIBRATING_TEXT
    return ""


def pelvis_banner(pelvis_deg: float | None, paused: bool) -> str:
    """The overlay's pelvis warning: how far it is turned, and what it does to the hold."""
    turned = f"Pelvis turned {abs(pelvis_deg):.0f}°" if pelvis_deg is not None else "Pelvis turning"
    return f"{turned}: " + ("hold paused" if paused else "keep your hips facing forward")


# -- the range test's result ------------------------------------------------------------
TRIAL_STATUS_TEXT: dict[str, str] = {
    TrialStatus.OK: "counts",
    TrialStatus.PELVIS: "pelvis turned: not counted",
    TrialStatus.SHORT_PAUSE: "pause too short: not counted",
    TrialStatus.NO_PAUSE: "no pause at the end: not counted",
}
TREND_TEXT: dict[str, str] = {
    Trend.IMPROVED: "improved", Trend.NO_REAL_CHANGE: "no real change", Trend.WORSE: "worse",
}
RANGE_TEST_TITLE = "Rotation range test"


def _deg(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}°"


def pass_text(passed: bool | None) -> str:
    return {True: "pass", False: "below the mark", None: "no valid trial"}[passed]


def side_result_text(side: SideResult) -> str:
    """One side in a line: best, mean, spread, how sure, and the pass."""
    if side.best_deg is None:
        return f"{side.side}: no valid trial ({len(side.trials)} made)"
    spread = f", spread {_deg(side.spread_deg)}" if side.spread_deg is not None else ""
    sure = f" ± {side.uncertainty_deg:.0f}" if side.uncertainty_deg is not None else ""
    return (f"{side.side}: best {_deg(side.best_deg)}, mean {side.mean_deg:.0f}{sure}°{spread}, "
            f"{len(side.counted)} of {len(side.trials)} trials count: {pass_text(side.passed)} "
            f"(mark {side.pass_mark_deg:g}°)")


# Measured on rendered clips (README "Known limits"): with a loose shirt over the hips a 15 deg
# pelvis turn read about 8 deg (d02), and a still pelvis read 10-11 deg at 50 deg turns (l02).
SHIRT_OVER_HIPS = ("a loose shirt hangs over the hips: through it the pelvis check is unreliable (a turning pelvis "
                   "can be missed, a still one flagged); tuck the shirt in or wear a fitted top")


# Measured on rendered clips with the wrists at the chin or the shoulders (README "Hands held
# high"): read with the chest grip's model, 55-68 deg turns read 41-50 (h03); with the
# high-grip trunk (FusionModel.high_grip_trunk) the 18 such clips read 3.3 deg off on average,
# each clip left out, against about 2.9 for a chest grip. The call is the picture's: a camera
# 0.85 m high sees a chest grip as high (session 13: p08, r02), and such a picture reads as
# well or better with the high-grip trunk (2.88 against 3.64, 3.23 against 3.29).
HANDS_HIGH = ("the hands are held high, at the chin or the shoulders, or look it to a camera well below the "
              "chest: the raised arms hide the shoulder line and the turn reads a little less surely; hold the "
              "gripped hands in front of the chest, with the camera at chest height")


# Measured on a rendered clip whose camera was aimed so low that the nose sat at the picture's
# top edge (session 18's t17, README "Known limits"): MediaPipe mixed up the shoulders' sides
# and read 57-66 deg turns as 97-109 (flagged too fast); read from the hands alone their holds
# read 46-49, and the 38-45 deg turns the other way 3 deg high.
HEAD_OUT_OF_PICTURE = ("the head is out of the picture: without it the pose model mixes up the shoulders' left and "
                       "right, so the turn is read from the hands alone, less surely (large turns read low); aim the "
                       "camera so that the whole head is in the picture")


# Measured on rendered clips (docs/measurements.md "Session 25"): in cream leggings (x01) and
# light grey trousers (z35) a 12 deg pelvis turn read 1.3-1.4 deg, and the rep counted; in
# off-white trousers (s50) a still pelvis read 14-15 deg at 52-58 deg turns, and two clean reps
# were flagged.
PLAIN_PELVIS = ("the hips show too little detail (plain one-coloured trousers, or too little light): the pelvis "
                "check is unreliable on them (a turning pelvis can be missed, a still one flagged); trousers with "
                "seams, pockets or a pattern, or more light, help")
CONCERN_TEXT = {CalibrationConcern.SHIRT_OVER_HIPS: SHIRT_OVER_HIPS, CalibrationConcern.HANDS_HIGH: HANDS_HIGH,
                CalibrationConcern.HEAD_OUT_OF_PICTURE: HEAD_OUT_OF_PICTURE, CalibrationConcern.PLAIN_PELVIS: PLAIN_PELVIS}


def calibration_warnings(calibration: Calibration | None) -> list[str]:
    """What to tell the user about a neutral stance (none before calibration)."""
    return [] if calibration is None else [CONCERN_TEXT[concern] for concern in calibration.concerns]


def as_notes(texts: Iterable[str]) -> list[str]:
    """Warnings as the notes a summary or a report lists: each once, as a sentence."""
    return list(dict.fromkeys(text[:1].upper() + text[1:] for text in texts if text))


def stored_calibration_warnings(calibration: Mapping[str, Any] | None) -> list[str]:
    """The same words for a stored calibration (``Calibration.to_dict``: one flag per concern)."""
    return [CONCERN_TEXT[concern] for concern in CalibrationConcern if (calibration or {}).get(concern.value)]


def drill_asymmetry_text(summary: Summary, short: bool = False) -> str:
    """The left/right asymmetry of a drill session, and whether it is more than the camera's
    error (``fusion_model.ASYMMETRY_RESOLUTION_PCT``): a physiotherapist reads it first."""
    pct = summary.asymmetry_pct
    if pct is None:
        return "Asymmetry: –" if short else "Asymmetry: not available (reps to both sides are needed)."
    if not summary.asymmetry_resolved:
        if short:
            return f"Asymmetry: {pct:.0f}% (within the camera's error)"
        return (f"Asymmetry of best range: {pct:.1f}%, within what one camera can tell apart "
                f"(under {ASYMMETRY_RESOLUTION_PCT:.1f}%): no side reaches clearly less.")
    weaker = summary.weaker_side
    if short:
        return f"Asymmetry: {pct:.0f}% (less range to the {weaker})"
    return f"Asymmetry of best range: {pct:.1f}%; the {weaker} side reaches less."


def asymmetry_line(result: RangeTestResult) -> str:
    if result.asymmetry_deg is None:
        return "Asymmetry: needs a valid trial to each side"
    smaller = f", the {result.smaller_side} side turns less" if result.smaller_side else ""
    return f"Asymmetry: {result.asymmetry_deg:.0f}° ({result.asymmetry_pct:.0f}%){smaller}"


def range_test_lines(result: RangeTestResult) -> list[str]:
    """The result of a range test as a few lines of text (the CLI, the result screen)."""
    lines = [f"{RANGE_TEST_TITLE}: " + ("passed" if result.passed else "not passed" if result.passed is False
                                        else "incomplete")]
    lines += [side_result_text(s) for s in (result.right, result.left)]
    for side in (result.right, result.left):
        for trial in side.trials:
            if not trial.counts:
                lines.append(f"{side.side} trial {trial.number}: {TRIAL_STATUS_TEXT[trial.status]}"
                             + (f" (pelvis {trial.pelvis_deg:.0f}°)" if trial.pelvis_deg is not None else ""))
    lines.append(asymmetry_line(result))
    return lines


def trend_text(label: Trend | None) -> str:
    return TREND_TEXT[label] if label is not None else "noise not known yet"


# ---------------------------------------------------------------------- hands-free control
CONTROL_TEXT: dict[Control, str] = {     # shown and said when a gesture or a key acts
    Control.PAUSED: "Coaching paused",
    Control.RESUMED: "Coaching resumed",
    Control.ENDED: "Session ended",
}
# A hand up from the grip (the start of a gesture, or hands drifting to the chin) holds the
# coach; without a gesture's banner the frozen count needs saying.
HAND_LIFTED_HINT = "Hands back together at your chest: the count waits while a hand is up"
PAUSED_HINT = {True: "Coaching paused: raise one hand above your head for a second to resume",
               False: "Coaching paused: press Page Down or play to resume"}   # by gestures on/off
ENDED_STATUS = "Session ended: press Space for a new one"
ENDED_NOTICE = "Session ended: Space starts a new one"
GESTURE_PROGRESS_TEXT: dict[Gesture, str] = {
    Gesture.TOGGLE_PAUSE: "Hand up: keep it there to {action}",
    Gesture.END_SESSION: "Both hands up: keep them there to end the session",
}


def control_text(control: Control) -> str:
    """What to show and say when the coaching is paused, resumed or ended."""
    return CONTROL_TEXT[control]


def control_log_text(record: dict[str, Any]) -> str:
    """One stored control (``ControlEvent.to_dict()``), for a summary line: "paused at 14.2 s (gesture)"."""
    how = "gesture" if record.get("source") == ControlSource.GESTURE else "key"
    return f"{record['control']} at {record['t']:.1f} s ({how})"


def gesture_progress_text(gesture: Gesture, paused: bool) -> str:
    """The banner while a gesture is being made, before it fires."""
    return GESTURE_PROGRESS_TEXT[gesture].format(action="resume" if paused else "pause")
