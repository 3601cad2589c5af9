"""Reading very many photos: worker processes or a Ray cluster, streamed results, resume, a summary.

The output formats are those of ``numberplate read`` (one place writes them: :class:`RecordWriter`).
A results file is appended one whole line per photo, so a run that stops (crash, Ctrl-C, power) is
resumed by skipping the photos the file already holds.

Example:
    >>> from numberplate.batch import ReaderOptions, read_local
    >>> for outcome in read_local(paths, ReaderOptions(region="ua"), jobs=2):  # doctest: +SKIP
    ...     print(outcome.path, outcome.result.plates if outcome.result else outcome.error)
"""

from __future__ import annotations

import csv
import json
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from numberplate.errors import InputError, NumberplateError
from numberplate.stages.routing import DEFAULT_NEXT_COUNTRIES
from numberplate.stages.thresholds import DEFAULT_CONFIRM_THRESHOLD, DEFAULT_THRESHOLD
from numberplate.types import ImageResult

CSV_COLUMNS = ("image", "plate", "text", "confidence", "detection_score", "x1", "y1", "x2", "y2",
               "corners", "region", "plate_type", "format_valid", "lines", "state", "model")
# Appended to the CSV header only when a run reads videos: a track's time span and length.
VIDEO_CSV_COLUMNS = ("first_seen", "last_seen", "frames_seen")


def image_record(result: ImageResult) -> dict:
    """The JSON object of one photo, as ``numberplate read --format jsonl`` prints it."""
    return {"image": result.image, "plates": [p.to_dict() for p in result.plates]}


