"""Spoken prompts: which speech engine to use, and when a prompt may be said.

Engines, chosen once at start, first found wins: Qt's text-to-speech (SAPI/WinRT on
Windows, AVSpeech on macOS, speech-dispatcher on Linux when Qt has its plugin), then a
command-line speaker: ``spd-say`` (speech-dispatcher), ``espeak-ng``, ``espeak``, macOS
``say``. A stock Linux desktop without either says nothing; the window tells the user to
install ``espeak-ng`` (or ``speech-dispatcher``).

:class:`PromptPolicy` (plain Python, no audio) decides what is said: a prompt is never
started while another is being spoken; the newest prompt waiting replaces an older one,
and one that waited too long is dropped (it would be late); the same words are said at
most twice per rep (once and one reminder) and not twice within ``min_gap_s``.
Confirmations of the user's own actions (pause, resume, end) are always said.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Command-line speakers, in order of preference: (program, arguments before the text).
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("spd-say", ("--wait",)),        # speech-dispatcher: the desktop's own voice settings
    ("espeak-ng", ()),
    ("espeak", ()),
    ("say", ()),                     # macOS
)
INSTALL_HINT = {
    "linux": "sudo apt install espeak-ng",
    "darwin": "add a voice in System Settings > Accessibility > Spoken Content",
    "win32": "add a voice in Settings > Time & language > Speech",
}


class SpeechEngine(Protocol):
    name: str

    def say(self, text: str) -> None: ...

    def speaking(self) -> bool: ...

    def stop(self) -> None: ...


class CommandSpeech:
    """Speak with a command-line program, one process per prompt (never two at once)."""

    def __init__(self, program: str, args: Sequence[str] = (),
                 popen: Callable[..., Any] = subprocess.Popen) -> None:
        self.name = program.rsplit("/", 1)[-1]
        self._argv = [program, *args]
        self._popen = popen
        self._process: Any = None

    def say(self, text: str) -> None:
        self.stop()
        try:
            self._process = self._popen([*self._argv, text], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        except OSError as exc:
            logger.warning("speech with %s failed: %s", self.name, exc)
            self._process = None

    def speaking(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self.speaking():
            self._process.terminate()
        self._process = None


class QtSpeech:
    """Speak with QTextToSpeech (created by :func:`find_engine`)."""

    def __init__(self, speech: Any) -> None:
        self._speech = speech
        self.name = f"Qt {speech.engine()}" if hasattr(speech, "engine") else "Qt speech"

    def say(self, text: str) -> None:
        self._speech.say(text)

    def speaking(self) -> bool:
        from PyQt6.QtTextToSpeech import QTextToSpeech
        return self._speech.state() in (QTextToSpeech.State.Speaking, QTextToSpeech.State.Synthesizing)

    def stop(self) -> None:
        self._speech.stop()


def _qt_engine(parent: Any, problems: list[str]) -> QtSpeech | None:
    try:
        from PyQt6.QtTextToSpeech import QTextToSpeech
    except (ImportError, OSError) as exc:
        problems.append(f"no Qt speech ({exc})")
        return None
    try:
        engines = [e for e in QTextToSpeech.availableEngines() if e != "mock"]
        if not engines:
            problems.append("no Qt speech engine")
            return None
        speech = QTextToSpeech(engines[0], parent)
        if speech.state() == QTextToSpeech.State.Error:
            problems.append(f"Qt speech engine error: {speech.errorString()}")
            speech.deleteLater()
            return None
        return QtSpeech(speech)
    except Exception as exc:  # noqa: BLE001 - speech is optional: never take the coach down
        problems.append(f"Qt speech unavailable ({exc})")
        return None


def find_engine(parent: Any = None, problems: list[str] | None = None, use_qt: bool = True,
                which: Callable[[str], str | None] = shutil.which) -> SpeechEngine | None:
    """The first speech engine found (Qt's, then a command-line speaker), or None."""
    problems = problems if problems is not None else []
    if use_qt:
        engine = _qt_engine(parent, problems)
        if engine is not None:
            return engine
    for program, args in COMMANDS:
        path = which(program)
        if path:
            return CommandSpeech(path, args)
    problems.append("no speech program (spd-say, espeak-ng, espeak, say)")
    return None


def install_hint(platform: str = sys.platform) -> str:
    """What to install for spoken prompts on this system."""
    return INSTALL_HINT.get("linux" if platform.startswith("linux") else platform, INSTALL_HINT["linux"])


@dataclass
class _Waiting:
    text: str
    since: float
    always: bool


class PromptPolicy:
    """When a prompt may be spoken (pure: the caller gives the time and whether speech is playing).

    Parameters
    ----------
    per_rep : the same words at most this many times per rep.
    min_gap_s : the same words not again within this time.
    max_wait_s : a prompt that could not start within this time is dropped.
    """

    def __init__(self, per_rep: int = 2, min_gap_s: float = 4.0, max_wait_s: float = 2.5) -> None:
        self.per_rep = per_rep
        self.min_gap_s = min_gap_s
        self.max_wait_s = max_wait_s
        self.reset()

    def reset(self) -> None:
        """A new session."""
        self._rep: object = None
        self._counts: dict[str, int] = {}
        self._last_said: dict[str, float] = {}
        self._waiting: _Waiting | None = None

    def offer(self, text: str, now: float, rep: object = None, always: bool = False) -> bool:
        """A prompt to say; True when it is kept (to be said when nothing else is playing).

        ``rep`` identifies the rep in progress (a new value starts a new count);
        ``always``: the user's own action, said even if said before.
        """
        text = text.strip()
        if not text:
            return False
        if rep != self._rep:
            self._rep = rep
            self._counts = {}
        if not always:
            if self._counts.get(text, 0) >= self.per_rep:
                return False
            if now - self._last_said.get(text, -1e18) < self.min_gap_s:
                return False
            if self._waiting is not None and self._waiting.always:
                return False   # a confirmation waiting is not replaced by coaching
        self._waiting = _Waiting(text, now, always)
        return True

    def next(self, now: float, speaking: bool) -> str | None:
        """The prompt to start now, if any (never while ``speaking``)."""
        waiting = self._waiting
        if waiting is None or speaking:
            return None
        self._waiting = None
        if now - waiting.since > self.max_wait_s:
            return None
        self._counts[waiting.text] = self._counts.get(waiting.text, 0) + 1
        self._last_said[waiting.text] = now
        return waiting.text

    def clear(self) -> None:
        """Forget the prompt waiting (muted)."""
        self._waiting = None
