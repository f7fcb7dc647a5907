"""Audio cues: generated beeps (QSoundEffect) and spoken prompts (:mod:`posecoach.ui.speech`).

Both are optional at run time: QtMultimedia needs the platform's audio libraries, speech
an engine (Qt's text-to-speech, or ``spd-say``/``espeak-ng``/``espeak``/``say``).
Whatever is missing is skipped and the coach carries on; the window says when no speech
engine was found. Prompts never overlap and do not nag (:class:`~posecoach.ui.speech.PromptPolicy`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QTimer, QUrl

from posecoach.analysis import events as ev
from posecoach.analysis.events import CoachEvent
from posecoach.analysis.vocabulary import GuideCueKind
from posecoach.session import messages
from posecoach.session.guide import GuideCue
from posecoach.ui.speech import PromptPolicy, SpeechEngine, find_engine, install_hint

logger = logging.getLogger(__name__)

_RATE = 22050

# name -> list of (frequency Hz, seconds); 0 Hz is a silence
TONES: dict[str, list[tuple[float, float]]] = {
    "start": [(880.0, 0.16)],
    "complete": [(660.0, 0.12), (0.0, 0.04), (990.0, 0.22)],
    "tick": [(1200.0, 0.05)],
    "countdown": [(740.0, 0.12)],
    "warn": [(330.0, 0.14), (0.0, 0.05), (330.0, 0.14)],
}

_BEEP = {
    ev.HOLD_STARTED: "start", ev.HOLD_RESUMED: "start", ev.HOLD_TICK: "tick", ev.HOLD_COMPLETE: "complete",
    ev.CALIBRATED: "complete", ev.SET_COMPLETE: "complete", ev.SESSION_COMPLETE: "complete",
    ev.HOLD_PAUSED: "warn", ev.HOLD_BROKEN: "warn", ev.FAULT: "warn", ev.WRONG_SIDE: "warn",
}
_SPEAK = {ev.CALIBRATED, ev.ROTATE_NOW, ev.HOLD_STARTED, ev.HOLD_PAUSED, ev.HOLD_COMPLETE, ev.HOLD_BROKEN,
          ev.FAULT, ev.WRONG_SIDE, ev.SET_COMPLETE, ev.REST, ev.REST_OVER, ev.SESSION_COMPLETE, ev.TRACKING_LOST}
_PUMP_MS = 100   # how often a waiting prompt is checked for (speech is a separate process or Qt's)


def write_tone(path: Path, parts: list[tuple[float, float]], volume: float = 0.5) -> None:
    """Write a mono 16-bit WAV of sine tones with short fades (no clicks)."""
    chunks = []
    for freq, seconds in parts:
        n = int(_RATE * seconds)
        t = np.arange(n) / _RATE
        tone = np.sin(2 * math.pi * freq * t) if freq > 0 else np.zeros(n)
        fade = min(n // 2, int(0.01 * _RATE))
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            tone[:fade] *= ramp
            tone[-fade:] *= ramp[::-1]
        chunks.append(tone)
    samples = (np.concatenate(chunks) * volume * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_RATE)
        out.writeframes(samples.tobytes())


class AudioCues(QObject):
    """Beeps and speech for coach events; ``muted`` silences both.

    Parameters
    ----------
    enabled : False creates nothing at all (tests, screenshots).
    speech : the speech engine; by default the first found (:func:`~posecoach.ui.speech.find_engine`).
    """

    def __init__(self, parent: QObject | None = None, enabled: bool = True, speech: SpeechEngine | None = None) -> None:
        super().__init__(parent)
        self.muted = False
        self._effects: dict = {}
        self._speech: SpeechEngine | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.policy = PromptPolicy()
        self.problems: list[str] = []
        self.enabled = enabled
        self._pump_timer: QTimer | None = None
        if enabled:
            self._init_beeps()
            self._speech = speech if speech is not None else find_engine(self, self.problems)
        elif speech is not None:
            self._speech = speech
        if self._speech is not None:
            self._pump_timer = QTimer(self)
            self._pump_timer.setInterval(_PUMP_MS)
            self._pump_timer.timeout.connect(self.pump)

    # ------------------------------------------------------------------ setup
    def _init_beeps(self) -> None:
        try:
            from PyQt6.QtMultimedia import QMediaDevices, QSoundEffect
        except (ImportError, OSError) as exc:
            self.problems.append(f"no sound effects ({exc})")
            return
        try:
            if not QMediaDevices.audioOutputs():
                self.problems.append("no audio output device")
                return
            self._tmp = tempfile.TemporaryDirectory(prefix="posecoach-audio-")
            for name, parts in TONES.items():
                path = Path(self._tmp.name) / f"{name}.wav"
                write_tone(path, parts, volume=0.25 if name == "tick" else 0.5)
                effect = QSoundEffect(self)
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(0.8)
                self._effects[name] = effect
        except Exception as exc:  # noqa: BLE001 - audio is optional: never take the coach down
            self.problems.append(f"sound effects unavailable ({exc})")
            self._effects = {}

    # ------------------------------------------------------------------ state
    @property
    def has_beeps(self) -> bool:
        return bool(self._effects)

    @property
    def has_speech(self) -> bool:
        return self._speech is not None

    @property
    def available(self) -> bool:
        return self.has_beeps or self.has_speech

    @property
    def speech_name(self) -> str | None:
        return self._speech.name if self._speech is not None else None

    @property
    def speech_status(self) -> str:
        """The voice, in a few words for the window: the engine, or what to install."""
        if self._speech is not None:
            return f"voice: {self._speech.name}"
        if not self.enabled:
            return "voice off"
        return f"no voice: {install_hint()}"

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        if muted:
            self.policy.clear()
            if self._speech is not None:
                with contextlib.suppress(Exception):   # a voice that already went away
                    self._speech.stop()

    # ------------------------------------------------------------------ playing
    def beep(self, name: str) -> bool:
        effect = self._effects.get(name)
        if self.muted or effect is None:
            return False
        try:
            effect.play()
        except Exception:  # noqa: BLE001
            return False
        return True

    def say(self, text: str, rep: object = None, always: bool = False) -> bool:
        """Offer a prompt (``rep``: the rep it belongs to); True when it will be said."""
        if self.muted or self._speech is None:
            return False
        if not self.policy.offer(text, time.monotonic(), rep=rep, always=always):
            return False
        self.pump()
        if self._pump_timer is not None and not self._pump_timer.isActive():
            self._pump_timer.start()
        return True

    def confirm(self, text: str) -> bool:
        """Say the confirmation of the user's own action (pause, resume, end)."""
        return self.say(text, always=True)

    def pump(self) -> None:
        """Start the prompt waiting, once nothing is being said."""
        speech = self._speech
        if speech is None:
            return
        try:
            text = self.policy.next(time.monotonic(), speech.speaking())
            if text and not self.muted:
                speech.say(text)
        except Exception:  # noqa: BLE001 - speech is optional
            logger.exception("speech failed")

    def on_event(self, event: CoachEvent, text: str = "", rep: object = None) -> None:
        """Sound one coach event: its beep, and ``text`` (its words) for the events that speak."""
        beep = _BEEP.get(event.kind)
        if beep:
            self.beep(beep)
        if event.kind in _SPEAK and text:
            self.say(text, rep=rep)

    def on_cue(self, cue: GuideCue) -> None:
        """Sound one guide cue (framing advice, countdown seconds)."""
        if cue.kind == GuideCueKind.COUNTDOWN:
            self.beep("countdown")
        else:
            text = messages.cue_text(cue)
            if text:
                self.say(text, rep="start")

    def close(self) -> None:
        for effect in self._effects.values():
            with contextlib.suppress(Exception):
                effect.stop()
        self._effects = {}
        if self._pump_timer is not None:
            self._pump_timer.stop()
        if self._speech is not None:
            with contextlib.suppress(Exception):
                self._speech.stop()
            self._speech = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
