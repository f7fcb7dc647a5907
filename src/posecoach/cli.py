"""Command line: ``posecoach`` (live window), analyze, export, models, history, report, accuracy, fit, bench."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from posecoach import __version__
from posecoach.analysis.vocabulary import Posture
from posecoach.errors import PosecoachError


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


DEFAULT_PROTOCOL = "standing-rotation"


def _add_model_args(parser: argparse.ArgumentParser, sub: bool = True) -> None:
    """``--model`` and ``--max-people``; see :func:`_shared` for ``sub``."""
    parser.add_argument("--model", choices=("lite", "full", "heavy"), help="pose model (default: full)",
                        **_shared(None, sub))
    parser.add_argument("--max-people", type=int, metavar="N",
                        help="people MediaPipe may detect per frame; >1 keeps following the same "
                             "person when several are in view (slower)", **_shared(1, sub))


def _add_verbose_arg(parser: argparse.ArgumentParser, sub: bool = True) -> None:
    parser.add_argument("--verbose", action="store_true", help="diagnostic messages, MediaPipe's own log lines too",
                        **_shared(False, sub))


def _add_db_arg(parser: argparse.ArgumentParser, sub: bool = True) -> None:
    parser.add_argument("--db", type=Path, help="session database (default: user data dir)", **_shared(None, sub))


def _add_gestures_arg(parser: argparse.ArgumentParser, sub: bool = True) -> None:
    parser.add_argument("--no-gestures", action="store_true",
                        help="no hands-free control (a raised hand pauses/resumes, both hands end the session)",
                        **_shared(False, sub))


def _add_pass_mark_arg(parser: argparse.ArgumentParser, sub: bool = True) -> None:
    parser.add_argument("--pass-mark", type=float, metavar="DEG",
                        help="a range test's pass mark per side, in degrees (default: the protocol's, 45)",
                        **_shared(None, sub))


def _shared(default: object, sub: bool) -> dict[str, object]:
    """The default of an option both the main parser and a sub-command take.

    argparse lets a sub-command's defaults overwrite what was given before the
    sub-command (``posecoach --db X analyze v.mp4`` would lose ``--db``): the
    sub-command's copy has no default of its own, the main parser's default stands.
    """
    return {"default": argparse.SUPPRESS if sub else default}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posecoach",
        description="A webcam coach for the standing trunk-rotation drill. Without a command, "
                    "opens the live coach window.")
    parser.add_argument("--version", action="version", version=f"posecoach {__version__}")
    _add_verbose_arg(parser, sub=False)
    parser.add_argument("--camera", type=int, default=None, metavar="N", help="camera index (default 0)")
    parser.add_argument("--source", type=Path, default=None, metavar="VIDEO",
                        help="replay a recorded video in the window instead of the camera")
    parser.add_argument("--record", type=Path, default=None, metavar="FILE",
                        help="save the camera stream to FILE (mp4) for later replay")
    parser.add_argument("--protocol", default=None,
                        help=f"protocol name or .toml file (default: the last one chosen; analyze: {DEFAULT_PROTOCOL})")
    parser.add_argument("--screenshot", type=Path, default=None, metavar="PATH",
                        help="run --frames frames of the source, save the window as PNG, and quit")
    parser.add_argument("--frames", type=int, default=120, help="frames to run before --screenshot")
    _add_db_arg(parser, sub=False)
    _add_model_args(parser, sub=False)
    _add_gestures_arg(parser, sub=False)
    _add_pass_mark_arg(parser, sub=False)
    sub = parser.add_subparsers(dest="command")

    analyze = sub.add_parser("analyze", help="analyse a recorded video without a window")
    analyze.add_argument("video", type=Path)
    _add_verbose_arg(analyze)
    analyze.add_argument("--json", type=Path, default=None, metavar="OUT.json", help="write the analysis document")
    analyze.add_argument("--csv", type=Path, default=None, metavar="OUT.csv", help="write per-frame angles")
    analyze.add_argument("--protocol", help=f"protocol name or .toml file (default: {DEFAULT_PROTOCOL})",
                         **_shared(None, True))
    _add_pass_mark_arg(analyze)
    analyze.add_argument("--no-save", action="store_true", help="do not store the session in the database")
    _add_db_arg(analyze)
    analyze.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    _add_model_args(analyze)
    _add_gestures_arg(analyze)

    models = sub.add_parser("models", help="list or fetch pose models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="download and verify a pose model")
    fetch.add_argument("--model", choices=("lite", "full", "heavy"), **_shared(None, True))
    fetch.add_argument("--force", action="store_true", help="fetch again even when cached")
    models_sub.add_parser("list", help="show the models and whether they are cached")

    history = sub.add_parser("history", help="table of past sessions")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    _add_db_arg(history)

    report = sub.add_parser("report", help="per-side range-of-motion report of a session")
    report.add_argument("session", nargs="?", default="latest", help="session id or 'latest'")
    report.add_argument("--html", type=Path, default=None)
    report.add_argument("--pdf", type=Path, default=None)
    report.add_argument("--csv", type=Path, default=None)
    _add_db_arg(report)

    export = sub.add_parser("export", help="burn the coaching overlay into a copy of a video or a recorded session")
    export.add_argument("input", metavar="VIDEO|SESSION", help="a video file, or a session id or 'latest' "
                        "(a replayed file or a camera session recorded with --record)")
    export.add_argument("--out", type=Path, required=True, metavar="OUT.mp4", help="the annotated video to write")
    export.add_argument("--protocol", help=f"protocol name or .toml file (default: the session's, else {DEFAULT_PROTOCOL})",
                        **_shared(None, True))
    export.add_argument("--mirror", action="store_true", help="mirror the picture (the numbers never are)")
    export.add_argument("--width", type=int, default=None, metavar="W", help="scale the video down to W pixels wide")
    export.add_argument("--max-seconds", type=float, default=None, metavar="S", help="export only the first S seconds")
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_db_arg(export)
    _add_verbose_arg(export)
    _add_model_args(export)

    for name, what in (("accuracy", "accuracy benchmark against ground-truth clips"),
                       ("fit", "refit the fusion model on ground-truth clips (leave-one-clip-out figures)")):
        clips = sub.add_parser(name, help=what)
        clips.add_argument("folder", type=Path, nargs="+", help="folders of NAME.mp4 + NAME.csv (+ NAME_meta.json)")
        _add_verbose_arg(clips)
        clips.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
        clips.add_argument("--cache", type=Path, default=None,
                           help="folder to cache pose landmarks in (re-runs skip inference)")
        if name == "accuracy":
            clips.add_argument("--protocol", default=None,
                               help="score every clip with this protocol (default: the drill of each clip's posture)")
        else:
            clips.add_argument("--posture", choices=[str(p) for p in Posture], default=None,
                               help="fit this posture's model (its clips run with its drill); default: standing")
            keep = clips.add_mutually_exclusive_group()
            keep.add_argument("--keep-trunk", action="store_true",
                              help="keep the model's trunk weights; fit the pelvis and the uncertainty only")
            keep.add_argument("--uncertainty-only", action="store_true",
                              help="keep the trunk and the pelvis; fit the uncertainty on the model's own errors "
                                   "over these clips (calibrate the ± on clips the model was not fitted on)")
            keep.add_argument("--trunk-only", action="store_true",
                              help="refit the chest grip's trunk only, each clip also scored by a refit without it")
            clips.add_argument("--prior-clips", type=int, default=0, metavar="N",
                               help="with --trunk-only: pool the refit with the model in use as the fit of N clips "
                                    "no longer at hand (weights averaged by clip counts)")
        _add_model_args(clips)

    bench = sub.add_parser("bench", help="speed and memory: bare pose model vs analyze pipeline vs live window")
    bench.add_argument("video", type=Path)
    bench.add_argument("--model", choices=("lite", "full", "heavy"), help="pose model (default: full)",
                       **_shared(None, True))
    bench.add_argument("--frames", type=int, default=None, metavar="N", help="use the first N frames (default: all)")
    bench.add_argument("--no-live", action="store_true", help="skip the live window measurement")
    bench.add_argument("--minutes", type=float, default=0.0, metavar="M",
                       help="also run an M-minute live session (the video looping) for memory growth")
    bench.add_argument("--block", type=int, default=30, metavar="N",
                       help="frames each loop runs before the other takes its turn (default 30)")
    bench.add_argument("--lead-in", type=float, default=4.5, metavar="S",
                       help="live: seconds of the still first frame before the video (framing, calibration)")
    _add_verbose_arg(bench)
    bench.add_argument("--json", type=Path, default=None, metavar="OUT.json", help="also write the report as JSON")
    bench.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)

    return parser


def _tolerant_output() -> None:
    """Never crash printing a name the console cannot encode (a unicode file name on cp1252)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def _configure_logging(verbose: bool) -> None:
    """Diagnostics go to stderr through ``logging``: warnings and up; posecoach's own debug lines with ``--verbose``."""
    logging.basicConfig(level=logging.WARNING, format="posecoach: %(levelname)s: %(name)s: %(message)s")
    if verbose:
        logging.getLogger("posecoach").setLevel(logging.DEBUG)
        from posecoach.pose.mediapipe_backend import show_native_logs
        show_native_logs()


