"""Videos: plates tracked over frames, one voted reading per car, annotated video, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import CountingDetector

from numberplate.cli.main import main
from numberplate.types import Detection, Plate, TextReading
from numberplate.video import PlateTracker, read_video

FPS = 10.0
SIZE = (960, 540)
# (text, first frame, last frame, colour of the car): the second car enters while the first is still in view.
CARS = (("AA1234BC", 0, 23, (150, 30, 35)), ("KA5678OX", 14, 37, (30, 60, 140)))
FRAMES = 40


def make_clip(path: Path, fourcc: str = "mp4v") -> Path:
    """Two cars with synthetic UA plates drive left to right over a panning street."""
    from numberplate.regions import get_spec
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate
    from numberplate.synth.scene import posed_corners

    rng = np.random.default_rng(0)
    fonts, spec = FontBook(), get_spec("ua-2015")
    plates = [render_plate(spec, text, rng, fonts, px_per_mm=1.0) for text, *_ in CARS]
    w, h = SIZE
    street = np.zeros((h, 2 * w, 3), np.uint8)
    street[: h // 2], street[h // 2:] = (170, 190, 210), (80, 80, 80)
    for x in range(0, 2 * w, 120):
        cv2.rectangle(street, (x, 60 + (x * 7) % 90), (x + 100, h // 2), (120 + x % 60, 110, 100), -1)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, SIZE)
    assert writer.isOpened()
    for index in range(FRAMES):
        frame = np.ascontiguousarray(street[:, index * 6: index * 6 + w])
        for plate, (_, first, last, colour) in zip(plates, CARS):
            if not first <= index <= last:
                continue
            cx, cy = 130 + 700 * (index - first) / (last - first), 380
            x = int(cx)
            cv2.rectangle(frame, (x - 120, cy - 150), (x + 120, cy + 50), colour, -1)
            cv2.rectangle(frame, (x - 100, cy - 135), (x + 100, cy - 70), (50, 60, 75), -1)
            dst = posed_corners(160, 520 / 112, (cx, cy), focal=1400, yaw_deg=8, pitch_deg=5, roll_deg=0)
            matrix = cv2.getPerspectiveTransform(plate.corners.astype(np.float32), dst.astype(np.float32))
            warped = cv2.warpPerspective(plate.image, matrix, SIZE, flags=cv2.INTER_AREA)
            alpha = cv2.warpPerspective(plate.mask, matrix, SIZE).astype(np.float32)[:, :, None] / 255
            frame = (frame * (1 - alpha) + warped * alpha).astype(np.uint8)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("video") / "clip.mp4")


@pytest.fixture(scope="module")
def reader():
    from numberplate import Reader

    return Reader(region="ua")


def test_one_voted_reading_per_car(clip, reader):
    result = read_video(reader, clip, stride=2)
    assert [t.text for t in result.tracks] == ["AA1234BC", "KA5678OX"]
    assert result.frames_read == FRAMES and result.info.fps == FPS
    for track, (_, first, last, _) in zip(result.tracks, CARS):
        # Seen from its first to its last sampled frame, timestamps in seconds.
        assert first <= track.first_frame <= first + 2 and last - 2 <= track.last_frame <= last
        assert track.first_time == pytest.approx(track.first_frame / FPS)
        assert track.votes >= 0.8 * track.readings and track.frames_seen >= 10
        assert track.confidence > 0.9


def test_frames_are_looked_at_as_taken_only(clip, reader):
    # A camera's frames hold level plates and most none: no frame is looked at turned (frame 38 has no car).
    from numberplate import Reader

    detector = CountingDetector(reader.detector)
    counting = Reader(region="ua", detector=detector, classifier=reader.classifier, refiner=reader.refiner)
    result = read_video(counting, clip, stride=2)
    assert [t.text for t in result.tracks] == ["AA1234BC", "KA5678OX"]
    assert len(detector.shapes) == FRAMES // 2
    assert counting.turns and counting.zoom_out  # the reader given is left as it was


def test_small_frames_are_scenes_not_plate_crops(tmp_path, reader):
    # A photo of 320 x 180 may be a plate crop, and is looked at set small too; a video frame of that size is not.
    from numberplate import Reader

    path = tmp_path / "small.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (320, 180))
    for index in range(6):
        writer.write(np.full((180, 320, 3), 60 + 20 * index, np.uint8))
    writer.release()
    detector = CountingDetector(reader.detector)
    counting = Reader(detector=detector, classifier=reader.classifier, refiner=reader.refiner, turns=())
    counting(np.full((180, 320, 3), 60, np.uint8))
    assert len(detector.shapes) == 2  # a photo: as taken and set small
    detector.shapes.clear()
    read_video(counting, path)
    assert len(detector.shapes) == 6


def test_cli_video_jsonl_and_annotated_video(clip, tmp_path, capsys):
    assert main(["read", str(clip), "--region", "ua", "--format", "jsonl", "--stride", "3",
                 "--draw", str(tmp_path / "drawn")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["video"]["frames"] == FRAMES and record["video"]["stride"] == 3
    plates = record["plates"]
    assert [p["text"] for p in plates] == ["AA1234BC", "KA5678OX"]
    assert plates[0]["first_seen"] == 0.0 and plates[1]["first_seen"] >= 1.2
    assert plates[0]["last_seen"] < plates[1]["last_seen"] and len(plates[0]["corners"]) == 4
    drawn = cv2.VideoCapture(str(tmp_path / "drawn" / "clip.mp4"))
    assert int(drawn.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    drawn.release()
    assert [p.name for p in (tmp_path / "drawn").iterdir()] == ["clip.mp4"]  # no temp file left


def test_bad_video_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    assert main(["read", str(bad), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"error: {bad}:" in err and "Traceback" not in err


def _plate(x: float, text: str, confidence: float = 0.9) -> Plate:
    box = (x, 100.0, x + 100.0, 125.0)
    corners = ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3]))
    return Plate(Detection(box, corners, 0.9), TextReading(text, confidence, model="m"))


def test_tracker_votes_away_misreads_and_splits_separate_cars():
    tracker = PlateTracker(max_gap_s=0.5)
    for frame in range(10):
        misread = "AB1234CD" if frame == 4 else "AB1234CE"
        plates = [_plate(10 + 40 * frame, misread, 0.99 if frame == 4 else 0.8)]
        if frame >= 3:
            plates.append(_plate(800 - 30 * frame, "XX0000XX"))  # an oncoming car
        tracker.update(frame, frame / 10, tuple(plates))
    tracker.update(30, 3.0, (_plate(400, "AB1234CE"),))  # long after: a new car, seen once
    tracks = tracker.finish()
    assert [(t.text, t.votes, t.readings, t.first_frame, t.last_frame) for t in tracks] == [
        ("AB1234CE", 9, 10, 0, 9), ("XX0000XX", 7, 7, 3, 9)]  # the one-frame track is dropped
