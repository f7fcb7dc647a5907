"""The video widget: shows the newest rendered frame (picture and overlay), centred."""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QResizeEvent
from PyQt6.QtWidgets import QSizePolicy, QWidget


class VideoView(QWidget):
    """Shows one finished image at a time; ``set_image`` replaces it (nothing is queued).

    The images come from :class:`~posecoach.ui.render.OverlayRenderer` already at the
    size that fits the widget, so painting is a copy. ``resized`` tells the renderer.
    """

    resized = pyqtSignal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoView")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._image: QImage | None = None
        self.placeholder = "Opening the camera…"
        self.frames_shown = 0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(960, 720)

    def set_image(self, image: QImage) -> None:
        self._image = image
        self.frames_shown += 1
        self.update()

    def clear(self, placeholder: str) -> None:
        self._image = None
        self.placeholder = placeholder
        self.update()

    @property
    def has_frame(self) -> bool:
        return self._image is not None

    @property
    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRectF:
        """Where the picture goes: as large as fits, centred, aspect kept."""
        if self._image is None or self._image.isNull():
            return QRectF(self.rect())
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.resized.emit(self.width(), self.height())

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
            if abs(rect.width() - self._image.width()) < 1.5 and abs(rect.height() - self._image.height()) < 1.5:
                painter.drawImage(QPointF(round(rect.left()), round(rect.top())), self._image)
            else:  # the window is being resized: scale until the renderer catches up
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                painter.drawImage(rect, self._image)
        finally:
            painter.end()
