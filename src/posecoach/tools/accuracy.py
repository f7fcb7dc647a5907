"""Accuracy benchmark: run the pipeline over clips with ground truth and score it.

A folder holds ``NAME.mp4`` and ``NAME.csv`` (``frame,t,trunk_yaw,pelvis_yaw,separation,
phase,side,rep``, degrees, positive = to the person's right) and optionally
``NAME_meta.json`` (neutral offsets, the scripted reps, tags). Angles are compared relative
to the neutral stance. Several folders can be scored together; figures are printed per
clip, per tag and overall, with the coaching (holds, each rep's faults), each rep's mean
hold separation, each clip's left/right asymmetry and the coverage of the uncertainty.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from posecoach.analysis.gestures import GestureSettings
from posecoach.analysis.posture import posture_setup
from posecoach.analysis.protocol import Protocol, load_protocol
from posecoach.analysis.summary import asymmetry_pct
from posecoach.capture.video_file import VideoFileSource
from posecoach.errors import PosecoachError
from posecoach.session.coaching import RECORDED_DETECT_AHEAD, CoachingSession

ANGLES = ("trunk", "pelvis", "separation")
SIGN_DEADBAND_DEG = 5.0
PELVIS_LIMIT_DEG = 10.0


@dataclass(frozen=True)
class AngleScore:
    mae: float | None
    p95: float | None
    bias: float | None
    sign_error_rate: float | None


@dataclass(frozen=True)
class ClipScore:
    name: str
    tags: list[str]
    frames: int
    tracked_rate: float
    scores: dict[str, AngleScore]
    lag_s: float | None
    holds: dict[str, int]
    expected_holds: dict[str, int] | None
    refused_expected: bool
    reps_right: int | None = None          # reps whose side, completion and faults match the script
    reps_expected: int | None = None
    worst_hold_error_deg: float | None = None   # largest |mean hold separation error| of a rep
    asymmetry_error_pp: float | None = None     # |estimated - true| asymmetry, percentage points
    range_asymmetry_error_pp: float | None = None  # the same for the best range (peak) per side: the report's
    coverage: float | None = None               # share of frames whose true separation lies within +-err
    warned: list[str] = field(default_factory=list)  # what the calibration warned of (hands_high, shirt_over_hips)
    # reps whose mean hold separation lies within their reported ± of the true one (the report's column)
    holds_covered: int | None = None
    holds_scored: int | None = None


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


def clip_paths(folder: Path) -> list[Path]:
    """The videos of ``folder`` that have a ground-truth CSV beside them."""
    if not folder.is_dir():
        raise PosecoachError(f"no such folder: {folder}")
    return sorted(p for p in folder.glob("*.mp4") if p.with_suffix(".csv").exists())


def load_meta(video: Path) -> dict | None:
    meta_path = video.with_name(video.stem + "_meta.json")
    return json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else None


def load_truth(csv_path: Path, meta: dict | None) -> dict[str, np.ndarray]:
    """Per-frame true angles relative to neutral, plus the script's ``phase`` and ``rep``."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    trunk0 = float(meta.get("neutral_trunk_yaw_vs_camera", 0.0)) if meta else 0.0
    pelvis0 = float(meta.get("neutral_pelvis_yaw_vs_camera", 0.0)) if meta else 0.0
    trunk = np.array([float(r["trunk_yaw"]) for r in rows]) - trunk0
    pelvis = np.array([float(r["pelvis_yaw"]) for r in rows]) - pelvis0
    phase = np.array([r.get("phase", "") for r in rows])
    rep = np.array([int(r.get("rep", -1) or -1) for r in rows])
    return {"trunk": trunk, "pelvis": pelvis, "separation": trunk - pelvis, "phase": phase, "rep": rep}


POSTURE_PROTOCOLS = {"standing": "standing-rotation", "seated": "seated-rotation",
                     "kneeling": "half-kneeling-rotation", "half-kneeling": "half-kneeling-rotation"}


def clip_protocol(meta: dict | None, override: str | None = None) -> Protocol:
    """The protocol a clip is scored with: ``override``, else the drill of its posture."""
    if override:
        return load_protocol(override)
    posture = (meta or {}).get("posture") or {}
    kind = posture.get("kind", "standing") if isinstance(posture, dict) else str(posture)
    return load_protocol(POSTURE_PROTOCOLS.get(kind, "standing-rotation"))


def expected_completed(rep: dict, hold_s: float = 7.0, pelvis_limit: float = PELVIS_LIMIT_DEG) -> bool:
    """Whether a scripted rep must count as a completed hold (DESIGN.md section 4)."""
    return rep["hold_s"] >= hold_s and abs(rep.get("pelvis", 0.0)) < pelvis_limit


