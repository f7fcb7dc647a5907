"""Measure how long the GUI thread is kept from its event loop (a heartbeat timer)."""

from __future__ import annotations

import time

from PyQt6.QtCore import QObject, Qt, QTimer


class GuiHeartbeat(QObject):
    """A fast timer on the GUI thread; the longest gap between its ticks is the worst block.

    ``max_block_ms`` is the longest gap minus the timer interval: how long the event loop
    was busy (painting, handling signals) before it could serve the timer again.
    """

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.reset()

    def reset(self) -> None:
        self._last: float | None = None
        self.max_gap_ms = 0.0
        self.ticks = 0
        self.gaps_over_50ms = 0
        self.started = time.perf_counter()
        self.long_gaps: list[tuple[float, float]] = []  # (seconds since start, block ms) over 20 ms

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def max_block_ms(self) -> float:
        return max(0.0, self.max_gap_ms - self.interval_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            gap = (now - self._last) * 1000.0
            self.max_gap_ms = max(self.max_gap_ms, gap)
            if gap - self.interval_ms > 50.0:
                self.gaps_over_50ms += 1
            if gap - self.interval_ms > 20.0 and len(self.long_gaps) < 1000:
                self.long_gaps.append((now - self.started, gap - self.interval_ms))
        self._last = now
        self.ticks += 1
