"""The window's overlay drawn into video pictures, for ``posecoach export`` and File > Export.

One drawing code path: :func:`draw_annotated` renders a step exactly as the window's
render thread does (:func:`~posecoach.ui.overlay.render_overlay` on a QImage, off the
GUI thread if need be) and hands the picture back as a BGR array for the video writer.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from PyQt6.QtCore import QCoreApplication
from PyQt6.QtGui import QGuiApplication, QImage

from posecoach.analysis.protocol import Cues
from posecoach.session.pipeline import PipelineStep
from posecoach.ui.overlay import OverlayModel, render_overlay

_APP: QGuiApplication | None = None


def qimage_to_bgr(image: QImage) -> np.ndarray:
    """Copy a QImage into an H x W x 3 uint8 BGR array."""
    if image.format() != QImage.Format.Format_RGB32:
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height, line = image.width(), image.height(), image.bytesPerLine()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    pixels = np.frombuffer(bits, np.uint8).reshape(height, line)[:, : width * 4].reshape(height, width, 4)
    # Format_RGB32 is 0xffRRGGBB in native byte order: B, G, R, A in memory on little-endian machines
    channels = [0, 1, 2] if sys.byteorder == "little" else [3, 2, 1]
    return np.ascontiguousarray(pixels[:, :, channels])


def draw_annotated(step: PipelineStep, cues: Cues, size: tuple[int, int], mirrored: bool) -> np.ndarray:
    """The step's frame with the window's overlay, at ``size`` (w, h), as BGR (a
    :class:`~posecoach.session.export.FrameDrawer`)."""
    model = OverlayModel(step=step, mirrored=mirrored, guide=step.guide, cues=cues)
    return qimage_to_bgr(render_overlay(step.frame.image, model, size))


def offscreen_gui() -> QCoreApplication:
    """The running Qt application, or a new one on the offscreen platform (drawing needs
    fonts, which need a QGuiApplication; no window is shown, so no display is needed)."""
    global _APP
    app = QCoreApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = _APP = QGuiApplication(["posecoach"])  # kept: Qt needs it for as long as we draw
    return app
