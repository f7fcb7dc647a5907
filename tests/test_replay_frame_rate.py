"""A cheap webcam in a dim room drops to 15 frames a second: every rule of the coach is timed in
seconds, so the same drill read at half the frame rate gives the same reps, holds and faults
(real pipeline, MediaPipe)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from conftest import analysed_clip, clip_group, shared_path
from posecoach.analysis.protocol import load_protocol
from posecoach.capture.frame_source import Frame
from posecoach.capture.video_file import VideoFileSource
from posecoach.session.coaching import CoachingSession

pytestmark = pytest.mark.replay


class EveryOther:
    """A video file with every other frame dropped (its timestamps kept): 15 fps from 30."""

    def __init__(self, source: VideoFileSource) -> None:
        self.source = source
        self.info = source.info

    def frames(self) -> Iterator[Frame]:
        for index, frame in enumerate(self.source.frames()):
            if index % 2 == 0:
                yield frame


@pytest.mark.parametrize("clip", [pytest.param("c07_jerky_fast", marks=clip_group("synth/c07_jerky_fast"))])
def test_half_the_frame_rate_gives_the_same_reps_holds_and_faults(clip, model_path):
    """c07: two jerky, too fast turns among clean ones, and two 7 s holds a side (session 19:
    at 15 fps five clips, c04, c06, c07 and two fresh renders, kept every rep and hold, and
    read a separation MAE within 0.13 deg of their 30 fps one)."""
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator

    doc = analysed_clip(f"synth/{clip}", model_path)   # at 30 fps (shared with test_replay)
    reps = [(r["side"], r["completed"], sorted(set(r["faults"]) - {"wrong_side"})) for r in doc["reps"]]
    with MediaPipePoseEstimator(model_path) as detector, VideoFileSource(shared_path("synth", f"{clip}.mp4")) as video:
        session = CoachingSession(detector, load_protocol("standing-rotation"))
        samples = [step.sample for step in session.run(EveryOther(video))]
        session.finish()
    halved = [(r.side, r.completed, sorted(set(r.faults) - {"wrong_side"})) for r in session.coach.reps]
    assert halved == reps
    assert any("too_fast" in faults for _, _, faults in halved) and any(done for _, done, _ in halved)
    separation = np.array([np.nan if s.separation_deg is None else s.separation_deg for s in samples])
    full = np.array([np.nan if f["separation_deg"] is None else f["separation_deg"] for f in doc["frames"]])[::2]
    both = np.isfinite(separation) & np.isfinite(full)
    assert both.mean() > 0.9
    assert float(np.median(np.abs(separation[both] - full[both]))) < 2.0
