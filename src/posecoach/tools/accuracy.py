"""Accuracy benchmark: run the pipeline over clips with ground truth and score it.

A folder holds ``NAME.mp4`` and ``NAME.csv`` (``frame,t,trunk_yaw,pelvis_yaw,separation,...``,
degrees, positive = to the person's right) and optionally ``NAME_meta.json`` (neutral
offsets, expected reps, tags). Angles are compared relative to the neutral stance.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from posecoach.analysis.protocol import load_protocol
from posecoach.capture.video_file import VideoFileSource
from posecoach.errors import PosecoachError
from posecoach.session.coaching import CoachingSession

ANGLES = ("trunk", "pelvis", "separation")
SIGN_DEADBAND_DEG = 5.0


@dataclass(frozen=True)
class AngleScore:
    mae: float | None
    p95: float | None
    bias: float | None
    sign_error_rate: float | None


def lag_frames(estimate: np.ndarray, truth: np.ndarray, max_lag: int = 15) -> int | None:
    """The delay (frames) of the estimate behind the truth that best aligns them."""
    best, best_error = None, np.inf
    for lag in range(0, max_lag + 1):
        a = estimate[lag:]
        b = truth[: len(truth) - lag] if lag else truth
        n = min(len(a), len(b))
        mask = np.isfinite(a[:n]) & np.isfinite(b[:n])
        if mask.sum() < 30:
            continue
        error = float(np.mean(np.abs(a[:n][mask] - b[:n][mask])))
        if error < best_error:
            best, best_error = lag, error
    return best


@dataclass(frozen=True)
class ClipScore:
    name: str
    frames: int
    tracked_rate: float
    scores: dict[str, AngleScore]
    lag_s: float | None
    holds: dict[str, int]
    expected_holds: dict[str, int] | None
    refused_expected: bool


def score_angle(estimate: np.ndarray, truth: np.ndarray) -> AngleScore:
    """Errors over frames where both are known; sign errors outside the +-5 deg deadband."""
    mask = np.isfinite(estimate) & np.isfinite(truth)
    if not mask.any():
        return AngleScore(None, None, None, None)
    error = estimate[mask] - truth[mask]
    signed = mask & (np.abs(truth) > SIGN_DEADBAND_DEG)
    sign_errors = (np.sign(estimate[signed]) != np.sign(truth[signed])).mean() if signed.any() else 0.0
    return AngleScore(float(np.mean(np.abs(error))), float(np.percentile(np.abs(error), 95)),
                      float(np.mean(error)), float(sign_errors))


def load_truth(csv_path: Path, meta: dict | None) -> dict[str, np.ndarray]:
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    trunk0 = float(meta.get("neutral_trunk_yaw_vs_camera", 0.0)) if meta else 0.0
    pelvis0 = float(meta.get("neutral_pelvis_yaw_vs_camera", 0.0)) if meta else 0.0
    trunk = np.array([float(r["trunk_yaw"]) for r in rows]) - trunk0
    pelvis = np.array([float(r["pelvis_yaw"]) for r in rows]) - pelvis0
    return {"trunk": trunk, "pelvis": pelvis, "separation": trunk - pelvis}


def expected_holds(meta: dict, hold_s: float = 7.0, pelvis_limit: float = 10.0) -> dict[str, int]:
    """Completed holds per side by the rules of DESIGN.md section 4."""
    out = {"right": 0, "left": 0}
    for rep in meta.get("reps", []):
        if rep["hold_s"] >= hold_s and abs(rep.get("pelvis", 0.0)) < pelvis_limit:
            out[rep["side"]] += 1
    return out


def analyse_clip(video: Path, model_path: Path, model_name: str, cache: Path | None) -> dict[str, np.ndarray | list]:
    """Run the pipeline (or replay cached landmarks) and return per-frame angles and reps."""
    from posecoach.pose.landmark_cache import RecordingDetector, ReplayDetector, cache_key

    cached = cache / cache_key(video, model_name) if cache else None
    recorder = None
    if cached is not None and cached.exists():
        detector = ReplayDetector(cached)
        closer = None
    else:
        from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
        closer = MediaPipePoseEstimator(model_path)
        detector = recorder = RecordingDetector(closer)
    session = CoachingSession(detector, load_protocol("standing-rotation"))
    angles = {name: [] for name in ANGLES}
    tracked = []
    try:
        with VideoFileSource(video) as source:
            for step in session.run(source):
                s = step.sample
                tracked.append(s.tracked)
                for name, value in zip(ANGLES, (s.trunk_deg, s.pelvis_deg, s.separation_deg)):
                    angles[name].append(np.nan if value is None else value)
    finally:
        if closer is not None:
            closer.close()
    if recorder is not None and cached is not None:
        recorder.save(cached)
    out: dict = {name: np.array(values, dtype=float) for name, values in angles.items()}
    out["tracked"] = np.array(tracked, dtype=bool)
    out["reps"] = session.coach.reps
    return out


def run_accuracy(folder: Path, model: str | None = None, json_out: Path | None = None,
                 cache: Path | None = None, out=sys.stdout) -> int:
    from posecoach.models import ensure_model, model_spec

    folder = Path(folder)
    if not folder.is_dir():
        raise PosecoachError(f"no such folder: {folder}")
    clips = sorted(p for p in folder.glob("*.mp4") if p.with_suffix(".csv").exists())
    if not clips:
        raise PosecoachError(f"{folder} holds no NAME.mp4 with a NAME.csv ground truth")
    model_name = model_spec(model).name
    model_path = ensure_model(model_name, progress=lambda m: print(m, file=sys.stderr))
    results: list[ClipScore] = []
    all_est = {name: [] for name in ANGLES}
    all_true = {name: [] for name in ANGLES}
    for video in clips:
        meta_path = video.with_name(video.stem + "_meta.json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else None
        truth = load_truth(video.with_suffix(".csv"), meta)
        got = analyse_clip(video, model_path, model_name, cache)
        n = min(len(got["trunk"]), len(truth["trunk"]))
        refused = bool(meta and "hips_out_of_frame" in meta.get("tags", []))
        scores = {}
        for name in ANGLES:
            scores[name] = score_angle(got[name][:n], truth[name][:n])
            if not refused:
                all_est[name].append(got[name][:n])
                all_true[name].append(truth[name][:n])
        holds = {"right": 0, "left": 0}
        for rep in got["reps"]:
            holds[rep.side] += int(rep.completed)
        expected = expected_holds(meta) if meta else None
        if refused and expected is not None:
            expected = {"right": 0, "left": 0}  # the right answer is to refuse to measure
        lag = lag_frames(got["separation"][:n], truth["separation"][:n])
        fps = 30.0 if not meta else float(meta.get("fps", 30.0))
        results.append(ClipScore(video.stem, n, float(got["tracked"][:n].mean()), scores,
                                 None if lag is None else lag / fps, holds, expected, refused))
        _print_clip(results[-1], out)
    overall = {name: score_angle(np.concatenate(all_est[name]), np.concatenate(all_true[name]))
               for name in ANGLES if all_est[name]}
    _print_overall(overall, results, out)
    if json_out:
        json_out.write_text(json.dumps({
            "clips": [asdict(r) for r in results],
            "overall": {k: asdict(v) for k, v in overall.items()},
        }, indent=1), encoding="utf-8")
    return 0


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "    -"
    return f"{100 * value:5.1f}" if pct else f"{value:5.2f}"


def _print_clip(r: ClipScore, out) -> None:
    if r.scores["separation"].mae is None:
        print(f"{r.name:30s} tracked {100 * r.tracked_rate:5.1f}%  no measurement"
              + ("  (refused as expected: hips out of frame)" if r.refused_expected else ""), file=out)
    else:
        parts = [f"{name[:3]} MAE {_fmt(s.mae)} P95 {_fmt(s.p95)} bias {_fmt(s.bias)} sign% {_fmt(s.sign_error_rate, True)}"
                 for name, s in r.scores.items()]
        print(f"{r.name:30s} tracked {100 * r.tracked_rate:5.1f}%  " + " | ".join(parts), file=out)
    exp = r.expected_holds
    lag = "" if r.lag_s is None else f"  lag {1000 * r.lag_s:.0f} ms"
    verdict = "" if exp is None else ("  holds OK" if exp == r.holds else f"  holds MISMATCH (expected R{exp['right']} L{exp['left']})")
    print(f"{'':30s} holds R{r.holds['right']} L{r.holds['left']}{verdict}{lag}", file=out)


def _print_overall(overall: dict[str, AngleScore], results: list[ClipScore], out) -> None:
    print("-" * 100, file=out)
    for name, s in overall.items():
        worst = max((r.scores[name].mae for r in results if r.scores[name].mae is not None), default=None)
        print(f"overall {name:10s} MAE {_fmt(s.mae)}  P95 {_fmt(s.p95)}  bias {_fmt(s.bias)}  "
              f"sign errors {_fmt(s.sign_error_rate, True)}%  worst clip MAE {_fmt(worst)}", file=out)
    lags = [r.lag_s for r in results if r.lag_s is not None]
    if lags:
        print(f"separation lag behind the truth: median {1000 * float(np.median(lags)):.0f} ms, "
              f"max {1000 * max(lags):.0f} ms", file=out)
    matched = sum(1 for r in results if r.expected_holds is not None and r.expected_holds == r.holds)
    known = sum(1 for r in results if r.expected_holds is not None)
    print(f"hold counts matching ground truth: {matched}/{known} clips", file=out)
