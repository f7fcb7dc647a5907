"""Privacy: with the model cached, posecoach uses no network and writes no file but the
outputs asked for (no video frame, no picture) — checked on a real MediaPipe analysis.
(Two third-party habits are allowed, see ``allowed_write``: no user data is in them.)

The analysis runs in a child process under a Python audit hook that refuses every
socket and records every file opened for writing; its home, temporary and working
folders are empty folders, listed before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posecoach import models
from test_robust_files import write_video

CHILD = r'''
import atexit, json, os, sys
network, written = [], []

def audit(event, args):
    if event in ("socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.bind", "socket.sendto",
                 "urllib.Request", "http.client.connect", "ftplib.connect", "smtplib.connect"):
        network.append(event)
        raise OSError(f"network use refused by the privacy test ({event})")
    if event == "open":
        path, mode, flags = (list(args) + [None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing and isinstance(path, (str, bytes, os.PathLike)):
            written.append(os.fsdecode(path))
    elif event == "sqlite3.connect":
        written.append(os.fsdecode(args[0]))

sys.addaudithook(audit)
atexit.register(lambda: print("AUDIT " + json.dumps({"network": network, "written": written}), flush=True))
from posecoach.cli import main
sys.exit(main(sys.argv[1:]))
'''


def allowed_write(path: Path, outputs: set[Path], out: Path, tmp: Path, mpl: Path) -> bool:
    """The outputs asked for (and their atomic-write scratch files), and two third-party habits:

    MediaPipe imports matplotlib, which caches its font list once; ctypes' library lookup
    (sounddevice, imported by MediaPipe) creates and deletes empty temporary files.
    """
    return (path in outputs or str(path) == os.devnull
            or (path.parent == out and path.name.startswith((".o.json.", ".o.csv.")))
            or path == tmp or path.parent == tmp
            or (path.parent == mpl and path.name.startswith("fontlist-")))


def snapshot(*folders: Path) -> set[Path]:
    return {p for folder in folders for p in folder.rglob("*") if p.is_file()}


def test_analyze_uses_no_network_and_writes_only_what_was_asked(tmp_path):
    if models.cached_model_path("full") is None:
        pytest.skip("the pose model is not cached (run 'posecoach models fetch'); this test must not download it")
    home, tmp, work, out = (tmp_path / name for name in ("home", "tmp", "work", "out"))
    for folder in (home, tmp, work, out):
        folder.mkdir()
    rng = np.random.default_rng(0)
    video = write_video(tmp_path / "private.mp4",
                        (rng.integers(60, 120, (120, 160, 3), dtype=np.uint8) for _ in range(20)))
    script = tmp_path / "audited.py"
    script.write_text(CHILD)
    mpl = home / ".mpl"
    before = snapshot(tmp_path)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache"),
           "XDG_DATA_HOME": str(home / ".local"), "XDG_CONFIG_HOME": str(home / ".config"),
           "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": str(mpl),
           models.MODELS_DIR_ENV: str(models.models_dir())}
    env.pop("POSECOACH_DB", None)
    outputs = {out / "o.json", out / "o.csv", out / "s.db"}
    result = subprocess.run([sys.executable, str(script), "analyze", str(video), "--json", str(out / "o.json"),
                             "--csv", str(out / "o.csv"), "--db", str(out / "s.db")],
                            cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    audit = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("AUDIT "))[6:])
    assert audit["network"] == []
    unexpected = [p for p in map(Path, audit["written"]) if not allowed_write(p, outputs, out, tmp, mpl)]
    assert unexpected == [], f"files opened for writing: {unexpected}"
    created = snapshot(tmp_path) - before - {script}
    third_party = {p for p in created if p.parent == mpl and p.name.startswith("fontlist-")}
    assert created - third_party == outputs, f"unexpected files: {sorted(map(str, created - outputs))}"
    assert snapshot(tmp) == set()  # temporary files, if any, are gone
    doc = json.loads((out / "o.json").read_text())
    assert len(doc["frames"]) == 20
