"""``numberplate read``: the whole pipeline on photos and videos (files, folders, globs), at any scale."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from numberplate.batch import CSV_COLUMNS  # noqa: F401  (the CSV columns, importable from here as before)
from numberplate.cli.reader_args import add_reader_arguments, reader_options
from numberplate.errors import InputError, NumberplateError


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "read", help="find and read every plate in photos",
        description="Detect plates (box + 4 corners), flatten each one and read its text with the shipped "
                    "models. Prints, per image, every plate with text, confidence, box and corners in "
                    "original-image pixels. Videos (.mp4, .avi, .mov, .mkv... anything OpenCV opens) give "
                    "one result per vehicle: its plate tracked over the frames and the reading voted.",
        epilog="Examples: numberplate read examples/car-ua.jpg --region ua --format jsonl --draw out/\n"
               "  numberplate read photos/ --out results.jsonl --jobs 2 --resume\n"
               "  numberplate read clip.mp4 --stride 2 --draw out/\n"
               "  numberplate read photos/ --out results.csv --engine ray --address auto",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image or video files, folders or glob patterns")
    parser.add_argument("--format", choices=("text", "jsonl", "csv"), default=None,
                        help="output format (default: text; with --out, csv for a .csv file, else jsonl)")
    parser.add_argument("--draw", type=Path, metavar="OUTDIR",
                        help="write copies of the images with plates drawn (videos: an annotated .mp4)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_reader_arguments(parser, threads_help="ONNX Runtime threads per reader (default: all cores, divided among "
                         "--jobs)")
    batch = parser.add_argument_group("large batches")
    batch.add_argument("--out", type=Path, metavar="FILE",
                       help="append results to FILE as they come (jsonl, or csv when it ends in .csv)")
    batch.add_argument("--resume", action="store_true", help="continue --out: skip the photos it already holds")
    batch.add_argument("--overwrite", action="store_true", help="start --out afresh when it exists")
    batch.add_argument("--jobs", type=int, default=None, help="parallel readers: worker processes (local, "
                       "default 1) or Ray actors (default: the cluster's CPUs); results come in completion order")
    batch.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="where photos are read: this machine, or a Ray cluster (needs the [ray] extra)")
    batch.add_argument("--address", help="Ray cluster to join (auto, HOST:6379, ray://HOST:10001); default: "
                       "start a local Ray instance")
    video = parser.add_argument_group("videos")
    video.add_argument("--stride", type=int, default=1, help="read every N-th frame (default 1: every frame)")
    video.add_argument("--max-gap", type=float, default=1.0,
                       help="seconds a plate may go unseen before its track ends (default 1.0)")
    video.add_argument("--min-frames", type=int, default=2,
                       help="drop tracks seen in fewer sampled frames (default 2)")
    parser.set_defaults(func=run)
    return parser


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal and there are several images)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done = total, 0
        self.enabled = enabled and total > 1 and sys.stderr.isatty()
        self.started = time.perf_counter()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            eta = (self.total - self.done) / rate if rate else 0
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {rate:.1f}/s "
                  f"eta {eta:.0f}s ", end="", file=sys.stderr, flush=True)

    def message(self, text: str) -> None:
        print(f"\n{text}" if self.enabled else text, file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def _output(args, has_videos: bool):
    """``(stream, RecordWriter, completed image names)`` for stdout or the ``--out`` file."""
    from numberplate.batch import VIDEO_CSV_COLUMNS, RecordWriter, completed_images, csv_header

    if args.out is None:
        if args.resume:
            raise NumberplateError("--resume continues a results file: give it with --out FILE")
        fmt = args.format or "text"
        return None, RecordWriter(sys.stdout, fmt, video_columns=has_videos and fmt == "csv"), set()
    fmt = args.format or ("csv" if args.out.suffix.lower() == ".csv" else "jsonl")
    if fmt == "text":
        raise NumberplateError("--out writes jsonl or csv (text lines cannot be resumed)")
    exists = args.out.is_file() and args.out.stat().st_size > 0
    if exists and not (args.resume or args.overwrite):
        raise InputError(args.out, "results file exists: --resume to continue it, --overwrite to start again")
    if args.out.is_dir():
        raise InputError(args.out, "is a directory, expected a results file")
    done, header = set(), None
    if exists and args.resume:
        done = completed_images(args.out, fmt)
        header = csv_header(args.out) if fmt == "csv" else None
    video_columns = has_videos if header is None else len(header) > len(CSV_COLUMNS)
    if header is not None and has_videos and not video_columns:
        raise InputError(args.out, f"this CSV has no video columns ({', '.join(VIDEO_CSV_COLUMNS)}); write videos "
                         "to a new file")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Appending whole lines, flushed per photo: a stopped run leaves at most one torn line, which
    # --resume cuts off (see batch.completed_images).
    stream = args.out.open("a" if args.resume else "w", encoding="utf-8", newline="")
    writer = RecordWriter(stream, fmt, header=fmt == "csv" and header is None, every_image=True,
                          video_columns=video_columns)
    return stream, writer, done


def run(args) -> int:
    from numberplate.batch import read_local, read_ray, run_batch
    from numberplate.cli.inputs import expand_image_args
    from numberplate.video import is_video

    if args.stride < 1:
        raise NumberplateError(f"--stride must be >= 1, got {args.stride}")
    if args.jobs is not None and args.jobs < 1:
        raise NumberplateError(f"--jobs must be >= 1, got {args.jobs}")
    if args.address and args.engine != "ray":
        raise NumberplateError("--address is for --engine ray")
    paths, errors = expand_image_args(args.images)
    videos = [p for p in paths if is_video(p)]
    images = [p for p in paths if not is_video(p)]
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    stream, writer, done = _output(args, bool(videos))
    try:
        todo = [p for p in images if str(p) not in done]
        todo_videos = [p for p in videos if str(p) not in done]
        skipped = len(paths) - len(todo) - len(todo_videos)
        options = reader_options(args)
        local_reader = None
        if args.engine == "local" and (args.jobs or 1) == 1:
            local_reader = options.build()  # built once here: bad models or regions fail before any work
        progress = Progress(len(todo) + len(todo_videos), not args.no_progress)
        if args.engine == "ray":
            outcomes = read_ray(todo, options, args.jobs, args.address)
        else:
            outcomes = read_local(todo, options, args.jobs or 1, args.draw, reader=local_reader)
        summary = run_batch(outcomes, writer, on_error=lambda e: progress.message(f"error: {e}"),
                            on_step=progress.step, draw_dir=args.draw if args.engine == "ray" else None)
        summary.skipped = skipped
        summary.failed += len(errors)
        started = time.perf_counter()
        if todo_videos and local_reader is None:
            local_reader = options.build()  # videos are read here, frame after frame, whatever the engine
        for path in todo_videos:
            _read_one_video(args, local_reader, path, writer, summary, progress)
        summary.seconds += time.perf_counter() - started
        progress.close()
    finally:
        if stream is not None:
            stream.close()
    if args.out is not None or len(paths) > 1 or videos:
        print(f"summary: {summary.line()}" + (f"; results in {args.out}" if args.out else ""), file=sys.stderr)
    elif summary.failed:
        print(f"{summary.read} images read, {summary.failed} failed", file=sys.stderr)
    return 0 if summary.read or summary.skipped else 1


def _read_one_video(args, reader, path: Path, writer, summary, progress) -> None:
    from numberplate.video import PlateTracker, read_video

    tracker = PlateTracker(max_gap_s=args.max_gap, min_frames=args.min_frames)
    try:
        result = read_video(reader, path, stride=args.stride, draw_dir=args.draw, tracker=tracker)
    except InputError as exc:
        summary.failed += 1
        progress.message(f"error: {exc}")
    else:
        writer.write_record(result.to_dict())
        summary.read += 1
        summary.plates += len(result.tracks)
    progress.step()
