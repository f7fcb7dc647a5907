"""ruff is clean on src/ and tests/, mypy on the pure core (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    run = _run("ruff", "check", "--no-cache", "src", "tests")
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_is_clean_on_the_pure_core():
    run = _run("mypy", "--no-incremental", "src/posecoach/analysis")
    assert run.returncode == 0, run.stdout + run.stderr