def main(argv: list[str] | None = None) -> int:
    _tolerant_output()
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.command == "analyze":
            return _cmd_analyze(args)
        if args.command == "models":
            return _cmd_models(args)
        if args.command == "history":
            from posecoach.report.commands import run_history
            return run_history(args.db, args.json)
        if args.command == "report":
            from posecoach.report.commands import run_report
            if not (args.html or args.pdf or args.csv):
                _say("posecoach report: give at least one of --html, --pdf, --csv")
                return 2
            return run_report(args.db, args.session, args.html, args.pdf, args.csv)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "accuracy":
            from posecoach.tools.accuracy import run_accuracy
            return run_accuracy(args.folder, model=args.model, json_out=args.json, cache=args.cache,
                                protocol=args.protocol)
        if args.command == "fit":
            from posecoach.tools.fitting import run_fit
            return run_fit(args.folder, model=args.model, json_out=args.json, cache=args.cache,
                           posture=args.posture, keep_trunk=args.keep_trunk, uncertainty_only=args.uncertainty_only,
                           trunk_only=args.trunk_only, prior_clips=args.prior_clips)
        if args.command == "bench":
            from posecoach.tools.bench import run_bench_command
            return run_bench_command(args)
        from posecoach.ui.app import run_app
        return run_app(args)
    except PosecoachError as exc:
        _say(f"posecoach: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("posecoach: interrupted")
        return 130


def _cmd_export(args: argparse.Namespace) -> int:
    from posecoach.session.store import default_db_path
    from posecoach.ui.export_command import run_export
    return run_export(args.input, args.out, args.db or default_db_path(), protocol=args.protocol, mirrored=args.mirror,
                      width=args.width, max_seconds=args.max_seconds, model=args.model, max_people=args.max_people,
                      progress=False if args.quiet else None, say=_say)


def _cmd_models(args: argparse.Namespace) -> int:
    from posecoach import models
    if args.models_command == "fetch":
        path = models.fetch_model(args.model, progress=_say, force=args.force)
        print(path)
        return 0
    default, specs = models.load_manifest()
    for name, spec in specs.items():
        cached = models.cached_model_path(name)
        mark = "*" if name == default else " "
        print(f"{mark} {name:6s} {spec.file:30s} {spec.bytes / 1e6:5.1f} MB  "
              f"{'cached at ' + str(cached) if cached else 'not cached'}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from posecoach.analysis.gestures import GestureSettings
    from posecoach.analysis.protocol import load_protocol
    from posecoach.capture.video_file import VideoFileSource
    from posecoach.models import ensure_model, model_spec
    from posecoach.session.analysis_doc import write_frames_csv, write_json
    from posecoach.session.analyze import analyze_video

    protocol = load_protocol(args.protocol or DEFAULT_PROTOCOL)
    if args.pass_mark is not None:
        protocol = protocol.with_pass_mark(args.pass_mark)
    if args.max_people < 1:
        raise PosecoachError("--max-people must be at least 1")
    VideoFileSource(args.video).close()  # fail fast, before fetching a model, on a bad path
    for output in (args.json, args.csv):
        _check_output(output)  # ... and before a long analysis, on an output that cannot be written
    model_name = model_spec(args.model).name
    model_path = ensure_model(model_name, progress=_say)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    result = analyze_video(args.video, protocol, model_path, model_name, max_people=args.max_people,
                           progress=False if args.quiet else None,
                           gestures=None if args.no_gestures else GestureSettings())
    doc = result.document
    failed, written = False, []
    for output, write in ((args.json, write_json), (args.csv, write_frames_csv)):
        if output:
            try:
                write(doc, output)
                written.append(str(output))
            except OSError as exc:  # disk full, folder removed meanwhile...: the old file is left as it was
                _say(f"posecoach: cannot write {output} ({exc.strerror or exc}); nothing was written there")
                failed = True
    if not args.no_save:
        from posecoach.session.store import SessionStore, default_db_path
        db = args.db or default_db_path()
        try:
            stored = {**doc, "source": {**doc["source"], "file": str(args.video.resolve())}}  # for export
            with SessionStore(db) as store:
                session_id = store.save_analysis(
                    stored, started_at=started_at, model=model_name, live=False,
                    ended_at=datetime.now(UTC).isoformat(timespec="seconds"))
            doc["session_id"] = session_id
        except PosecoachError as exc:
            _say(f"posecoach: warning: the session was not stored ({exc})")
    if not args.quiet:
        _print_summary(doc, result.wall_seconds)
    for warning in doc.get("warnings", ()):
        _say(f"posecoach: warning: {warning}")
    if result.interrupted:
        kept = written + ([f"session {doc['session_id']}"] if "session_id" in doc else [])
        _say("posecoach: interrupted; " + (f"the partial analysis was saved ({', '.join(kept)})"
                                           if kept else "nothing was saved"))
        return 128 + int(result.interrupted_by or 2)
    return 1 if failed else 0


def _check_output(path: Path | None) -> None:
    """Raise PosecoachError when an output file cannot be written where asked."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise PosecoachError(f"cannot write {path}: it is a folder; give a file name")
    if not folder.is_dir():
        raise PosecoachError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PosecoachError(f"cannot write {path}: the folder {folder} is not writable")


def _print_summary(doc: dict, wall_s: float) -> None:
    frames = doc["source"]["frames"]
    tracking = doc["tracking"]
    _say(f"{frames} frames in {wall_s:.1f} s ({frames / max(wall_s, 1e-9):.1f} fps); "
         f"tracked {100 * tracking['rate']:.0f}%"
         + (f" (not tracked: {', '.join(f'{k} {v}' for k, v in tracking['untracked_reasons'].items())})"
            if tracking["untracked_reasons"] else ""))
    holds = doc["protocol"]["holds_per_side"]
    for side in ("right", "left"):
        s = doc["summary"][side]
        peak = s["max_separation_deg"]
        _say(f"  {side:5s}: {s['holds_completed']}/{holds} holds, {s['reps']} reps"
             + (f", max {peak:.0f} deg" if peak is not None else ""))
    for i, rep in enumerate(doc["reps"], 1):
        _say(f"  rep {i}: {rep['side']:5s} peak {rep['peak_separation_deg']:5.1f} deg, held {rep['hold_s']:.1f} s, "
             f"{'completed' if rep['completed'] else 'not completed'}"
             + (f", faults: {', '.join(rep['faults'])}" if rep["faults"] else ""))
    _print_range_test(doc)
    if doc.get("controls"):
        from posecoach.session.messages import control_log_text
        _say("  hands-free: " + ", ".join(control_log_text(c) for c in doc["controls"]))
    if "session_id" in doc:
        _say(f"  stored as session {doc['session_id']}")


def _print_range_test(doc: dict) -> None:
    from posecoach.analysis.range_test import result_from_document
    from posecoach.session.messages import range_test_lines

    result = result_from_document(doc["protocol"], doc["reps"])
    if result is not None:
        for line in range_test_lines(result):
            _say(f"  {line}")


if __name__ == "__main__":
    raise SystemExit(main())
