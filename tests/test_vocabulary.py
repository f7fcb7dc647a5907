"""One vocabulary: codes as StrEnums stored as plain strings, and one module for their words."""

from __future__ import annotations

import dataclasses
import json
import sqlite3

import pytest

from posecoach.analysis import events as ev
from posecoach.analysis.coach import Coach
from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.protocol import Cues, load_protocol
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import EventKind, Fault, FramingIssue, Instruction, Phase, Reason, Side
from posecoach.session import messages
from test_coach import run


def test_codes_are_stored_as_plain_strings():
    record = {"phase": Phase.HOLDING, "faults": [Fault.TOO_FAST], "kind": EventKind.FAULT, "side": Side.LEFT}
    assert json.dumps(record) == '{"phase": "holding", "faults": ["too_fast"], "kind": "fault", "side": "left"}'
    db = sqlite3.connect(":memory:")
    db.execute("create table t (phase text)")
    db.execute("insert into t values (?)", (Phase.HOLDING,))
    (value,), = db.execute("select phase from t").fetchall()
    assert type(value) is str and value == "holding"


def test_the_coach_emits_codes_and_the_messages_module_words_them():
    coach, states = run([dict(side=1, amplitude=45, hold_s=7.5), dict(side=1, amplitude=40, hold_s=3.0)])
    assert {type(e.kind) for e in coach.events} == {EventKind}
    assert all(isinstance(f, Fault) for r in coach.reps for f in r.faults)
    assert {type(s.instruction) for s in states} == {Instruction} and {type(s.phase) for s in states} == {Phase}
    said = {e.kind: messages.event_text(e, coach.protocol) for e in coach.events}
    cues = coach.protocol.cues
    assert said[ev.CALIBRATED] == "Calibrated: neutral stance recorded"
    assert said[ev.ROTATE_NOW] == cues.rotate.format(side="left")   # the last announcement: the other side
    assert said[ev.HOLD_COMPLETE] == cues.hold_complete and said[ev.HOLD_STARTED] == cues.hold
    assert said[ev.WRONG_SIDE] == "The other side: this one should be to your left"
    assert said[ev.HOLD_BROKEN] == "Hold the end position for the full 7 seconds"
    record = messages.event_record(next(e for e in coach.events if e.kind == ev.HOLD_BROKEN), coach.protocol)
    assert list(record)[:4] == ["t", "kind", "side", "message"] and record["held_s"] > 0


def test_every_instruction_has_words_and_the_protocol_owns_its_cues():
    cues = Cues(rotate="Turn {side}", hold="Stay", rest="Rest {seconds}", done="Over")
    base = CoachState(t=0.0, phase=Phase.NEUTRAL, side=None, expected_side=Side.LEFT, hold_progress_s=2.2,
                      hold_target_s=7.0, paused_reason=None, completed={}, required_per_side=7, set_index=1, sets=1,
                      instruction=Instruction.ROTATE, rest_remaining_s=12.6)
    words = {code: messages.instruction_text(dataclasses.replace(base, instruction=code), cues) for code in Instruction}
    assert all(words.values())
    assert words[Instruction.ROTATE] == "Turn left" and words[Instruction.HOLD] == "Stay: 5 s"
    assert words[Instruction.REST] == "Rest 12" and words[Instruction.DONE] == "Over"
    rotating = dataclasses.replace(base, phase=Phase.ROTATING, side=Side.RIGHT)
    assert messages.instruction_text(rotating, cues) == "Turn right"


@pytest.mark.parametrize("reason", list(Reason))
def test_one_map_words_why_a_frame_is_not_measured(reason):
    coach = Coach(load_protocol("standing-rotation"))
    coach.update(RotationSample.untracked(0.0, Reason.CALIBRATING, calibrated=True))
    coach.update(RotationSample.untracked(0.1, reason, calibrated=True))
    lost = next(e for e in coach.events if e.kind == ev.TRACKING_LOST)
    text = messages.event_text(lost, coach.protocol)
    assert text == messages.untracked_text(reason)
    assert text != messages.NOT_SEEN or reason == Reason.TRACKING
    assert messages.FRAMING_TEXT[FramingIssue.NO_PERSON] == messages.untracked_text(Reason.NO_PERSON)


def test_every_fault_has_words_for_reports_and_tables():
    assert set(messages.FAULT_TEXT) == set(messages.FAULT_LABELS) == set(Fault)
