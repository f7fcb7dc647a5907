"""The layers of DESIGN.md section 7: the import contracts in pyproject.toml, and the pure core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "posecoach"
PURE = sorted((SRC / "analysis").glob("*.py"))
ALLOWED_OWN = ("posecoach.analysis", "posecoach.errors")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.name)
def test_pure_modules_import_only_numpy_stdlib_and_the_core(path):
    for name in imported_modules(path):
        top = name.split(".")[0]
        ok = top in sys.stdlib_module_names or top == "numpy" or name.startswith(ALLOWED_OWN) or top == "__future__"
        assert ok, f"{path.name} imports {name}"


def test_only_one_module_imports_mediapipe():
    importers = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
                 if any(n.split(".")[0] == "mediapipe" for n in imported_modules(p))
                 or "__import__(\"mediapipe\")" in p.read_text(encoding="utf-8")]
    assert importers == ["pose/mediapipe_backend.py"]


def test_import_contracts_hold():
    """Layers, Qt in ui/ only, mediapipe in its backend only, no cycles (pyproject.toml)."""
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_environment_changes_at_import_time():
    """Setting os.environ belongs in the function that needs it, not in a module's top level."""
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            text = ast.unparse(node)
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
                    "os.environ[" in text and "=" in text.split("os.environ[", 1)[1]
                    or "os.environ.setdefault" in text or "os.putenv" in text):
                offenders.append(f"{path.relative_to(SRC)}: {text.splitlines()[0]}")
    assert not offenders, offenders
