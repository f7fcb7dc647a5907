"""The range test's result screen: per side best, mean, spread, pelvis and pass; the trials.

A view of a :class:`~posecoach.analysis.range_test.RangeTestResult` (the window scores the
session's reps and hands the result over). It is a panel, not a modal dialog: the person
stands across the room and must not need the keyboard to get past it.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from posecoach.analysis.range_test import RangeTestResult, SideResult
from posecoach.session.messages import RANGE_TEST_TITLE, TRIAL_STATUS_TEXT, asymmetry_line, pass_text
from posecoach.ui.panels import side_grid

ROWS = (("best", "Best"), ("mean", "Mean"), ("spread", "Spread"), ("counted", "Trials counted"),
        ("pelvis", "Pelvis per trial"), ("result", "Result"))
PASS_STYLE = "color: #1e7b34; font-weight: bold; font-size: 13pt;"
FAIL_STYLE = "color: #b42318; font-weight: bold; font-size: 13pt;"


def _deg(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}°"


def side_cells(side: SideResult, pelvis_limit_deg: float | None) -> dict[str, str]:
    """The texts of one side's column."""
    limit = pelvis_limit_deg if pelvis_limit_deg is not None else float("inf")
    pelvis = "  ".join(
        ("–" if t.pelvis_deg is None else f"{t.pelvis_deg:.0f}°") + ("✗" if not t.counts and t.pelvis_deg is not None
                                                                    and t.pelvis_deg > limit else "")
        for t in side.trials)
    mean = "–" if side.mean_deg is None else (
        f"{side.mean_deg:.0f}°" + (f" ± {side.uncertainty_deg:.0f}" if side.uncertainty_deg is not None else ""))
    return {"best": _deg(side.best_deg), "mean": mean, "spread": _deg(side.spread_deg),
            "counted": f"{len(side.counted)} of {len(side.trials)}", "pelvis": pelvis or "–",
            "result": pass_text(side.passed)}


class RangeTestPanel(QWidget):
    """Shows one range test's result; :meth:`set_result` replaces it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rangeTestPanel")
        self.result: RangeTestResult | None = None
        self.heading = QLabel(RANGE_TEST_TITLE)
        self.heading.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        grid, self._cells = side_grid(ROWS)
        self.asymmetry = QLabel()
        self.asymmetry.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666666;")
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Side", "Trial", "End range", "Pelvis", "Status"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.verdict)
        layout.addLayout(grid)
        layout.addWidget(self.asymmetry)
        layout.addWidget(QLabel("Trials"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)

    def cell(self, key: str, side: str) -> str:
        """The text of one cell (``best``, ``mean``, ``spread``, ``counted``, ``pelvis``, ``result``)."""
        return self._cells[(key, side)].text()

    def set_result(self, result: RangeTestResult, finished: bool = True) -> None:
        self.result = result
        self.heading.setText(RANGE_TEST_TITLE + ("" if finished else " (so far)"))
        passed = result.passed
        self.verdict.setText(
            f"Both sides pass the {result.pass_mark_deg:g}° mark" if passed else
            f"Below the {result.pass_mark_deg:g}° mark: " + ", ".join(
                s.side for s in (result.right, result.left) if s.passed is False) if passed is False else
            f"Needs a valid trial to each side (pass mark {result.pass_mark_deg:g}°)")
        self.verdict.setStyleSheet(PASS_STYLE if passed else FAIL_STYLE if passed is False else "font-size: 13pt;")
        for side in (result.right, result.left):
            for key, text in side_cells(side, result.pelvis_limit_deg).items():
                cell = self._cells[(key, side.side)]
                cell.setText(text)
                if key == "result":
                    cell.setStyleSheet("font-size: 12pt; " + (PASS_STYLE if side.passed else FAIL_STYLE
                                                              if side.passed is False else ""))
        self.asymmetry.setText(asymmetry_line(result))
        trials = [t for s in (result.right, result.left) for t in s.trials]
        trials.sort(key=lambda t: (t.number, t.side != "right"))
        self.table.setRowCount(len(trials))
        for row, t in enumerate(trials):
            values = [t.side.capitalize(), str(t.number), _deg(t.value_deg), _deg(t.pelvis_deg),
                      TRIAL_STATUS_TEXT[t.status]]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if not t.counts:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)
        limit = f"{result.pelvis_limit_deg:g}°" if result.pelvis_limit_deg is not None else "its limit"
        self.note.setText(f"End range: mean separation over the pause. A trial with the pelvis turned beyond "
                          f"{limit} does not count. ± is how sure the mean is (about 90%). "
                          "The trend over tests is in 'posecoach history' and the report.")
