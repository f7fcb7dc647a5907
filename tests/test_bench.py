"""``posecoach bench``: its pieces on made-up data, and one short real run (no timing thresholds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import shared_path
from posecoach.measure import Histogram, growth_per_1000
from posecoach.tools.bench import interleave
from posecoach.tools.bench_report import check_targets, format_report


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "posecoach", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def write_video(path: Path, frames: int = 12, size=(96, 72), fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 40 + 10 * i, np.uint8))
    writer.release()
    return path


# ---------------------------------------------------------------------------- pure pieces
def test_histogram_quantiles_and_summary():
    histogram = Histogram(max_ms=100.0, bin_ms=1.0)
    assert histogram.quantile(0.5) is None and histogram.summary()["count"] == 0
    for ms in range(1, 101):  # 1..100 ms
        histogram.add(float(ms))
    summary = histogram.summary()
    assert summary["count"] == 100
    assert 49 <= summary["median"] <= 51 and 94 <= summary["p95"] <= 96
    assert summary["max"] == 100.0 and summary["mean"] == pytest.approx(50.5)
    histogram.add(5000.0)  # beyond the range: counted in the last bin, the maximum kept
    assert histogram.count == 101 and histogram.summary()["max"] == 5000.0


def test_growth_is_the_slope_per_thousand_frames():
    frames = np.arange(0, 10_000, 500)
    assert growth_per_1000(frames, 300 + 0.002 * frames) == pytest.approx(2.0)
    assert growth_per_1000(frames, np.full(len(frames), 300.0)) == pytest.approx(0.0, abs=1e-9)
    assert growth_per_1000([1, 2], [3, 4]) is None


def test_interleave_takes_turns_and_finishes_every_loop():
    order: list[tuple[str, int]] = []

    def loop(name: str, count: int):
        for i in range(count):
            order.append((name, i))
            yield

    samples = interleave([loop("a", 5), loop("b", 3)], block=2)
    assert [name for name, _ in order] == ["a", "a", "b", "b", "a", "a", "b", "a"]
    assert [i for name, i in order if name == "a"] == list(range(5))
    assert samples and all(rss > 0 for _, rss in samples)


def fake_report(live_p95: float | None = 40.0, growth: float | None = 0.01) -> dict:
    stages = {"decode": 1.0, "inference": 30.0}
    live = None if live_p95 is None else {
        "captured": 300, "fps": 30.0, "seconds": 10.0, "drop_rate": 0.1, "skipped_by_worker_rate": 0.08,
        "skipped_by_display_rate": 0.02, "latency_ms": {"median": 35.0, "p95": live_p95},
        "pipeline_latency_ms": {"median": 33.0, "p95": 38.0}, "inference_ms": {"median": 30.0},
        "render_ms": {"median": 8.0}, "window_to_first_frame_s": 1.0}
    soak = None if growth is None else {**(live or {}), "rss_growth_mb_per_1000_frames": 2 * growth,
                                        "rss_growth_second_half_mb_per_1000_frames": growth,
                                        "rss_mb": {"warm": 300.0, "end": 301.0},
                                        "python_growth_kb_per_1000_frames": 1.0}
    return {"video": {"path": "clip.mp4", "frames": 60}, "model": "full", "machine": {"cpus": 2},
            "bare": {"fps": 33.0, "ms_per_frame": 31.0, "stages_ms": stages},
            "analyze": {"fps": 31.0, "ms_per_frame": 32.5, "stages_ms": {**stages, "estimation": 1.0}},
            "ratio": 0.94, "overhead_ms_per_frame": 1.5,
            "startup": {"first_frame_s": 2.0, "python_and_imports_s": 0.3, "model_check_s": 0.1,
                        "model_load_s": 1.5, "first_step_s": 0.1},
            "memory": {"peak_rss_mb": 400.0, "peak_rss_after_loops_mb": 350.0,
                       "loops_growth_mb_per_1000_frames": 0.5},
            "live": live, "soak": soak}


def test_targets_and_text_report():
    report = fake_report()
    report["targets"] = check_targets(report)
    assert report["targets"] == {"analyze_ratio_at_least_0.9": True, "live_p95_within_inference_plus_15ms": True,
                                 "memory_flat": True, "startup_within_3s": True}
    text = format_report(report)
    for figure in ("33.0 fps", "31.0 fps", "ratio 0.940", "p95 40.0 ms", "dropped 10.0%", "2.00 s", "400 MB"):
        assert figure in text
    slow = fake_report(live_p95=80.0, growth=None)
    assert check_targets(slow)["live_p95_within_inference_plus_15ms"] is False
    assert check_targets(slow)["memory_flat"] is None


# ---------------------------------------------------------------------------- the paced camera
@pytest.mark.gui
def test_paced_camera_keeps_only_the_newest_frame_and_loops(tmp_path: Path):
    from posecoach.capture.paced_file import PacedFileCamera

    video = write_video(tmp_path / "clip.mp4", frames=12)
    camera = PacedFileCamera(video, minutes=1.2 / 60, lead_in_s=0.2)  # 1.2 s at 30 fps: the 12 frames loop
    assert camera.info.live and camera.info.frames is None
    indices, times = [], []
    try:
        for frame in camera.frames():
            indices.append(frame.index)
            times.append(frame.t)
            if len(indices) % 3 == 0:
                import time
                time.sleep(0.1)  # a slow consumer: frames are skipped, never queued
    finally:
        camera.close()
    assert camera.captured == 36 and camera.taken == len(indices) < camera.captured
    assert indices == sorted(set(indices))  # never a frame twice, never backwards
    assert times == [pytest.approx(i / 30.0) for i in indices]  # timestamps continue across loops
    assert camera.capture_time(indices[-1]) is not None


# ---------------------------------------------------------------------------- the command
def test_bench_bad_video_is_one_line(tmp_path: Path):
    result = run_cli("bench", str(tmp_path / "missing.mp4"), "--no-live")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no such file" in lines[0]


@pytest.mark.replay
@pytest.mark.gui
def test_bench_reports_every_figure(tmp_path: Path, model_path):
    video = shared_path("synth", "c06_broken_hold.mp4")
    out = tmp_path / "bench.json"
    result = run_cli("bench", str(video), "--frames", "60", "--lead-in", "1", "--minutes", "0.1",
                     "--json", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["video"]["frames"] == 60 and report["model"] == "full"
    for loop in ("bare", "analyze"):
        assert report[loop]["frames"] == 60 and report[loop]["fps"] > 0
    assert set(report["bare"]["stages_ms"]) == {"decode", "inference"}
    assert set(report["analyze"]["stages_ms"]) == {"decode", "inference", "estimation", "coaching", "recording",
                                                   "storage"}
    assert report["analyze"]["detect_ahead_frames"] >= 1
    assert all(v >= 0 for v in report["analyze"]["stages_ms"].values())
    assert report["analyze"]["stages_ms"]["inference"] > 0 and report["ratio"] > 0
    assert report["startup"]["first_frame_s"] > 0
    assert report["memory"]["peak_rss_mb"] > 0
    for part in ("live", "soak"):
        live = report[part]
        assert not live["problems"]
        assert live["captured"] > 0 and 0 < live["shown"] <= live["taken"] <= live["captured"]
        assert 0 <= live["drop_rate"] < 1
        assert live["latency_ms"]["median"] > 0 and live["latency_ms"]["p95"] >= live["latency_ms"]["median"]
        assert live["inference_ms"]["median"] > 0
    assert report["soak"]["rss_growth_mb_per_1000_frames"] is not None
    assert report["soak"]["python_growth_kb_per_1000_frames"] is not None
    assert set(report["targets"]) == {"analyze_ratio_at_least_0.9", "live_p95_within_inference_plus_15ms",
                                      "memory_flat", "startup_within_3s"}
    for figure in ("bare PoseLandmarker loop", "analyze pipeline", "ratio", "start-up", "peak RSS", "p95",
                   "dropped"):
        assert figure in result.stdout
