"""File > Export annotated video: the export on a worker thread, behind a progress dialog that can cancel it.

The export is the same generator as ``posecoach export``
(:func:`~posecoach.session.export.export_annotated`) with the window's overlay painter;
a :class:`~posecoach.ui.generator_worker.GeneratorWorker` runs it, so the window stays
responsive. Cancelling closes the generator at its next progress report, which removes
the partial file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QProgressDialog, QWidget

from posecoach.analysis.protocol import Protocol
from posecoach.errors import PosecoachError
from posecoach.session.export import ExportProgress, ExportResult, export_annotated
from posecoach.session.pipeline import PoseDetector
from posecoach.ui.annotate import draw_annotated
from posecoach.ui.generator_worker import GeneratorWorker

logger = logging.getLogger(__name__)

_STEPS = 1000  # the dialog's range: tenths of a percent


def progress_text(progress: ExportProgress) -> str:
    """``Frame 120 of 1395 · about 40 s left``."""
    text = f"Frame {progress.frames}" + (f" of {progress.total}" if progress.total else "")
    eta = progress.eta_s
    if eta is not None and progress.frames < (progress.total or 0):
        text += f" · about {eta:.0f} s left" if eta < 90 else f" · about {eta / 60:.0f} min left"
    return text


def default_output(video: Path) -> Path:
    """``drill.mp4`` -> ``drill_annotated.mp4`` beside it."""
    return video.with_name(f"{video.stem}_annotated.mp4")


class VideoExport(QObject):
    """One export at a time: ``start`` it, the dialog shows its progress; ``done`` says how it ended.

    ``done`` carries the :class:`ExportResult`, or a one-line message (a failure, or the
    user cancelled).
    """

    done = pyqtSignal(object)   # ExportResult | str

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self.worker: GeneratorWorker | None = None
        self.dialog: QProgressDialog | None = None
        self._result: ExportResult | str | None = None
        self._out: Path | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, video: Path, out: Path, protocol: Protocol, make_detector: Callable[[], PoseDetector],
              mirrored: bool = False) -> None:
        """Export ``video`` with the overlay to ``out`` on a worker thread, showing a progress dialog."""
        if self.worker is not None:
            raise PosecoachError("an export is already running")
        self._result, self._out = None, out
        dialog = self.dialog = QProgressDialog(f"Exporting {video.name} with the overlay…", "Cancel", 0, _STEPS,
                                               self._parent)
        dialog.setWindowTitle("Export annotated video")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.setValue(0)
        dialog.canceled.connect(self.cancel)
        worker = self.worker = GeneratorWorker(
            lambda: export_annotated(video, out, protocol, make_detector, draw_annotated, mirrored=mirrored), self)
        worker.yielded.connect(self._on_progress)
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.finished.connect(self._on_finished)
        worker.start()
        dialog.show()

    def cancel(self) -> None:
        """Stop the export; nothing is written (the worker ends at its next progress report)."""
        if self.worker is not None:
            if self._result is None:
                self._result = "Export cancelled: nothing was written"
            self.worker.stop()

    def stop(self, timeout_ms: int = 15000) -> None:
        """Cancel and wait for the worker (closing the window)."""
        worker = self.worker
        if worker is not None:
            self.cancel()
            worker.wait(timeout_ms)
            self._on_finished()

    def _on_progress(self, progress: ExportProgress) -> None:
        if self.dialog is None:
            return
        fraction = progress.fraction
        if fraction is None:
            self.dialog.setMaximum(0)  # a busy indicator: the file does not say how long it is
        else:
            self.dialog.setValue(min(_STEPS - 1, int(fraction * _STEPS)))
        self.dialog.setLabelText(progress_text(progress))

    def _on_returned(self, result: ExportResult) -> None:
        self._result = result

    def _on_errored(self, exc: Exception) -> None:
        self._result = f"Export failed: {exc}" if isinstance(exc, PosecoachError) else f"Export failed ({exc!r})"

    def _on_finished(self) -> None:
        worker, self.worker = self.worker, None
        if worker is None:
            return
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        worker.deleteLater()
        result = self._result if self._result is not None else "Export cancelled: nothing was written"
        self.done.emit(result)
