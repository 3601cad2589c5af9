"""Plates in video: read sampled frames, track each plate across frames, vote for one reading per track.

One plate track stands for one vehicle. Tracking is by position: each track predicts where its plate
is next (constant velocity) and takes the nearest detection of similar size within about one plate
width; a track ends when it is unseen for ``max_gap_s`` seconds. Each track's text is the one with the
largest summed confidence over its frames, so a few misread frames are outvoted.

Example:
    >>> from numberplate import Reader
    >>> from numberplate.video import read_video
    >>> for track in read_video(Reader(region="ua"), "clip.mp4", stride=2).tracks:  # doctest: +SKIP
    ...     print(track.text, track.first_time, track.last_time)
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from numberplate.errors import InputError, NumberplateError
from numberplate.types import Plate

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp")
# Used when a file does not say its frame rate (timestamps are then approximate).
FALLBACK_FPS = 25.0


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class VideoInfo:
    fps: float
    frames: int  # as the container says; 0 when unknown
    width: int
    height: int


def open_video(path: str | Path) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video with OpenCV, or raise :class:`InputError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise InputError(path, "not a video OpenCV can open (unknown container or codec, or corrupt file)")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and math.isfinite(fps) and 0 < fps < 1000 else FALLBACK_FPS
    info = VideoInfo(fps, max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)),
                     int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    return capture, info


def iter_frames(capture: cv2.VideoCapture, stride: int = 1,
                decode_all: bool = False) -> Iterator[tuple[int, np.ndarray | None, bool]]:
    """``(frame index, RGB frame or None, sampled)`` for every frame; frames between samples are only
    grabbed (not decoded to RGB) unless ``decode_all``."""
    index = 0
    while True:
        sampled = index % stride == 0
        if sampled or decode_all:
            ok, frame = capture.read()
            image = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ok else None
        else:
            ok, image = capture.grab(), None
        if not ok:
            return
        yield index, image, sampled
        index += 1


@dataclass(frozen=True)
class Sighting:
    """One plate seen in one sampled frame."""

    frame: int
    time: float
    plate: Plate


@dataclass(frozen=True)
class PlateTrack:
    """One vehicle's plate over the frames it was seen in, with the voted reading.

    Attributes:
        track_id: number of the track in its video, as drawn on the annotated video (in order of
            appearance; the numbers of dropped spurious tracks are skipped).
        text: the voted text ("" when no frame could be read).
        confidence: mean confidence of the frames that read ``text``.
        votes: sampled frames that read ``text``; readings: sampled frames that read any text.
        first_frame, last_frame, first_time, last_time: when the plate was first and last seen
            (frame index, seconds from the start).
        frames_seen: sampled frames the plate was detected in.
        best: the plate of the most confident frame that read ``text`` (box, corners, region...).
    """

    track_id: int
    text: str
    confidence: float
    votes: int
    readings: int
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float
    frames_seen: int
    best: Plate

    def to_dict(self) -> dict:
        """The best frame's plate dict, with the voted text and the track's span."""
        out = self.best.to_dict()
        out.update({"text": self.text, "confidence": round(self.confidence, 4), "track": self.track_id,
                    "votes": self.votes, "readings": self.readings, "frames_seen": self.frames_seen,
                    "first_frame": self.first_frame, "last_frame": self.last_frame,
                    "first_seen": round(self.first_time, 3), "last_seen": round(self.last_time, 3)})
        return out


def vote(sightings: list[Sighting]) -> tuple[str, float, int, int, Sighting]:
    """``(text, mean confidence of its frames, votes, readings, best sighting)`` over a track's frames."""
    read = [s for s in sightings if s.plate.reading is not None and s.plate.text]
    if not read:
        best = max(sightings, key=lambda s: s.plate.detection.score)
        return "", 0.0, 0, 0, best
    weight: dict[str, float] = {}
    for s in read:
        weight[s.plate.text] = weight.get(s.plate.text, 0.0) + s.plate.confidence
    text = max(weight, key=lambda t: (weight[t], -len(t)))
    agreeing = [s for s in read if s.plate.text == text]
    best = max(agreeing, key=lambda s: s.plate.confidence)
    return text, weight[text] / len(agreeing), len(agreeing), len(read), best


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


