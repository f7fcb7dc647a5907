"""``posecoach fit``: refit every number of the fusion model from clips with ground truth.

For each clip (``NAME.mp4`` + ``NAME.csv`` [+ ``NAME_meta.json``] in one or more folders) the
pipeline runs once, on cached landmarks where a cache exists, and records what the fusion
saw in every measured frame (``RotationEstimator.last_features``). The fit then works on
those records alone:

1. trunk weights by least squares on the raw cues; the single-cue gains (world yaw, hand
   lever) by least squares too (they only grade the cue spread); the nose's shift of a head
   that turns with the trunk (``TrunkModel.head_follow``) as the median over the clips, and
   the weights of the head's state only when enough clips show a head kept on the screen;
2. the pelvis mapping (gain, floor, trunk allowance) by a grid search that minimises the
   pelvis error plus the frames on the wrong side of the protocol's pelvis limit;
3. the uncertainty: the shape by least squares on the absolute separation errors, then a
   scale for 90% coverage.

Each clip is also scored by a model fitted without it (leave-one-clip-out): the figures
that say whether the method generalises. The same offline replay of fusion and One Euro
filter scores both, so the figures are those of the published (filtered) angles.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posecoach.analysis.cues import DEFAULT_HANDS_LEVER, centred_hand_travel, hands_angle, head_stillness, stance_yaw, trunk_feature_values
from posecoach.analysis.fusion_model import DEFAULT_MODEL, TRUNK_FEATURES, FusionModel, PelvisModel, TrunkModel, UncertaintyModel
from posecoach.analysis.posture import posture_setup
from posecoach.analysis.rotation import EstimatorSettings, cue_spread, pelvis_magnitude, uncertainty_terms
from posecoach.analysis.smoothing import OneEuroFilter
from posecoach.analysis.vocabulary import Posture
from posecoach.errors import PosecoachError
from posecoach.tools.accuracy import POSTURE_PROTOCOLS, clip_paths, load_meta, load_truth

log = logging.getLogger(__name__)

PELVIS_LIMIT_DEG = 10.0
COVERAGE = 0.9
_EXPONENTS = (1 / 3, 0.4, 0.5, 0.6)
_GAINS = np.exp(np.linspace(np.log(20.0), np.log(600.0), 30))
_PLAIN_SHARES = (0.0, 0.25, 0.5, 1.0, 2.0)
_NOISE_MULTIPLES = (0.0, 2.0)
_FLOORS = np.arange(0.0, 0.0081, 0.001)
_ALLOWANCES = np.arange(0.0, 0.0121, 0.002)


@dataclass
class ClipRecord:
    """Per-frame fusion inputs and truth of one clip (NaN where not measured)."""

    name: str
    tags: list[str]
    t: np.ndarray
    features: np.ndarray       # (n, len(TRUNK_FEATURES)): the trunk features as read (NaN: not measured)
    world: np.ndarray
    hands: np.ndarray
    foreshortening: np.ndarray
    change: np.ndarray         # pelvis picture change; NaN when not trusted
    plainness: np.ndarray      # how much camera noise can move the pelvis patch
    noise: np.ndarray          # the pelvis change at neutral after the template
    true_trunk: np.ndarray
    true_pelvis: np.ndarray
    high_grip_share: float = 0.0  # the calibration's share of the high-grip trunk (Calibration.high_grip_share)
    shirt_over_hips: bool = False  # the calibration found a shirt's hem over the hips (the hem's pelvis reads it)
    nose_shift: np.ndarray | None = None  # the nose against the ears (Cues.nose_shift); None: not recorded
    read_lever: float = DEFAULT_HANDS_LEVER  # the hands lever the cues were read with (hand travel, head's state)
    # The hand travel before the grip correction, the frames where the shoulder width was blind
    # (its cue is then the hands' angle), the wrists' neutral offset from the spine and the
    # neutral's yaw: with them the fit reads the hands under another grip_offset_gain.
    # None: not recorded (the cues stay as read).
    hands_travel: np.ndarray | None = None
    width_blind: np.ndarray | None = None
    grip_offset: float = 0.0
    neutral_yaw: float = 0.0
    read_offset_gain: float = 1.0  # the grip_offset_gain the cues were read with (the person's trunk's)
    read_centres_grip: bool = True
    head_out_of_picture: bool = False  # the calibration saw no head: the trunk is the hands' alone (nothing to fit)

    @property
    def hands_high(self) -> bool:
        """The calibration saw the hands held high: the clip fits the high-grip trunk."""
        return self.high_grip_share > 0.0

    @property
    def measured(self) -> np.ndarray:
        return np.all(np.isfinite(self.features), axis=1)


def record_clip(video: Path, model_path: Path, model_name: str, cache: Path | None,
                protocol: str | None = None) -> ClipRecord:
    """Run the pipeline once over ``video`` and keep what the fusion saw in each frame
    (with ``protocol``, else the drill of the clip's posture)."""
    from posecoach.tools.accuracy import clip_protocol, run_clip

    meta = load_meta(video)
    truth = load_truth(video.with_suffix(".csv"), meta)
    rows: list[tuple] = []
    high, hem, headless, lever = [0.0], [False], [False], [DEFAULT_HANDS_LEVER]
    read_as: list = [None, DEFAULT_MODEL.trunk.centres_grip, DEFAULT_MODEL.trunk.grip_offset_gain]  # neutral, how the grip was read
    k = len(TRUNK_FEATURES)
    width = k + 10  # t, the trunk features, world, hands, foreshortening, the pelvis picture's three, nose,
    #                 the hand travel as seen, the width's blindness

    def keep(step, estimator) -> None:
        f = estimator.last_features
        if estimator.calibration is not None:
            high[0] = estimator.calibration.high_grip_share
            hem[0] = estimator.calibration.shirt_over_hips
            headless[0] = estimator.calibration.head_out_of_picture
            lever[0] = estimator.model.trunk.hands_lever
            person = estimator.model.for_person(high[0], hem[0]).trunk   # whose grip offset the cues carry
            read_as[:] = [estimator.calibration.neutral, estimator.model.trunk.centres_grip, person.grip_offset_gain]
        if f is None:
            rows.append((step.frame.t,) + (math.nan,) * (width - 1))
        else:
            rows.append((f.t, *f.trunk_features, f.world, f.hands, f.foreshortening,
                         math.nan if f.appearance_change is None else f.appearance_change,
                         f.appearance_plainness, f.appearance_noise, f.nose_shift, f.hands_travel,
                         float(f.width_blind)))

    run_clip(video, model_path, model_name, cache, on_step=keep, protocol=clip_protocol(meta, protocol))
    data = np.array(rows, dtype=float).reshape(-1, width)
    n = min(len(data), len(truth["trunk"]))
    data = data[:n]
    world, hands, fore, change, plainness, noise, nose, travel, blind = (data[:, k + 1 + j] for j in range(9))
    seen, centres_grip, offset_gain = read_as
    return ClipRecord(video.stem, list(meta.get("tags", [])) if meta else [], data[:, 0], data[:, 1:k + 1],
                      world, hands, fore, change, plainness, noise, truth["trunk"][:n], truth["pelvis"][:n],
                      high_grip_share=high[0], shirt_over_hips=hem[0], nose_shift=nose, read_lever=lever[0],
                      hands_travel=travel, width_blind=blind > 0.5,
                      grip_offset=0.0 if seen is None else seen.hands_x - seen.hips_x,
                      neutral_yaw=0.0 if seen is None else stance_yaw(seen.world_shoulder_yaw, seen.world_hip_yaw),
                      read_offset_gain=offset_gain, read_centres_grip=centres_grip,
                      head_out_of_picture=headless[0])


# ---------------------------------------------------------------------------- replay
def _filtered(values: np.ndarray, t: np.ndarray, settings: EstimatorSettings) -> np.ndarray:
    """The One Euro filter as the estimator runs it (reset wherever measurement stops)."""
    out = np.full(len(values), np.nan)
    filt = OneEuroFilter(settings.filter_min_cutoff_hz, settings.filter_beta)
    for i, (x, ti) in enumerate(zip(values, t)):
        if not math.isfinite(x):
            filt.reset()
            continue
        out[i] = filt(float(x), float(ti))
    return out


def replay(clip: ClipRecord, model: FusionModel, settings: EstimatorSettings) -> dict[str, np.ndarray]:
    """The estimator's published trunk, pelvis and separation for ``clip`` under ``model``
    (read as its calibration saw the person: FusionModel.for_person)."""
    read = model.trunk   # the cues are read with the chest-grip trunk's head_follow, as the estimator does,
    model = model.for_person(clip.high_grip_share, clip.shirt_over_hips)   # the grip's offset with the person's trunk's
    raw_trunk = trunk_features(clip, read.head_follow, model.trunk.grip_offset_gain) @ np.array(model.trunk.weights)
    trunk = _filtered(raw_trunk, clip.t, settings)
    magnitude = np.where(np.isfinite(clip.change),
                         pelvis_magnitude(clip.change, clip.plainness, clip.noise, trunk, model), 0.0)
    raw_pelvis = np.sign(trunk) * magnitude + model.pelvis.follows_trunk * trunk
    pelvis = _filtered(raw_pelvis, clip.t, settings)
    return {"trunk": trunk, "pelvis": pelvis, "separation": trunk - pelvis, "raw_trunk": raw_trunk}


# ---------------------------------------------------------------------------- fits
HEAD_TURNED_DEG = 25.0   # the head's state is measured on frames turned further than this
HEAD_STAYS = 0.5         # a clip whose median head_still there exceeds this keeps the eyes on the screen
HEAD_MIN_CLIPS = 5       # the head's weights are fitted only with at least this many such clips


def fit_head_follow(clips: list[ClipRecord]) -> float | None:
    """The nose's shift per sine of the turn (``TrunkModel.head_follow``): the median over the
    clips of each one's slope on frames turned past ``HEAD_TURNED_DEG``. Most people turn the
    head with the trunk, so the median is theirs. None when no clip recorded the nose."""
    slopes = []
    for c in clips:
        if c.nose_shift is None:
            continue
        turned = np.isfinite(c.nose_shift) & (np.abs(c.true_trunk) > HEAD_TURNED_DEG) & c.measured
        if turned.sum() >= 10:
            s = np.sin(np.radians(c.true_trunk[turned]))
            slopes.append(float(-np.dot(c.nose_shift[turned], s) / np.dot(s, s)))
    return round(float(np.median(slopes)), 3) if slopes else None


_head_stillness = np.vectorize(head_stillness, otypes=[float])


def hand_cues(clip: ClipRecord, offset_gain: float) -> tuple[np.ndarray, np.ndarray]:
    """``clip``'s grip-corrected hand travel and shoulder-width cue with the grip's offset taken
    ``offset_gain`` times its neutral picture's (``TrunkModel.grip_offset_gain``); as recorded
    when the clip was read so, or carries no raw travel, or was read without the correction."""
    if clip.hands_travel is None or clip.width_blind is None or not clip.read_centres_grip \
            or offset_gain == clip.read_offset_gain:
        return clip.hands, clip.foreshortening
    hands = centred_hand_travel(clip.hands_travel, clip.grip_offset, clip.neutral_yaw, clip.read_lever, offset_gain)
    return hands, np.where(clip.width_blind, hands_angle(hands, clip.read_lever), clip.foreshortening)


def head_still(clip: ClipRecord, head_follow: float | None, offset_gain: float | None = None) -> np.ndarray:
    """``Cues.head_still`` of every frame of ``clip`` under ``head_follow`` (0 where not judged),
    with the hands' turn read with the clip's lever (``ClipRecord.read_lever``) and
    ``offset_gain`` (None: the one it was read with)."""
    if head_follow is None or clip.nose_shift is None:
        return np.zeros(len(clip.t))
    hands, _ = hand_cues(clip, clip.read_offset_gain if offset_gain is None else offset_gain)
    ok = np.isfinite(clip.nose_shift) & np.isfinite(hands)
    turn = hands_angle(np.where(ok, hands, 0.0), clip.read_lever)
    return np.where(ok, _head_stillness(np.where(ok, clip.nose_shift, 0.0), turn, head_follow), 0.0)


def keeps_eyes_on_screen(clip: ClipRecord, head_follow: float | None) -> bool:
    """Whether ``clip``'s head mostly stays facing the camera while the trunk is turned."""
    turned = (np.abs(clip.true_trunk) > HEAD_TURNED_DEG) & clip.measured
    return bool(turned.any() and np.median(head_still(clip, head_follow)[turned]) > HEAD_STAYS)


def trunk_features(clip: ClipRecord, head_follow: float | None, offset_gain: float | None = None) -> np.ndarray:
    """``clip``'s trunk features with the head's state under ``head_follow`` and the grip's offset
    taken ``offset_gain`` times (None: as the clip was read)."""
    gain = clip.read_offset_gain if offset_gain is None else offset_gain
    hands, fore = hand_cues(clip, gain)
    return trunk_feature_values(fore, clip.world, hands, head_still(clip, head_follow, gain))


# The grip's offset gains tried (TrunkModel.grip_offset_gain): from the offset as seen (1) to
# three times it. Session 14 measured 2 removing most of the hands cue's grip dependence; on
# session 15's renders the fit keeps 1 (fusion_model's note on DEFAULT_MODEL).
GRIP_OFFSET_GAINS = tuple(np.round(np.arange(1.0, 3.01, 0.25), 2))


def _trunk_least_squares(clips: list[ClipRecord], head_follow: float | None, offset_gain: float,
                         used: list[int]) -> tuple[np.ndarray, float]:
    """The trunk weights on ``clips`` (only ``used`` non-zero) and their sum of squared residuals."""
    X = np.concatenate([trunk_features(c, head_follow, offset_gain)[c.measured] for c in clips])
    y = np.concatenate([c.true_trunk[c.measured] for c in clips])
    ok = np.isfinite(y) & np.all(np.isfinite(X), axis=1)
    weights = np.zeros(len(TRUNK_FEATURES))
    weights[used], *_ = np.linalg.lstsq(X[ok][:, used], y[ok], rcond=None)
    return weights, float(np.sum((X[ok] @ weights - y[ok]) ** 2))


def fit_trunk(clips: list[ClipRecord], uses_hands: bool = True, head_follow: float | None = None,
              offset_gain: float | None = None) -> TrunkModel:
    """Least squares of the trunk cues; without the hands (``uses_hands=False``) their weights are
    0, and so are the head's state's unless ``HEAD_MIN_CLIPS`` clips keep the eyes on the screen.
    ``head_follow``: the one the cues are read with (another trunk's); None: fitted on ``clips``.
    ``offset_gain``: the grip's offset gain to read the hands with; None: the one of
    ``GRIP_OFFSET_GAINS`` whose least squares leaves the smallest residual (when the hands are
    used and the clips carry their raw travel), else the one the clips were read with. Each
    trunk fits its own: a grip held high circles closer to the spine's line."""
    if head_follow is None and uses_hands:
        head_follow = fit_head_follow(clips)
    heads_still = sum(keeps_eyes_on_screen(c, head_follow) for c in clips)
    used = [0, 1] + ([2, 3] if uses_hands else []) + ([4, 5] if heads_still >= HEAD_MIN_CLIPS else [])
    if offset_gain is not None:
        gains: tuple[float, ...] = (offset_gain,)
    elif uses_hands and all(c.hands_travel is not None and c.read_centres_grip for c in clips):
        gains = GRIP_OFFSET_GAINS
    else:
        gains = (clips[0].read_offset_gain,)
    fits = [(_trunk_least_squares(clips, head_follow, float(g), used), float(g)) for g in gains]
    (weights, _), gain = min(fits, key=lambda fit: fit[0][1])
    y = np.concatenate([c.true_trunk[c.measured] for c in clips])
    ok = np.isfinite(y)
    world = np.concatenate([c.world[c.measured] for c in clips])[ok]
    hands = np.concatenate([hand_cues(c, gain)[0][c.measured] for c in clips])[ok]
    world_gain = float(np.dot(world, y[ok]) / np.dot(world, world))
    s = np.sin(np.radians(y[ok]))
    hands_lever = float(-np.dot(hands, s) / np.dot(s, s))
    return TrunkModel(weights=tuple(round(float(w), 5) for w in weights),
                      world_gain=round(world_gain, 4), hands_lever=round(hands_lever, 4), uses_hands=uses_hands,
                      head_follow=head_follow, grip_offset_gain=gain)


def _pelvis_cost(truth: np.ndarray, estimate: np.ndarray) -> float:
    """Mean absolute error plus 100 x the share of frames on the wrong side of the pelvis
    limit where the truth is clearly on one side (still: under limit - 5; turned: limit + 2)."""
    ok = np.isfinite(truth) & np.isfinite(estimate)
    error = float(np.mean(np.abs(estimate[ok] - truth[ok])))
    clear_in = ok & (np.abs(truth) < PELVIS_LIMIT_DEG - 5.0)
    clear_out = ok & (np.abs(truth) >= PELVIS_LIMIT_DEG + 2.0)
    wrong = (np.sum(np.abs(estimate[clear_in]) > PELVIS_LIMIT_DEG)
             + np.sum(np.abs(estimate[clear_out]) < PELVIS_LIMIT_DEG)) / max(1, ok.sum())
    return error + 100.0 * float(wrong)


def fit_pelvis(clips: list[ClipRecord], trunk_model: TrunkModel, settings: EstimatorSettings,
               follows_trunk: float, high_grip_trunk: TrunkModel | None = None) -> PelvisModel:
    """Grid search of gain, floor and trunk allowance over all clips' frames pooled (the trunk
    as fitted; the filter is skipped in the search, not in the scores)."""
    base = dataclasses.replace(DEFAULT_MODEL, trunk=trunk_model, high_grip_trunk=high_grip_trunk)
    trunk = np.concatenate([replay(c, base, settings)["trunk"] for c in clips])
    change = np.concatenate([c.change for c in clips])
    plainness = np.concatenate([c.plainness for c in clips])
    noise = np.concatenate([c.noise for c in clips])
    truth = np.concatenate([c.true_pelvis for c in clips])
    keep = np.isfinite(trunk) & np.isfinite(truth)
    trunk, change, plainness, noise, truth = trunk[keep], change[keep], plainness[keep], noise[keep], truth[keep]
    readable = np.isfinite(change)
    trunk_term = (trunk / 45.0) ** 2
    prior = follows_trunk * trunk
    best, best_cost = None, math.inf
    for plain_share, noise_multiple in itertools.product(_PLAIN_SHARES, _NOISE_MULTIPLES):
        corrected = np.nan_to_num(change - plain_share * plainness - noise_multiple * noise, nan=0.0)
        for exponent, floor, allowance in itertools.product(_EXPONENTS, _FLOORS, _ALLOWANCES):
            excess = np.clip(corrected - floor - allowance * trunk_term, 0.0, None)
            signed_root = np.sign(trunk) * np.where(readable, excess, 0.0) ** exponent
            for gain in _GAINS:
                cost = _pelvis_cost(truth, gain * signed_root + prior)
                if cost < best_cost:
                    best, best_cost = (gain, floor, allowance, exponent, plain_share, noise_multiple), cost
    assert best is not None
    gain, floor, allowance, exponent, plain_share, noise_multiple = best
    return PelvisModel(round(float(gain), 1), round(float(floor), 5), round(float(allowance), 5), follows_trunk,
                       round(float(exponent), 4), float(plain_share), float(noise_multiple))


def _uncertainty_inputs(clip: ClipRecord, out: dict[str, np.ndarray], model: FusionModel) -> np.ndarray:
    """The uncertainty's terms in every frame of ``clip``, replayed as ``out`` under ``model``."""
    person = model.for_person(clip.high_grip_share, clip.shirt_over_hips)
    hands, fore = hand_cues(clip, person.trunk.grip_offset_gain)
    spread = cue_spread(clip.world, hands, fore, out["raw_trunk"], person)
    return uncertainty_terms(out["separation"], out["pelvis"], spread, np.isfinite(clip.change))


def fit_uncertainty(inputs: np.ndarray, errors: np.ndarray) -> UncertaintyModel:
    """Shape by non-negative least squares on |error|, then the scale for 90% coverage."""
    ok = np.all(np.isfinite(inputs), axis=1) & np.isfinite(errors)
    X, y = inputs[ok], np.abs(errors[ok])
    coef = _nonnegative_lstsq(X, y)
    coef[0] = max(coef[0], 0.5)
    width = X @ coef
    scale = float(np.quantile(y / width, COVERAGE))
    base, per_degree, spread_weight, pelvis_weight, untrusted_pelvis = (round(float(c), 4) for c in coef)
    return UncertaintyModel(base=base, per_degree=per_degree, spread_weight=spread_weight, pelvis_weight=pelvis_weight,
                            untrusted_pelvis=untrusted_pelvis, scale=round(scale, 3))


def _nonnegative_lstsq(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares with every coefficient >= 0 (drop negative ones and refit)."""
    active = np.ones(X.shape[1], dtype=bool)
    coef = np.zeros(X.shape[1])
    for _ in range(X.shape[1]):
        sol, *_ = np.linalg.lstsq(X[:, active], y, rcond=None)
        coef[:] = 0.0
        coef[active] = sol
        if np.all(sol >= 0):
            break
        active[np.flatnonzero(active)[np.argmin(sol)]] = False
    return coef


def _interval(model: UncertaintyModel, inputs: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The frames with every input known: their |error|, the interval's half-width and
    |separation| (the ``uncertainty_terms`` column a widening per degree multiplies)."""
    ok = np.all(np.isfinite(inputs), axis=1) & np.isfinite(errors)
    return np.abs(errors[ok]), model.scale * (inputs[ok] @ np.array(model.coefficients)), inputs[ok, 1]


def coverage(model: UncertaintyModel, inputs: np.ndarray, errors: np.ndarray, high_grip_spread: float = 0.0) -> float:
    """Share of frames whose error lies within the interval (widened by ``high_grip_spread``
    per degree of separation, for a clip with the hands held high)."""
    error, width, separation = _interval(model, inputs, errors)
    return float(np.mean(error <= width + high_grip_spread * separation))


HIGH_GRIP_MIN_CLIPS = 3  # clips with the hands held high needed to fit their own trunk model
HEM_MIN_CLIPS = 8        # clips with a shirt's hem over the hips needed to fit their own pelvis mapping


def fit_model(clips: list[ClipRecord], settings: EstimatorSettings, uses_hands: bool = True,
              kept: FusionModel | None = None, hem_pelvis: PelvisModel | None = None,
              pelvis_transient_s: float = DEFAULT_MODEL.pelvis.transient_s) -> FusionModel:
    """Trunk and pelvis fitted on ``clips``; the uncertainty is the default's (``fit_and_report``
    fits it on the left-out residuals). The trunk is fitted on the clips with a chest grip, the
    high-grip trunk on those whose calibration saw the hands held high (when there are at least
    ``HIGH_GRIP_MIN_CLIPS`` and the posture's grip uses the hands). ``kept``: keep its trunks.
    The pelvis mapping is fitted on the clips without a shirt's hem over the hips, the hem's
    own on those with one when there are at least ``HEM_MIN_CLIPS``; else ``hem_pelvis`` (the
    model's in use) is kept. How long the picture's transients last is chosen, not fitted: the
    pelvis mapping takes ``pelvis_transient_s``, a refitted hem mapping ``hem_pelvis``'s."""
    high = [c for c in clips if c.hands_high]
    chest = [c for c in clips if not c.hands_high] or clips
    if kept is not None:
        trunk, high_trunk = kept.trunk, kept.high_grip_trunk
    else:
        trunk = fit_trunk(chest, uses_hands)
        high_trunk = (fit_trunk(high, uses_hands, trunk.head_follow)
                      if uses_hands and len(high) >= HIGH_GRIP_MIN_CLIPS else None)
    hem = [c for c in clips if c.shirt_over_hips]
    clear = [c for c in clips if not c.shirt_over_hips] or clips
    follows = DEFAULT_MODEL.pelvis.follows_trunk
    pelvis = dataclasses.replace(fit_pelvis(clear, trunk, settings, follows, high_trunk), transient_s=pelvis_transient_s)
    if len(hem) >= HEM_MIN_CLIPS:
        hem_fit = fit_pelvis(hem, trunk, settings, follows, high_trunk)
        hem_pelvis = hem_fit if hem_pelvis is None else dataclasses.replace(hem_fit, transient_s=hem_pelvis.transient_s)
    return FusionModel(trunk=trunk, pelvis=pelvis, uncertainty=DEFAULT_MODEL.uncertainty, high_grip_trunk=high_trunk,
                       hem_pelvis=hem_pelvis)


def fit_high_grip_spread(model: UncertaintyModel, inputs: np.ndarray, errors: np.ndarray) -> float:
    """The smallest widening (degrees per degree of separation) under which ``model``'s
    interval covers 90% of the high-grip frames ``inputs``/``errors``."""
    error, width, separation = _interval(model, inputs, errors)
    if not error.size:
        return 0.0
    needed = (error - width) / np.maximum(separation, 1e-6)
    return round(max(0.0, float(np.quantile(needed, COVERAGE))), 3)


@dataclass(frozen=True)
class IntervalFit:
    """The uncertainty fitted on some clips' errors, and how it covers each clip left out."""

    uncertainty: UncertaintyModel
    high_grip_spread: float
    left_out_coverage: dict[str, float]   # per clip: the coverage of an interval fitted without it


def fit_interval(clips: list[ClipRecord], inputs: list[np.ndarray], errors: list[np.ndarray],
                 kept_spread: float, min_high_clips: int = 1) -> IntervalFit:
    """Fit the interval on the chest grips' frames (``inputs``/``errors``: each clip's terms and
    separation errors) and the widening for the hands held high on theirs (``kept_spread`` with
    fewer than ``min_high_clips`` such clips); then refit both without each clip in turn for
    its coverage."""
    terms, misses = np.concatenate(inputs), np.concatenate(errors)
    owner = np.concatenate([np.full(len(x), i) for i, x in enumerate(inputs)])
    high = np.array([c.hands_high for c in clips], dtype=bool)[owner]
    chest = ~high if (~high).any() else np.ones_like(high)

    def fit(frames: np.ndarray) -> tuple[UncertaintyModel, float]:
        model = fit_uncertainty(terms[chest & frames], misses[chest & frames])
        highs = high & frames
        if len(np.unique(owner[highs])) < max(1, min_high_clips):
            return model, kept_spread
        return model, fit_high_grip_spread(model, terms[highs], misses[highs])

    uncertainty, spread = fit(np.ones(len(owner), dtype=bool))
    left_out = {}
    for i, clip in enumerate(clips):
        mine = owner == i
        held, held_spread = fit(~mine)
        left_out[clip.name] = coverage(held, terms[mine], misses[mine], held_spread if clip.hands_high else 0.0)
    return IntervalFit(uncertainty, spread, left_out)


# ---------------------------------------------------------------------------- scores
def mae(estimate: np.ndarray, truth: np.ndarray) -> float:
    ok = np.isfinite(estimate) & np.isfinite(truth)
    return float(np.mean(np.abs(estimate[ok] - truth[ok]))) if ok.any() else math.nan


def score(clip: ClipRecord, model: FusionModel, settings: EstimatorSettings,
          out: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """Mean absolute errors of ``clip`` under ``model`` (``out``: its replay, if already done)."""
    out = out if out is not None else replay(clip, model, settings)
    return {"trunk": mae(out["trunk"], clip.true_trunk), "pelvis": mae(out["pelvis"], clip.true_pelvis),
            "separation": mae(out["separation"], clip.true_trunk - clip.true_pelvis)}


def run_fit(folders: list[Path], model: str | None = None, cache: Path | None = None,
            json_out: Path | None = None, out=sys.stdout, posture: str | None = None,
            keep_trunk: bool = False, uncertainty_only: bool = False, trunk_only: bool = False,
            prior_clips: int = 0) -> int:
    """Fit the standing model (or ``posture``'s: its clips run with its drill and settings);
    ``keep_trunk``: keep the model's trunk, fit the pelvis and the uncertainty only;
    ``uncertainty_only``: keep every other number, fit the uncertainty on the model's own errors;
    ``trunk_only``: refit the chest grip's trunk only, anchored to the model in use as the fit of
    ``prior_clips`` clips no longer at hand (``anchored_trunk``)."""
    from posecoach.models import ensure_model, model_spec

    videos = [v for folder in folders for v in clip_paths(Path(folder))]
    model_name = model_spec(model).name
    model_path = ensure_model(model_name, progress=lambda m: print(m, file=sys.stderr))
    clips = []
    for video in videos:
        meta = load_meta(video)
        if meta and "hips_out_of_frame" in meta.get("tags", []):
            print(f"skipping {video.stem}: hips out of frame (nothing to fit)", file=out)
            continue
        clip = record_clip(video, model_path, model_name, cache, POSTURE_PROTOCOLS[posture] if posture else None)
        if clip.head_out_of_picture:
            print(f"skipping {video.stem}: the head is out of the picture (its trunk is read from the hands alone; "
                  "nothing to fit)", file=out)
            continue
        clips.append(clip)
        print(f"recorded {video.stem}: {int(clips[-1].measured.sum())} measured frames", file=out, flush=True)
    if uncertainty_only:
        return recalibrate_uncertainty(clips, json_out, out, posture)
    if trunk_only:
        return refit_trunk(clips, prior_clips, json_out, out, posture)
    return fit_and_report(clips, json_out, out, posture, keep_trunk)


def anchored_trunk(fitted: TrunkModel, in_use: TrunkModel, clips: int, prior_clips: int) -> TrunkModel:
    """``fitted`` (least squares on ``clips`` clips) pooled with ``in_use``, the fit of
    ``prior_clips`` clips no longer at hand: the weights and single-cue gains averaged by clip
    counts. Least squares over both sets would weigh each by its frames' moments; with clips of
    a like length and variety, their counts are the shares. 0 prior clips: ``fitted`` itself."""
    if prior_clips == 0:
        return fitted
    share = clips / (clips + prior_clips)

    def pooled(new, old):
        return round(float(share * new + (1.0 - share) * old), 5)

    return dataclasses.replace(
        fitted, weights=tuple(pooled(new, old) for new, old in zip(fitted.weights, in_use.weights)),
        world_gain=pooled(fitted.world_gain, in_use.world_gain), hands_lever=pooled(fitted.hands_lever, in_use.hands_lever))


def refit_trunk(clips: list[ClipRecord], prior_clips: int = 0, json_out: Path | None = None, out=sys.stdout,
                posture: str | None = None) -> int:
    """Refit the chest grip's trunk on ``clips`` (the head's state and the grip's offset gain
    read as in use), anchored to the model in use as the fit of ``prior_clips`` other clips
    (``anchored_trunk``); keep every other number. Print each clip's trunk and separation MAE
    under the model in use and under the refit fitted without it (the clips the model in use
    was fitted on score in-sample under it), and the trunk to paste."""
    if prior_clips < 0:
        raise PosecoachError(f"--prior-clips must be 0 or more, not {prior_clips}")
    setup = posture_setup(posture or Posture.STANDING)
    model, settings = setup.model, setup.settings
    chest = [c for c in clips if not c.hands_high]
    if len(chest) < 3:
        raise PosecoachError("refitting the trunk needs at least 3 clips with a chest grip and ground truth")
    if len(chest) < len(clips):
        print(f"leaving out {len(clips) - len(chest)} clips with the hands held high (their trunk is another)", file=out)
    in_use = model.trunk

    def refit(on: list[ClipRecord]) -> FusionModel:
        fitted = fit_trunk(on, in_use.uses_hands, in_use.head_follow, in_use.grip_offset_gain)
        return dataclasses.replace(model, trunk=anchored_trunk(fitted, in_use, len(on), prior_clips))

    rows = {}
    for i, clip in enumerate(chest):
        held_out = refit(chest[:i] + chest[i + 1:])
        rows[clip.name] = {"in_use": score(clip, model, settings), "refit_left_out": score(clip, held_out, settings)}
    fitted = refit(chest)
    print(f"\n{len(chest)} clips, anchored to the model in use as {prior_clips} clips "
          f"(share of the refit {len(chest) / (len(chest) + prior_clips):.2f})", file=out)
    print("clip                            in use (trunk sep)   refit, left out (trunk sep)", file=out)
    for name, row in rows.items():
        a, b = row["in_use"], row["refit_left_out"]
        print(f"{name:30s}  {a['trunk']:6.2f} {a['separation']:6.2f}        {b['trunk']:6.2f} {b['separation']:6.2f}", file=out)
    for angle in ("trunk", "separation"):
        print(f"mean {angle:10s} in use {np.mean([r['in_use'][angle] for r in rows.values()]):5.2f}  "
              f"refit, left out {np.mean([r['refit_left_out'][angle] for r in rows.values()]):5.2f}", file=out)
    print(f"\nrefitted trunk (paste into analysis/fusion_model.py):\n    trunk={fitted.trunk!r},", file=out)
    if json_out:
        json_out.write_text(json.dumps({"clips": list(rows), "prior_clips": prior_clips, "scores": rows,
                                        "trunk": dataclasses.asdict(fitted.trunk)}, indent=1), encoding="utf-8")
    return 0


def recalibrate_uncertainty(clips: list[ClipRecord], json_out: Path | None = None, out=sys.stdout,
                            posture: str | None = None) -> int:
    """Keep the posture's trunk and pelvis; fit the uncertainty on their own errors over ``clips``.

    For clips the model was not fitted on, those errors are what a user meets, so the interval
    is calibrated on them. The coverage printed for each clip is that of an interval fitted
    without it; the hands-held-high widening is the model's (refitted from
    ``HIGH_GRIP_MIN_CLIPS`` such clips)."""
    if len(clips) < 3:
        raise PosecoachError("fitting needs at least 3 clips with ground truth")
    setup = posture_setup(posture or Posture.STANDING)
    model, settings = setup.model, setup.settings
    inputs, errors = [], []
    for clip in clips:
        angles = replay(clip, model, settings)
        inputs.append(_uncertainty_inputs(clip, angles, model))
        errors.append(angles["separation"] - (clip.true_trunk - clip.true_pelvis))
    refit = fit_interval(clips, inputs, errors, model.high_grip_spread, HIGH_GRIP_MIN_CLIPS)
    uncertainty, high_grip_spread, left_out = refit.uncertainty, refit.high_grip_spread, refit.left_out_coverage
    in_use = {clip.name: coverage(model.uncertainty, x, e, model.high_grip_spread if clip.hands_high else 0.0)
              for clip, x, e in zip(clips, inputs, errors)}
    terms = np.concatenate(inputs)
    ok = np.all(np.isfinite(terms), axis=1)

    def median_width(fitted: UncertaintyModel) -> float:
        return float(np.median(fitted.scale * (terms[ok] @ np.array(fitted.coefficients))))

    print("\nclip                            coverage: model in use   refitted without the clip", file=out)
    for clip in clips:
        print(f"{clip.name:30s}  {100 * in_use[clip.name]:19.1f}%   {100 * left_out[clip.name]:19.1f}%", file=out)
    print(f"mean coverage: in use {100 * np.mean(list(in_use.values())):.1f}%, refitted (each clip left out) "
          f"{100 * np.mean(list(left_out.values())):.1f}% (lowest {100 * min(left_out.values()):.1f}%); median "
          f"half-width {median_width(model.uncertainty):.2f} -> {median_width(uncertainty):.2f} deg", file=out)
    print("\nfitted uncertainty (paste into analysis/fusion_model.py):", file=out)
    print(f"    uncertainty={uncertainty!r},", file=out)
    print(f"    high_grip_spread={high_grip_spread!r},", file=out)
    if json_out:
        json_out.write_text(json.dumps({
            "clips": [c.name for c in clips], "coverage_in_use": in_use, "coverage_left_out": left_out,
            "uncertainty": dataclasses.asdict(uncertainty), "high_grip_spread": high_grip_spread}, indent=1),
            encoding="utf-8")
    return 0


def fit_and_report(clips: list[ClipRecord], json_out: Path | None = None, out=sys.stdout,
                   posture: str | None = None, keep_trunk: bool = False) -> int:
    """Fit on ``clips``, score each clip in-sample and left out, print (and save) the figures."""
    if len(clips) < 3:
        raise PosecoachError("fitting needs at least 3 clips with ground truth")
    setup = posture_setup(posture or Posture.STANDING)
    settings, uses_hands = setup.settings, setup.model.trunk.uses_hands
    kept = setup.model if keep_trunk else None
    fitted = fit_model(clips, settings, uses_hands, kept, setup.model.hem_pelvis, setup.model.pelvis.transient_s)
    # Leave-one-clip-out: each clip scored by a model fitted on the others.
    loo_scores, loo_inputs, loo_errors = {}, [], []
    for i, clip in enumerate(clips):
        others = clips[:i] + clips[i + 1:]
        held_out = fit_model(others, settings, uses_hands, kept, setup.model.hem_pelvis, setup.model.pelvis.transient_s)
        out_angles = replay(clip, held_out, settings)
        loo_scores[clip.name] = score(clip, held_out, settings, out_angles)
        loo_inputs.append(_uncertainty_inputs(clip, out_angles, held_out))
        loo_errors.append(out_angles["separation"] - (clip.true_trunk - clip.true_pelvis))
        print(f"  leave-one-out {clip.name}: fitted without it in {len(others)} clips", file=out, flush=True)
    # The interval is fitted on the chest grips' left-out errors; the hands held high widen it
    # (high_grip_spread); its coverage on clips it was not fitted on: fitted without each clip.
    interval = fit_interval(clips, loo_inputs, loo_errors, setup.model.high_grip_spread)
    per_clip_coverage = interval.left_out_coverage
    fitted = dataclasses.replace(fitted, uncertainty=interval.uncertainty, high_grip_spread=interval.high_grip_spread)
    in_sample = {c.name: score(c, fitted, settings) for c in clips}
    _print_report(clips, in_sample, loo_scores, per_clip_coverage, fitted, out)
    if json_out:
        json_out.write_text(json.dumps({
            "clips": [c.name for c in clips], "in_sample": in_sample, "leave_one_out": loo_scores,
            "coverage": per_clip_coverage, "model": dataclasses.asdict(fitted)}, indent=1), encoding="utf-8")
    return 0


def _print_report(clips, in_sample, loo, cover, fitted: FusionModel, out) -> None:
    print("\nclip                            in-sample MAE (trunk pelvis sep)   leave-one-out MAE (trunk pelvis sep)   coverage", file=out)
    for c in clips:
        a, b = in_sample[c.name], loo[c.name]
        print(f"{c.name:30s}  {a['trunk']:6.2f} {a['pelvis']:6.2f} {a['separation']:6.2f}"
              f"            {b['trunk']:6.2f} {b['pelvis']:6.2f} {b['separation']:6.2f}"
              f"              {100 * cover[c.name]:5.1f}%", file=out)
    for name in ("trunk", "pelvis", "separation"):
        ins = np.mean([in_sample[c.name][name] for c in clips])
        lo = np.mean([loo[c.name][name] for c in clips])
        worst = max(loo[c.name][name] for c in clips)
        print(f"mean {name:10s} in-sample {ins:5.2f}  leave-one-out {lo:5.2f} (worst clip {worst:5.2f})", file=out)
    print(f"uncertainty coverage on clips it was not fitted on: mean {100 * np.mean(list(cover.values())):.1f}%, "
          f"lowest {100 * min(cover.values()):.1f}%", file=out)
    print("\nfitted model (paste into analysis/fusion_model.py):", file=out)
    print(f"    trunk={fitted.trunk!r},", file=out)
    print(f"    pelvis={fitted.pelvis!r},", file=out)
    print(f"    uncertainty={fitted.uncertainty!r},", file=out)
    print(f"    high_grip_spread={fitted.high_grip_spread!r},", file=out)
    hem = [c.name for c in clips if c.shirt_over_hips]
    if fitted.hem_pelvis is not None:
        source = "fitted on them" if len(hem) >= HEM_MIN_CLIPS else f"kept: fewer than {HEM_MIN_CLIPS} to fit on"
        print(f"    hem_pelvis={fitted.hem_pelvis!r},  # {len(hem)} clips with a hem over the hips ({source})"
              f"{': ' + ', '.join(hem) if hem else ''}", file=out)
    if fitted.high_grip_trunk is not None:
        high = [c.name for c in clips if c.hands_high]
        print(f"    high_grip_trunk={fitted.high_grip_trunk!r},  # {len(high)} clips: {', '.join(high)}", file=out)
