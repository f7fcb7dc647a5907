"""What the overlay says: the texts and the hold ring of one step, without drawing (no Qt).

``overlay_text(model)`` gives every text the overlay draws for an :class:`OverlayModel`
(the words come from :mod:`posecoach.session.messages` and the protocol's cues);
``hold_ring(model)`` the ring's progress, text and tone. ``overlay.py`` draws them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from posecoach.analysis.next_hold import NextHold
from posecoach.analysis.protocol import Cues
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import Alert, BannerKind, GuideStage, Pause, Phase
from posecoach.session import messages
from posecoach.session.guide import GuideState
from posecoach.session.pipeline import PipelineStep

PELVIS, TOO_FAST, GESTURE = BannerKind


@dataclass(frozen=True)
class OverlayModel:
    """Everything the overlay shows: a pipeline step plus what the window adds."""

    step: PipelineStep | None
    mirrored: bool = False
    guide: GuideState | None = None
    toast: str | None = None
    paused: bool = False
    notice: str | None = None   # replaces the instruction (e.g. the end of a recording)
    cues: Cues = Cues()         # the protocol's words for its cues
    next_hold: NextHold | None = None   # after a completed hold: what comes next


@dataclass(frozen=True)
class OverlayText:
    """The texts of the overlay (the numbers are the same whether mirrored or not)."""

    separation: str
    side: str
    angles: str
    tracking: str
    counts: dict[str, str]
    set_label: str
    hold_value: str
    hold_label: str
    instruction: str
    banners: tuple[tuple[BannerKind, str], ...]  # (kind, text)
    coaching_paused: bool = False   # by a gesture or a remote's key (frames still flow)


# ---------------------------------------------------------------------- model -> text
class Tone(StrEnum):
    """The colour of the hold ring, by what it means."""

    CALIBRATING = "calibrating"
    GOOD = "good"
    WARN = "warn"
    DIM = "dim"


def hold_ring(model: OverlayModel) -> tuple[float | None, str, str, Tone]:
    """(progress 0..1 or None to hide, centre text, label, tone) of the hold ring."""
    guide = model.guide
    step = model.step
    if guide is not None and guide.stage == GuideStage.CALIBRATING and guide.calibration_progress is not None:
        return guide.calibration_progress, "still", "calibrating", Tone.CALIBRATING
    if step is None or step.state.phase == Phase.CALIBRATING:
        return None, "", "", Tone.DIM
    state = step.state
    target = state.hold_target_s
    if state.phase == Phase.HOLDING:
        done = state.hold_progress_s >= target - 1e-6
        remaining = messages.hold_seconds_left(state)
        if done:
            return 1.0, "✓", "done", Tone.GOOD
        if state.paused_reason:
            return state.hold_progress_s / target, f"{remaining} s", "paused", Tone.WARN
        return state.hold_progress_s / target, f"{remaining} s", "hold", Tone.GOOD
    if state.phase == Phase.RETURNING and state.hold_progress_s >= target - 1e-6:
        return 1.0, "✓", "done", Tone.GOOD
    if state.phase == Phase.REST:
        return 0.0, f"{state.rest_remaining_s:.0f} s", "rest", Tone.DIM
    return 0.0, f"{target:g} s", "hold", Tone.DIM


_SURE_DEG = 4.0    # within this (90 % of the time): a precise measurement
_ROUGH_DEG = 9.0   # beyond this: a rough one
_WORST_DEG = 15.0  # the certainty bar is empty here


def certainty(sample: RotationSample | None) -> tuple[str, float]:
    """How sure the measurement is: words for the readout and the fill (0..1) of its bar.

    From the estimator's uncertainty of the separation ("precise ±3°") when it gives one;
    else from its confidence, in words only: a bare percentage reads as a grade.
    """
    if sample is None or not sample.tracked or sample.separation_deg is None:
        return "not measured", 0.0
    err = sample.separation_err_deg
    if err is not None and math.isfinite(err):
        word = "precise" if err <= _SURE_DEG else "fair" if err <= _ROUGH_DEG else "rough"
        return f"{word} ±{max(1, round(err))}°", max(0.0, min(1.0, (_WORST_DEG - err) / (_WORST_DEG - 1.0)))
    level = max(0.0, min(1.0, sample.confidence))
    return ("seen well" if level >= 0.7 else "seen partly" if level >= 0.4 else "hard to see"), level


def signed_angle(angle: float | None) -> str:
    """``+12°``, ``-3°``, ``0°`` (never ``-0°``); positive = toward the person's right."""
    if angle is None:
        return "–"
    value = int(round(angle))
    return f"{value:+d}°" if value else "0°"


def overlay_text(model: OverlayModel) -> OverlayText:
    """The texts the overlay draws for ``model``."""
    step = model.step
    sample = step.sample if step else None
    state = step.state if step else None
    if sample is not None and sample.tracked and sample.separation_deg is not None:
        sep = sample.separation_deg
        separation = f"{abs(sep):.0f}°"
        side = "centre" if abs(sep) < 3.0 else ("right" if sep > 0 else "left")
        angles = f"trunk {signed_angle(sample.trunk_deg)}   pelvis {signed_angle(sample.pelvis_deg)}"
    else:
        separation, side, angles = "–", "", "not measured"
    tracking, _ = certainty(sample)
    counts = {"right": "Right 0/0", "left": "Left 0/0"}
    set_label = ""
    instruction = ""
    banners: list[tuple[BannerKind, str]] = []
    if state is not None:
        need = state.required_per_side
        done = state.holds_done
        counts = {s: f"{s.capitalize()} {done[s]}/{need}" for s in ("right", "left")}
        set_label = f"Set {state.set_index}/{state.sets}"
        instruction = messages.instruction_text(state, model.cues, model.next_hold)
        if Alert.PELVIS in state.warnings or state.paused_reason == Pause.PELVIS:
            banners.append((PELVIS, messages.pelvis_banner(sample.pelvis_deg if sample else None,
                                                            state.paused_reason == Pause.PELVIS)))
        if Alert.TOO_FAST in state.warnings:
            banners.append((TOO_FAST, model.cues.too_fast))
    guide_says = messages.guide_text(model.guide) if model.guide is not None else None
    if guide_says:
        instruction = guide_says
    control = step.control if step is not None else None
    coaching_paused = bool(control is not None and control.paused)
    if control is not None:
        if control.gesture is not None:
            banners.append((GESTURE, messages.gesture_progress_text(control.gesture.gesture, control.paused)))
        if control.paused:
            instruction = messages.PAUSED_HINT[control.gestures_on]
        elif control.lifted and control.gesture is None and state is not None and not guide_says:
            instruction = messages.HAND_LIFTED_HINT
    if model.notice:
        instruction = model.notice
    _, hold_value, hold_label, _ = hold_ring(model)
    return OverlayText(separation, side, angles, tracking, counts, set_label, hold_value, hold_label,
                       instruction, tuple(banners), coaching_paused)
