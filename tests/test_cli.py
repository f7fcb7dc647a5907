"""User errors on the command line end with one clear line and a non-zero status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "posecoach", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: d, "is a folder"),
    (lambda d: (d / "notes.mp4").write_text("hello") and d / "notes.mp4", "cannot open"),
    (lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4", "cannot open"),
])
def test_analyze_bad_input(tmp_path, make, expected):
    target = make(tmp_path)
    result = run_cli("analyze", str(target), "--json", str(tmp_path / "out.json"), "--no-save")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("posecoach: ") and expected in lines[0]
    assert not (tmp_path / "out.json").exists()


def test_unknown_protocol_is_one_line(tmp_path):
    result = run_cli("analyze", str(tmp_path), "--protocol", "nope")
    assert result.returncode == 2 and "unknown protocol" in result.stderr


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("analyze", "models", "history", "report", "accuracy"):
        assert command in result.stdout


def test_models_list_runs():
    result = run_cli("models", "list")
    assert result.returncode == 0 and "pose_landmarker_full.task" in result.stdout


@pytest.mark.parametrize("argv", [
    ["--db", "X.db", "--model", "lite", "--max-people", "2", "analyze", "v.mp4"],
    ["analyze", "v.mp4", "--db", "X.db", "--model", "lite", "--max-people", "2"],
    ["--db", "other.db", "--model", "heavy", "analyze", "v.mp4", "--db", "X.db", "--model", "lite",
     "--max-people", "2"],
])
def test_options_before_or_after_the_sub_command_are_kept(argv):
    from posecoach.cli import build_parser

    args = build_parser().parse_args(argv)
    assert (args.command, args.db, args.model, args.max_people) == ("analyze", Path("X.db"), "lite", 2)


@pytest.mark.parametrize("argv, expected", [
    (["--protocol", "seated-rotation", "analyze", "v.mp4"], "seated-rotation"),
    (["analyze", "v.mp4", "--protocol", "seated-rotation"], "seated-rotation"),
    (["analyze", "v.mp4"], None),
])
def test_protocol_before_the_sub_command_is_kept(argv, expected):
    from posecoach.cli import build_parser

    args = build_parser().parse_args(argv)
    assert args.protocol == expected and args.max_people == 1 and args.db is None and args.model is None


@pytest.mark.parametrize("argv, attribute, expected", [
    (["--db", "X.db", "history"], "db", Path("X.db")),
    (["--db", "X.db", "report", "latest", "--csv", "r.csv"], "db", Path("X.db")),
    (["--model", "lite", "models", "fetch"], "model", "lite"),
    (["--model", "lite", "accuracy", "folder"], "model", "lite"),
    (["--model", "lite", "bench", "v.mp4"], "model", "lite"),
    (["--pass-mark", "50", "analyze", "v.mp4"], "pass_mark", 50.0),
    (["analyze", "v.mp4", "--pass-mark", "50"], "pass_mark", 50.0),
    (["--protocol", "rotation-test", "--pass-mark", "50"], "pass_mark", 50.0),
])
def test_every_sub_command_keeps_the_shared_options(argv, attribute, expected):
    from posecoach.cli import build_parser

    assert getattr(build_parser().parse_args(argv), attribute) == expected


@pytest.mark.replay
def test_mediapipe_log_lines_only_with_verbose(tmp_path, model_path):
    """MediaPipe's C++ log lines ("INFO: [accelerator_registry.cc...]") never reach the user's terminal."""
    from test_robust_files import plain_frames, write_video

    video = write_video(tmp_path / "plain.mp4", plain_frames(20))
    quiet = run_cli("analyze", str(video), "--no-save", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert "INFO:" not in quiet.stderr and "accelerator" not in quiet.stderr.lower(), quiet.stderr
    assert "I0000" not in quiet.stderr and "W0000" not in quiet.stderr, quiet.stderr


def test_the_window_takes_a_pass_mark_for_a_range_test_only():
    from posecoach.cli import build_parser
    from posecoach.errors import PosecoachError
    from posecoach.ui.app import build_options

    class NoSettings:
        def value(self, key, default=None, type=None):
            return default

    args = build_parser().parse_args(["--protocol", "rotation-test", "--pass-mark", "50"])
    assert build_options(args, NoSettings()).protocol.range_test.pass_mark_deg == 50.0
    with pytest.raises(PosecoachError, match="not a range test"):
        build_options(build_parser().parse_args(["--protocol", "standing-rotation", "--pass-mark", "50"]), NoSettings())
