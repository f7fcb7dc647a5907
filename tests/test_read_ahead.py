"""Decoding ahead on a second thread: same items, same order, errors where they happened,
and a close that stops the thread before what it reads from is freed."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from posecoach.capture.read_ahead import ReadAhead
from posecoach.capture.video_file import READ_AHEAD, VideoFileSource


def _ended(reader: ReadAhead) -> bool:
    reader._thread.join(timeout=1.0)
    return not reader._thread.is_alive()


def test_items_come_in_order_and_the_thread_ends():
    reader = ReadAhead(iter(range(100)), depth=3)
    assert list(reader) == list(range(100))
    assert _ended(reader)
    assert list(reader) == []  # exhausted stays exhausted


def test_an_error_reaches_the_reader_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("damaged frame")

    reader = ReadAhead(items())
    assert next(reader) == 1 and next(reader) == 2
    with pytest.raises(ValueError, match="damaged frame"):
        next(reader)
    assert _ended(reader)


def test_it_reads_at_most_depth_items_ahead():
    produced = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    reader = ReadAhead(items(), depth=2)
    assert next(reader) == 0
    time.sleep(0.3)
    # one handed over, two queued, one decoded and waiting for room
    assert len(produced) <= 1 + 2 + 1
    reader.close()


def test_close_stops_a_producer_waiting_for_room_and_closes_the_iterator():
    closed = threading.Event()

    def items():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    reader = ReadAhead(items(), depth=1)
    assert next(reader) == 0
    time.sleep(0.1)  # the producer is now blocked on the full queue
    started = time.perf_counter()
    reader.close()
    assert time.perf_counter() - started < 1.0
    assert _ended(reader) and closed.is_set()
    with pytest.raises(StopIteration):
        next(reader)


def test_a_video_closed_mid_stream_stops_decoding_first(tmp_path):
    import cv2
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    for i in range(40):
        writer.write(np.full((48, 64, 3), i * 5, np.uint8))
    writer.release()
    source = VideoFileSource(path)
    frames = source.frames()
    first = [next(frames) for _ in range(5)]
    assert [f.index for f in first] == [0, 1, 2, 3, 4]
    reader = source._reader
    assert reader is not None
    source.close()  # the generator is still open: close must stop its thread before releasing
    assert reader._finished.is_set() and _ended(reader)
    assert READ_AHEAD >= 1
    with VideoFileSource(path) as again:  # a fresh read gives every frame, times in order
        times = [f.t for f in again.frames()]
    assert len(times) == 40 and np.all(np.diff(times) > 0)


# --------------------------------------------------------------------------- the session detecting ahead
def _drill_steps(detect_ahead: int, end_at: int | None = None):
    from posecoach.analysis.protocol import load_protocol
    from posecoach.session.coaching import CoachingSession
    from posecoach.testing import SyntheticSource, drill_detector, drill_duration_s

    reps = (("right", 40.0, 3.0), ("left", 35.0, 3.0))
    source = SyntheticSource(frames=int(30 * drill_duration_s(reps)), size=(320, 240))
    detector = drill_detector(320, 240, reps)
    detect = detector.detect
    detector.threads = set()

    def detect_noting_the_thread(image, t):
        detector.threads.add(threading.get_ident())
        return detect(image, t)

    detector.detect = detect_noting_the_thread
    session = CoachingSession(detector, load_protocol("standing-rotation"))
    steps = []
    for step in session.run(source, detect_ahead):
        steps.append(step)
        if end_at is not None and len(steps) == end_at:
            session.end_session()
    return steps, session, detector


def test_detecting_ahead_gives_the_same_steps_and_reps():
    alone, session_alone, detector_alone = _drill_steps(0)
    ahead, session_ahead, detector_ahead = _drill_steps(2)
    assert detector_alone.threads == {threading.get_ident()}
    assert len(detector_ahead.threads) == 1 and threading.get_ident() not in detector_ahead.threads
    assert len(ahead) == len(alone) > 300
    assert [s.frame.t for s in ahead] == [s.frame.t for s in alone]
    assert [s.sample.separation_deg for s in ahead] == [s.sample.separation_deg for s in alone]
    assert [s.state.phase for s in ahead] == [s.state.phase for s in alone]
    assert [r.to_dict() for r in session_ahead.coach.reps] == [r.to_dict() for r in session_alone.coach.reps]
    assert len(session_ahead.coach.reps) == 2


def test_an_end_asked_for_stops_the_detector_within_its_lead():
    threads_before = set(threading.enumerate())
    steps, session, detector = _drill_steps(2, end_at=100)
    assert len(steps) == 100
    # the frames queued ahead, one waiting for room and one being detected when the end came
    assert detector.calls <= 100 + 2 + 2
    time.sleep(0.2)
    assert not [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