@dataclass
class _Track:
    track_id: int
    sightings: list[Sighting] = field(default_factory=list)
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels per frame

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    def predicted_centre(self, frame: int) -> tuple[float, float]:
        cx, cy = _centre(self.last.plate.detection.box)
        gap = frame - self.last.frame
        return cx + self.velocity[0] * gap, cy + self.velocity[1] * gap

    def add(self, sighting: Sighting) -> None:
        if self.sightings:
            (x0, y0), (x1, y1) = _centre(self.last.plate.detection.box), _centre(sighting.plate.detection.box)
            gap = max(1, sighting.frame - self.last.frame)
            measured = ((x1 - x0) / gap, (y1 - y0) / gap)
            # The first step sets the velocity; later ones are smoothed against detector jitter.
            weight = 1.0 if len(self.sightings) == 1 else 0.5
            self.velocity = tuple(weight * m + (1 - weight) * v for m, v in zip(measured, self.velocity))
        self.sightings.append(sighting)


class PlateTracker:
    """Links the plates of successive sampled frames into tracks.

    Args:
        max_gap_s: a track unseen for longer than this ends.
        max_distance: how far (in plate widths) a detection may be from a track's predicted position.
        min_frames: tracks seen in fewer sampled frames are dropped as spurious detections.
    """

    def __init__(self, max_gap_s: float = 1.0, max_distance: float = 1.0, min_frames: int = 2):
        self.max_gap_s, self.max_distance, self.min_frames = max_gap_s, max_distance, min_frames
        self._active: list[_Track] = []
        self._ended: list[_Track] = []
        self._next_id = 1

    def update(self, frame: int, time_s: float, plates: tuple[Plate, ...]) -> list[tuple[int, Plate]]:
        """Add one sampled frame's plates; returns ``(track id, plate)`` for each of them."""
        still = []
        for track in self._active:
            (still if time_s - track.last.time <= self.max_gap_s else self._ended).append(track)
        self._active = still
        pairs = []
        for ti, track in enumerate(self._active):
            px, py = track.predicted_centre(frame)
            last_w = track.last.plate.detection.box[2] - track.last.plate.detection.box[0]
            for pi, plate in enumerate(plates):
                box = plate.detection.box
                width = box[2] - box[0]
                if not 0.5 <= width / max(last_w, 1e-6) <= 2.0:
                    continue
                cx, cy = _centre(box)
                distance = math.hypot(cx - px, cy - py) / max(width, last_w, 1.0)
                if distance <= self.max_distance:
                    pairs.append((distance, ti, pi))
        taken_tracks, assigned = set(), {}
        for _, ti, pi in sorted(pairs):  # greedy: nearest pairs first
            if ti not in taken_tracks and pi not in assigned:
                taken_tracks.add(ti)
                assigned[pi] = self._active[ti]
        out = []
        for pi, plate in enumerate(plates):
            track = assigned.get(pi)
            if track is None:
                track = _Track(self._next_id)
                self._next_id += 1
                self._active.append(track)
            track.add(Sighting(frame, time_s, plate))
            out.append((track.track_id, plate))
        return out

    def voted_text(self, track_id: int) -> str:
        """The current voted text of an active track (for drawing while the video plays)."""
        for track in self._active:
            if track.track_id == track_id:
                return vote(track.sightings)[0]
        return ""

    def finish(self) -> list[PlateTrack]:
        """End every track; the kept ones, in order of first appearance."""
        tracks = sorted(self._ended + self._active, key=lambda t: t.sightings[0].frame)
        self._active, self._ended = [], []
        out = []
        for track in (t for t in tracks if len(t.sightings) >= self.min_frames):
            text, confidence, votes, readings, best = vote(track.sightings)
            first, last = track.sightings[0], track.sightings[-1]
            out.append(PlateTrack(track.track_id, text, confidence, votes, readings, first.frame, last.frame,
                                  first.time, last.time, len(track.sightings), best.plate))
        return out


