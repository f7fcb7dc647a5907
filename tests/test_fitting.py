"""The fusion model's fit, on generated cue records with a known answer (no video)."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest

from posecoach.analysis.fusion_model import UncertaintyModel
from posecoach.analysis.rotation import EstimatorSettings
from posecoach.tools.fitting import (
    ClipRecord,
    coverage,
    fit_and_report,
    fit_pelvis,
    fit_trunk,
    fit_uncertainty,
    recalibrate_uncertainty,
    replay,
)

TRUE_WEIGHTS = np.array([0.3, 0.45, -30.0, 4.0])


def record(seed: int, amplitude: float = 45.0, pelvis: float = 0.0, gain: float = 70.0) -> ClipRecord:
    """A clip of two holds whose cues follow the true trunk exactly through TRUE_WEIGHTS."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 20, 1 / 30)
    trunk = amplitude * np.sin(2 * np.pi * t / 10)
    true_pelvis = pelvis * np.sign(trunk) * (np.abs(trunk) > 0.8 * amplitude)
    hands = -0.77 * np.sin(np.radians(trunk)) + rng.normal(0, 0.002, t.size)
    world = trunk / 1.2 + rng.normal(0, 2.0, t.size)   # independent of the other cues
    # the first two features are free: solve the fore cue so that the weights hold exactly
    fore = (trunk - TRUE_WEIGHTS[1] * world - TRUE_WEIGHTS[2] * hands - TRUE_WEIGHTS[3] * hands ** 3) / TRUE_WEIGHTS[0]
    features = np.stack([fore, world, hands, hands ** 3, 0 * fore, 0 * fore], axis=1)
    change = (np.abs(true_pelvis) / gain) ** 3 + 0.001      # the cube-root mapping, inverted
    return ClipRecord(f"clip{seed}", [], t, features, world, hands, fore, change, np.zeros(t.size),
                      np.zeros(t.size), trunk, true_pelvis)


def test_trunk_weights_and_single_cue_gains_are_recovered():
    clips = [record(k, amplitude=a) for k, a in enumerate((30, 45, 60))]
    model = fit_trunk(clips)
    assert np.allclose(model.weights[:4], TRUE_WEIGHTS, rtol=1e-3, atol=1e-3)
    assert model.weights[4:] == (0.0, 0.0) and model.head_follow is None   # no nose recorded
    assert model.world_gain == pytest.approx(1.2, rel=0.02)
    assert model.hands_lever == pytest.approx(0.77, rel=0.02)


def grip_record(seed: int, amplitude: float, offset: float, seen_share: float = 0.5) -> ClipRecord:
    """Two holds with hands gripped ``offset`` (torso heights) to the person's right of the spine,
    whose wrists show only ``seen_share`` of that offset at neutral; the cues follow the true
    trunk through TRUE_WEIGHTS once the hands are centred with the whole offset. Recorded as the
    estimator reads them: centred with the offset as seen (grip_offset_gain 1)."""
    from posecoach.analysis.cues import centred_hand_travel

    rng = np.random.default_rng(seed)
    t = np.arange(0, 20, 1 / 30)
    trunk = amplitude * np.sin(2 * np.pi * t / 10)
    phi = np.radians(trunk)
    lever = 0.77
    travel = -(offset * np.cos(phi) + lever * np.sin(phi)) + offset     # image x since neutral
    seen = -seen_share * offset                                          # the wrists' neutral offset, image x
    centred = -lever * np.sin(phi)                                       # what the whole offset gives
    world = trunk / 1.2 + rng.normal(0, 2.0, t.size)
    fore = (trunk - TRUE_WEIGHTS[1] * world - TRUE_WEIGHTS[2] * centred - TRUE_WEIGHTS[3] * centred ** 3) / TRUE_WEIGHTS[0]
    read = centred_hand_travel(travel, seen, 0.0, lever)
    features = np.stack([fore, world, read, read ** 3, 0 * fore, 0 * fore], axis=1)
    zeros = np.zeros(t.size)
    return ClipRecord(f"grip{seed}", [], t, features, world, read, fore, zeros + 0.001, zeros, zeros, trunk, zeros,
                      read_lever=lever, hands_travel=travel, width_blind=np.zeros(t.size, dtype=bool),
                      grip_offset=seen, neutral_yaw=0.0)


