"""The window's controls: actions with shortcuts, toolbar, menus, and the camera probe."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence
from PyQt6.QtWidgets import QComboBox, QLabel, QMainWindow, QMenu, QToolBar, QWidget


@dataclass(frozen=True)
class WindowActions:
    """The window's actions, as the toolbar and the menus arrange them."""

    play: QAction
    step: QAction
    reset: QAction
    back: QAction
    forward: QAction
    mute: QAction
    mirror: QAction
    fullscreen: QAction
    summary: QAction
    open: QAction
    quit: QAction
    coaching: QAction     # pause / resume the coaching (a remote's keys)
    end: QAction          # end the session
    gestures: QAction     # hands-free gestures on / off
    voice: QAction        # the speech engine found (information only)


def make_action(window: QWidget, text: str, slot: Callable, shortcuts: tuple[str, ...] = (), checkable: bool = False,
                tip: str = "") -> QAction:
    """An action on ``window`` (so its shortcuts work even with the bars hidden in full screen)."""
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setCheckable(checkable)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip or shortcuts:
        action.setToolTip(f"{tip or text} ({', '.join(shortcuts)})" if shortcuts else tip)
    (action.toggled if checkable else action.triggered).connect(slot)
    window.addAction(action)
    return action


# Keys a presenter remote or a headset sends: (key, what it does).
REMOTE_TOGGLE = (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp, Qt.Key.Key_MediaTogglePlayPause)
REMOTE_PAUSE = (Qt.Key.Key_MediaPause,)
REMOTE_RESUME = (Qt.Key.Key_MediaPlay,)
REMOTE_END = (Qt.Key.Key_MediaStop,)


def add_keys(action: QAction, keys: Sequence[Qt.Key]) -> None:
    """Add keys without a text name (media keys) to an action's shortcuts."""
    action.setShortcuts([*action.shortcuts(), *(QKeySequence(key) for key in keys)])


def check_quietly(action: QAction, checked: bool) -> None:
    """Set a checkable action without running its slot (the state it shows changed elsewhere)."""
    blocked = action.blockSignals(True)
    action.setChecked(checked)
    action.blockSignals(blocked)


def protocol_box(names: list[str], current: str, on_change: Callable[[str], None],
                 tooltips: Mapping[str, str] | None = None) -> QComboBox:
    """The protocol chooser; a protocol file given on the command line joins the shipped names.
    ``tooltips``: per protocol, what it is and what it cannot measure."""
    box = QComboBox()
    box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    box.setToolTip("Exercise protocol (changing it starts the session over)")
    box.addItems(names if current in names else [*names, current])
    for index in range(box.count()):
        tip = (tooltips or {}).get(box.itemText(index))
        if tip:
            box.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
    box.setCurrentText(current)
    box.currentTextChanged.connect(on_change)
    return box


def build_toolbar(window: QMainWindow, actions: WindowActions, protocol_box: QComboBox) -> QToolBar:
    """Start/pause, step, reset | protocol | mute, mirror, full screen, summary."""
    toolbar = QToolBar("Controls", window)
    toolbar.setObjectName("controls")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for action in (actions.play, actions.step, actions.reset):
        toolbar.addAction(action)
    toolbar.addSeparator()
    toolbar.addWidget(QLabel(" Protocol "))
    toolbar.addWidget(protocol_box)
    toolbar.addSeparator()
    for action in (actions.mute, actions.mirror, actions.fullscreen, actions.summary):
        toolbar.addAction(action)
    for button in toolbar.findChildren(QWidget):
        if button is not protocol_box:
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and arrows stay the window's shortcuts
    window.addToolBar(toolbar)
    return toolbar


def build_menus(window: QMainWindow, actions: WindowActions, protocols: Sequence[str], current_protocol: str,
                choose_protocol: Callable[[str], None]) -> tuple[QMenu, QMenu]:
    """File (open, cameras, quit), Session (controls, protocols, summary), View, Audio.

    Returns the camera menu and the protocol menu, which change while the window runs.
    """
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(actions.open)
    camera_menu = QMenu("&Camera", window)
    file_menu.addMenu(camera_menu)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)
    session_menu = bar.addMenu("&Session")
    for action in (actions.play, actions.step, actions.reset, actions.back, actions.forward):
        session_menu.addAction(action)
    session_menu.addSeparator()
    for action in (actions.coaching, actions.end, actions.gestures):
        session_menu.addAction(action)
    session_menu.addSeparator()
    protocol_menu = session_menu.addMenu("&Protocol")
    group = QActionGroup(protocol_menu)
    for name in protocols:
        action = protocol_menu.addAction(name)
        action.setCheckable(True)
        action.setChecked(name == current_protocol)
        action.triggered.connect(partial(choose_protocol, name))
        group.addAction(action)
    session_menu.addSeparator()
    session_menu.addAction(actions.summary)
    view_menu = bar.addMenu("&View")
    for action in (actions.mirror, actions.fullscreen):
        view_menu.addAction(action)
    audio_menu = bar.addMenu("&Audio")
    audio_menu.addAction(actions.mute)
    audio_menu.addAction(actions.voice)
    return camera_menu, protocol_menu


def fill_camera_menu(menu: QMenu, cameras: Sequence[int], current: int | None, select: Callable[[int], None],
                     refresh: QAction, probed: bool) -> None:
    """One checkable entry per camera found, then "look again"."""
    menu.clear()
    group = QActionGroup(menu)
    for index in cameras:
        action = menu.addAction(f"Camera {index}")
        action.setCheckable(True)
        action.setChecked(index == current)
        action.triggered.connect(partial(select, index))
        group.addAction(action)
    if not cameras:
        menu.addAction("No camera found" if probed else "Looking for cameras…").setEnabled(False)
    menu.addSeparator()
    menu.addAction(refresh)


class CameraProbe(QObject):
    """Lists the cameras on a background thread (opening cameras can take seconds)."""

    found = pyqtSignal(object)  # list[int]

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self.probed = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        if self.running:
            return False
        self._thread = threading.Thread(target=self._probe, name="posecoach-camera-probe", daemon=True)
        self._thread.start()
        return True

    def join(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _probe(self) -> None:
        from posecoach.capture.camera import list_cameras
        try:
            cameras = list_cameras()
        except Exception:  # noqa: BLE001 - a failed probe lists nothing
            cameras = []
        self.probed = True
        try:
            self.found.emit(cameras)
        except RuntimeError:  # the window is gone
            pass