def expected_holds(meta: dict, hold_s: float = 7.0, pelvis_limit: float = PELVIS_LIMIT_DEG) -> dict[str, int]:
    """Completed holds per side by the rules of DESIGN.md section 4."""
    out = {"right": 0, "left": 0}
    for rep in meta.get("reps", []):
        out[rep["side"]] += int(expected_completed(rep, hold_s, pelvis_limit))
    return out


def expected_faults(rep: dict, hold_s: float = 7.0, pelvis_limit: float = PELVIS_LIMIT_DEG) -> set[str]:
    """The faults a scripted rep must carry."""
    faults = set()
    if rep["hold_s"] < hold_s:
        faults.add("hold_broken")
    if rep.get("jerky"):
        faults.add("too_fast")
    if abs(rep.get("pelvis", 0.0)) >= pelvis_limit:
        faults.add("pelvis_rotation")
    return faults


def run_clip(video: Path, model_path: Path, model_name: str, cache: Path | None,
             on_step: Callable | None = None, protocol: Protocol | None = None) -> dict:
    """Run the pipeline (or replay cached landmarks) and return per-frame angles and reps.

    ``on_step(step, estimator)`` is called after every frame (the fit records features).
    """
    from posecoach.pose.landmark_cache import RecordingDetector, ReplayDetector, cache_key

    protocol = protocol or load_protocol("standing-rotation")
    two_views = posture_setup(protocol.posture).model.two_views
    cached = cache / cache_key(video, model_name, two_views) if cache else None
    recorder = None
    if cached is not None and cached.exists():
        detector = ReplayDetector(cached)
        closer = None
    else:
        from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
        closer = MediaPipePoseEstimator(model_path, two_views=two_views)
        detector = recorder = RecordingDetector(closer)
    # With the hands-free gestures on, as `posecoach analyze` runs by default: a lift or a
    # gesture wrongly seen in the drill must show in the scores.
    session = CoachingSession(detector, protocol, gestures=GestureSettings())
    angles: dict[str, list[float]] = {name: [] for name in (*ANGLES, "err")}
    tracked = []
    try:
        with VideoFileSource(video) as source:
            for step in session.run(source, RECORDED_DETECT_AHEAD):
                s = step.sample
                tracked.append(s.tracked)
                values = (s.trunk_deg, s.pelvis_deg, s.separation_deg, s.separation_err_deg)
                for name, value in zip(angles, values):
                    angles[name].append(np.nan if value is None else value)
                if on_step is not None:
                    on_step(step, session.estimator)
    finally:
        if closer is not None:
            closer.close()
    if recorder is not None and cached is not None:
        recorder.save(cached)
    out: dict = {name: np.array(values, dtype=float) for name, values in angles.items()}
    out["tracked"] = np.array(tracked, dtype=bool)
    out["reps"] = session.coach.reps
    out["calibration"] = session.estimator.calibration
    return out


@dataclass(frozen=True)
class RepScores:
    """How a clip's reps compare with its script."""

    reps_right: int                 # side, completion and faults as scripted
    reps_expected: int
    worst_hold_error_deg: float | None
    asymmetry_error_pp: float | None        # of the best mean hold per side
    range_asymmetry_error_pp: float | None  # of the best range per side, which the summary and the report give
    holds_covered: int                      # reps whose mean hold error is within their reported ±
    holds_scored: int


def score_reps(got_reps: list, meta: dict, truth: dict[str, np.ndarray], hold_s: float = 7.0,
               pelvis_limit: float = PELVIS_LIMIT_DEG) -> RepScores:
    """Each rep against the script: its faults, its mean hold's error, whether its ± covers it."""
    script = meta.get("reps", [])
    right = covered = scored = 0
    worst, best_true, best_got = None, {"right": None, "left": None}, {"right": None, "left": None}
    peak_true: dict[str, float | None] = {"right": None, "left": None}
    peak_got: dict[str, float | None] = {"right": None, "left": None}
    for k, (got, want) in enumerate(zip(got_reps, script)):
        faults = set(got.faults) - {"wrong_side"}
        right += int(got.side == want["side"] and faults == expected_faults(want, hold_s, pelvis_limit)
                     and got.completed == expected_completed(want, hold_s, pelvis_limit))
        sign = 1.0 if want["side"] == "right" else -1.0
        in_rep = truth["rep"] == k
        if got.side == want["side"] and got.peak_separation_deg is not None and in_rep.any():
            true_peak, got_peak = float(np.max(sign * truth["separation"][in_rep])), abs(got.peak_separation_deg)
            peak_true[got.side] = max(true_peak, peak_true[got.side] or true_peak)
            peak_got[got.side] = max(got_peak, peak_got[got.side] or got_peak)
        holding = in_rep & np.char.startswith(truth["phase"].astype(str), "hold")
        if not holding.any() or got.mean_hold_separation_deg is None or got.side != want["side"]:
            continue
        true_mean = float(sign * np.mean(truth["separation"][holding]))
        error = abs(got.mean_hold_separation_deg - true_mean)
        worst = error if worst is None else max(worst, error)
        if got.mean_hold_err_deg is not None:
            scored += 1
            covered += int(error <= got.mean_hold_err_deg)
        side = want["side"]
        best_true[side] = true_mean if best_true[side] is None else max(best_true[side], true_mean)
        best_got[side] = (got.mean_hold_separation_deg if best_got[side] is None
                          else max(best_got[side], got.mean_hold_separation_deg))
    true_asym = asymmetry_pct(best_true["right"], best_true["left"])
    got_asym = asymmetry_pct(best_got["right"], best_got["left"])
    asym_error = None if true_asym is None or got_asym is None else abs(got_asym - true_asym)
    true_range = asymmetry_pct(peak_true["right"], peak_true["left"])
    got_range = asymmetry_pct(peak_got["right"], peak_got["left"])
    range_error = None if true_range is None or got_range is None else abs(got_range - true_range)
    return RepScores(right, max(len(script), len(got_reps)), worst, asym_error, range_error, covered, scored)