def test_the_grips_offset_gain_is_fitted_and_read_as_fitted():
    """Wrists that show half the grip's offset: the fit takes it twice, recovers the weights, and
    the replay reads the turn through that gain; clips recorded without the raw travel keep 1."""
    clips = [grip_record(k, a, o) for k, (a, o) in enumerate(((30, 0.12), (45, -0.1), (60, 0.15), (50, -0.14)))]
    model = fit_trunk(clips)
    assert model.grip_offset_gain == 2.0
    assert np.allclose(model.weights[:4], TRUE_WEIGHTS, rtol=1e-3, atol=1e-3)
    from posecoach.analysis.fusion_model import DEFAULT_MODEL, FusionModel

    fitted = FusionModel(trunk=model, pelvis=DEFAULT_MODEL.pelvis, uncertainty=DEFAULT_MODEL.uncertainty)
    as_seen = dataclasses.replace(fitted, trunk=fit_trunk(clips, offset_gain=1.0))
    error = [np.nanmean(np.abs(replay(c, m, EstimatorSettings())["raw_trunk"] - c.true_trunk))
             for m in (fitted, as_seen) for c in clips[:1]]
    assert error[0] < 0.01 < error[1]
    # each grip's trunk reads the hands with its own gain: a person held to the high-grip trunk
    # fitted with 2 is read with 2, whatever the chest grip's trunk took
    mixed = dataclasses.replace(as_seen, high_grip_trunk=model)
    high = dataclasses.replace(clips[0], high_grip_share=1.0)
    assert np.nanmean(np.abs(replay(high, mixed, EstimatorSettings())["raw_trunk"] - high.true_trunk)) < 0.01
    assert fit_trunk([record(k, amplitude=a) for k, a in enumerate((30, 45, 60))]).grip_offset_gain == 1.0


