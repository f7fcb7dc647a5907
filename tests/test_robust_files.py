"""Robustness to the video files people have: cut short, empty, variable frame rate,
rotated phone videos, 4K, very long, unicode names; outputs that cannot be written.

Videos are made small in tmp_path with cv2.VideoWriter; MP4 metadata (frame timing,
rotation, box order) is edited in place by the few lines of ISO-media handling below,
so no external tool is needed. MediaPipe is replaced by a scripted detector except
where the test is about MediaPipe itself.
"""

from __future__ import annotations

import json
import math
import struct
import weakref
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import shared_path
from posecoach import cli
from posecoach.analysis.protocol import Protocol
from posecoach.capture.video_file import VideoFileSource
from posecoach.errors import SourceError
from posecoach.session.analyze import analyze_video
from posecoach.session.coaching import RECORDED_DETECT_AHEAD
from posecoach.testing import drill_trunk_deg, standing_pose

# --------------------------------------------------------------------------- helpers
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta", b"dinf"}


def parse_boxes(data: bytes, start: int = 0, end: int | None = None) -> list:
    """ISO media boxes as [kind, body] (body: bytearray, or a list for container boxes)."""
    end = len(data) if end is None else end
    boxes, i = [], start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[i + 8:i + 16])[0], 16
        elif size == 0:
            size = end - i
        body = parse_boxes(data, i + header, i + size) if kind in _CONTAINERS else bytearray(data[i + header:i + size])
        boxes.append([kind, body])
        i += size
    return boxes


def build_boxes(boxes: list) -> bytes:
    out = bytearray()
    for kind, body in boxes:
        payload = build_boxes(body) if isinstance(body, list) else bytes(body)
        out += struct.pack(">I4s", len(payload) + 8, kind) + payload
    return bytes(out)


def find_box(boxes: list, *path: bytes) -> bytearray | list:
    for kind, body in boxes:
        if kind == path[0]:
            return body if len(path) == 1 else find_box(body, *path[1:])
    raise KeyError(path)


