"""The coaching overlay drawn over the video: pure QPainter drawing from plain data.

``draw_overlay(painter, rect, model)`` draws (what ``overlay_text.py`` says) into any painter (the video widget, a
QImage in tests and screenshots). Sizes scale with the target rectangle, so the text
stays legible at any window size. Mirroring flips the picture and the landmarks only:
every number shown is the measurement, never mirrored.

Layout (``u`` = 1 % of the picture height)::

    +-------------------+----------------------------------+-------------+
    | SEPARATION  42°   |             [PAUSED]             |  top-down   |
    | trunk/pelvis      |                                  |    dial     |
    | tracking ▮▮▮▮▯    |                                  |             |
    | RIGHT 1/7         |          (skeleton on the        |  hold ring  |
    | LEFT  1/7         |           person)                |    4 s      |
    |-------------------+----------------------------------+-------------|
    | pelvis / too-fast warning banners, then a toast                    |
    | NEXT INSTRUCTION, LARGE                                            |
    +--------------------------------------------------------------------+
"""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np
from PyQt6.QtCore import QLineF, QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from posecoach.analysis.vocabulary import GuideStage, Phase
from posecoach.pose import skeleton as sk
from posecoach.session.pipeline import PipelineStep
from posecoach.ui.overlay_text import (
    GESTURE,
    PELVIS,
    TOO_FAST,
    OverlayModel,
    OverlayText,
    Tone,
    certainty,
    hold_ring,
    overlay_text,
    signed_angle,
)

__all__ = ["PELVIS", "TOO_FAST", "OverlayModel", "OverlayText", "draw_overlay", "overlay_text", "render_overlay"]

SHOULDER_COLOR = QColor(0, 229, 255)
HIP_COLOR = QColor(255, 145, 0)
GOOD_COLOR = QColor(0, 200, 83)
WARN_COLOR = QColor(255, 179, 0)
BAD_COLOR = QColor(229, 57, 53)
PANEL_COLOR = QColor(10, 14, 20, 170)
TEXT_COLOR = QColor(255, 255, 255)
DIM_COLOR = QColor(190, 196, 204)
# Tracks drawn opaque in the grey that a translucent white shows over a panel: translucent
# antialiased strokes go through Qt's path stroker, several times slower.
DIAL_TRACK_COLOR = QColor(100, 104, 110)
RING_TRACK_COLOR = QColor(108, 110, 116)
_MIN_VISIBILITY = 0.3
_FACE = {sk.NOSE, sk.LEFT_EYE, sk.RIGHT_EYE, sk.LEFT_EAR, sk.RIGHT_EAR}
_BODY_EDGES = tuple(e for e in sk.EDGES if not (set(e) & _FACE))

_TONE = {Tone.CALIBRATING: SHOULDER_COLOR, Tone.GOOD: GOOD_COLOR, Tone.WARN: WARN_COLOR, Tone.DIM: DIM_COLOR}


# ---------------------------------------------------------------------- geometry
def dial_point(angle_deg: float, radius: float, mirrored: bool, end: str = "right") -> tuple[float, float]:
    """Screen offset (x right, y down) of one end of a body line in the top-down dial.

    The dial is seen from above with the camera at the bottom; the person faces the
    camera, so (unmirrored) their right end is on the screen's left. Turning to the
    right (positive angle) moves their right end away from the camera (up).
    """
    a = math.radians(angle_deg)
    x0 = -radius if end == "right" else radius
    x, y = x0 * math.cos(a), x0 * math.sin(a)
    return (-x if mirrored else x), y


