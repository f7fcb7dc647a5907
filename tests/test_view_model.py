"""The window's view model without Qt: what the live loop's updates change, and who is told."""

from __future__ import annotations

from pathlib import Path

from posecoach.analysis.events import CoachEvent
from posecoach.analysis.protocol import load_protocol
from posecoach.analysis.vocabulary import EventKind
from posecoach.capture.frame_source import SourceInfo
from posecoach.session import view_model as vm
from posecoach.session.sources import SourceRequest
from posecoach.session.updates import EventBatch, SessionEnd

PROTOCOL = load_protocol("standing-rotation")
FILE = SourceRequest(path=Path("drill.mp4"))
CAMERA = SourceRequest(camera=1)


def watched(request: SourceRequest = FILE, **kwargs) -> tuple[vm.SessionViewModel, list[str]]:
    model = vm.SessionViewModel(PROTOCOL, request, **kwargs)
    told: list[str] = []
    model.subscribe(told.append)
    return model, told


def test_subscribers_are_told_what_changed_until_they_unsubscribe():
    model = vm.SessionViewModel(PROTOCOL, FILE)
    told: list[str] = []
    unsubscribe = model.subscribe(told.append)
    model.opened(SourceInfo(path="drill.mp4", fps=30.0, frames=90, width=160, height=120, live=False))
    model.set_status("")
    assert told == [vm.INFO, vm.STATUS] and model.status == model.shortcut_hint and "one frame" in model.status
    unsubscribe()
    model.set_status("Loading")
    assert told == [vm.INFO, vm.STATUS] and model.status == "Loading"


def test_events_make_toasts_and_a_completed_protocol_offers_a_new_session():
    model, told = watched()
    calibrated = CoachEvent(t=1.0, kind=EventKind.CALIBRATED)
    tick = CoachEvent(t=2.0, kind=EventKind.HOLD_TICK, side="right", data={"second": 1, "remaining": 6.0})
    sounded = model.events(EventBatch((calibrated, tick)), now=100.0)
    assert sounded == [(calibrated, "Calibrated: neutral stance recorded"), (tick, "6")]
    assert model.toast == "Calibrated: neutral stance recorded"   # a tick is said, not toasted
    model.expire_toast(102.0)
    assert model.toast is not None
    model.expire_toast(103.5)
    assert model.toast is None
    reps = ({"side": "right", "completed": True},)
    assert model.events(EventBatch((CoachEvent(t=3.0, kind=EventKind.SESSION_COMPLETE),), reps=reps, replayed=True),
                        now=104.0) == []
    assert model.reps == list(reps) and not model.session_complete   # a replay updates the counts only
    told.clear()
    model.events(EventBatch((CoachEvent(t=3.0, kind=EventKind.SESSION_COMPLETE),)), now=105.0)
    assert model.session_complete and model.finished and model.play_label == "New session"
    assert vm.SHOW_SUMMARY in told and vm.PLAY in told
    assert model.play_again() and model.play_label == "Pause" and not model.play_again()


def test_the_end_of_a_file_and_of_a_camera():
    model, told = watched(FILE)
    end = SessionEnd(reps=(), summary={}, frames=90)
    model.ended(end)
    assert model.play_label == "Replay" and model.notice and "Replay finished" in model.status
    assert model.problem is None and told[-1] == vm.ENDED
    camera, _ = watched(CAMERA)
    camera.ended(end)
    assert camera.problem == vm.Problem("The camera stopped", vm.CAMERA_STOPPED, error=False)
    assert camera.notice is None


def test_failures_say_what_could_not_be_opened():
    camera, told = watched(CAMERA)
    camera.source_failed("camera 1 is not available")
    assert camera.problem == vm.Problem("No camera available", "camera 1 is not available")
    assert told == [vm.PROBLEM, vm.STATUS] and camera.status == "camera 1 is not available"
    video, _ = watched(FILE)
    video.failed("the model is damaged")
    assert video.problem is not None and video.problem.title == "The coach stopped"


def test_mirroring_pausing_and_switching_sources():
    model, _ = watched(CAMERA, mirror_live=True)
    assert model.mirrored
    model.set_mirrored(False)
    assert not model.mirror_live
    model.set_source(FILE)
    assert not model.mirrored and model.request is FILE
    model.set_source(CAMERA)
    assert not model.mirrored   # the camera's choice was remembered
    shot, _ = watched(FILE, screenshot=True)
    shot.paused_changed(True)
    assert shot.paused and not shot.shown_paused and shot.play_label == "Pause"
    model.paused_changed(True)
    assert model.play_label == "Resume"
    model.session_reset()
    assert model.play_label == "Resume" and model.reps == []


def test_a_toast_about_the_rep_goes_when_the_rep_is_over():
    """A hold-broken toast must not stay under the next "turn to your right"; a completed hold
    is no toast at all (the instruction line says it)."""
    model, told = watched()
    complete = CoachEvent(t=10.0, kind=EventKind.HOLD_COMPLETE, side="right")
    assert model.events(EventBatch((complete,)), now=100.0) == [(complete, PROTOCOL.cues.hold_complete)]
    assert model.toast is None                          # said, not toasted
    broken = CoachEvent(t=20.0, kind=EventKind.HOLD_BROKEN, side="left", data={"held_s": 4.0})
    model.events(EventBatch((broken,)), now=110.0)
    assert model.toast is not None and "7 seconds" in model.toast
    told.clear()
    done = CoachEvent(t=21.5, kind=EventKind.REP_DONE, side="left", data={"completed": False, "faults": []})
    model.events(EventBatch((done,)), now=111.5)
    assert model.toast is None and vm.VIEW in told
    # other toasts run their time: a set's end is news after its last rep too
    model.events(EventBatch((CoachEvent(t=22.0, kind=EventKind.SET_COMPLETE, data={"set": 1}),)), now=112.0)
    model.events(EventBatch((done,)), now=112.5)
    assert model.toast == "Set 1 complete"


def test_the_summary_is_called_complete_only_when_the_protocol_is_done():
    model, _ = watched()
    assert model.summary_title == "Session so far"
    model.ended(SessionEnd(reps=({"side": "right", "completed": True},), summary={}, frames=90))
    assert model.finished and model.summary_title == "End of the recording"   # 1 hold of 7 per side
    live, _ = watched(CAMERA)
    live.ended(SessionEnd(reps=(), summary={}, frames=90, by_user=True))
    assert live.summary_title == "Session ended"
    live.session_reset()
    live.events(EventBatch((CoachEvent(t=3.0, kind=EventKind.SESSION_COMPLETE),)), now=105.0)
    assert live.summary_title == "Session complete"
