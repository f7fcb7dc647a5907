"""What comes after the hold just completed: the side, which hold of it, a rest, or the end.

Pure: it reads the coach's state and the protocol. It follows the coach's side order
(``Coach.expected_side``): a full side gives way to the other; otherwise right-then-left
and left-then-right keep their side, and ``alternate`` turns to the other side.
"""

from __future__ import annotations

from dataclasses import dataclass

from posecoach.analysis.coach_state import CoachState
from posecoach.analysis.protocol import Protocol
from posecoach.analysis.vocabulary import Phase, Side


@dataclass(frozen=True)
class NextHold:
    """The next hold: ``side`` and its ``number`` of ``of``, in set ``set_index``.

    ``rest``: the set is complete, a rest comes first; ``done``: that was the last hold.
    """

    side: Side | None
    number: int
    of: int
    set_index: int
    rest: bool = False
    done: bool = False


def _first_side(protocol: Protocol) -> Side:
    if protocol.side_order == "left-then-right":
        return Side.LEFT
    if protocol.side_order == "right-then-left":
        return Side.RIGHT
    return Side(protocol.first_side)


def next_hold(state: CoachState, protocol: Protocol) -> NextHold | None:
    """The hold after the one just completed; None unless a completed hold is being finished."""
    if state.side is None or state.phase not in (Phase.HOLDING, Phase.RETURNING):
        return None
    if state.hold_progress_s < state.hold_target_s - 1e-6:
        return None
    need = protocol.holds_per_side
    counts = state.holds_done
    right_full, left_full = counts[Side.RIGHT] >= need, counts[Side.LEFT] >= need
    if right_full and left_full:
        if state.set_index >= protocol.sets:
            return NextHold(None, 0, need, state.set_index, done=True)
        return NextHold(_first_side(protocol), 1, need, state.set_index + 1, rest=True)
    if right_full != left_full:
        side = Side.LEFT if right_full else Side.RIGHT
    elif protocol.side_order == "right-then-left":
        side = Side.RIGHT
    elif protocol.side_order == "left-then-right":
        side = Side.LEFT
    else:
        side = Side.LEFT if state.side == Side.RIGHT else Side.RIGHT
    return NextHold(side, counts[side] + 1, need, state.set_index)