def landmark_points(step: PipelineStep, rect: QRectF, mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    """(33, 2) landmark positions inside ``rect`` and their visibility."""
    image = step.pose.image
    x = 1.0 - image[:, 0] if mirrored else image[:, 0]
    pts = np.column_stack([rect.left() + x * rect.width(), rect.top() + image[:, 1] * rect.height()])
    return pts, image[:, 3]


# ---------------------------------------------------------------------- drawing
_LOCAL = threading.local()  # fonts are cached per thread (the overlay is drawn off the GUI thread too)


def _font(px: float, bold: bool = False) -> QFont:
    fonts = getattr(_LOCAL, "fonts", None)
    if fonts is None or len(fonts) > 256:
        fonts = _LOCAL.fonts = {}
    key = (max(6, int(round(px))), bold)
    font = fonts.get(key)
    if font is None:
        font = fonts[key] = QFont()
        font.setStyleHint(QFont.StyleHint.SansSerif)
        font.setPixelSize(key[0])
        font.setBold(bold)
    return font


def _panel(painter: QPainter, rect: QRectF, color: QColor = PANEL_COLOR, radius: float = 8.0) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(rect, radius, radius)


def _text(painter: QPainter, rect: QRectF, text: str, px: float, color: QColor = TEXT_COLOR,
          bold: bool = False, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
          ) -> None:
    painter.setFont(_font(px, bold))
    painter.setPen(color)
    painter.drawText(rect, int(align), text)


def _fit_px(text: str, px: float, width: float, bold: bool = True, lines: int = 1) -> float:
    """Shrink ``px`` until ``text`` fits ``lines`` lines of ``width`` pixels."""
    while px > 8:
        advance = QFontMetricsF(_font(px, bold)).horizontalAdvance(text)
        if advance <= width * lines * (0.92 if lines > 1 else 1.0):
            break
        px *= 0.92
    return px


def _outlined(painter: QPainter, centre: QPointF, text: str, px: float, color: QColor) -> None:
    font = _font(px, True)
    metrics = QFontMetricsF(font)
    path = QPainterPath()
    path.addText(centre.x() - metrics.horizontalAdvance(text) / 2, centre.y() + metrics.capHeight() / 2, font, text)
    painter.setPen(QPen(QColor(0, 0, 0, 220), max(2.0, px / 12), Qt.PenStyle.SolidLine,
                        Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    painter.setBrush(color)
    painter.drawPath(path)


def draw_skeleton(painter: QPainter, rect: QRectF, step: PipelineStep, mirrored: bool, u: float) -> None:
    """Bones in white, the shoulder line in cyan and the hip line in orange, outlined in black."""
    if step.pose is None:
        return
    pts, vis = landmark_points(step, rect, mirrored)
    ok = vis >= _MIN_VISIBILITY
    points = [QPointF(float(x), float(y)) for x, y in pts]
    highlighted = ((sk.LEFT_SHOULDER, sk.RIGHT_SHOULDER, SHOULDER_COLOR), (sk.LEFT_HIP, sk.RIGHT_HIP, HIP_COLOR))
    special = {(a, b) for a, b, _ in highlighted}
    bones = [QLineF(points[a], points[b]) for a, b in _BODY_EDGES if ok[a] and ok[b] and (a, b) not in special]
    # Opaque pens with flat caps (the joint dots round the ends off): Qt strokes antialiased
    # round caps and translucent pens through its path stroker, 10-30 times slower (5-14 ms
    # a frame at 960x720), which the live view's latency pays for.
    cap = Qt.PenCapStyle.FlatCap
    painter.setPen(QPen(QColor(0, 0, 0), 0.9 * u + 2, Qt.PenStyle.SolidLine, cap))
    painter.drawLines(bones)
    painter.setPen(QPen(QColor(255, 255, 255), 0.5 * u, Qt.PenStyle.SolidLine, cap))
    painter.drawLines(bones)
    for a, b, color in highlighted:
        if ok[a] and ok[b]:
            line = QLineF(points[a], points[b])
            painter.setPen(QPen(QColor(0, 0, 0), 1.3 * u + 3, Qt.PenStyle.SolidLine, cap))
            painter.drawLine(line)
            painter.setPen(QPen(color, 1.1 * u, Qt.PenStyle.SolidLine, cap))
            painter.drawLine(line)
    painter.setPen(QPen(QColor(0, 0, 0), max(1.0, 0.25 * u)))
    joints = sorted({i for e in _BODY_EDGES for i in e if ok[i]})
    for i in joints:
        color = SHOULDER_COLOR if i in (sk.LEFT_SHOULDER, sk.RIGHT_SHOULDER) else (
            HIP_COLOR if i in (sk.LEFT_HIP, sk.RIGHT_HIP) else QColor(255, 255, 255))
        painter.setBrush(color)
        painter.drawEllipse(points[i], 0.7 * u, 0.7 * u)
    if ok[sk.NOSE]:  # the head, as one dot: the face edges clutter a coaching view
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(points[sk.NOSE], 0.9 * u, 0.9 * u)


def _draw_readout(painter: QPainter, box: QRectF, text: OverlayText, sample, u: float) -> None:
    _panel(painter, box, radius=1.5 * u)
    x, w = box.left() + 1.8 * u, box.width() - 3.6 * u
    _text(painter, QRectF(x, box.top() + 1.0 * u, w, 3.4 * u), "SEPARATION", 2.6 * u, DIM_COLOR, True)
    number_px = 11.5 * u
    number_w = QFontMetricsF(_font(number_px, True)).horizontalAdvance(text.separation)
    _text(painter, QRectF(x, box.top() + 3.6 * u, number_w + u, 12 * u), text.separation, number_px, TEXT_COLOR, True)
    _text(painter, QRectF(x + number_w + 1.2 * u, box.top() + 5.6 * u, w - number_w - 1.2 * u, 10 * u), text.side,
          _fit_px(text.side, 4.4 * u, w - number_w - 1.2 * u), TEXT_COLOR, True)
    tracked = bool(sample is not None and sample.tracked and sample.trunk_deg is not None)
    row = QRectF(x, box.top() + 15.6 * u, w, 3.6 * u)
    if tracked:
        trunk, pelvis = f"trunk {signed_angle(sample.trunk_deg)}", f"pelvis {signed_angle(sample.pelvis_deg)}"
        px = min(_fit_px(trunk, 2.8 * u, 0.48 * w), _fit_px(pelvis, 2.8 * u, 0.48 * w))
        _text(painter, row, trunk, px, SHOULDER_COLOR, True)
        _text(painter, row, pelvis, px, HIP_COLOR, True, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    else:
        _text(painter, row, text.angles, 2.8 * u, DIM_COLOR)
    bar_y = box.top() + 20.2 * u
    _text(painter, QRectF(x, bar_y - 0.6 * u, w, 3.2 * u), text.tracking, 2.6 * u, DIM_COLOR)
    bar = QRectF(x + w * 0.58, bar_y + 0.2 * u, w * 0.42, 1.6 * u)
    _panel(painter, bar, QColor(255, 255, 255, 60), 0.8 * u)
    _, level = certainty(sample)
    color = GOOD_COLOR if level >= 0.7 else WARN_COLOR if level >= 0.4 else BAD_COLOR
    if level > 0:
        _panel(painter, QRectF(bar.left(), bar.top(), bar.width() * level, bar.height()), color, 0.8 * u)


def _draw_counts(painter: QPainter, left: float, top: float, text: OverlayText, expected: str | None,
                 u: float) -> None:
    for i, side in enumerate(("right", "left")):
        box = QRectF(left, top + i * 8.2 * u, 30 * u, 7.2 * u)
        _panel(painter, box, radius=1.5 * u)
        if side == expected:
            painter.setPen(QPen(SHOULDER_COLOR, 0.45 * u))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, 1.5 * u, 1.5 * u)
        _text(painter, box.adjusted(2 * u, 0, -2 * u, 0), text.counts[side], 5.0 * u, TEXT_COLOR, True)
    if text.set_label:
        _text(painter, QRectF(left + 0.5 * u, top + 16.6 * u, 30 * u, 3.4 * u), text.set_label, 2.8 * u,
              TEXT_COLOR, True)


def _draw_dial(painter: QPainter, box: QRectF, step: PipelineStep | None, mirrored: bool, u: float) -> None:
    """The top view: shoulder line against hip line, the camera at the bottom, in a panel."""
    _panel(painter, box, radius=1.5 * u)
    _text(painter, QRectF(box.left(), box.top() + 0.6 * u, box.width(), 3.2 * u), "TOP VIEW", 2.4 * u, DIM_COLOR, True,
          Qt.AlignmentFlag.AlignCenter)
    radius = box.width() / 2 - 3.0 * u
    centre = QPointF(box.center().x(), box.top() + 4.0 * u + radius)
    painter.setPen(QPen(DIAL_TRACK_COLOR, max(1.0, 0.25 * u)))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawEllipse(centre, radius, radius)
    cam_y = centre.y() + radius + 0.8 * u
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(DIM_COLOR)
    painter.drawPolygon([QPointF(centre.x() - 1.3 * u, cam_y + 1.8 * u), QPointF(centre.x() + 1.3 * u, cam_y + 1.8 * u),
                         QPointF(centre.x(), cam_y)])
    _text(painter, QRectF(box.left(), cam_y + 1.8 * u, box.width(), 2.8 * u), "camera", 2.2 * u, DIM_COLOR,
          align=Qt.AlignmentFlag.AlignCenter)
    legend_y = cam_y + 5.0 * u
    for i, (label, color) in enumerate((("shoulders", SHOULDER_COLOR), ("hips", HIP_COLOR))):
        y = legend_y + i * 3.0 * u
        x = box.left() + 2.5 * u
        painter.setPen(QPen(color, 0.8 * u, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        painter.drawLine(QPointF(x, y + 1.4 * u), QPointF(x + 3 * u, y + 1.4 * u))
        _text(painter, QRectF(x + 4.2 * u, y, box.width() - 7 * u, 2.8 * u), label, 2.3 * u, TEXT_COLOR)
    sample = step.sample if step else None
    if sample is None or not sample.tracked or sample.trunk_deg is None:
        _text(painter, QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius), "--",
              4 * u, DIM_COLOR, align=Qt.AlignmentFlag.AlignCenter)
        return
    lines = ((sample.pelvis_deg or 0.0, HIP_COLOR, 0.8 * radius, 1.0 * u),
             (sample.trunk_deg, SHOULDER_COLOR, radius - 0.6 * u, 1.2 * u))
    for angle, color, r, width in lines:
        rx, ry = dial_point(angle, r, mirrored, "right")
        lx, ly = dial_point(angle, r, mirrored, "left")
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        painter.drawLine(QPointF(centre.x() + rx, centre.y() + ry), QPointF(centre.x() + lx, centre.y() + ly))
    # facing direction of the chest: perpendicular to the shoulder line, at the camera when neutral
    fx, fy = dial_point(sample.trunk_deg - 90.0, 0.5 * radius, mirrored, "right")
    painter.setPen(QPen(SHOULDER_COLOR, 0.5 * u, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
    painter.drawLine(centre, QPointF(centre.x() + fx, centre.y() + fy))
    painter.setBrush(TEXT_COLOR)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(centre, 0.8 * u, 0.8 * u)
    # "R" marks the person's right shoulder
    rx, ry = dial_point(sample.trunk_deg, radius + 1.6 * u, mirrored, "right")
    _text(painter, QRectF(centre.x() + rx - 2 * u, centre.y() + ry - 2 * u, 4 * u, 4 * u), "R",
          2.6 * u, SHOULDER_COLOR, True, Qt.AlignmentFlag.AlignCenter)


def _draw_ring(painter: QPainter, centre: QPointF, radius: float, model: OverlayModel, u: float) -> None:
    progress, value, label, tone = hold_ring(model)
    color = _TONE[tone]
    if progress is None:
        return
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(PANEL_COLOR)
    painter.drawEllipse(centre, radius + 1.8 * u, radius + 1.8 * u)
    ring = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(RING_TRACK_COLOR, 1.6 * u))
    painter.drawEllipse(ring)
    if progress > 0:
        painter.setPen(QPen(color, 1.6 * u, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        painter.drawArc(ring, 90 * 16, -int(round(360 * 16 * min(1.0, progress))))
    _text(painter, QRectF(ring.left(), centre.y() - 4.6 * u, ring.width(), 7 * u), value,
          _fit_px(value, 6.0 * u, ring.width() * 0.8), TEXT_COLOR, True, Qt.AlignmentFlag.AlignCenter)
    _text(painter, QRectF(ring.left(), centre.y() + 2.0 * u, ring.width(), 3.4 * u), label,
          _fit_px(label, 2.6 * u, ring.width() * 0.78), color, True, Qt.AlignmentFlag.AlignCenter)


def _draw_bottom(painter: QPainter, rect: QRectF, text: OverlayText, toast: str | None, u: float) -> None:
    margin = 2 * u
    band_h = 13 * u
    band = QRectF(rect.left(), rect.bottom() - band_h, rect.width(), band_h)
    _panel(painter, band, QColor(10, 14, 20, 190), 0)
    if text.instruction:
        inner = band.adjusted(margin, 0.6 * u, -margin, -0.6 * u)
        px = _fit_px(text.instruction, 5.6 * u, inner.width(), True, lines=2)
        painter.setFont(_font(px, True))
        painter.setPen(TEXT_COLOR)
        painter.drawText(inner, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), text.instruction)
    y = band.top() - margin
    for kind, banner in reversed(text.banners):
        h = 7 * u
        y -= h
        box = QRectF(rect.left() + margin, y, rect.width() - 2 * margin, h)
        color = BAD_COLOR if kind == PELVIS else SHOULDER_COLOR if kind == GESTURE else WARN_COLOR
        _panel(painter, box, QColor(color.red(), color.green(), color.blue(), 225), 1.5 * u)
        banner = ("▲  " if kind == GESTURE else "⚠  ") + banner
        px = _fit_px(banner, 4.2 * u, box.width() - 4 * u)
        _text(painter, box, banner, px, TEXT_COLOR if color == BAD_COLOR else QColor(0, 0, 0), True,
              Qt.AlignmentFlag.AlignCenter)
        y -= 1.0 * u
    if toast:
        px = _fit_px(toast, 3.6 * u, rect.width() * 0.8, True)
        width = QFontMetricsF(_font(px, True)).horizontalAdvance(toast) + 4 * u
        box = QRectF(rect.center().x() - width / 2, y - 6 * u, width, 5.4 * u)
        _panel(painter, box, QColor(25, 35, 50, 215), 2.7 * u)
        _text(painter, box, toast, px, QColor(255, 236, 140), True, Qt.AlignmentFlag.AlignCenter)


def draw_overlay(painter: QPainter, rect: QRectF, model: OverlayModel) -> None:
    """Draw the whole overlay over a picture that fills ``rect``."""
    if rect.width() < 10 or rect.height() < 10:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.setClipRect(rect)
    u = min(rect.height(), rect.width() * 0.75) / 100.0
    margin = 2 * u
    step = model.step
    text = overlay_text(model)
    if step is not None:
        draw_skeleton(painter, rect, step, model.mirrored, u)
    # left column: readout and counters
    readout = QRectF(rect.left() + margin, rect.top() + margin, 36 * u, 24 * u)
    _draw_readout(painter, readout, text, step.sample if step else None, u)
    if step is not None and step.state.phase != Phase.CALIBRATING:
        expected = step.state.expected_side if step.state.phase == Phase.NEUTRAL else step.state.side
        _draw_counts(painter, readout.left(), readout.bottom() + 1.5 * u, text, expected, u)
    # right column: top view and hold ring
    dial_box = QRectF(rect.right() - margin - 25 * u, rect.top() + margin, 25 * u, 37 * u)
    _draw_dial(painter, dial_box, step, model.mirrored, u)
    _draw_ring(painter, QPointF(dial_box.center().x(), dial_box.bottom() + 2 * u + 10.8 * u), 9 * u, model, u)
    _draw_bottom(painter, rect, text, model.toast, u)
    guide = model.guide
    if guide is not None and guide.stage == GuideStage.COUNTDOWN and guide.countdown is not None:
        _outlined(painter, rect.center(), str(guide.countdown), 30 * u, TEXT_COLOR)
    if model.paused or text.coaching_paused:
        label = "❚❚  PAUSED" if model.paused else "❚❚  COACHING PAUSED"
        width = QFontMetricsF(_font(3.2 * u, True)).horizontalAdvance(label) + 5 * u
        box = QRectF(rect.center().x() - width / 2, rect.top() + margin, width, 6 * u)
        _panel(painter, box, QColor(10, 14, 20, 200), 3 * u)
        _text(painter, box, label, 3.2 * u, TEXT_COLOR, True, Qt.AlignmentFlag.AlignCenter)
    painter.restore()


# ---------------------------------------------------------------------- images
def frame_to_qimage(rgb: np.ndarray) -> QImage:
    """Wrap an H x W x 3 uint8 RGB array as a QImage (no copy: keep the array alive)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("expected an H x W x 3 uint8 RGB image")
    if not rgb.flags.c_contiguous:
        rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, int(rgb.strides[0]), QImage.Format.Format_RGB888)
    image._keepalive = rgb  # the QImage reads the array's memory
    return image


def scaled_frame(rgb: np.ndarray, size: tuple[int, int], mirrored: bool) -> np.ndarray:
    """The frame scaled (and mirrored) to ``size`` (w, h) by OpenCV: faster than QPainter's
    smooth scaling, which was the largest part of drawing a frame at window size."""
    w, h = size
    height, width = rgb.shape[:2]
    if (w, h) != (width, height):
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if w < width else cv2.INTER_LINEAR)
    return cv2.flip(rgb, 1) if mirrored else rgb


def render_overlay(rgb: np.ndarray, model: OverlayModel, size: tuple[int, int] | None = None) -> QImage:
    """Return a new image: the frame (mirrored if asked) with the overlay, at ``size`` (w, h)."""
    height, width = rgb.shape[:2]
    w, h = size or (width, height)
    out = QImage(w, h, QImage.Format.Format_RGB32)
    painter = QPainter(out)
    try:
        painter.drawImage(0, 0, frame_to_qimage(scaled_frame(rgb, (w, h), model.mirrored)))
        draw_overlay(painter, QRectF(0, 0, w, h), model)
    finally:
        painter.end()
    return out
