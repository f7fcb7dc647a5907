"""One Euro filter (Casiez, Roussel and Vogel, CHI 2012) for irregularly sampled signals."""

from __future__ import annotations

import math
from dataclasses import dataclass


_MIN_DT = 1e-9  # seconds; closer samples count as the same instant


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuroFilter:
    """Adaptive low-pass: smooth when still, little lag when moving.

    ``min_cutoff`` (Hz) sets the smoothing of a still signal, ``beta`` how fast the
    cutoff rises with speed, ``d_cutoff`` (Hz) the smoothing of the speed estimate.
    ``speed`` holds the filtered derivative (units per second) after each update.
    """

    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0
    value: float | None = None
    speed: float = 0.0
    _t: float | None = None

    def reset(self) -> None:
        self.value = None
        self.speed = 0.0
        self._t = None

    def __call__(self, x: float, t: float) -> float:
        """Filter ``x`` observed at ``t`` seconds.

        A non-finite ``x`` or ``t`` teaches the filter nothing (the last value comes back),
        and time that does not advance (repeated or backward ``t``) changes nothing.
        """
        if not (math.isfinite(x) and math.isfinite(t)):
            return self.value if self.value is not None else x
        if self.value is None or self._t is None:
            self.value, self.speed, self._t = x, 0.0, t
            return x
        dt = t - self._t
        if not dt > _MIN_DT:
            return self.value
        raw_speed = (x - self.value) / dt
        speed = self.speed + _alpha(self.d_cutoff, dt) * (raw_speed - self.speed)
        cutoff = self.min_cutoff + self.beta * abs(speed)
        value = self.value + _alpha(cutoff, dt) * (x - self.value)
        if not (math.isfinite(value) and math.isfinite(speed)):  # overflow: start again from x
            value, speed = x, 0.0
        self.value, self.speed, self._t = value, speed, t
        return self.value
