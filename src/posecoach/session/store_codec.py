"""How the store's records become SQLite values and back: columns, JSON, extras.

A record's known keys are columns; whatever else it carries is kept as JSON in its
``extra_json`` column, so nothing a newer pipeline adds is lost. Codes (StrEnum members)
are strings, and are stored as such.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

FRAME_COLS = ("i", "t", "tracked", "trunk_deg", "pelvis_deg", "separation_deg", "confidence", "phase")
REP_COLS = ("side", "start_s", "hold_start_s", "hold_end_s", "hold_s", "completed",
            "peak_separation_deg", "mean_hold_separation_deg", "max_pelvis_deg", "faults", "mean_hold_err_deg")
DOC_KEYS = ("source", "protocol", "frames", "reps", "summary", "session", "events", "calibration")


def plain(value: Any) -> Any:
    """JSON fallback for numpy scalars and arrays handed in by the pipeline."""
    if hasattr(value, "tolist"):  # numpy scalars give a Python scalar, arrays a list
        return value.tolist()
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), default=plain)


def num(value: Any) -> float | None:
    return None if value is None else float(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def extras(record: Mapping[str, Any], known: Sequence[str]) -> str | None:
    extra = {k: v for k, v in record.items() if k not in known}
    return dumps(extra) if extra else None


def frame_from_row(row: tuple) -> dict[str, Any]:
    """A stored frame (its columns, then its extras) as the analysis document's record."""
    frame = dict(zip(FRAME_COLS, row[:-1], strict=True))
    frame["tracked"] = bool(frame["tracked"])
    frame.update(loads(row[-1]) or {})
    return frame


def rep_from_row(row: tuple) -> dict[str, Any]:
    """A stored rep (its columns, then its extras) as the analysis document's record."""
    rep = dict(zip(REP_COLS, row[:-1], strict=True))
    rep["completed"] = bool(rep["completed"])
    rep["faults"] = json.loads(rep["faults"])
    if rep["mean_hold_err_deg"] is None:   # not measured (older sessions): absent, as in the record written
        del rep["mean_hold_err_deg"]
    rep.update(loads(row[-1]) or {})
    return rep