def run_accuracy(folders: Path | list[Path], model: str | None = None, json_out: Path | None = None,
                 cache: Path | None = None, out=sys.stdout, protocol: str | None = None) -> int:
    """Score every clip of ``folders``; each with ``protocol`` or else its posture's drill."""
    from posecoach.models import ensure_model, model_spec

    folders = [Path(f) for f in (folders if isinstance(folders, list) else [folders])]
    clips = [video for folder in folders for video in clip_paths(folder)]
    if not clips:
        raise PosecoachError(f"{', '.join(map(str, folders))}: no NAME.mp4 with a NAME.csv ground truth")
    model_name = model_spec(model).name
    model_path = ensure_model(model_name, progress=lambda m: print(m, file=sys.stderr))
    results: list[ClipScore] = []
    pooled: dict[str, dict[str, list[np.ndarray]]] = {}
    for video in clips:
        meta = load_meta(video)
        truth = load_truth(video.with_suffix(".csv"), meta)
        drill = clip_protocol(meta, protocol)
        got = run_clip(video, model_path, model_name, cache, protocol=drill)
        result = _score_clip(video.stem, meta, truth, got, drill)
        results.append(result)
        if not result.refused_expected:
            n = result.frames
            for tag in ("overall", *result.tags):
                bucket = pooled.setdefault(tag, {"est": [], "true": [], "err": []})
                bucket["est"].append(np.stack([got[a][:n] for a in ANGLES]))
                bucket["true"].append(np.stack([truth[a][:n] for a in ANGLES]))
                bucket["err"].append(got["err"][:n])
        _print_clip(result, out)
    summary = {tag: _pooled_scores(bucket) for tag, bucket in pooled.items()}
    _print_summary(summary, results, out)
    if json_out:
        json_out.write_text(json.dumps({
            "clips": [asdict(r) for r in results],
            "groups": {tag: {k: (asdict(v) if isinstance(v, AngleScore) else v) for k, v in s.items()}
                       for tag, s in summary.items()},
        }, indent=1), encoding="utf-8")
    return 0


def _score_clip(name: str, meta: dict | None, truth: dict[str, np.ndarray], got: dict,
                protocol: Protocol | None = None) -> ClipScore:
    hold_s = protocol.hold_s if protocol else 7.0
    limit = protocol.thresholds.pelvis_limit_deg if protocol else PELVIS_LIMIT_DEG
    n = min(len(got["trunk"]), len(truth["trunk"]))
    refused = bool(meta and "hips_out_of_frame" in meta.get("tags", []))
    scores = {a: score_angle(got[a][:n], truth[a][:n]) for a in ANGLES}
    holds = {"right": 0, "left": 0}
    for rep in got["reps"]:
        holds[rep.side] += int(rep.completed)
    expected = expected_holds(meta, hold_s, limit) if meta else None
    if refused and expected is not None:
        expected = {"right": 0, "left": 0}  # the right answer is to refuse to measure
    lag = lag_frames(got["separation"][:n], truth["separation"][:n])
    fps = 30.0 if not meta else float(meta.get("fps", 30.0))
    reps = score_reps(got["reps"], meta, truth, hold_s, limit) if meta and not refused and meta.get("reps") else None
    sep, err = got["separation"][:n], got["err"][:n]
    known = np.isfinite(sep) & np.isfinite(err) & np.isfinite(truth["separation"][:n])
    cover = float(np.mean(np.abs(sep[known] - truth["separation"][:n][known]) <= err[known])) if known.any() else None
    calibration = got.get("calibration")
    warned = [concern.value for concern in calibration.concerns] if calibration is not None else []
    by_rep = {} if reps is None else asdict(reps)   # RepScores' fields are ClipScore's
    return ClipScore(name, list(meta.get("tags", [])) if meta else [], n, float(got["tracked"][:n].mean()), scores,
                     None if lag is None else lag / fps, holds, expected, refused, coverage=cover, warned=warned,
                     **by_rep)