@dataclass(frozen=True)
class VideoResult:
    """Every vehicle (plate track) of one video."""

    source: str
    info: VideoInfo
    stride: int
    frames_read: int
    tracks: tuple[PlateTrack, ...]

    def to_dict(self) -> dict:
        """A ``numberplate read --format jsonl`` record: ``plates`` holds one entry per track."""
        return {"image": self.source,
                "video": {"fps": round(self.info.fps, 3), "frames": self.frames_read, "stride": self.stride,
                          "width": self.info.width, "height": self.info.height},
                "plates": [t.to_dict() for t in self.tracks]}


def _draw_tracks(image: np.ndarray, shown: list[tuple[int, Plate, str]]) -> np.ndarray:
    from numberplate.draw import draw_plate, line_thickness

    out = image.copy()
    thickness = line_thickness(image)
    for track_id, plate, text in shown:
        draw_plate(out, plate, f"#{track_id} {text or '?'}", thickness, mark_first_corner=False)
    return out


class _AnnotatedVideo:
    """An mp4 written to a hidden temp name and renamed into place when complete."""

    def __init__(self, target: Path, fps: float, size: tuple[int, int]):
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target, self.tmp = target, target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self.writer.isOpened():
            raise NumberplateError(f"{target}: OpenCV cannot write an mp4v video here")

    def write(self, rgb: np.ndarray) -> None:
        self.writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self, keep: bool) -> None:
        self.writer.release()
        if keep:
            os.replace(self.tmp, self.target)
        else:
            self.tmp.unlink(missing_ok=True)


def read_video(reader, path: str | Path, stride: int = 1, draw_dir: str | Path | None = None,
               tracker: PlateTracker | None = None) -> VideoResult:
    """Read the plates of a video: one :class:`PlateTrack` per vehicle.

    Args:
        reader: a :class:`~numberplate.reader.Reader`.
        path: any file OpenCV opens.
        stride: run the reader on every ``stride``-th frame.
        draw_dir: write ``draw_dir/<name>.mp4`` with each tracked plate and its voted text drawn.
        tracker: a configured :class:`PlateTracker` (default settings otherwise).

    Raises:
        InputError: the file cannot be opened or holds no decodable frame.
    """
    if stride < 1:
        raise NumberplateError(f"frame stride must be >= 1, got {stride}")
    if getattr(reader, "turns", ()) or getattr(reader, "zoom_out", False):
        # A camera's frames hold nearly level plates in a scene, and most frames none: looking at every plate-free
        # frame turned as well would halve the frame rate (steep plates that are found are still found again
        # level), and a small frame is a scene, not a plate crop.
        reader = copy.copy(reader)
        reader.turns = ()
        reader.zoom_out = False
    tracker = tracker or PlateTracker()
    capture, info = open_video(path)
    annotated = None
    shown: list[tuple[int, Plate]] = []
    frames = 0
    try:
        for index, image, sampled in iter_frames(capture, stride, decode_all=draw_dir is not None):
            frames = index + 1
            if sampled:
                result = reader.read_array(image, str(path))
                shown = tracker.update(index, index / info.fps, result.plates)
            if draw_dir is not None:
                if annotated is None:
                    target = Path(draw_dir) / (Path(path).stem + ".mp4")
                    annotated = _AnnotatedVideo(target, info.fps, (image.shape[1], image.shape[0]))
                annotated.write(_draw_tracks(image, [(t, p, tracker.voted_text(t)) for t, p in shown]))
    except BaseException:
        if annotated is not None:
            annotated.close(keep=False)
        raise
    finally:
        capture.release()
    if annotated is not None:
        annotated.close(keep=True)
    if frames == 0:
        raise InputError(path, "video holds no frame OpenCV can decode")
    return VideoResult(str(path), info, stride, frames, tuple(tracker.finish()))
