"""The pure core imports only numpy and the standard library (DESIGN.md section 7)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "posecoach"
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