def _pooled_scores(bucket: dict[str, list[np.ndarray]]) -> dict:
    est, true, err = (np.concatenate(bucket[k], axis=-1) for k in ("est", "true", "err"))
    out: dict = {a: score_angle(est[i], true[i]) for i, a in enumerate(ANGLES)}
    known = np.isfinite(est[2]) & np.isfinite(err) & np.isfinite(true[2])
    out["coverage"] = float(np.mean(np.abs(est[2][known] - true[2][known]) <= err[known])) if known.any() else None
    return out


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
    reps = "" if r.reps_expected is None else f"  rep faults right {r.reps_right}/{r.reps_expected}"
    hold = "" if r.worst_hold_error_deg is None else f"  worst rep mean-hold error {r.worst_hold_error_deg:.1f} deg"
    asym = "" if r.asymmetry_error_pp is None else f"  asymmetry error {r.asymmetry_error_pp:.1f} pp"
    cover = "" if r.coverage is None else f"  +-err covers {100 * r.coverage:.0f}%"
    warned = f"  warned: {', '.join(w.replace('_', ' ') for w in r.warned)}" if r.warned else ""
    print(f"{'':30s} holds R{r.holds['right']} L{r.holds['left']}{verdict}{reps}{hold}{asym}{cover}{lag}{warned}",
          file=out)


def _print_summary(summary: dict[str, dict], results: list[ClipScore], out) -> None:
    print("-" * 100, file=out)
    for tag in sorted(summary, key=lambda t: (t != "overall", t)):
        s = summary[tag]
        members = [r for r in results if tag == "overall" or tag in r.tags]
        worst = max((r.scores["separation"].mae for r in members if r.scores["separation"].mae is not None), default=None)
        cover = "" if s["coverage"] is None else f"  coverage {100 * s['coverage']:.0f}%"
        print(f"{tag:18s} ({len(members):2d} clips) trunk MAE {_fmt(s['trunk'].mae)}  pelvis MAE {_fmt(s['pelvis'].mae)}"
              f"  separation MAE {_fmt(s['separation'].mae)} P95 {_fmt(s['separation'].p95)}"
              f" sign errors {_fmt(s['separation'].sign_error_rate, True)}%  worst clip {_fmt(worst)}{cover}", file=out)
    lags = [r.lag_s for r in results if r.lag_s is not None]
    if lags:
        print(f"separation lag behind the truth: median {1000 * float(np.median(lags)):.0f} ms, "
              f"max {1000 * max(lags):.0f} ms", file=out)
    matched = sum(1 for r in results if r.expected_holds is not None and r.expected_holds == r.holds)
    known = sum(1 for r in results if r.expected_holds is not None)
    print(f"hold counts matching ground truth: {matched}/{known} clips", file=out)
    scripted = [r for r in results if r.reps_expected]
    if scripted:
        print(f"rep faults and completion right: {sum(r.reps_right or 0 for r in scripted)}/"
              f"{sum(r.reps_expected or 0 for r in scripted)} reps", file=out)
    holds = [r.worst_hold_error_deg for r in results if r.worst_hold_error_deg is not None]
    asym = [r.asymmetry_error_pp for r in results if r.asymmetry_error_pp is not None]
    if holds:
        print(f"rep mean-hold separation error: worst {max(holds):.1f} deg; "
              f"reps within 3 deg on {sum(h <= 3.0 for h in holds)}/{len(holds)} clips", file=out)
    if asym:
        print(f"left/right asymmetry error: mean {np.mean(asym):.1f} pp, worst {max(asym):.1f} pp", file=out)
    ranges = [r.range_asymmetry_error_pp for r in results if r.range_asymmetry_error_pp is not None]
    if ranges:
        print(f"asymmetry of the best range (as reported) error: mean {np.mean(ranges):.1f} pp, "
              f"90th percentile {np.percentile(ranges, 90):.1f} pp, worst {max(ranges):.1f} pp", file=out)
    scored = sum(r.holds_scored or 0 for r in results)
    if scored:
        print(f"reps whose mean hold lies within the reported ±: {sum(r.holds_covered or 0 for r in results)}"
              f"/{scored}", file=out)