def write_video(path: Path, frames, fps: float = 30.0, fourcc: str = "mp4v") -> Path:
    """Write RGB frames (an iterable of H x W x 3 uint8) to ``path``."""
    writer = None
    for image in frames:
        if writer is None:
            height, width = image.shape[:2]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
            assert writer.isOpened()
        writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def plain_frames(n: int, size: tuple[int, int] = (160, 120)):
    """Frames with a moving bar (so every frame differs), RGB."""
    width, height = size
    for i in range(n):
        image = np.full((height, width, 3), 90, np.uint8)
        image[:, (i * 3) % width] = 255
        image[: height // 4, : width // 4] = (200, 60, 60)  # a red block top-left (orientation marker)
        yield image


def faststart(data: bytes) -> bytes:
    """Move the 'moov' index in front of the media data (as phones and web encoders do)."""
    boxes = parse_boxes(data)
    moov = next(b for b in boxes if b[0] == b"moov")
    shift = len(build_boxes([moov]))
    stco = find_box(boxes, b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stco")
    n = struct.unpack(">I", stco[4:8])[0]
    offsets = struct.unpack(f">{n}I", stco[8:8 + 4 * n])
    stco[8:8 + 4 * n] = struct.pack(f">{n}I", *(o + shift for o in offsets))
    ordered = [b for b in boxes if b[0] == b"ftyp"] + [moov] + [b for b in boxes if b[0] not in (b"ftyp", b"moov")]
    return build_boxes(ordered)


def set_frame_durations(data: bytes, runs: list[tuple[int, int]]) -> bytes:
    """Rewrite the video track's sample durations (runs of (count, ticks)): a VFR file."""
    boxes = parse_boxes(data)
    stts = find_box(boxes, b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts")
    stts[:] = struct.pack(">II", 0, len(runs)) + b"".join(struct.pack(">II", n, d) for n, d in runs)
    mdhd = find_box(boxes, b"moov", b"trak", b"mdia", b"mdhd")
    media_scale = struct.unpack(">I", mdhd[12:16])[0]
    total = sum(n * d for n, d in runs)
    mdhd[16:20] = struct.pack(">I", total)
    mvhd = find_box(boxes, b"moov", b"mvhd")
    movie_total = round(total * struct.unpack(">I", mvhd[12:16])[0] / media_scale)
    mvhd[16:20] = struct.pack(">I", movie_total)
    find_box(boxes, b"moov", b"trak", b"tkhd")[20:24] = struct.pack(">I", movie_total)
    try:
        find_box(boxes, b"moov", b"trak", b"edts", b"elst")[8:12] = struct.pack(">I", movie_total)
    except KeyError:
        pass
    return build_boxes(boxes)


def set_rotation(data: bytes, degrees: int) -> bytes:
    """Set the track's display matrix as a phone does: play the stored picture turned clockwise."""
    boxes = parse_boxes(data)
    tkhd = find_box(boxes, b"moov", b"trak", b"tkhd")
    offset = 40 if tkhd[0] == 0 else 52
    c, s = round(math.cos(math.radians(degrees))), round(math.sin(math.radians(degrees)))
    tkhd[offset:offset + 36] = struct.pack(">9i", c << 16, s << 16, 0, -s << 16, c << 16, 0, 0, 0, 1 << 30)
    return build_boxes(boxes)


class FakeEstimator:
    """Stands in for MediaPipePoseEstimator: one person doing the scripted drill, by time.

    It also keeps weak references to the images it was given, to count how many are alive.
    """

    instances: list[FakeEstimator] = []

    def __init__(self, model_path=None, num_poses: int = 1, **_: object) -> None:
        self.images: list[weakref.ref] = []
        self.max_alive = 0
        self.calls = 0
        FakeEstimator.instances.append(self)

    def detect(self, image: np.ndarray, t: float):
        self.calls += 1
        self.images.append(weakref.ref(image))
        self.max_alive = max(self.max_alive, sum(r() is not None for r in self.images[-50:]))
        height, width = image.shape[:2]
        return [standing_pose(width, height, t, drill_trunk_deg(t, (("right", 40.0, 1.5), ("left", 40.0, 1.5))))]

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


@pytest.fixture
def fake_mediapipe(monkeypatch, tmp_path):
    """analyze (library and CLI) without MediaPipe or a model file."""
    import posecoach.models as models
    import posecoach.pose.mediapipe_backend as backend
    FakeEstimator.instances.clear()
    monkeypatch.setattr(backend, "MediaPipePoseEstimator", FakeEstimator)
    monkeypatch.setattr(models, "ensure_model", lambda name=None, progress=None: tmp_path / "fake.task")
    return FakeEstimator


PROTOCOL = Protocol(name="short", hold_s=1.0, holds_per_side=2)
# Pictures alive at once while a video is analysed: the one being detected, those detected
# ahead and waiting (CoachingSession.run), one waiting for room, and the one being measured.
FRAMES_ALIVE = 3 + RECORDED_DETECT_AHEAD


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("posecoach: "), err
    return err[0]


# --------------------------------------------------------------------------- cut short, empty
def test_mp4_cut_before_its_index_is_named(tmp_path, capsys):
    """A recording interrupted before the end has no index: say it was cut short."""
    whole = write_video(tmp_path / "whole.mp4", plain_frames(60)).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    assert cli.main(["analyze", str(cut), "--json", str(tmp_path / "o.json"), "--no-save"]) == 2
    line = one_line_error(capsys)
    assert "cut short" in line and "cannot open" in line
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize("kind", ["faststart.mp4", "mjpeg.avi"])
def test_truncated_video_is_analysed_up_to_the_cut_and_says_so(tmp_path, capsys, fake_mediapipe, kind):
    """A file cut in half whose index survives: analyse what decodes, warn it ended early."""
    name, suffix = kind.split(".")
    source = write_video(tmp_path / f"whole.{suffix}", plain_frames(120), fourcc="MJPG" if suffix == "avi" else "mp4v")
    data = source.read_bytes()
    if name == "faststart":
        data = faststart(data)
    cut = tmp_path / f"cut.{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.json"
    status = cli.main(["analyze", str(cut), "--json", str(out), "--db", str(tmp_path / "s.db"), "--quiet"])
    assert status == 0
    err = capsys.readouterr().err
    assert "warning: the video ends early" in err and "of its 120 frames" in err
    doc = json.loads(out.read_text())
    assert 20 < doc["source"]["frames"] == len(doc["frames"]) < 100
    assert doc["source"]["frames_expected"] == 120
    assert any("ends early" in w for w in doc["warnings"])


def test_zero_frame_videos_are_one_clear_line(tmp_path, capsys):
    empty_mp4 = tmp_path / "empty.mp4"
    cv2.VideoWriter(str(empty_mp4), cv2.VideoWriter_fourcc(*"mp4v"), 30, (160, 120)).release()
    empty_avi = tmp_path / "empty.avi"
    cv2.VideoWriter(str(empty_avi), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120)).release()
    assert cli.main(["analyze", str(empty_mp4), "--no-save"]) == 2
    assert "no video frames" in one_line_error(capsys)
    assert cli.main(["analyze", str(empty_avi), "--no-save"]) == 2
    assert "no readable video frames" in one_line_error(capsys)


def test_unreadable_file_says_permission(tmp_path, capsys, monkeypatch):
    video = write_video(tmp_path / "v.mp4", plain_frames(5))
    import posecoach.capture.video_file as vf

    class Closed:
        def __init__(self, *a):
            pass

        def isOpened(self):  # noqa: N802 - OpenCV's name
            return False

        def release(self):
            pass

    monkeypatch.setattr(vf.cv2, "VideoCapture", Closed)
    real_open = open

    def no_read(path, *args, **kwargs):
        if str(path) == str(video):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_read)
    with pytest.raises(SourceError, match="permission denied"):
        VideoFileSource(video)


# --------------------------------------------------------------------------- frame timing
def test_variable_frame_rate_uses_presentation_times(tmp_path, fake_mediapipe):
    """30 frames at 30 fps then 30 at 10 fps: times follow the file, not index / mean fps."""
    path = write_video(tmp_path / "cfr.mp4", plain_frames(60))
    scale = struct.unpack(">I", find_box(parse_boxes(path.read_bytes()), b"moov", b"trak", b"mdia", b"mdhd")[12:16])[0]
    vfr = tmp_path / "vfr.mp4"
    vfr.write_bytes(set_frame_durations(path.read_bytes(), [(30, scale // 30), (30, scale // 10)]))
    expected = [i / 30 for i in range(30)] + [1.0 + i / 10 for i in range(30)]
    with VideoFileSource(vfr) as source:
        times = [f.t for f in source.frames()]
    assert times == pytest.approx(expected, abs=2e-3)
    # A constant-rate file keeps the exact index / fps convention.
    with VideoFileSource(path) as source:
        assert [f.t for f in source.frames()] == [i / source.info.fps for i in range(60)]
    doc = analyze_video(vfr, PROTOCOL, tmp_path / "fake.task", progress=False).document
    assert [f["t"] for f in doc["frames"]] == pytest.approx(expected, abs=2e-3)


def test_broken_presentation_times_never_go_backwards(tmp_path, monkeypatch):
    path = write_video(tmp_path / "v.mp4", plain_frames(10))
    source = VideoFileSource(path)
    bogus = iter([0.0, 40.0, 20.0, float("nan"), -5.0, 1e12, 80.0, 80.0, 100.0, 120.0])
    monkeypatch.setattr(source, "_pts", lambda: next(bogus) / 1000.0)
    times = [f.t for f in source.frames()]
    source.close()
    assert len(times) == 10 and all(b > a for a, b in zip(times, times[1:]))
    assert max(times) < 1.0  # a pts far in the future is not believed


# --------------------------------------------------------------------------- rotated phone video
@pytest.mark.parametrize("degrees", [90, 270])
def test_rotated_phone_video_comes_out_upright(tmp_path, degrees):
    upright = next(plain_frames(1, size=(96, 160)))          # portrait: 96 wide, 160 high
    turn = cv2.ROTATE_90_COUNTERCLOCKWISE if degrees == 90 else cv2.ROTATE_90_CLOCKWISE
    stored = cv2.rotate(upright, turn)                        # what the sensor stored (landscape)
    path = write_video(tmp_path / "stored.mp4", [stored] * 5)
    phone = tmp_path / "phone.mp4"
    phone.write_bytes(set_rotation(path.read_bytes(), degrees))
    with VideoFileSource(phone) as source:
        assert (source.info.width, source.info.height) == (96, 160)
        first = next(iter(source.frames())).image
    assert first.shape == upright.shape
    assert np.abs(first.astype(int) - upright).mean() < 4.0
    assert first[:20, :20, 0].mean() > 150 and first[-20:, -20:, 0].mean() < 120  # red block stays top-left


def test_ffmpeg_rotate_tag_is_applied(tmp_path):
    """The same with a rotation written by ffmpeg (skipped when ffmpeg is not installed)."""
    import shutil
    import subprocess
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (the box-editing test above covers rotation)")
    stored = write_video(tmp_path / "stored.mp4", plain_frames(5, size=(160, 96)))
    tagged = tmp_path / "tagged.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(stored), "-c", "copy",
                    "-metadata:s:v:0", "rotate=90", str(tagged)], check=True, timeout=60)
    with VideoFileSource(tagged) as source:
        assert (source.info.width, source.info.height) == (96, 160)
        assert next(iter(source.frames())).image.shape == (160, 96, 3)


# --------------------------------------------------------------------------- 4K, long, memory
def test_4k_video_is_streamed_a_bounded_few_frames_at_a_time(tmp_path, fake_mediapipe):
    path = write_video(tmp_path / "uhd.mp4", plain_frames(6, size=(3840, 2160)))
    doc = analyze_video(path, PROTOCOL, tmp_path / "fake.task", progress=False).document
    assert (doc["source"]["width"], doc["source"]["height"]) == (3840, 2160)
    assert len(doc["frames"]) == 6
    assert fake_mediapipe.instances[0].max_alive <= FRAMES_ALIVE


def test_long_video_runs_in_constant_memory(tmp_path, fake_mediapipe):
    """2000 frames: images are never kept; memory grows only by the small per-frame record."""
    import tracemalloc
    path = write_video(tmp_path / "long.mp4", plain_frames(2000, size=(96, 64)))
    tracemalloc.start()
    try:
        doc = analyze_video(path, PROTOCOL, tmp_path / "fake.task", progress=False).document
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(doc["frames"]) == 2000
    assert fake_mediapipe.instances[0].max_alive <= FRAMES_ALIVE
    frame_bytes = 96 * 64 * 3
    assert peak < 2000 * 1000 + 50 * frame_bytes, f"peak {peak / 1e6:.1f} MB"  # < 1 kB a frame


def test_4k_frames_are_shrunk_for_inference_without_moving_the_landmarks(model_path):
    """Downscaling 4K to 1920 before MediaPipe changes key landmarks by < 1% of the picture."""
    from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
    capture = cv2.VideoCapture(str(shared_path("synth", "c10_widescreen_offcentre.mp4")))
    frames = []
    for i in range(200):
        ok, bgr = capture.read()
        if not ok:
            break
        if i % 25 == 0:
            frames.append(cv2.cvtColor(cv2.resize(bgr, (3840, 2160), interpolation=cv2.INTER_CUBIC),
                                       cv2.COLOR_BGR2RGB))
    capture.release()
    results = {}
    for max_side in (None, 1920):
        with MediaPipePoseEstimator(model_path, max_side=max_side) as detector:
            results[max_side] = [detector.detect(f, i / 3) for i, f in enumerate(frames)]
    key = [0, 11, 12, 15, 16, 23, 24, 25, 26]
    diffs = []
    for full, small in zip(results[None], results[1920]):
        assert len(full) == len(small) == 1
        assert (small[0].width, small[0].height) == (3840, 2160)   # original size kept
        diffs.append(np.abs(full[0].image[key, :2] - small[0].image[key, :2]).max())
    assert max(diffs) < 0.01, diffs


# --------------------------------------------------------------------------- names and outputs
def test_unicode_paths_everywhere(tmp_path, fake_mediapipe, capsys):
    folder = tmp_path / "vidéos 日本 🏃"
    folder.mkdir()
    video = write_video(folder / "séance ü.mp4", plain_frames(90))
    out, csv, db = folder / "résultat 結果.json", folder / "images 図.csv", folder / "données.db"
    assert cli.main(["analyze", str(video), "--json", str(out), "--csv", str(csv), "--db", str(db)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["source"]["path"] == str(video) and len(doc["frames"]) == 90
    assert csv.read_text(encoding="utf-8").startswith("i,t,tracked")
    capsys.readouterr()
    assert cli.main(["history", "--db", str(db)]) == 0
    assert "séance ü.mp4" in capsys.readouterr().out
    report = folder / "rapport ü.html"
    assert cli.main(["report", "latest", "--db", str(db), "--html", str(report)]) == 0
    assert report.is_file()


def test_history_survives_a_console_that_cannot_print_the_name(tmp_path, fake_mediapipe):
    """On an ASCII console (e.g. a redirected Windows one), names are escaped, not a crash."""
    import os
    import subprocess
    import sys
    video = write_video(tmp_path / "日本.mp4", plain_frames(30))
    db = tmp_path / "s.db"
    assert cli.main(["analyze", str(video), "--db", str(db), "--quiet"]) == 0
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "posecoach", "history", "--db", str(db)],
                            capture_output=True, text=True, encoding="ascii", errors="replace", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "\\u65e5" in result.stdout  # 日 escaped


def test_outputs_that_cannot_be_written_fail_before_the_analysis(tmp_path, fake_mediapipe, capsys):
    video = write_video(tmp_path / "v.mp4", plain_frames(10))
    for target, expected in ((tmp_path / "missing" / "o.json", "does not exist"), (tmp_path, "is a folder")):
        assert cli.main(["analyze", str(video), "--json", str(target), "--no-save"]) == 2
        assert expected in one_line_error(capsys)
    assert fake_mediapipe.instances == []  # refused before any frame was analysed


def test_disk_full_while_writing_the_json(tmp_path, fake_mediapipe, capsys, monkeypatch):
    """The JSON cannot be written: say so, leave the old file alone, still store the session."""
    import errno

    import posecoach.session.analysis_doc as analysis_doc
    video = write_video(tmp_path / "v.mp4", plain_frames(30))
    out = tmp_path / "o.json"
    out.write_text('{"old": true}')

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(analysis_doc.json, "dump", full)
    db = tmp_path / "s.db"
    assert cli.main(["analyze", str(video), "--json", str(out), "--db", str(db), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "No space left" in err
    assert json.loads(out.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.json")] == []
    from posecoach.session.store import SessionStore
    with SessionStore(db, create=False) as store:
        assert len(store.list_sessions()) == 1


@pytest.mark.gui
def test_window_replay_of_a_truncated_file_warns(qtbot, tmp_path):
    from posecoach.session.live import LiveConfig
    from posecoach.session.sources import SourceRequest
    from posecoach.testing import ScriptedDetector
    from posecoach.ui.worker import PipelineWorker
    data = faststart(write_video(tmp_path / "whole.mp4", plain_frames(90)).read_bytes())
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    worker = PipelineWorker(LiveConfig(request=SourceRequest(path=cut), protocol=PROTOCOL,
                                         detector_factory=lambda progress: ScriptedDetector(), realtime=False))
    warnings = []
    worker.warning.connect(warnings.append)
    try:
        with qtbot.waitSignal(worker.ended, timeout=20_000):
            worker.start()
    finally:
        worker.stop()
        assert worker.wait(10_000)
    assert any("ends early" in w for w in warnings)