def eyes_record(seed: int, amplitude: float, head_stays: bool) -> ClipRecord:
    """Two holds whose shoulder cues read the turn, and 0.75 of it when the head stays on the
    screen (MediaPipe's pull, session 10); the hands are noisy, the nose shifts 0.74 ear
    widths per sine of the turn when the head turns along and hardly at all when it stays."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, 20, 1 / 30)
    trunk = amplitude * np.sin(2 * np.pi * t / 10)
    pull = 0.75 if head_stays else 1.0
    fore = pull * trunk + rng.normal(0, 1.0, t.size)
    world = pull * trunk + rng.normal(0, 1.0, t.size)
    hands = -0.77 * np.sin(np.radians(trunk)) + rng.normal(0, 0.05, t.size)
    nose = (-0.05 if head_stays else -0.74) * np.sin(np.radians(trunk)) + rng.normal(0, 0.01, t.size)
    features = np.stack([fore, world, hands, hands ** 3, 0 * fore, 0 * fore], axis=1)
    zeros = np.zeros(t.size)
    return ClipRecord(f"clip{seed}{'eyes' if head_stays else ''}", [], t, features, world, hands, fore,
                      zeros + 0.001, zeros, zeros, trunk, zeros, nose_shift=nose)


def test_the_heads_state_is_fitted_when_enough_clips_keep_the_eyes_on_the_screen():
    from posecoach.tools import fitting

    turning = [eyes_record(k, a, False) for k, a in enumerate((30, 40, 50, 60, 45, 35, 55))]
    staying = [eyes_record(10 + k, a, True) for k, a in enumerate((35, 45, 55, 50, 40))]
    model = fitting.fit_trunk(turning + staying)
    assert model.head_follow == pytest.approx(0.74, abs=0.02)   # the median clip turns its head
    assert model.weights[4] != 0.0 and model.weights[5] != 0.0
    assert not any(fitting.keeps_eyes_on_screen(c, model.head_follow) for c in turning)
    assert all(fitting.keeps_eyes_on_screen(c, model.head_follow) for c in staying)
    # too few such clips: the head's weights stay 0 (a state seen on one body is not fitted)
    few = fitting.fit_trunk(turning + staying[:fitting.HEAD_MIN_CLIPS - 1])
    assert few.weights[4:] == (0.0, 0.0)
    # the head's state recovers most of the error the pull costs on the eyes-on-the-screen clips
    from posecoach.analysis.fusion_model import DEFAULT_MODEL, FusionModel

    def error(trunk_model, clips):
        m = FusionModel(trunk=trunk_model, pelvis=DEFAULT_MODEL.pelvis, uncertainty=DEFAULT_MODEL.uncertainty)
        return np.mean([fitting.score(c, m, EstimatorSettings())["trunk"] for c in clips])

    without = dataclasses.replace(model, head_follow=None)
    plain = fitting.fit_trunk([dataclasses.replace(c, nose_shift=None) for c in turning + staying])
    assert error(model, staying) < 0.5 * error(plain, staying)
    assert error(model, turning) <= error(plain, turning) + 0.2
    assert error(without, staying) > error(model, staying)


def test_the_pelvis_mapping_finds_a_turn_and_no_turn():
    clips = [record(0, pelvis=15.0), record(1, pelvis=0.0), record(2, amplitude=60, pelvis=20.0)]
    trunk = fit_trunk(clips)
    pelvis = fit_pelvis(clips, trunk, EstimatorSettings(), follows_trunk=0.0)
    from posecoach.analysis.fusion_model import DEFAULT_MODEL, FusionModel
    model = FusionModel(trunk=trunk, pelvis=pelvis, uncertainty=DEFAULT_MODEL.uncertainty)
    turned = replay(clips[0], model, EstimatorSettings())["pelvis"]
    still = replay(clips[1], model, EstimatorSettings())["pelvis"]
    holding = np.abs(clips[0].true_pelvis) > 0
    assert np.nanmedian(np.abs(turned[holding])) == pytest.approx(15.0, abs=3.0)
    assert np.nanmax(np.abs(still)) < 5.0


def test_the_uncertainty_is_scaled_to_cover_ninety_percent():
    rng = np.random.default_rng(3)
    n = 5000
    sep = rng.uniform(0, 60, n)
    inputs = np.stack([np.ones(n), sep, np.zeros(n), np.zeros(n), np.zeros(n)], axis=1)
    errors = rng.normal(0, 1.0 + 0.05 * sep)          # grows with the angle
    model = fit_uncertainty(inputs, errors)
    assert isinstance(model, UncertaintyModel) and model.per_degree > 0
    assert coverage(model, inputs, errors) == pytest.approx(0.9, abs=0.01)


def test_fit_and_report_prints_leave_one_out_figures_and_the_model():
    clips = [record(k, amplitude=a, pelvis=p) for k, (a, p) in enumerate(((30, 0), (45, 15), (60, 0), (50, 12)))]
    out = io.StringIO()
    assert fit_and_report(clips, out=out) == 0
    text = out.getvalue()
    assert "leave-one-out" in text and "coverage" in text
    assert "trunk=TrunkModel(" in text and "pelvis=PelvisModel(" in text


def test_uncertainty_only_keeps_the_model_and_calibrates_the_interval_on_its_errors(tmp_path):
    """The recalibration fits the interval on the model in use's own errors: the ± it prints
    covers 90% of the pooled frames, the coverage it reports for the model in use is that
    model's, and no trunk or pelvis is refitted."""
    import json

    from posecoach.analysis.fusion_model import DEFAULT_MODEL
    from posecoach.tools.fitting import _uncertainty_inputs

    clips = [record(k, amplitude=a, pelvis=p) for k, (a, p) in enumerate(((30, 0), (45, 15), (60, 0), (50, 12)))]
    out, saved = io.StringIO(), tmp_path / "u.json"
    assert recalibrate_uncertainty(clips, saved, out) == 0
    text = out.getvalue()
    assert "uncertainty=UncertaintyModel(" in text and "TrunkModel(" not in text and "PelvisModel(" not in text
    result = json.loads(saved.read_text())
    refitted = UncertaintyModel(**result["uncertainty"])
    settings = EstimatorSettings()
    inputs, errors = [], []
    for clip in clips:
        angles = replay(clip, DEFAULT_MODEL, settings)
        inputs.append(_uncertainty_inputs(clip, angles, DEFAULT_MODEL))
        errors.append(angles["separation"] - (clip.true_trunk - clip.true_pelvis))
        assert result["coverage_in_use"][clip.name] == pytest.approx(
            coverage(DEFAULT_MODEL.uncertainty, inputs[-1], errors[-1]))
        assert 0.0 <= result["coverage_left_out"][clip.name] <= 1.0
    assert coverage(refitted, np.concatenate(inputs), np.concatenate(errors)) == pytest.approx(0.9, abs=0.01)


