"""Build the analysis document of DESIGN.md section 5 from pipeline steps."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from posecoach.analysis.coach import Coach
from posecoach.analysis.events import CoachEvent
from posecoach.analysis.rotation import RotationEstimator
from posecoach.analysis.summary import summarize_reps
from posecoach.capture.frame_source import SourceInfo
from posecoach.session.messages import calibration_warnings, event_record
from posecoach.session.pipeline import PipelineStep

SCHEMA = "posecoach.analysis/1"
FRAME_FIELDS = ("i", "t", "tracked", "trunk_deg", "pelvis_deg", "separation_deg", "separation_err_deg",
                "confidence", "phase", "reason", "pelvis_cue")


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def frame_record(step: PipelineStep) -> dict[str, Any]:
    """One frame of the contract (angles null when not tracked, with the reason)."""
    s = step.sample
    record: dict[str, Any] = {
        "i": step.frame.index, "t": round(step.frame.t, 4), "tracked": s.tracked,
        "trunk_deg": _round(s.trunk_deg), "pelvis_deg": _round(s.pelvis_deg),
        "separation_deg": _round(s.separation_deg), "separation_err_deg": _round(s.separation_err_deg, 1),
        "confidence": _round(s.confidence, 3), "phase": step.state.phase,
    }
    if not s.tracked:
        record["reason"] = s.reason
    elif s.pelvis_cue is not None:
        record["pelvis_cue"] = s.pelvis_cue  # why the pelvis picture was not read in this frame
    if step.people > 1:
        record["people"] = step.people
    return record


_DARK, _BRIGHT = 25.0, 235.0  # mean 8-bit level of a picture too dark / washed out to see anyone
_LIGHTING_SHARE = 0.1           # warn when this share of the frames has nobody and bad light


def lighting_of(image) -> str | None:
    """'dark' or 'overexposed' when a picture is too dark or too bright to see a person."""
    level = float(image[::8, ::8].mean()) if image.size else 0.0
    if level < _DARK:
        return "dark"
    if level > _BRIGHT:
        return "overexposed"
    return None


class AnalysisRecorder:
    """A session sink: collect frame records while the session runs, then assemble the document.

    The reps, events and calibration come from the coach and estimator of the last
    frame (or of the session's end) when :meth:`document` is called.
    """

    def __init__(self, info: SourceInfo, model: str) -> None:
        self.info = info
        self.model = model
        self.coach: Coach | None = None
        self.estimator: RotationEstimator | None = None
        self.frames: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self._lighting = {"dark": 0, "overexposed": 0}

    def add_step(self, step: PipelineStep, coach: Coach, estimator: RotationEstimator) -> None:
        """Record one frame."""
        self.coach, self.estimator = coach, estimator
        record = frame_record(step)
        self.frames.append(record)
        if step.pose is None:
            light = lighting_of(step.frame.image)
            if light is not None:
                self._lighting[light] += 1

    def add_events(self, events: list[CoachEvent], coach: Coach, estimator: RotationEstimator) -> None:
        """Nothing to do: the document takes every event from the coach."""
        self.coach, self.estimator = coach, estimator

    def finish(self, coach: Coach) -> None:
        self.coach = coach

    def _all_warnings(self) -> list[str]:
        out = list(self.warnings)
        n = len(self.frames)
        if n and self._lighting["dark"] >= max(1, _LIGHTING_SHARE * n):
            out.append(f"the picture is too dark to see anyone in {self._lighting['dark']} of {n} frames: "
                       "turn on a light in front of you")
        if n and self._lighting["overexposed"] >= max(1, _LIGHTING_SHARE * n):
            out.append(f"the picture is washed out (overexposed) in {self._lighting['overexposed']} of {n} "
                       "frames: avoid bright light or a window behind you or facing the camera")
        out += calibration_warnings(self.estimator.calibration if self.estimator is not None else None)
        return out

    def document(self) -> dict[str, Any]:
        """The analysis document of DESIGN.md section 5 (plus calibration, events, warnings)."""
        if self.coach is None:
            raise ValueError("the analysis document needs at least one frame")
        reps = [rep.to_dict() for rep in self.coach.reps]
        tracked = sum(1 for f in self.frames if f["tracked"])
        reasons: dict[str, int] = {}
        for f in self.frames:
            if not f["tracked"]:
                reasons[f["reason"]] = reasons.get(f["reason"], 0) + 1
        calibration = self.estimator.calibration if self.estimator is not None else None
        return {
            "schema": SCHEMA,
            "source": {"path": self.info.path, "fps": round(self.info.fps, 3), "frames": len(self.frames),
                       "width": self.info.width, "height": self.info.height},
            "protocol": self.coach.protocol.contract(),
            "model": self.model,
            "calibration": calibration.to_dict() if calibration else None,
            "tracking": {"tracked_frames": tracked, "frames": len(self.frames),
                         "rate": round(tracked / len(self.frames), 4) if self.frames else 0.0,
                         "untracked_reasons": reasons},
            "frames": self.frames,
            "reps": reps,
            "events": [event_record(e, self.coach.protocol) for e in self.coach.events],
            "summary": summarize_reps(reps).to_dict(),
            "warnings": self._all_warnings(),
        }


def write_json(doc: dict[str, Any], path: Path) -> None:
    """Write atomically: a crash never leaves a half-written file in place."""
    _atomic_write(path, lambda handle: json.dump(doc, handle, indent=1, allow_nan=False))


def write_frames_csv(doc: dict[str, Any], path: Path) -> None:
    def dump(handle) -> None:
        writer = csv.DictWriter(handle, fieldnames=FRAME_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(doc["frames"])
    _atomic_write(path, dump)


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, scratch = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
