"""Side panels of the coach window: the no-source panel and the session summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QGridLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from posecoach.analysis.summary import Summary, summarize_reps
from posecoach.report.format import fmt
from posecoach.session.messages import FAULT_LABELS


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
        self.hint = QLabel("Connect a camera and choose it in the Camera menu, or replay a recorded video.")
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
        grid = QGridLayout()
        self._cells: dict[tuple[str, str], QLabel] = {}
        for column, side in enumerate(("right", "left"), start=1):
            head = QLabel(side.capitalize())
            head.setStyleSheet("font-weight: bold; font-size: 12pt;")
            head.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(head, 0, column)
        for row, (key, label) in enumerate(_ROWS, start=1):
            grid.addWidget(QLabel(label), row, 0)
            for column, side in enumerate(("right", "left"), start=1):
                cell = QLabel("–")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight)
                cell.setStyleSheet("font-size: 12pt;")
                grid.addWidget(cell, row, column)
                self._cells[(key, side)] = cell
        self.asymmetry = QLabel()
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
        layout.addWidget(QLabel("Reps"))
        layout.addWidget(self.table, 1)
        self.set_reps([])

    def cell(self, key: str, side: str) -> str:
        """The text of one summary cell (``holds``, ``reps``, ``max``...; ``right``/``left``)."""
        return self._cells[(key, side)].text()

    def set_reps(self, reps: Sequence[dict[str, Any]], holds_per_side: int | None = None,
                 finished: bool = False) -> None:
        if holds_per_side is not None:
            self.holds_per_side = holds_per_side
        self.reps = list(reps)
        self.summary = summarize_reps(self.reps)
        self.heading.setText("Session complete" if finished else "Session so far")
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
        asym = self.summary.asymmetry_pct
        weaker = self.summary.weaker_side
        self.asymmetry.setText(
            "Asymmetry: –" if asym is None else
            f"Asymmetry: {asym:.0f}%" + (f" (less range to the {weaker})" if weaker and asym >= 1 else ""))
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
