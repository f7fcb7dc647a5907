"""Panels of the coach window: the seek bar, the status line, the no-source panel and the session summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posecoach.analysis.summary import Summary, summarize_reps
from posecoach.report.format import fmt
from posecoach.session.messages import FAULT_LABELS, as_notes, drill_asymmetry_text


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class SeekBar(QWidget):
    """A file's position: a slider (``seek(index)`` when the user lets go or clicks) and the time."""

    seek = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.sliderReleased.connect(lambda: self.seek.emit(self.slider.value()))
        self.slider.actionTriggered.connect(self._on_action)
        self.time_label = QLabel("0:00 / 0:00")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 2, 8, 2)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)

    def _on_action(self, action: int) -> None:
        if action != QSlider.SliderAction.SliderMove.value:
            QTimer.singleShot(0, lambda: self.seek.emit(self.slider.value()))

    def set_frames(self, frames: int) -> None:
        self.slider.setRange(0, max(0, frames - 1))

    def show_position(self, index: int, t: float, frames: int, fps: float, seeking_to: int | None) -> None:
        """Frame ``index`` at ``t`` s of ``frames``; while seeking, where to (the slider stays while dragged)."""
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        if seeking_to is not None:
            self.time_label.setText(f"seeking {_clock(index / fps)} → {_clock(seeking_to / fps)}")
        else:
            self.time_label.setText(f"{_clock(t)} / {_clock(frames / fps)}")


