"""The video widget: the newest frame, scaled to fit, with the coaching overlay on top."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget

from posecoach.ui.overlay import OverlayModel, draw_frame, draw_overlay, frame_to_qimage


class VideoView(QWidget):
    """Shows one frame at a time; ``set_frame`` replaces it (nothing is queued)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoView")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self.model = OverlayModel(step=None)
        self.placeholder = "Opening the camera…"
        self.frames_shown = 0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(960, 720)

    def set_frame(self, rgb: np.ndarray, model: OverlayModel) -> None:
        """Show ``rgb`` (H x W x 3 uint8) with ``model``'s overlay."""
        if rgb is not self._array:
            self._array = rgb  # the QImage reads this array's memory
            self._image = frame_to_qimage(rgb)
            self.frames_shown += 1
        self.model = model
        self.update()

    def set_model(self, model: OverlayModel) -> None:
        """Change the overlay of the frame shown (mirror toggled, toast expired...)."""
        self.model = model
        self.update()

    def clear(self, placeholder: str) -> None:
        self._array = None
        self._image = None
        self.model = OverlayModel(step=None)
        self.placeholder = placeholder
        self.update()

    @property
    def has_frame(self) -> bool:
        return self._image is not None

    def image_rect(self) -> QRectF:
        """Where the picture goes: as large as fits, centred, aspect kept."""
        if self._image is None:
            return QRectF(self.rect())
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QColor(16, 18, 22))
            if self._image is None:
                font = QFont()
                font.setPixelSize(max(14, self.height() // 24))
                painter.setFont(font)
                painter.setPen(QColor(200, 204, 210))
                painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                                 self.placeholder)
                return
            rect = self.image_rect()
            draw_frame(painter, rect, self._image, self.model.mirrored)
            draw_overlay(painter, rect, self.model)
        finally:
            painter.end()
