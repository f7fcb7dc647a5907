"""What the coach records and shows: a rep's record, and the coach's state after a sample."""

from __future__ import annotations

from dataclasses import dataclass, field

from posecoach.analysis.vocabulary import Alert, Fault, Instruction, Pause, Phase, Side


@dataclass
class Rep:
    """One excursion from neutral to end range and back (DESIGN.md section 4)."""

    side: Side
    start_s: float
    set_index: int
    expected_side: Side
    hold_start_s: float | None = None
    hold_end_s: float | None = None
    end_s: float | None = None
    hold_s: float = 0.0             # seconds of correct holding
    end_range_s: float = 0.0        # seconds at end range, whatever the posture
    completed: bool = False
    peak_separation_deg: float = 0.0
    max_pelvis_deg: float = 0.0
    peak_speed_dps: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    _hold_sum: float = 0.0
    _hold_n: int = 0
    _err_sum: float = 0.0
    _err_n: int = 0

    @property
    def mean_hold_separation_deg(self) -> float | None:
        return self._hold_sum / self._hold_n if self._hold_n else None

    @property
    def mean_hold_err_deg(self) -> float | None:
        """The estimator's mean uncertainty (~90% half-width) of the separation over the hold."""
        return self._err_sum / self._err_n if self._err_n else None

    def add_hold_sample(self, separation: float, err: float | None) -> None:
        self._hold_sum += separation
        self._hold_n += 1
        if err is not None:
            self._err_sum += err
            self._err_n += 1

    def reset_hold_samples(self, samples: list[tuple[float, float | None]]) -> None:
        """Keep only these (separation, uncertainty) samples as the hold's."""
        self._hold_sum, self._hold_n, self._err_sum, self._err_n = 0.0, 0, 0.0, 0
        for separation, err in samples:
            self.add_hold_sample(separation, err)

    def add_fault(self, fault: Fault) -> bool:
        if fault in self.faults:
            return False
        self.faults.append(fault)
        return True

    def to_dict(self) -> dict:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 2)
        return {
            "side": self.side, "start_s": r(self.start_s), "hold_start_s": r(self.hold_start_s),
            "hold_end_s": r(self.hold_end_s), "end_s": r(self.end_s), "hold_s": r(self.hold_s),
            "end_range_s": r(self.end_range_s), "completed": self.completed,
            "peak_separation_deg": r(self.peak_separation_deg),
            "mean_hold_separation_deg": r(self.mean_hold_separation_deg),
            "max_pelvis_deg": r(self.max_pelvis_deg), "peak_speed_dps": r(self.peak_speed_dps),
            "faults": list(self.faults), "set": self.set_index, "expected_side": self.expected_side,
            # the estimator's uncertainty over the hold, when it gave one
            **({"mean_hold_err_deg": r(self.mean_hold_err_deg)} if self.mean_hold_err_deg is not None else {}),
        }


@dataclass(frozen=True)
class CoachState:
    """What the UI needs to show after each sample: codes and numbers, no words.

    ``instruction`` says what the coach asks for now; its parameters are the other fields
    (the side to turn to, the hold time left, the rest time left).
    """

    t: float
    phase: Phase
    side: Side | None             # side of the rep in progress
    expected_side: Side | None    # side the protocol asks for next
    hold_progress_s: float
    hold_target_s: float
    paused_reason: Pause | None   # while a hold is paused
    completed: dict[str, int]     # completed holds per side in the current set
    required_per_side: int
    set_index: int                # 1-based
    sets: int
    instruction: Instruction
    rest_remaining_s: float = 0.0
    warnings: tuple[Alert, ...] = ()

    @property
    def holds_done(self) -> dict[str, int]:
        """Holds done per side in the current set, the one just completed included: the rep
        is counted once back at centre, but a person whose ring says "done" has done it."""
        counts: dict[str, int] = {side: self.completed.get(side, 0) for side in (Side.RIGHT, Side.LEFT)}
        if (self.side is not None and self.phase in (Phase.HOLDING, Phase.RETURNING)
                and self.hold_progress_s >= self.hold_target_s - 1e-6):
            counts[self.side] += 1
        return counts
