"""The bench report: which targets a run meets, and the report as readable lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGET_RATIO = 0.9
TARGET_LATENCY_MARGIN_MS = 15.0
TARGET_STARTUP_S = 3.0
FLAT_MB_PER_1000_FRAMES = 0.1  # below this, over a 10-minute session (18 000 frames), growth is < 2 MB


def check_targets(report: dict[str, Any]) -> dict[str, bool | None]:
    """Which of the issue's targets this run meets (None: not measured in this run)."""
    bare_inference = report["bare"]["stages_ms"]["inference"]
    live = report.get("live") or {}
    latency = (live.get("latency_ms") or {}).get("p95")
    soak = report.get("soak") or {}
    growth = soak.get("rss_growth_second_half_mb_per_1000_frames")  # after the caches have filled
    first = report.get("startup", {}).get("first_frame_s")
    return {
        "analyze_ratio_at_least_0.9": report["ratio"] >= TARGET_RATIO,
        "live_p95_within_inference_plus_15ms": None if latency is None else
        latency <= live.get("inference_ms", {}).get("median", bare_inference) + TARGET_LATENCY_MARGIN_MS,
        "memory_flat": None if growth is None else growth < FLAT_MB_PER_1000_FRAMES,
        "startup_within_3s": None if first is None else first <= TARGET_STARTUP_S,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as a few readable lines."""
    bare, analyzed = report["bare"], report["analyze"]
    lines = [f"posecoach bench: {Path(report['video']['path']).name}, {report['video']['frames']} frames, "
             f"model {report['model']}, {report['machine']['cpus']} CPUs",
             f"  bare PoseLandmarker loop: {bare['fps']:6.1f} fps ({bare['ms_per_frame']:.2f} ms/frame)",
             f"  analyze pipeline:         {analyzed['fps']:6.1f} fps ({analyzed['ms_per_frame']:.2f} ms/frame); "
             f"ratio {report['ratio']:.3f}, overhead {report['overhead_ms_per_frame']:+.2f} ms/frame",
             "  per stage, ms/frame:      bare " + ", ".join(f"{k} {v:.2f}" for k, v in bare["stages_ms"].items()),
             "                            analyze " + ", ".join(f"{k} {v:.2f}" for k, v in analyzed["stages_ms"].items())
             + (" (decode and inference run ahead on their own threads: the stages overlap)"
                if analyzed.get("detect_ahead_frames") else "")]
    startup = report["startup"]
    if "first_frame_s" in startup:
        lines.append(f"  start-up to first analysed frame: {startup['first_frame_s']:.2f} s (python+imports "
                     f"{startup['python_and_imports_s']:.2f}, model check {startup['model_check_s']:.2f}, "
                     f"model load {startup['model_load_s']:.2f}, first frame {startup['first_step_s']:.2f})")
    else:
        lines.append(f"  start-up: {startup.get('error')}")
    memory = report["memory"]
    lines.append(f"  memory: peak RSS {memory['peak_rss_mb']:.0f} MB ({memory['peak_rss_after_loops_mb']:.0f} MB "
                 f"before the live part); RSS during the loops "
                 + ("n/a" if memory["loops_growth_mb_per_1000_frames"] is None else
                    f"{memory['loops_growth_mb_per_1000_frames']:+.2f} MB per 1000 frames")
                 + " (analyze keeps its frame records for the document)")
    for key, title in (("live", "live"), ("soak", "soak")):
        live = report.get(key)
        if not live:
            continue
        latency, pipeline = live["latency_ms"], live["pipeline_latency_ms"]
        lines.append(f"  {title}: {live['captured']} frames at {live['fps']:.0f} fps over {live['seconds']:.0f} s; "
                     f"latency capture->shown median {latency['median']} ms, p95 {latency['p95']} ms "
                     f"(taken->shown median {pipeline['median']}, p95 {pipeline['p95']}); inference median "
                     f"{live['inference_ms']['median']} ms, overlay render median {live['render_ms']['median']} ms; "
                     f"dropped {100 * live['drop_rate']:.1f}% (not processed "
                     f"{100 * live['skipped_by_worker_rate']:.1f}%, not shown "
                     f"{100 * live['skipped_by_display_rate']:.1f}%); window open to first frame "
                     f"{live['window_to_first_frame_s']} s")
        if live.get("rss_growth_mb_per_1000_frames") is not None:
            late = live.get("rss_growth_second_half_mb_per_1000_frames")
            lines.append(f"  {title} memory: RSS {live['rss_mb']['warm']:.0f} -> {live['rss_mb']['end']:.0f} MB, "
                         f"growth {live['rss_growth_mb_per_1000_frames']:+.3f} MB per 1000 frames"
                         + ("" if late is None else f" ({late:+.3f} in the second half)")
                         + (f", Python heap {live['python_growth_kb_per_1000_frames']:+.1f} kB per 1000 frames"
                            if live.get("python_growth_kb_per_1000_frames") is not None else ""))
    met = ", ".join(f"{k} {'yes' if v else 'no' if v is not None else 'n/a'}" for k, v in report["targets"].items())
    lines.append(f"  targets: {met}")
    return "\n".join(lines)
