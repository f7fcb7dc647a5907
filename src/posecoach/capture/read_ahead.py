"""Read ahead: an iterator run on its own thread, a few items in front of its reader.

For a recorded video, decoding (0.8-0.9 ms a 640x480 frame, more in HD; video_file.py) and
the pose model (coaching.py) each run ahead like this: OpenCV and MediaPipe release the GIL,
and MediaPipe's inference keeps one core busy, so on the second core the next frames are
decoded and the frame before is measured meanwhile. Items, their order and the iterator's own
end-of-stream bookkeeping are unchanged; an exception raised by the iterator reaches the
reader at the item where it happened.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"
_POLL_S = 0.05  # how often a producer waiting on a full queue checks for a close


class ReadAhead(Generic[T]):
    """Iterate ``items`` on a daemon thread, at most ``depth`` items ahead of the reader.

    ``close()`` stops the thread (within one item) and waits until it is done with ``items``:
    call it before freeing what ``items`` reads from (a capture device, a decoder).
    """

    def __init__(self, items: Iterator[T], depth: int = 2, name: str = "posecoach-read-ahead") -> None:
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._finished = threading.Event()  # set by the thread as it ends
        self._done = False
        self._thread = threading.Thread(target=self._produce, args=(items,), name=name, daemon=True)
        self._thread.start()

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put((_ITEM, item)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, raised there
            self._put((_ERROR, exc))
        finally:
            try:
                close = getattr(items, "close", None)
                if close is not None:
                    close()
            finally:
                self._finished.set()

    def _put(self, entry: tuple[str, object]) -> bool:
        """Queue ``entry``; False when the reader closed meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> ReadAhead[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == _ITEM:
            return value  # type: ignore[return-value]
        self._done = True
        self._finished.wait()
        if kind == _ERROR:
            assert isinstance(value, BaseException)
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop reading ahead and wait for the thread; items not yet read are dropped."""
        self._done = True
        self._stop.set()
        while True:  # empty the queue so that a producer blocked on it sees the stop
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        # Not Thread.join(): called from a thread Python did not start (a QThread), join would
        # register it as a dummy thread that never goes away.
        self._finished.wait()