@dataclass(frozen=True)
class ReaderOptions:
    """How to build a :class:`~numberplate.reader.Reader` in each worker (picklable, so it travels)."""

    region: str | None = None
    use_classifier: bool = True
    classifier: str | None = None
    use_refiner: bool = True
    refiner: str | None = None
    detector: str | None = None
    ocr_model: str | None = None
    threshold: float = DEFAULT_THRESHOLD
    confirm_threshold: float | None = DEFAULT_CONFIRM_THRESHOLD  # None turns the rule off
    next_countries: int = DEFAULT_NEXT_COUNTRIES  # 0 turns the retry off
    max_side: int | None = None
    threads: int | None = None
    turn_photos: bool = True  # look at photos turned for steep plates (Reader's turns and relevel_beyond)
    zoom_out: bool = True  # look at photos that may be plate crops set small on a larger canvas (Reader's zoom_out)
    national_models: bool = True  # read plates that fit no format again by the UA, RU, KZ models (Reader's)

    def __post_init__(self):
        # Checked here, where read, eval read and serve all pass: a bad value fails before any model loads.
        for name, value in (("threshold", self.threshold), ("confirm_threshold", self.confirm_threshold)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise NumberplateError(f"--{name.replace('_', '-')} must be between 0 and 1, got {value}")
        for name, value, lowest in (("next_countries", self.next_countries, 0), ("max_side", self.max_side, 32),
                                    ("threads", self.threads, 1)):
            if value is not None and value < lowest:
                raise NumberplateError(f"--{name.replace('_', '-')} must be >= {lowest}, got {value}")

    def build(self, threads: int | None = None):
        from numberplate.reader import Reader
        from numberplate.stages.detect import DEFAULT_DETECTOR

        return Reader(region=self.region, detector_model=self.detector or DEFAULT_DETECTOR, ocr_model=self.ocr_model,
                      use_classifier=self.use_classifier, classifier_model=self.classifier,
                      use_refiner=self.use_refiner, refiner_model=self.refiner,
                      threshold=self.threshold, confirm_threshold=self.confirm_threshold, max_side=self.max_side,
                      next_countries=self.next_countries, threads=self.threads or threads, zoom_out=self.zoom_out,
                      national_models=self.national_models,
                      **({} if self.turn_photos else {"turns": (), "relevel_beyond": None}))


@dataclass(frozen=True)
class Outcome:
    """One photo done: its result, or the error that stopped it."""

    path: str
    result: ImageResult | None = None
    error: str | None = None


@dataclass
class BatchSummary:
    """Counts of a run, printed at its end."""

    read: int = 0
    failed: int = 0
    skipped: int = 0
    plates: int = 0
    seconds: float = 0.0

    @property
    def photos_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        skipped = f", {self.skipped} skipped (already in the results)" if self.skipped else ""
        return (f"{self.read} read, {self.failed} failed{skipped}, {self.plates} plates found, "
                f"{self.seconds:.1f} s, {self.photos_per_s:.1f} photos/s")


class RecordWriter:
    """Writes results as ``text``, ``jsonl`` or ``csv`` lines to a stream, flushing after each photo.

    Args:
        stream: where to write (stdout or a results file opened for appending).
        fmt: ``text``, ``jsonl`` or ``csv``.
        header: write the CSV header first (a new file or stdout).
        every_image: in CSV, a row with an empty plate for photos without plates, so a results file
            records every photo it read (needed to resume); stdout keeps one row per plate.
        video_columns: add :data:`VIDEO_CSV_COLUMNS` to CSV rows.
    """

    def __init__(self, stream: IO[str], fmt: str, header: bool = True, every_image: bool = False,
                 video_columns: bool = False):
        self.stream, self.fmt, self.every_image, self.video_columns = stream, fmt, every_image, video_columns
        self.csv = csv.writer(stream, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None and header:
            self.csv.writerow(CSV_COLUMNS + (VIDEO_CSV_COLUMNS if video_columns else ()))
            stream.flush()

    def write(self, result: ImageResult) -> None:
        if self.fmt != "text":
            self.write_record(image_record(result))
            return
        # Text lines format the unrounded coordinates, as they always have.
        if not result.plates:
            print(f"{result.image}\t(no plates)", file=self.stream)
        for plate in result.plates:
            box = ",".join(f"{v:.0f}" for v in plate.detection.box)
            text = plate.text if plate.reading else f"({plate.state})"
            extra = "".join(f"\t{key}={value}" for key, value in (
                ("region", plate.reading.region if plate.reading else None),
                ("state", plate.state if plate.state not in (None, "readable") else None)) if value)
            print(f"{result.image}\t{text}\t{plate.confidence:.3f}\tbox={box}{extra}", file=self.stream)
        self.stream.flush()

    def write_record(self, record: dict) -> None:
        """One photo's (or video's) record: ``{"image", "plates": [plate dicts], ...}``."""
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            self._write_csv(record)
        else:
            self._write_text(record)
        self.stream.flush()

    def _write_csv(self, record: dict) -> None:
        extra = len(VIDEO_CSV_COLUMNS) if self.video_columns else 0
        if not record["plates"] and self.every_image:
            self.csv.writerow([record["image"]] + [""] * (len(CSV_COLUMNS) - 1 + extra))
        for index, d in enumerate(record["plates"]):
            row = [record["image"], d.get("track", index), d["text"], d["confidence"], d["detection_score"], *d["box"],
                   json.dumps(d["corners"]), d["region"] or "", d["plate_type"] or "",
                   "" if d["format_valid"] is None else int(d["format_valid"]), d.get("lines", ""),
                   d.get("state", ""), d["model"] or ""]
            if extra:
                row += [d.get(k, "") for k in VIDEO_CSV_COLUMNS]
            self.csv.writerow(row)

    def _write_text(self, record: dict) -> None:
        image = record["image"]
        if not record["plates"]:
            print(f"{image}\t(no plates)", file=self.stream)
        for d in record["plates"]:
            read = d.get("model") is not None or bool(d["text"])
            box = ",".join(f"{v:.0f}" for v in d["box"])
            state = d.get("state")
            text = d["text"] if read else f"({state})"
            extra = "".join(f"\t{key}={value}" for key, value in (
                ("region", d["region"] if read else None),
                ("state", state if state not in (None, "readable") else None)) if value)
            if "first_seen" in d:  # a video track
                extra += (f"\tt={d['first_seen']:.2f}-{d['last_seen']:.2f}s\tvotes={d['votes']}/{d['readings']}"
                          f"\ttrack={d['track']}")
            print(f"{image}\t{text}\t{d['confidence']:.3f}\tbox={box}{extra}", file=self.stream)


def completed_images(path: str | Path, fmt: str) -> set[str]:
    """Images a results file already holds (its ``image`` field or column).

    A torn last line (the run stopped mid-write) is cut off the file, so that photo is read again and
    the lines appended next stay well-formed.
    """
    path = Path(path)
    if not path.is_file():
        return set()
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with path.open("r+b") as handle:
            handle.truncate(end)
    done: set[str] = set()
    lines = data[:end].decode("utf-8", errors="replace").splitlines()
    if fmt == "csv":
        rows = csv.reader(lines)
        header = next(rows, None)
        if header and header[0] != "image":
            raise InputError(path, "not a results CSV of numberplate read (first column is not 'image')")
        done.update(row[0] for row in rows if row)
        return done
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            done.add(json.loads(line)["image"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InputError(path, f"line {number} is not a result of numberplate read --format jsonl") from None
    return done


def csv_header(path: str | Path) -> list[str] | None:
    """The header row of an existing CSV results file (None when the file is missing or empty)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), None)


def _load(path: Path) -> tuple[Path, np.ndarray | None, str | None]:
    from numberplate.data.images import read_image

    try:
        return path, read_image(path), None
    except InputError as exc:
        return path, None, str(exc)


def _prefetched(paths: Iterable[Path], depth: int) -> Iterator[tuple[Path, np.ndarray | None, str | None]]:
    """Read and decode photos in a thread ahead of inference (decoding releases the GIL)."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def feed() -> None:
        try:
            for path in paths:
                if not put(_load(Path(path))):
                    return
        finally:
            put(end)  # also after an error in ``paths``, so the consumer never waits forever

    thread = threading.Thread(target=feed, name="numberplate-prefetch", daemon=True)
    thread.start()
    try:
        while (item := slots.get()) is not end:
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _read_loaded(reader, path: Path, image, error, draw_dir: Path | None) -> Outcome:
    if error is not None:
        return Outcome(str(path), error=error)
    result = reader.read_array(image, str(path))
    if draw_dir is not None:
        from numberplate.draw import draw_result, write_drawing

        write_drawing(draw_result(image, result), draw_dir, path)
    return Outcome(str(path), result)


def _worker(options: ReaderOptions, threads: int, draw_dir: Path | None, todo, done) -> None:
    """A worker process: build the Reader once, then read paths until the ``None`` sentinel."""
    try:
        reader = options.build(threads)
    except NumberplateError as exc:
        done.put(("fatal", str(exc)))
        return
    while (path := todo.get()) is not None:
        done.put(("outcome", _read_loaded(reader, *_load(Path(path)), draw_dir)))
    done.put(("finished", None))


def read_local(paths: Iterable[str | Path], options: ReaderOptions, jobs: int = 1, draw_dir: Path | None = None,
               reader=None) -> Iterator[Outcome]:
    """Read photos on this machine, yielding one :class:`Outcome` each (in completion order when ``jobs > 1``).

    Args:
        paths: photo paths (any iterable; consumed lazily, so memory does not grow with its length).
        options: how to build the reader(s).
        jobs: worker processes, each with its own reader; 1 reads in this process with decoding
            prefetched in a thread.
        draw_dir: also write each photo with its plates drawn into this folder.
        reader: an already built reader to use when ``jobs == 1``.
    """
    if jobs <= 1:
        reader = reader or options.build()
        for path, image, error in _prefetched(paths, depth=4):
            yield _read_loaded(reader, path, image, error, draw_dir)
        return
    yield from _read_processes(paths, options, jobs, draw_dir)


def _read_processes(paths: Iterable[str | Path], options: ReaderOptions, jobs: int,
                    draw_dir: Path | None) -> Iterator[Outcome]:
    import multiprocessing

    # spawn: a forked child would inherit ONNX Runtime's thread pools from the parent half-alive.
    context = multiprocessing.get_context("spawn")
    todo, done = context.Queue(maxsize=4 * jobs), context.Queue()
    threads = max(1, (os.cpu_count() or 1) // jobs)
    workers = [context.Process(target=_worker, args=(options, threads, draw_dir, todo, done), daemon=True)
               for _ in range(jobs)]
    for worker in workers:
        worker.start()
    stop = threading.Event()

    def feed() -> None:
        for path in paths:
            while not stop.is_set():
                try:
                    todo.put(str(path), timeout=0.2)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        for _ in workers:
            todo.put(None)

    feeder = threading.Thread(target=feed, name="numberplate-feed", daemon=True)
    feeder.start()
    finished = 0
    try:
        while finished < len(workers):
            try:
                kind, value = done.get(timeout=1.0)
            except queue.Empty:
                if not all(w.is_alive() for w in workers) and done.empty():
                    raise NumberplateError("a worker process died (out of memory or a crash in a decoder); the "
                                           "results written so far are kept: run again with --resume") from None
                continue
            if kind == "fatal":
                raise NumberplateError(value)
            if kind == "finished":
                finished += 1
            else:
                yield value
    finally:
        stop.set()
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(timeout=5)


def read_ray(paths: Iterable[str | Path], options: ReaderOptions, jobs: int | None = None,
             address: str | None = None) -> Iterator[Outcome]:
    """Read photos on a Ray cluster: one reader actor per job, photo bytes shipped from this machine.

    The driver (this process) reads each file and sends its bytes, so the cluster's machines need the
    ``numberplate`` package but not the photos. Results stream back in completion order.

    Args:
        paths: photo paths on this machine.
        options: how each actor builds its reader (``threads`` defaults to 1 per actor).
        jobs: reader actors (default: the cluster's CPUs).
        address: a running cluster (``auto``, ``HOST:PORT`` or ``ray://HOST:10001``); None starts a
            local Ray instance for this run.
    """
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise NumberplateError("--engine ray needs Ray: pip install 'numberplate[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise NumberplateError(f"cannot connect to the Ray cluster at {address or 'a new local instance'}: "
                                   f"{exc}") from None
    try:
        jobs = jobs or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actor_class = ray.remote(num_cpus=1)(RayReader)
        actors = [actor_class.remote(options) for _ in range(jobs)]
        # Two photos in flight per actor: one is read while the next one's bytes travel.
        pool = ActorPool(actors + actors)
        items = ((str(p), _file_bytes(Path(p))) for p in paths)
        yield from pool.map_unordered(lambda actor, item: actor.read.remote(*item), items)
    finally:
        if started_here:
            ray.shutdown()


def _file_bytes(path: Path) -> bytes | str:
    try:
        return path.read_bytes()
    except OSError as exc:
        return f"{path}: cannot read file ({exc.strerror})"


class RayReader:
    """A Ray actor body: one reader built once, reading photos sent as bytes."""

    def __init__(self, options: ReaderOptions):
        self.reader = options.build(threads=1)

    def read(self, name: str, data: bytes | str) -> Outcome:
        from numberplate.data.images import decode_image

        if isinstance(data, str):
            return Outcome(name, error=data)
        try:
            image = decode_image(data, name)
        except InputError as exc:
            return Outcome(name, error=str(exc))
        return Outcome(name, self.reader.read_array(image, name))


def run_batch(outcomes: Iterable[Outcome], writer: RecordWriter, on_error=None, on_step=None,
              draw_dir: Path | None = None) -> BatchSummary:
    """Write every outcome as it arrives and count them.

    Args:
        outcomes: from :func:`read_local` or :func:`read_ray`.
        writer: where results go.
        on_error: called with each error message (default: ignored).
        on_step: called after each photo (progress bars).
        draw_dir: draw photos here on this machine (for engines whose workers do not draw).
    """
    summary = BatchSummary()
    started = time.perf_counter()
    for outcome in outcomes:
        if outcome.error is not None:
            summary.failed += 1
            if on_error:
                on_error(outcome.error)
        else:
            writer.write(outcome.result)
            summary.read += 1
            summary.plates += len(outcome.result.plates)
            if draw_dir is not None:
                from numberplate.data.images import read_image
                from numberplate.draw import draw_result, write_drawing

                write_drawing(draw_result(read_image(outcome.path), outcome.result), draw_dir, outcome.path)
        if on_step:
            on_step()
    summary.seconds = time.perf_counter() - started
    return summary
