"""File > Export annotated video: the export on a worker thread, behind a progress dialog that can cancel it.

The export is the same generator as ``posecoach export``
(:func:`~posecoach.session.export.export_annotated`) with the window's overlay painter;
a :class:`~posecoach.ui.generator_worker.GeneratorWorker` runs it, so the window stays
responsive. Cancelling closes the generator at its next progress report, which removes
the partial file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from posecoach.analysis.protocol import Protocol
from posecoach.errors import PosecoachError
from posecoach.session.export import ExportProgress, ExportResult, export_annotated
from posecoach.session.pipeline import PoseDetector
from posecoach.session.sources import SourceRequest
from posecoach.session.view_model import SessionViewModel
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


def export_target(request: SourceRequest, last_recording: Path | None) -> Path:
    """What File > Export annotates: the file being replayed, else the camera's last finished recording."""
    if request.path is not None:
        return Path(request.path)
    if request.record is not None:
        raise PosecoachError(f"the camera is still recording to {request.record}; export it when the session is "
                             "over (posecoach export latest --out FILE.mp4)")
    if last_recording is not None:
        return last_recording
    raise PosecoachError("there is no video to export: open one (File > Open video…), or start posecoach with "
                         "--record FILE.mp4 to record the camera")


class VideoExport(QObject):
    """One export at a time: ``start`` it, the dialog shows its progress; ``done`` says how it ended.

    ``done`` carries the :class:`ExportResult`, or a one-line message (a failure, or the
    user cancelled); the window's ``model`` shows it too (status line, toast).
    """

    done = pyqtSignal(object)   # ExportResult | str

    def __init__(self, parent: QWidget, model: SessionViewModel) -> None:
        super().__init__(parent)
        self._parent = parent
        self._model = model
        self.worker: GeneratorWorker | None = None
        self.dialog: QProgressDialog | None = None
        self._result: ExportResult | str | None = None
        self._out: Path | None = None

    @property
    def running(self) -> bool:
        return self.worker is not None

    def ask(self, target: Callable[[], Path], export: Callable[[Path, Path], None]) -> None:
        """Ask where to save an annotated copy of ``target()``, then ``export(video, out)``;
        say why not when there is nothing to export."""
        try:
            video = target()
        except PosecoachError as exc:
            self._model.warn(str(exc))
            return
        path, _ = QFileDialog.getSaveFileName(self._parent, "Export annotated video", str(default_output(video)),
                                              "MP4 video (*.mp4);;AVI video (*.avi)")
        if path:
            export(video, Path(path))

    def start(self, video: Path, out: Path, protocol: Protocol, make_detector: Callable[[], PoseDetector],
              mirrored: bool = False) -> None:
        """Export ``video`` with the overlay to ``out`` on a worker thread, showing a progress dialog."""
        if self.worker is not None:
            self._model.warn("an export is already running")
            return
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
        if isinstance(result, str):
            self._model.warn(result)
        else:
            self._model.show_toast(f"Saved {result.path.name}", time.monotonic())
            self._model.set_status(f"Annotated video saved to {result.path} ({result.frames} frames)")
        self.done.emit(result)
