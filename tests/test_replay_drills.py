"""End-to-end replays of the seated and half-kneeling drills through the real pipeline.

The clips in ``tests/data/drills`` are short renders of our own (synthrot with a seated and
a half-kneeling body, each under 1 MB, see that folder's README): their drill's protocol
must count every hold, catch every pelvis turn and broken hold, and measure the separation
within a few degrees.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import analysed_video, clip_group
from posecoach.tools.accuracy import clip_protocol, expected_completed, expected_faults, load_truth

pytestmark = pytest.mark.replay

DRILLS = Path(__file__).parent / "data" / "drills"
CLIPS = sorted(p.stem for p in DRILLS.glob("*.mp4"))
GROUPED = [pytest.param(name, marks=clip_group(f"drills/{name}")) for name in CLIPS]


def analysed(name: str, model_path) -> tuple[dict, dict]:
    meta = json.loads((DRILLS / f"{name}_meta.json").read_text())
    return analysed_video(DRILLS / f"{name}.mp4", clip_protocol(meta).name, model_path, gestures=False), meta


def test_each_drill_has_clips_in_the_repository():
    postures = {json.loads((DRILLS / f"{n}_meta.json").read_text())["posture"]["kind"] for n in CLIPS}
    assert postures == {"seated", "kneeling"}
    assert all((DRILLS / f"{n}.mp4").stat().st_size < 1_000_000 for n in CLIPS)


@pytest.mark.parametrize("name", GROUPED)
def test_drill_reps_holds_and_faults(name, model_path):
    doc, meta = analysed(name, model_path)
    protocol = clip_protocol(meta)
    assert doc["protocol"]["name"] == protocol.name and doc["protocol"]["posture"] == protocol.posture
    hold_s, limit = protocol.hold_s, protocol.thresholds.pelvis_limit_deg
    assert [r["side"] for r in doc["reps"]] == [r["side"] for r in meta["reps"]]
    for got, want in zip(doc["reps"], meta["reps"]):
        assert set(got["faults"]) == expected_faults(want, hold_s, limit), (got, want)
        assert got["completed"] == expected_completed(want, hold_s, limit), (got, want)


@pytest.mark.parametrize("name", GROUPED)
def test_drill_separation_accuracy(name, model_path):
    doc, meta = analysed(name, model_path)
    truth = load_truth(DRILLS / f"{name}.csv", meta)
    sep = np.array([np.nan if f["separation_deg"] is None else f["separation_deg"] for f in doc["frames"]])
    true_sep = truth["separation"][: len(sep)]
    assert doc["tracking"]["rate"] > 0.9
    mae = np.nanmean(np.abs(sep - true_sep))
    assert mae < 4.0, f"separation MAE {mae:.1f} deg"
    turned = np.abs(true_sep) > 10
    assert np.all(np.sign(sep[turned & np.isfinite(sep)]) == np.sign(true_sep[turned & np.isfinite(sep)]))