def test_a_posture_without_the_hand_cue_fits_the_shoulder_cues_only():
    clips = [record(k, amplitude=a) for k, a in enumerate((30, 45, 60))]
    model = fit_trunk(clips, uses_hands=False)
    assert not model.uses_hands and model.weights[2:] == (0.0, 0.0, 0.0, 0.0)
    assert model.weights[0] != 0.0 and model.weights[1] != 0.0
    out = io.StringIO()
    assert fit_and_report(clips + [record(9, 50, 12)], out=out, posture="half-kneeling") == 0
    assert "uses_hands=False" in out.getvalue()


def test_keep_trunk_fits_the_pelvis_and_keeps_the_posture_trunk():
    from posecoach.analysis.posture import posture_setup

    clips = [record(k, amplitude=a, pelvis=p) for k, (a, p) in enumerate(((30, 0), (45, 15), (60, 0)))]
    out = io.StringIO()
    assert fit_and_report(clips, out=out, posture="seated", keep_trunk=True) == 0
    assert repr(posture_setup("seated").model.trunk) in out.getvalue()


def test_clips_with_the_hands_held_high_get_their_own_trunk_and_widening():
    """Three or more clips whose calibration saw the hands held high: their trunk is fitted on
    them alone (their cues read the turn at another gain), the chest grips' on the others, and
    the fit reports the interval's widening for them."""
    import dataclasses

    from posecoach.tools.fitting import HIGH_GRIP_MIN_CLIPS, fit_high_grip_spread, fit_model

    chest = [record(k, amplitude=a) for k, a in enumerate((30, 45, 60))]
    high = []
    for k, a in enumerate((35, 50, 55)):
        clip = record(10 + k, amplitude=a)
        # the same cues, but the true turn is 30% larger than the chest-grip weights read it
        high.append(dataclasses.replace(clip, name=f"high{k}", true_trunk=1.3 * clip.true_trunk, high_grip_share=1.0))
    model = fit_model(chest + high, EstimatorSettings())
    assert np.allclose(model.trunk.weights[:4], TRUE_WEIGHTS, rtol=1e-3, atol=1e-3)
    assert model.high_grip_trunk is not None
    assert np.allclose(model.high_grip_trunk.weights[:4], 1.3 * TRUE_WEIGHTS, rtol=1e-3, atol=1e-3)
    read = replay(high[0], model, EstimatorSettings())["trunk"]
    chest_read = replay(high[0], dataclasses.replace(model, high_grip_trunk=None), EstimatorSettings())["trunk"]
    assert np.nanmean(np.abs(read - high[0].true_trunk)) < 1.0          # the filter's lag only
    assert np.nanmean(np.abs(chest_read - high[0].true_trunk)) > 5.0
    assert fit_model(chest + high[:HIGH_GRIP_MIN_CLIPS - 1], EstimatorSettings()).high_grip_trunk is None
    # the widening: the smallest per-degree margin that covers 90% of the high-grip errors
    n = 1000
    inputs = np.stack([np.ones(n), np.full(n, 40.0), np.zeros(n), np.zeros(n), np.zeros(n)], axis=1)
    errors = np.linspace(0.0, 10.0, n)           # 90% within 9 deg
    unit = UncertaintyModel(1.0, 0.0, 0.0, 0.0, 0.0, scale=1.0)
    assert fit_high_grip_spread(unit, inputs, errors) == pytest.approx((9.0 - 1.0) / 40.0, abs=0.005)
    assert fit_high_grip_spread(unit, inputs, errors * 0.05) == 0.0


