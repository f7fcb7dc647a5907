"""Render the newest step with its overlay off the GUI thread.

Drawing a frame and its overlay at window size takes 5-15 ms, more on a loaded machine;
done on the GUI thread it adds up with everything else the event loop has to do. A
small thread renders the newest published step into a QImage at the view's size (Qt
supports QPainter on a QImage outside the GUI thread), keeping only the newest result;
the GUI then only copies a finished image to the screen.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from PyQt6.QtGui import QImage

from posecoach.session.sources import lower_thread_priority
from posecoach.session.updates import LatestSlot, Published
from posecoach.ui.overlay import OverlayModel, render_overlay

logger = logging.getLogger(__name__)

_POLL_S = 0.008


@dataclass(frozen=True)
class ViewOptions:
    """What the window adds to a step: mirroring, a toast, the paused badge."""

    mirrored: bool = False
    toast: str | None = None
    paused: bool = False
    notice: str | None = None


@dataclass(frozen=True)
class Rendered:
    image: QImage
    published: Published
    render_ms: float


def fit_size(frame_w: int, frame_h: int, view_w: int, view_h: int) -> tuple[int, int]:
    """The largest size with the frame's aspect ratio that fits the view."""
    if frame_w <= 0 or frame_h <= 0 or view_w <= 0 or view_h <= 0:
        return max(1, frame_w), max(1, frame_h)
    scale = min(view_w / frame_w, view_h / frame_h)
    return max(1, int(frame_w * scale)), max(1, int(frame_h * scale))


def render_published(item: Published, view: ViewOptions, view_size: tuple[int, int]) -> QImage:
    """Draw one published step at the size that fits ``view_size``."""
    frame = item.step.frame.image
    size = fit_size(frame.shape[1], frame.shape[0], *view_size)
    model = OverlayModel(step=item.step, mirrored=view.mirrored, guide=item.guide, toast=view.toast,
                         paused=view.paused, notice=view.notice, cues=item.cues, next_hold=item.next_hold)
    return render_overlay(frame, model, size)


class OverlayRenderer:
    """A thread that renders the newest item of a :class:`LatestSlot` into ``output``."""

    def __init__(self) -> None:
        self.output = LatestSlot()
        self._cond = threading.Condition()
        self._source: LatestSlot | None = None
        self._view = ViewOptions()
        self._size = (640, 480)
        self._version = 0
        self._stopping = False
        self._woken = False
        self.rendered = 0
        self._thread = threading.Thread(target=self._run, name="posecoach-render", daemon=True)
        self._thread.start()

    def set_source(self, slot: LatestSlot | None) -> None:
        with self._cond:
            if self._source is not None and self._source.on_put == self._wake:
                self._source.on_put = None
            if slot is not None:
                slot.on_put = self._wake  # render a new step at once, not at the next poll
            self._source = slot
            self._version += 1
            self._cond.notify_all()
        self.output.clear()

    def set_view(self, view: ViewOptions) -> None:
        with self._cond:
            if view != self._view:
                self._view = view
                self._version += 1
                self._cond.notify_all()

    def set_size(self, width: int, height: int) -> None:
        with self._cond:
            if (width, height) != self._size and width > 0 and height > 0:
                self._size = (width, height)
                self._version += 1
                self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=5.0)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        lower_thread_priority()  # the event loop comes first; a late overlay only skips a frame
        seen = (-1, -1, None)
        while True:
            with self._cond:
                if self._stopping:
                    return
                if not self._woken:
                    self._cond.wait(timeout=_POLL_S)
                self._woken = False
                if self._stopping:
                    return
                source, view, size, version = self._source, self._view, self._size, self._version
            if source is None:
                continue
            seq, item = source.get()
            if item is None or (seq, version, source) == seen:
                continue
            seen = (seq, version, source)
            started = time.perf_counter()
            try:
                image = render_published(item, view, size)
            except Exception:  # noqa: BLE001 - a drawing bug must not kill the view
                logger.exception("drawing the overlay failed")
                continue
            with self._cond:
                if self._source is not source:  # switched sources meanwhile: drop the stale picture
                    continue
            self.rendered += 1
            self.output.put(Rendered(image, item, (time.perf_counter() - started) * 1000))
