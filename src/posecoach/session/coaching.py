"""The coaching session: one person's drill over one stream, a frame at a time.

Every front end runs through :class:`CoachingSession`: ``posecoach analyze``, the
accuracy and speed benchmarks, and the live window's worker. It owns the per-stream
pieces (person selector, rotation estimator, coach, guide), takes the pose detector
from its caller (MediaPipe, a cache of recorded landmarks, a scripted fake in tests),
and hands every step to its sinks (the analysis document, the session store).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from posecoach.analysis.coach import Coach
from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.events import CoachEvent
from posecoach.analysis.gestures import GestureSettings
from posecoach.analysis.posture import posture_setup
from posecoach.analysis.protocol import Protocol as ExerciseProtocol
from posecoach.analysis.rotation import Calibration, RotationEstimator
from posecoach.analysis.sample import RotationSample
from posecoach.analysis.vocabulary import ControlSource, Posture, Reason
from posecoach.capture.frame_source import Frame, FrameSource
from posecoach.capture.read_ahead import ReadAhead
from posecoach.pose.types import PoseFrame
from posecoach.session.control import ControlEvent, SessionControl
from posecoach.session.guide import Guide
from posecoach.session.pipeline import PERSON_UNSURE, PersonSelector, PipelineStep, PoseDetector, in_time_order

# Frames a recorded video's detector may run ahead of the coaching (CoachingSession.run):
# enough to keep it busy while a frame is measured; each holds one picture.
RECORDED_DETECT_AHEAD = 2


@dataclass(frozen=True)
class Detected:
    """A frame (in time order) and the people the detector found in it, found ahead."""

    frame: Frame
    people: list[PoseFrame]
    decode_s: float
    inference_s: float


class SessionSink(Protocol):
    """Where a session writes as it runs (the analysis document, the session store)."""

    def add_step(self, step: PipelineStep, coach: Coach, estimator: RotationEstimator) -> None:
        """One frame and the coach events it raised."""

    def add_events(self, events: list[CoachEvent], coach: Coach, estimator: RotationEstimator) -> None:
        """Coach events raised outside a frame (closing the rep in progress at the end)."""

    def finish(self, coach: Coach) -> None:
        """The session ended, or starts over."""


def read_views(detector: PoseDetector, two_views: bool) -> None:
    """Have ``detector`` read the landmarks as the posture's model was measured (from the picture
    and its mirror image, or the picture alone), when it can do both."""
    if hasattr(detector, "two_views"):
        detector.two_views = two_views


class CoachingSession:
    """Coach one person through a protocol, one frame at a time.

    Parameters
    ----------
    detector : finds the people in a frame (``detect(image, t) -> list[PoseFrame]``).
    protocol : the exercise protocol.
    sinks : written to after every frame and at the end.
    gate : hold calibration back until the guide has seen the person framed and counted
        down (live cameras); without it the guide only describes what it sees, so a
        replay calibrates as ``posecoach analyze`` does.
    gestures : hands-free control's settings (:mod:`posecoach.session.control` says what
        pause and end do); None: no gestures (the benchmarks), keys still pause and end.
    """

    def __init__(self, detector: PoseDetector, protocol: ExerciseProtocol, sinks: Sequence[SessionSink] = (),
                 gate: bool = False, gestures: GestureSettings | None = None) -> None:
        self.detector = detector
        self.sinks = list(sinks)
        self.gate = gate
        self.selector = PersonSelector()
        self.estimator = self._new_estimator(protocol)
        self.coach = Coach(protocol)
        self.guide = self._new_guide(protocol)
        self.control = SessionControl(gestures)
        self.last_t: float | None = None
        self._finished = False
        self._state: CoachState | None = None    # the coach's state after the last frame coached
        self._frozen: CoachState | None = None   # the coach's state when the controls began to hold it
        self._held_since: float | None = None    # the frame time they did
        self._calibration: Calibration | None = None   # the calibration the control's grip is from

    def _new_estimator(self, protocol: ExerciseProtocol) -> RotationEstimator:
        setup = posture_setup(protocol.posture)
        read_views(self.detector, setup.model.two_views)
        return RotationEstimator(setup.settings, setup.model)

    def _new_guide(self, protocol: ExerciseProtocol) -> Guide:
        return Guide(gate=self.gate, calibration_s=self.estimator.settings.calibration_s,
                     posture=Posture(protocol.posture))

    @property
    def protocol(self) -> ExerciseProtocol:
        return self.coach.protocol

    def step(self, frame: Frame, decode_s: float = 0.0, detected: Detected | None = None) -> PipelineStep:
        """Detect, measure, coach and guide one frame; write it to the sinks.

        ``detected``: the frame (in time order) and its people, found beforehand (:meth:`run`).
        """
        if detected is None:
            detected = self._detect(frame, self.last_t, decode_s)
        clock = time.perf_counter
        estimator, coach = self.estimator, self.coach
        t1 = clock()
        frame, people = detected.frame, detected.people
        self.last_t = frame.t
        self._finished = False
        pose = self.selector.select(people)
        t2 = clock()
        height, width = frame.image.shape[:2]
        measured = None if self.selector.unsure else pose
        sample = estimator.update(frame.t, measured.image if measured else None,
                                  measured.world if measured else None, width, height, frame.image)
        if self.selector.unsure:
            sample = replace(sample, reason=PERSON_UNSURE)
        if estimator.calibration is not self._calibration:
            # A new neutral stance: where its hands rest is the grip a gesture's lift leaves.
            self._calibration = estimator.calibration
            self.control.set_grip(measured.image if measured is not None and self._calibration is not None else None)
        t3 = clock()
        first_event = len(coach.events)
        blocked = (not estimator.calibrated or self.selector.unsure
                   or sample.reason in (Reason.PERSON_SWITCHED, Reason.PERSON_UNSURE, Reason.CALIBRATING))
        self.control.observe(frame.t, pose.image if pose is not None else None, blocked)
        state = self._coach(sample)
        guide = self.guide.update(frame.t, pose, sample, state)
        if self.gate and guide.blocks_calibration and not estimator.calibrated:
            estimator.request_calibration()
        t4 = clock()
        step = PipelineStep(frame=frame, pose=pose, sample=sample, state=state, events=coach.events[first_event:],
                            timings={"decode": detected.decode_s, "inference": detected.inference_s + t2 - t1,
                                     "estimation": t3 - t2, "coaching": t4 - t3},
                            people=len(people), guide=guide, control=self.control.state())
        for sink in self.sinks:
            sink.add_step(step, coach, estimator)
        step.timings["recording"] = clock() - t4
        return step

    def _coach(self, sample: RotationSample) -> CoachState:
        """The coach's step, unless the controls hold it (then its state stands still).

        When it may go on again, its timers move forward by the time it was held, so that
        time neither counts nor breaks anything.
        """
        control, coach = self.control, self.coach
        if control.holds_coach:
            if self._held_since is None:
                self._held_since = sample.t
                dropped = (control.lifted and control.lifted_at is not None and control.detector is not None
                           and coach.discard_rep(control.lifted_at - control.detector.settings.lift_lookback_s))
                last = self._state
                self._frozen = last if last is not None and not dropped else coach.state(last.t if last else sample.t)
            assert self._frozen is not None
            return self._frozen
        if self._held_since is not None:
            coach.shift_time(sample.t - self._held_since)
            self._held_since = self._frozen = None
        self._state = coach.update(sample)
        return self._state

    # ------------------------------------------------------------------ controls (keys, remotes)
    def pause_coaching(self, source: ControlSource = ControlSource.KEY) -> None:
        """Pause the coaching at the last frame; frames still flow (see :mod:`posecoach.session.control`)."""
        self.control.pause(self._now(), source)

    def resume_coaching(self, source: ControlSource = ControlSource.KEY) -> None:
        self.control.resume(self._now(), source)

    def toggle_coaching(self, source: ControlSource = ControlSource.KEY) -> None:
        if self.control.paused:
            self.resume_coaching(source)
        else:
            self.pause_coaching(source)

    def end_session(self, source: ControlSource = ControlSource.KEY) -> None:
        """Ask the session to end after this frame (:meth:`run` stops; the live loop ends it)."""
        self.control.end(self._now(), source)

    @property
    def controls(self) -> list[ControlEvent]:
        """Every pause, resume and end of this session, in order."""
        return self.control.events

    def _now(self) -> float:
        return self.last_t if self.last_t is not None else 0.0

    def run(self, source: FrameSource, detect_ahead: int = 0) -> Generator[PipelineStep, None, None]:
        """Step through every frame of ``source``; at its end, close the rep in progress.

        An end asked for (a gesture, :meth:`end_session`) stops it after that frame.
        ``detect_ahead`` > 0 (recorded videos): the pose detector runs on a thread of its own,
        up to that many frames ahead, while this one measures and coaches the frame before;
        the steps are the same, in the same order. 0: one thread, each frame in turn (a live
        camera, where a frame waiting behind another would only add latency). Close the
        generator before :meth:`restart` then: the detector may be reading a frame.

        The events of that last rep come after the last step: read them from
        ``coach.events``. Closing the generator early leaves the session open.
        """
        detections = self._detected(source.frames())
        ahead = ReadAhead(detections, detect_ahead, name="posecoach-detect") if detect_ahead > 0 else None
        try:
            for detected in ahead if ahead is not None else detections:
                yield self.step(detected.frame, detected=detected)
                if self.control.end_requested:
                    break
        finally:
            if ahead is not None:
                ahead.close()
        self.finish()

    def _detected(self, frames: Iterator[Frame]) -> Iterator[Detected]:
        """Each frame of ``frames`` in time order, with the people in it (on :meth:`run`'s
        detector thread when it detects ahead)."""
        clock = time.perf_counter
        last_t = self.last_t
        while True:
            t0 = clock()
            frame = next(frames, None)
            if frame is None:
                return
            detected = self._detect(frame, last_t, clock() - t0)
            last_t = detected.frame.t
            yield detected

    def _detect(self, frame: Frame, last_t: float | None, decode_s: float) -> Detected:
        """``frame`` placed after ``last_t`` in time, and the people the detector finds in it."""
        t0 = time.perf_counter()
        frame = in_time_order(frame, last_t)
        people = self.detector.detect(frame.image, frame.t)
        return Detected(frame, people, decode_s, time.perf_counter() - t0)

    def finish(self) -> list[CoachEvent]:
        """End the session: close the rep in progress, tell the sinks; returns the events it raised.

        Finishing twice does nothing the second time (until another frame comes).
        """
        if self._finished:
            return []
        self._finished = True
        coach = self.coach
        seen = len(coach.events)
        coach.finish(self.last_t if self.last_t is not None else 0.0)
        events = coach.events[seen:]
        for sink in self.sinks:
            sink.add_events(events, coach, self.estimator)
            sink.finish(coach)
        return events

    def restart(self, protocol: ExerciseProtocol | None = None) -> None:
        """Start over (with another protocol when given); the sinks close the session so far.

        A rep in progress is dropped, not closed: the person starts again.
        """
        if not self._finished:
            for sink in self.sinks:
                sink.finish(self.coach)
        if protocol is not None and protocol.posture != self.coach.protocol.posture:
            self.estimator = self._new_estimator(protocol)
        self.coach = Coach(protocol or self.coach.protocol)
        self.estimator.reset()
        self.selector.reset()
        self.guide = self._new_guide(self.coach.protocol)
        self.control.reset()
        self._state = self._frozen = self._held_since = None
        self.last_t = None
        self._finished = False
