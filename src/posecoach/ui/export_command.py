"""``posecoach export``: an annotated copy of a video or of a stored session's recording.

Finds the video (a file, or the file a stored session was replayed from or recorded
to), runs :func:`~posecoach.session.export.export_annotated` with the window's overlay
painter, and shows a progress bar on stderr. Ctrl+C stops it cleanly: nothing is left
behind and an existing output file stays as it was.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from posecoach.analysis.protocol import load_protocol
from posecoach.errors import PosecoachError, ProtocolError
from posecoach.session.analyze import StopRequests
from posecoach.session.export import ExportProgress, ExportResult, check_export_output, export_annotated
from posecoach.session.store import SessionStore

logger = logging.getLogger(__name__)

DEFAULT_PROTOCOL = "standing-rotation"


@dataclass(frozen=True)
class ExportInput:
    """The video to annotate and, for a stored session, its id and protocol name."""

    video: Path
    session_id: int | None = None
    protocol: str | None = None


def _is_session_ref(text: str) -> bool:
    return text.strip().lower() == "latest" or text.strip().isdigit()


def resolve_input(ref: str, db: Path) -> ExportInput:
    """``ref`` as a video file, or as a session id / ``latest`` in the database ``db``."""
    path = Path(ref)
    if path.exists() or not _is_session_ref(ref):
        return ExportInput(path)
    with SessionStore(db, create=False) as store:
        session_id = store.resolve(ref)
        video = store.session_video(session_id)
    if video.path is None:
        raise PosecoachError(f"session {session_id} was a camera session that was not recorded, so there is no "
                             "video to annotate; start the camera with --record FILE to export a session later")
    if not Path(video.path).is_file():
        raise PosecoachError(f"the video of session {session_id} is no longer at {video.path} (moved or deleted?); "
                             "give the file itself: posecoach export FILE --out OUT.mp4")
    return ExportInput(Path(video.path), session_id, video.protocol or None)


def _protocol(name: str | None, found: ExportInput):
    if name:
        return load_protocol(name)
    if found.protocol:
        try:
            return load_protocol(found.protocol)
        except ProtocolError as exc:
            raise PosecoachError(f"session {found.session_id} used the protocol {found.protocol!r}, which cannot be "
                                 f"loaded ({exc}); choose one with --protocol") from exc
    return load_protocol(DEFAULT_PROTOCOL)


class ProgressBar:
    """Percentage, frames and time left on stderr (tqdm), fed with :class:`ExportProgress`."""

    def __init__(self, label: str, total: int | None) -> None:
        from tqdm import tqdm
        self._bar = tqdm(total=total, unit="frame", desc=label, file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(self, progress: ExportProgress) -> None:
        self._bar.update(progress.frames - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def run_export(ref: str, out: Path, db: Path, protocol: str | None = None, mirrored: bool = False,
               width: int | None = None, max_seconds: float | None = None, model: str | None = None,
               max_people: int = 1, progress: bool | None = None, say=print) -> int:
    """Export ``ref`` (a file, a session id or ``latest``) to ``out``; return the exit status.

    ``progress``: show the bar (default: only when stderr is a terminal); ``say``: prints a line for the user.
    """
    from posecoach.capture.video_file import VideoFileSource
    from posecoach.models import ensure_model, model_spec
    from posecoach.ui.annotate import draw_annotated, offscreen_gui

    found = resolve_input(ref, db)
    chosen = _protocol(protocol, found)
    VideoFileSource(found.video).close()  # a bad input fails here, before loading a model
    check_export_output(out)
    if max_people < 1:
        raise PosecoachError("--max-people must be at least 1")
    model_name = model_spec(model).name
    model_path = ensure_model(model_name, progress=say)

    def make_detector():
        from posecoach.pose.mediapipe_backend import MediaPipePoseEstimator
        return MediaPipePoseEstimator(model_path, num_poses=max_people)

    offscreen_gui()
    show = sys.stderr.isatty() if progress is None else progress
    bar: ProgressBar | None = None  # made at the first frame, when the total (and the pace) is known
    export = export_annotated(found.video, out, chosen, make_detector, draw_annotated, mirrored=mirrored, width=width,
                              max_seconds=max_seconds)
    result: ExportResult | None = None
    with StopRequests() as stop:
        try:
            while stop.signum is None:
                try:
                    step = next(export)
                except StopIteration as done:
                    result = done.value
                    break
                if show:
                    bar = bar or ProgressBar(found.video.name, step.total)
                    bar.update(step)
        finally:
            export.close()   # stopped early: the partial file is removed
            if bar is not None:
                bar.close()
    if result is None:
        say(f"posecoach: interrupted; {out} was not written")
        return 128 + int(stop.signum or 2)
    what = f"session {found.session_id} ({found.video.name})" if found.session_id is not None else found.video.name
    say(f"wrote {result.path}: {what} with the overlay, {result.frames} frames, {result.size[0]}x{result.size[1]} "
        f"at {result.fps:g} fps ({result.codec}), {result.reps} rep{'' if result.reps == 1 else 's'}, in {result.seconds:.1f} s "
        f"({result.frames_per_s:.1f} frames/s)")
    if result.problem:
        say(f"posecoach: warning: {result.problem}")
    return 0
