"""Exercise protocols: typed, frozen, loaded from TOML (shipped ones or a user's file)."""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from posecoach.analysis.vocabulary import Posture, SideOrder
from posecoach.errors import ProtocolError

SIDE_ORDERS = tuple(SideOrder)
POSTURES = tuple(Posture)
DRILL, RANGE_TEST = "drill", "range-test"
KINDS = (DRILL, RANGE_TEST)


@dataclass(frozen=True)
class Thresholds:
    """Angles in degrees, speeds in degrees per second."""

    neutral_deg: float = 8.0
    min_end_range_deg: float = 15.0
    settle_speed_dps: float = 12.0
    pelvis_limit_deg: float = 10.0
    # Once the pelvis went past the limit in a rep, the hold's timer resumes only when it reads
    # within this: a reading hovering just under the limit is not a correction (rendered
    # loose-shirt clips read a pelvis held at 15 deg at 7-9 deg for most of the hold).
    pelvis_resume_deg: float = 6.0
    # "Fast or jerky" must not punish range: a turn (or return) is too fast when, as a smooth
    # minimum-jerk movement, it would take less than ``min_turn_s`` to cover its amplitude (its
    # duration read from when it crossed a fifth and four fifths of its range: movement.py),
    # or when it passes ``too_fast_dps`` at all.
    min_turn_s: float = 0.8
    too_fast_dps: float = 180.0
    end_range_tolerance_deg: float = 8.0


@dataclass(frozen=True)
class Cues:
    """Texts shown and spoken; ``{side}``, ``{seconds}``, and in ``rotate`` the rep's number on
    its side ``{trial}`` of ``{trials}`` (the holds per side), are filled in."""

    rotate: str = "Exhale and turn slowly to your {side}"
    hold: str = "Hold it"
    hold_complete: str = "Good. Inhale and return to centre"
    pelvis: str = "Keep your hips facing forward: turn less"
    too_fast: str = "Slower: turn smoothly"
    rest: str = "Rest. Next set in {seconds} seconds"
    done: str = "Session complete. Well done"


@dataclass(frozen=True)
class RangeTest:
    """A range test's settings: the separation (degrees, per side) that passes."""

    pass_mark_deg: float = 45.0


@dataclass(frozen=True)
class Protocol:
    name: str
    title: str = ""
    description: str = ""
    hold_s: float = 7.0
    holds_per_side: int = 7
    sets: int = 1
    side_order: str = "alternate"
    first_side: str = "right"
    posture: str = "standing"     # Posture: what the estimator and the framing guide expect
    limits: str = ""              # what this drill's measurement cannot do from one camera (shown to the user)
    rest_s: float = 60.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    cues: Cues = field(default_factory=Cues)
    kind: str = DRILL                     # drill | range-test
    range_test: RangeTest | None = None   # set for (and only for) a range test

    @property
    def is_range_test(self) -> bool:
        return self.kind == RANGE_TEST

    def contract(self) -> dict:
        """The protocol part of the analysis document (a range test adds its kind, pass mark
        and pelvis limit: what its result is scored with)."""
        out = {"name": self.name, "hold_s": self.hold_s, "holds_per_side": self.holds_per_side,
               "sets": self.sets, "side_order": self.side_order, "posture": self.posture}
        if self.range_test is not None:
            out.update(kind=self.kind, pass_mark_deg=self.range_test.pass_mark_deg,
                       pelvis_limit_deg=self.thresholds.pelvis_limit_deg)
        return out

    def with_pass_mark(self, pass_mark_deg: float) -> Protocol:
        """This range test with another pass mark (ProtocolError when not a range test)."""
        if self.range_test is None:
            raise ProtocolError(f"{self.name} is not a range test: a pass mark needs a protocol "
                                f"with kind = \"{RANGE_TEST}\" (for example rotation-test)")
        _check_pass_mark(pass_mark_deg, self.name)
        return replace(self, range_test=replace(self.range_test, pass_mark_deg=float(pass_mark_deg)))


def _check_pass_mark(value: float, where: str) -> None:
    if not isinstance(value, int | float) or not 0.0 < value < 180.0:
        raise ProtocolError(f"{where}: pass_mark_deg must be a number of degrees between 0 and 180, not {value!r}")


def _build(cls, data: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ProtocolError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    return cls(**data)


def parse_protocol(text: str, where: str = "protocol") -> Protocol:
    """Parse and validate protocol TOML text; ProtocolError says what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{where}: not valid TOML ({exc})") from exc
    if "name" not in data:
        raise ProtocolError(f"{where}: a protocol needs a name")
    try:
        thresholds = _build(Thresholds, data.pop("thresholds", {}), where)
        cues = _build(Cues, data.pop("cues", {}), where)
        test_data = data.pop("range_test", None)
        kind = data.get("kind", DRILL)
        if kind not in KINDS:
            raise ProtocolError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if test_data is not None and kind != RANGE_TEST:
            raise ProtocolError(f"{where}: a [range_test] section needs kind = \"{RANGE_TEST}\"")
        range_test = _build(RangeTest, test_data or {}, where) if kind == RANGE_TEST else None
        protocol = _build(Protocol, {**data, "thresholds": thresholds, "cues": cues,
                                     "range_test": range_test}, where)
    except TypeError as exc:
        raise ProtocolError(f"{where}: {exc}") from exc
    if protocol.range_test is not None:
        _check_pass_mark(protocol.range_test.pass_mark_deg, where)
        if protocol.sets != 1:
            raise ProtocolError(f"{where}: a range test has one set of trials (sets = 1)")
    if protocol.side_order not in SIDE_ORDERS:
        raise ProtocolError(f"{where}: side_order must be one of {', '.join(SIDE_ORDERS)}")
    if protocol.posture not in POSTURES:
        raise ProtocolError(f"{where}: posture must be one of {', '.join(POSTURES)}")
    if protocol.first_side not in ("right", "left"):
        raise ProtocolError(f"{where}: first_side must be right or left")
    if protocol.hold_s <= 0 or protocol.holds_per_side < 1 or protocol.sets < 1:
        raise ProtocolError(f"{where}: hold_s, holds_per_side and sets must be positive")
    return protocol


def builtin_protocol_names() -> list[str]:
    folder = importlib.resources.files("posecoach") / "protocols"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A shipped protocol by name (``standing-rotation``...) or a user's TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.is_file():
            raise ProtocolError(f"no protocol file at {candidate}")
        return parse_protocol(candidate.read_text(encoding="utf-8"), str(candidate))
    resource = importlib.resources.files("posecoach") / "protocols" / f"{name_or_path}.toml"
    if not resource.is_file():
        raise ProtocolError(
            f"unknown protocol {name_or_path!r}; choose one of {', '.join(builtin_protocol_names())} "
            "or give a .toml file")
    return parse_protocol(resource.read_text(encoding="utf-8"), str(name_or_path))
