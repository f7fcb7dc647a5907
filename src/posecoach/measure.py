"""Process measurements for the benchmarks: resident memory, its growth, latency histograms."""

from __future__ import annotations

import os
import resource
import sys

import numpy as np


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (ru_maxrss), MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    """The process's resident memory now, MB (Linux: /proc; elsewhere the peak)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError, AttributeError):
        return peak_rss_mb()


def growth_per_1000(frames: np.ndarray, values_mb: np.ndarray) -> float | None:
    """Least-squares slope of memory against frames processed, MB per 1000 frames."""
    frames = np.asarray(frames, dtype=float)
    values_mb = np.asarray(values_mb, dtype=float)
    if len(frames) < 3 or np.ptp(frames) <= 0:
        return None
    slope = np.polyfit(frames, values_mb, 1)[0]
    return float(slope * 1000.0)


class Histogram:
    """Milliseconds in fixed bins (constant memory however long the run): count, quantiles."""

    def __init__(self, max_ms: float = 2000.0, bin_ms: float = 0.25) -> None:
        self.bin_ms = bin_ms
        self.counts = np.zeros(int(max_ms / bin_ms) + 1, dtype=np.int64)  # the last bin: beyond max_ms
        self.total = 0.0
        self.max = 0.0

    def add(self, ms: float) -> None:
        index = min(len(self.counts) - 1, max(0, int(ms / self.bin_ms)))
        self.counts[index] += 1
        self.total += ms
        self.max = max(self.max, ms)

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (bin centre), None when empty."""
        n = self.count
        if n == 0:
            return None
        index = int(np.searchsorted(np.cumsum(self.counts), q * n, side="left"))
        return round(min((index + 0.5) * self.bin_ms, self.max), 2)

    def summary(self) -> dict[str, float | int | None]:
        n = self.count
        return {"count": n, "median": self.quantile(0.5), "p95": self.quantile(0.95),
                "mean": round(self.total / n, 2) if n else None, "max": round(self.max, 2) if n else None}
