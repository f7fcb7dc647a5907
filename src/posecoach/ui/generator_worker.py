"""A generic worker thread around a plain generator (in the manner of superqt's GeneratorWorker).

The thread iterates the generator and hands each value it yields to :meth:`deliver`
(by default the ``yielded`` signal); commands given to :meth:`send`, from any thread, are
sent into the generator at its next ``yield``, in order. When the generator yields a
:class:`~posecoach.session.updates.Wait`, the thread waits that long (or until a command
comes) before resuming it, and delivers nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from posecoach.session.updates import Wait

logger = logging.getLogger(__name__)

_CLOSE = object()   # stop without a command: close the generator at its next yield


class GeneratorWorker(QThread):
    """Run ``make()``'s generator on a thread; ``yielded``, ``returned`` and ``errored`` report it.

    Parameters
    ----------
    make : builds the generator (called on the worker thread).
    """

    yielded = pyqtSignal(object)
    returned = pyqtSignal(object)   # the generator's return value
    errored = pyqtSignal(object)    # the exception that ended it (also logged)

    def __init__(self, make: Callable[[], Generator[Any, Any, Any]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._make = make
        self._cond = threading.Condition()
        self._commands: deque[Any] = deque()
        self._stop: Any = None

    def send(self, command: Any) -> None:
        """Queue ``command`` for the generator's next ``yield`` (thread-safe)."""
        with self._cond:
            self._commands.append(command)
            self._cond.notify_all()

    def stop(self, command: Any = None) -> None:
        """Ask the generator to end: ``command`` goes in before anything queued, at every
        ``yield`` from now on; without one, the generator is closed at its next ``yield``.
        Then ``wait()`` for the thread."""
        with self._cond:
            self._stop = _CLOSE if command is None else command
            self._cond.notify_all()

    def deliver(self, value: Any) -> None:
        """Hand one yielded value to the GUI (on the worker thread): by default, ``yielded``."""
        self.yielded.emit(value)

    def _next_command(self, timeout: float | None) -> Any:
        with self._cond:
            if self._stop is None and not self._commands and (timeout is None or timeout > 0):
                self._cond.wait_for(lambda: self._stop is not None or bool(self._commands), timeout)
            if self._stop is not None:
                return self._stop
            return self._commands.popleft() if self._commands else None

    def run(self) -> None:
        generator = self._make()
        try:
            value = next(generator)
            while True:
                if isinstance(value, Wait):
                    command = self._next_command(value.seconds)
                else:
                    self.deliver(value)
                    command = self._next_command(0.0)
                if command is _CLOSE:
                    break
                value = generator.send(command)
        except StopIteration as stop:
            self.returned.emit(stop.value)
        except Exception as exc:  # noqa: BLE001 - report, never die silently
            logger.exception("the worker's generator failed")
            self.errored.emit(exc)
        finally:
            generator.close()