class StatusLine(QStatusBar):
    """The status bar: a message, the processing rate, and where sessions are saved (or a problem)."""

    def __init__(self, db_path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status_label = QLabel()
        self.rate_label = QLabel()
        self.db_label = QLabel(f"saving sessions to {db_path.name}" if db_path else "sessions not saved")
        if db_path:
            self.db_label.setToolTip(str(db_path))
        # a long hint is cut, it never widens the window
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.voice_label = QLabel()
        self.addWidget(self.status_label, 1)
        self.addPermanentWidget(self.rate_label)
        self.addPermanentWidget(self.voice_label)
        self.addPermanentWidget(self.db_label)

    def set_voice(self, text: str, ok: bool) -> None:
        """The speech engine in use, or (in warning colour) what to install for one."""
        self.voice_label.setText(text if ok else "⚠ " + text)
        self.voice_label.setStyleSheet("" if ok else "color: #e65100;")

    def set_rate(self, fps: float, inference_ms: float) -> None:
        self.rate_label.setText(f"{fps:4.1f} fps · pose {inference_ms:3.0f} ms")

    def warn(self, message: str) -> None:
        self.db_label.setText("⚠ " + message)
        self.db_label.setStyleSheet("color: #e53935;")
        self.showMessage(message, 8000)


class NoSourcePanel(QWidget):
    """Shown instead of the video when the camera or file cannot be opened."""

    open_video = pyqtSignal()
    retry = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noSourcePanel")
        self.title = QLabel("No camera available")
        self.title.setStyleSheet("font-size: 22pt; font-weight: bold;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 13pt;")
        self.hint = QLabel("Connect a camera and choose it in File > Camera, or replay a recorded video.")
        self.hint.setWordWrap(True)
        self.open_button = QPushButton("Open video…")
        self.open_button.setDefault(True)
        self.retry_button = QPushButton("Try the camera again")
        self.open_button.clicked.connect(self.open_video)
        self.retry_button.clicked.connect(self.retry)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for label in (self.title, self.message, self.hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        layout.addStretch(2)

    def show_problem(self, title: str, message: str, camera: bool) -> None:
        self.title.setText(title)
        self.message.setText(message)
        self.hint.setVisible(camera)
        self.retry_button.setVisible(camera)


def side_grid(rows: Sequence[tuple[str, str]]) -> tuple[QGridLayout, dict[tuple[str, str], QLabel]]:
    """A right/left table of labels: a column per side, a row per (key, label); the cells by (key, side)."""
    grid = QGridLayout()
    cells: dict[tuple[str, str], QLabel] = {}
    for column, side in enumerate(("right", "left"), start=1):
        head = QLabel(side.capitalize())
        head.setStyleSheet("font-weight: bold; font-size: 12pt;")
        head.setAlignment(Qt.AlignmentFlag.AlignRight)
        grid.addWidget(head, 0, column)
    for row, (key, label) in enumerate(rows, start=1):
        grid.addWidget(QLabel(label), row, 0)
        for column, side in enumerate(("right", "left"), start=1):
            cell = QLabel("–")
            cell.setAlignment(Qt.AlignmentFlag.AlignRight)
            cell.setStyleSheet("font-size: 12pt;")
            grid.addWidget(cell, row, column)
            cells[(key, side)] = cell
    return grid, cells


_ROWS = (
    ("holds", "Holds completed"),
    ("reps", "Reps"),
    ("max", "Best separation"),
    ("mean", "Mean hold separation"),
    ("hold_time", "Time held"),
    ("faults", "Faults"),
)


class SummaryPanel(QWidget):
    """Per-side summary of the session so far, plus one row per rep."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryPanel")
        self.summary: Summary = summarize_reps(())
        self.reps: list[dict[str, Any]] = []
        self.holds_per_side = 7
        self.heading = QLabel("Session summary")
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        grid, self._cells = side_grid(_ROWS)
        self.asymmetry = QLabel()
        self.notes = QLabel()   # what limited the measurement, as the report says it
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #7a5200; background: #fff6e0; padding: 4px;")
        self.notes.hide()
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Side", "Peak", "Held", "Done", "Faults"])
        self.table.verticalHeader().setVisible(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(grid)
        layout.addWidget(self.asymmetry)
        layout.addWidget(self.notes)
        layout.addWidget(QLabel("Reps"))
        layout.addWidget(self.table, 1)
        self.set_reps([])

    def cell(self, key: str, side: str) -> str:
        """The text of one summary cell (``holds``, ``reps``, ``max``...; ``right``/``left``)."""
        return self._cells[(key, side)].text()

    def set_notes(self, notes: Sequence[str]) -> None:
        """The session's warnings (hands held high, a shirt over the hips...), once each."""
        unique = as_notes(notes)
        self.notes.setText("\n".join(f"⚠ {note}" for note in unique))
        self.notes.setVisible(bool(unique))

    def set_reps(self, reps: Sequence[dict[str, Any]], holds_per_side: int | None = None,
                 title: str = "Session so far") -> None:
        if holds_per_side is not None:
            self.holds_per_side = holds_per_side
        self.reps = list(reps)
        self.summary = summarize_reps(self.reps)
        self.heading.setText(title)
        for side in ("right", "left"):
            s = self.summary.side(side)
            values = {
                "holds": f"{s.holds_completed} / {self.holds_per_side}",
                "reps": str(s.reps),
                "max": f"{fmt(s.max_separation_deg, 0)}°" if s.max_separation_deg is not None else "–",
                "mean": f"{fmt(s.mean_hold_separation_deg, 0)}°" if s.mean_hold_separation_deg is not None else "–",
                "hold_time": f"{s.hold_s_total:.0f} s",
                "faults": ", ".join(f"{n} {FAULT_LABELS.get(k, k)}" for k, n in s.faults.items()) or "none",
            }
            for key, value in values.items():
                self._cells[(key, side)].setText(value)
        self.asymmetry.setText(drill_asymmetry_text(self.summary, short=True))
        self.table.setRowCount(len(self.reps))
        for row, rep in enumerate(self.reps):
            peak = rep.get("peak_separation_deg")
            values = [
                str(rep.get("side", "")).capitalize(),
                "–" if peak is None else f"{abs(peak):.0f}°",
                f"{float(rep.get('hold_s') or 0.0):.1f} s",
                "yes" if rep.get("completed") else "no",
                ", ".join(FAULT_LABELS.get(f, f) for f in rep.get("faults") or ()),
            ]
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