def test_a_shirt_hem_over_the_hips_gets_its_own_pelvis_mapping():
    """The pelvis mapping is fitted on the clips without a hem over the hips: a hem that twists
    with the chest changes the picture of a still pelvis, and those clips would otherwise set
    the allowance for everybody. With fewer than HEM_MIN_CLIPS hem clips the model's hem
    mapping is kept; a clip with a hem is replayed with it."""
    import dataclasses

    from posecoach.analysis.fusion_model import DEFAULT_MODEL
    from posecoach.tools.fitting import HEM_MIN_CLIPS, fit_model

    clear = [record(k, amplitude=a, pelvis=p) for k, (a, p) in enumerate(((30, 0), (45, 15), (60, 0), (50, 12)))]
    # a still pelvis whose picture changes as much as a 20 deg turn under the hem
    hemmed = [dataclasses.replace(record(20 + k, amplitude=50), name=f"hem{k}", shirt_over_hips=True,
                                  change=np.full(600, (20.0 / 70.0) ** 3 + 0.001)) for k in range(2)]
    kept = DEFAULT_MODEL.hem_pelvis
    assert kept is not None and kept != DEFAULT_MODEL.pelvis
    model = fit_model(clear + hemmed, EstimatorSettings(), hem_pelvis=kept)
    assert model.pelvis == fit_model(clear, EstimatorSettings()).pelvis    # the hem clips did not move it
    assert model.hem_pelvis == kept and len(hemmed) < HEM_MIN_CLIPS
    assert model.for_person(0.0, True).pelvis == kept
    assert model.for_person(0.0, False).pelvis == model.pelvis
    many = [dataclasses.replace(hemmed[0], name=f"hem{k}") for k in range(HEM_MIN_CLIPS)]
    refitted = fit_model(clear + many, EstimatorSettings(), hem_pelvis=kept)
    assert refitted.hem_pelvis is not None and refitted.hem_pelvis != kept
    # how long each picture's transients last is chosen, not fitted: a refit keeps them
    assert model.pelvis.transient_s == DEFAULT_MODEL.pelvis.transient_s
    assert refitted.hem_pelvis.transient_s == kept.transient_s
    brief = dataclasses.replace(kept, transient_s=0.75)
    assert fit_model(clear + many, EstimatorSettings(), hem_pelvis=brief).hem_pelvis.transient_s == 0.75
    assert fit_model(clear, EstimatorSettings(), pelvis_transient_s=2.0).pelvis.transient_s == 2.0


