"""Save a running session to the SessionStore as it happens (no Qt; runs on the worker thread).

The session row is created at calibration (with the neutral stance), frames and events
are written in batches, each rep as soon as it is done, and the summary at the end. A
database problem never stops the live session: the first failure is reported through
``on_warning`` and nothing more is written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posecoach.analysis import events as ev
from posecoach.analysis.coach import Coach
from posecoach.analysis.rotation import RotationEstimator
from posecoach.analysis.summary import summarize_reps
from posecoach.capture.frame_source import SourceInfo
from posecoach.errors import PosecoachError
from posecoach.session.analysis_doc import frame_record
from posecoach.session.messages import event_record
from posecoach.session.pipeline import PipelineStep

_PRE_CALIBRATION_FRAMES = 9000  # ~5 min at 30 fps kept from before calibration


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SessionLog:
    """Write one session (or several, after ``restart()``) to a session database.

    Parameters
    ----------
    db_path : the database file; None keeps nothing (the log only counts).
    info : the source, stored as the session's ``source``.
    model : the pose model's name.
    live : True for a camera session, False for a replayed recording.
    on_warning : called once with a one-line message when the database fails.
    batch : frames per write transaction.
    """

    def __init__(self, db_path: Path | None, info: SourceInfo, model: str, live: bool,
                 on_warning: Callable[[str], None] | None = None, batch: int = 90) -> None:
        self.db_path = db_path
        self.info = info
        self.model = model
        self.live = live
        self.batch = batch
        self._on_warning = on_warning or (lambda message: None)
        self._store = None
        self.failed = False
        self.session_ids: list[int] = []
        self._reset()

    def _reset(self) -> None:
        self.session_id: int | None = None
        self._frames: deque[dict[str, Any]] = deque(maxlen=_PRE_CALIBRATION_FRAMES)
        self._events: list[dict[str, Any]] = []
        self._reps_saved = 0

    @property
    def enabled(self) -> bool:
        return self.db_path is not None and not self.failed

    # ------------------------------------------------------------------ feeding
    def add_step(self, step: PipelineStep, coach: Coach, estimator: RotationEstimator) -> None:
        """Record one frame and the coach events it raised."""
        if not self.enabled:
            return
        self._frames.append(frame_record(step))
        self.add_events(step.events, coach, estimator)
        if self.session_id is not None and len(self._frames) >= self.batch:
            self._flush()

    def add_events(self, events: list[ev.CoachEvent], coach: Coach, estimator: RotationEstimator) -> None:
        """Record coach events; begin the session at calibration, save reps when done."""
        if not self.enabled:
            return
        for event in events:
            self._events.append(event_record(event, coach.protocol))
            if event.kind == ev.CALIBRATED and self.session_id is None:
                self._begin(coach, estimator)
            elif event.kind == ev.REP_DONE and self.session_id is not None:
                self._save_reps(coach)

    def finish(self, coach: Coach) -> None:
        """End the current session (if one began): flush, then store its summary."""
        if self.enabled and self.session_id is not None:
            self._save_reps(coach)
            self._flush()
            reps = [rep.to_dict() for rep in coach.reps]
            self._write(lambda store: store.finish_session(self.session_id, summarize_reps(reps).to_dict(), _now()))
        self._reset()

    def close(self, coach: Coach | None = None) -> None:
        """Finish the current session (when a coach is given) and close the database."""
        if coach is not None:
            self.finish(coach)
        if self._store is not None:
            try:
                self._store.close()
            except PosecoachError:
                pass
            self._store = None

    # ------------------------------------------------------------------ internals
    def _begin(self, coach: Coach, estimator: RotationEstimator) -> None:
        from posecoach.session.store import SessionStore

        if self._store is None:
            try:
                self._store = SessionStore(self.db_path)
            except PosecoachError as exc:
                self._fail(exc)
                return
        info = self.info
        source = {"path": info.path, "fps": round(info.fps, 3), "frames": info.frames,
                  "width": info.width, "height": info.height}
        if info.file:
            source["file"] = info.file  # the video to replay or export the session from
        calibration = estimator.calibration.to_dict() if estimator.calibration else None
        session_id = self._write(lambda store: store.begin_session(
            source=source, protocol=coach.protocol.contract(), started_at=_now(), model=self.model,
            calibration=calibration, live=self.live))
        if session_id is not None:
            self.session_id = session_id
            self.session_ids.append(session_id)
            self._flush()

    def _save_reps(self, coach: Coach) -> None:
        for rep in coach.reps[self._reps_saved:]:
            if self._write(lambda store, rep=rep: store.add_rep(self.session_id, rep.to_dict())) is False:
                return
            self._reps_saved += 1

    def _flush(self) -> None:
        if self.session_id is None:
            return
        frames, self._frames = list(self._frames), deque(maxlen=_PRE_CALIBRATION_FRAMES)
        events, self._events = self._events, []
        if frames:
            self._write(lambda store: store.add_frames(self.session_id, frames))
        if events:
            self._write(lambda store: store.add_events(self.session_id, events))

    def _write(self, action: Callable[[Any], Any]) -> Any:
        if not self.enabled or self._store is None:
            return False
        try:
            return action(self._store)
        except (PosecoachError, ValueError, OSError) as exc:
            self._fail(exc)
            return False

    def _fail(self, exc: Exception) -> None:
        self.failed = True
        self._on_warning(f"this session is not being saved: {exc}")
