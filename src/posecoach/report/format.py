"""Formatting of summaries for tables and reports: dates, fault counts, numbers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from posecoach.session.messages import FAULT_LABELS


def local_time(iso: str) -> datetime | None:
    """Parse an ISO 8601 time as a naive local time (times with an offset are converted)."""
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def format_started(started_at: str | None) -> str:
    """Format an ISO 8601 time as local ``YYYY-MM-DD HH:MM``."""
    when = local_time(started_at) if started_at else None
    if when is None:
        return started_at or "-"
    return when.strftime("%Y-%m-%d %H:%M")


def format_faults(faults: Mapping[str, int]) -> str:
    """Format fault counts as ``2 pelvis, 1 fast`` (empty string if none)."""
    return ", ".join(f"{n} {FAULT_LABELS.get(k, k)}" for k, n in faults.items() if n)


def fmt(value: float | None, digits: int = 1, missing: str = "–") -> str:
    """Format a number for tables; None becomes ``missing`` (an en dash)."""
    return missing if value is None else f"{value:.{digits}f}"