def test_a_clip_is_recorded_as_the_estimator_saw_it(monkeypatch, tmp_path):
    """record_clip keeps each measured frame's cues and the calibration's calls (the hands held
    high, a hem, the head out of the picture: such a clip is not fitted on) under their names."""
    from types import SimpleNamespace

    import posecoach.tools.accuracy as accuracy
    import posecoach.tools.fitting as fitting
    from posecoach.analysis.cues import NEUTRAL_HIP_YAW_NOISE_DEG
    from posecoach.analysis.fusion_model import DEFAULT_MODEL, TRUNK_FEATURES
    from posecoach.analysis.geometry import BodyMeasures
    from posecoach.analysis.rotation import Calibration, FrameFeatures

    n = 40
    truth = {"trunk": np.linspace(0.0, 40.0, n), "pelvis": np.zeros(n)}
    neutral = BodyMeasures(**{name: 0.5 for name in BodyMeasures.__dataclass_fields__} | {"world_shoulder_yaw": 5.0, "world_hip_yaw": 4.0})
    calibration = Calibration(t=0.0, neutral=neutral, base="ankles", high_grip_share=1.0, head_out_of_picture=True)

    def run_clip(video, model_path, model_name, cache, on_step, protocol):
        estimator = SimpleNamespace(calibration=calibration, model=DEFAULT_MODEL, last_features=None)
        for i in range(n):
            t = i / 30
            estimator.last_features = None if i == 0 else FrameFeatures(
                t=t, trunk_features=tuple(float(j) for j in range(len(TRUNK_FEATURES))), world=1.0, hands=-0.2,
                foreshortening=2.0, nose_shift=0.01, hands_travel=-0.25, width_blind=i % 2 == 0, hands_only=True,
                appearance_change=0.004, appearance_plainness=0.001, appearance_noise=0.0005, appearance_problem=None,
                trunk_deg=float(truth["trunk"][i]), pelvis_deg=0.0)
            on_step(SimpleNamespace(frame=SimpleNamespace(t=t)), estimator)

    monkeypatch.setattr(accuracy, "run_clip", run_clip)
    monkeypatch.setattr(fitting, "load_meta", lambda video: {"tags": ["clean"], "fps": 30.0})
    monkeypatch.setattr(fitting, "load_truth", lambda path, meta: truth)
    clip = fitting.record_clip(tmp_path / "x01.mp4", tmp_path / "model.task", "full", None)
    assert clip.name == "x01" and clip.tags == ["clean"] and len(clip.t) == n
    assert clip.hands_high and clip.head_out_of_picture and not clip.shirt_over_hips
    assert int(clip.measured.sum()) == n - 1 and np.all(np.isnan(clip.features[0]))
    assert clip.features[1].tolist() == [float(j) for j in range(len(TRUNK_FEATURES))]
    assert clip.hands[1] == -0.2 and clip.hands_travel[1] == -0.25 and clip.nose_shift[1] == 0.01
    assert clip.change[1] == 0.004 and clip.plainness[1] == 0.001 and clip.noise[1] == 0.0005
    assert clip.width_blind[2] and not clip.width_blind[1]
    # hands_x - hips_x; the stance the shoulder and hip lines agree on, as the cues take it
    assert clip.grip_offset == 0.0 and clip.neutral_yaw == pytest.approx(4.0 - NEUTRAL_HIP_YAW_NOISE_DEG)
    assert clip.read_lever == DEFAULT_MODEL.trunk.hands_lever


def test_a_trunk_refit_is_pooled_with_the_model_in_use_by_clip_counts(tmp_path):
    """The model in use stands for the clips it was fitted on, no longer at hand: the refit's
    weights and single-cue gains are averaged with its by clip counts; with no prior clips the
    refit is the least squares itself, and every other number is kept."""
    import json

    from posecoach.analysis.fusion_model import DEFAULT_MODEL
    from posecoach.errors import PosecoachError
    from posecoach.tools.fitting import anchored_trunk, refit_trunk

    in_use = DEFAULT_MODEL.trunk
    fitted = dataclasses.replace(in_use, weights=tuple(w + 1.0 for w in in_use.weights), world_gain=2.0, hands_lever=1.0)
    pooled = anchored_trunk(fitted, in_use, clips=30, prior_clips=90)    # a quarter is the refit's
    assert pooled.weights == pytest.approx([w + 0.25 for w in in_use.weights], abs=1e-5)
    assert pooled.world_gain == pytest.approx(0.25 * 2.0 + 0.75 * in_use.world_gain, abs=1e-5)
    assert pooled.hands_lever == pytest.approx(0.25 * 1.0 + 0.75 * in_use.hands_lever, abs=1e-5)
    assert anchored_trunk(fitted, in_use, clips=30, prior_clips=0) == fitted

    clips = [record(k, amplitude=a) for k, a in enumerate((30, 45, 60, 50))]
    out, saved = io.StringIO(), tmp_path / "t.json"
    assert refit_trunk(clips, 0, saved, out) == 0
    text = out.getvalue()
    assert "trunk=TrunkModel(" in text and "PelvisModel(" not in text and "refit, left out" in text
    result = json.loads(saved.read_text())
    # the generated cues follow the true trunk exactly: the refit left out reads it better than the model in use
    for name in result["clips"]:
        assert result["scores"][name]["refit_left_out"]["trunk"] < result["scores"][name]["in_use"]["trunk"]
    anchored = io.StringIO()
    refit_trunk(clips, 4, None, anchored)
    assert "share of the refit 0.50" in anchored.getvalue()
    with pytest.raises(PosecoachError):
        refit_trunk(clips, -1, None, io.StringIO())
