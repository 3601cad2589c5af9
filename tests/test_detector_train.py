"""Synthetic scenes, detector training, export and the read pipeline, on photos generated here."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from numberplate.data.detection import read_detection, write_detection  # noqa: E402
from numberplate.data.records import ImageRecord, PlateAnnotation  # noqa: E402
from numberplate.errors import ConfigError, InputError  # noqa: E402
from numberplate.models.detector import DetectorConfig  # noqa: E402
from numberplate.regions import get_spec  # noqa: E402
from numberplate.stages.detect import Detector  # noqa: E402
from numberplate.synth.fonts import FontBook  # noqa: E402
from numberplate.synth.scene import SceneConfig, generate_scenes, make_scene, posed_corners  # noqa: E402
from numberplate.train.detect import DetectAugmentConfig, DetectionSource, DetectTask, DetectTrainConfig  # noqa: E402
from numberplate.train.export import export_checkpoint  # noqa: E402
from numberplate.train.loop import LoopConfig, fit  # noqa: E402

TINY = DetectorConfig(widths=(8, 8, 8, 8, 8), neck_width=8)


def _backgrounds(root, count=6, with_plate=True):
    """Textured photos; every other one has a dark box labelled as a plate (box-only, like real sets)."""
    rng = np.random.default_rng(0)
    records = []
    for index in range(count):
        photo = cv2.resize(rng.integers(40, 200, (12, 16, 3)).astype(np.uint8), (320, 240),
                           interpolation=cv2.INTER_CUBIC)
        path = root / f"photo{index}.png"
        root.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), photo)
        plates = []
        if with_plate and index % 2 == 0:
            plates = [PlateAnnotation(((100.0, 100.0), (200.0, 100.0), (200.0, 122.0), (100.0, 122.0)),
                                      has_corners=False)]
        records.append(ImageRecord(path, plates))
    write_detection(records, root / "via_region_data.json", "via")
    return root


def test_posed_corners_are_clockwise_and_sized_as_asked():
    quad = posed_corners(200, 4.6, (320, 240), focal=800, yaw_deg=30, pitch_deg=10, roll_deg=5)
    assert quad.shape == (4, 2)
    assert quad[0, 0] < quad[1, 0] and quad[3, 1] > quad[0, 1]  # TL left of TR; BL below TL
    assert 150 < np.linalg.norm(quad[1] - quad[0]) < 230  # yaw shortens the plate seen from the side
    flat = posed_corners(200, 4.6, (320, 240), focal=800, yaw_deg=0, pitch_deg=0, roll_deg=0)
    assert np.allclose(flat, [[220, 218.26], [420, 218.26], [420, 261.74], [220, 261.74]], atol=0.05)


def test_scene_labels_sit_exactly_on_the_pasted_plates():
    photo = np.full((360, 480, 3), 60, np.uint8)
    specs = [get_spec("ua-2015")]
    image, labels = make_scene(photo, [], specs, np.array([1.0]), FontBook(), np.random.default_rng(3),
                               SceneConfig(new_plates=(2, 2), min_width=80, max_yaw=20, max_pitch=10))
    assert len(labels) == 2
    grey = image.mean(axis=2)
    for label in labels:
        quad = np.array(label.corners, np.float32)
        assert label.has_corners and label.text and get_spec("ua-2015").matches(label.text)
        inner = np.zeros(grey.shape, np.uint8)
        center = quad.mean(axis=0)
        cv2.fillPoly(inner, [np.round(center + (quad - center) * 0.8).astype(np.int32)], 1)
        ring = np.zeros(grey.shape, np.uint8)
        cv2.fillPoly(ring, [np.round(center + (quad - center) * 1.25).astype(np.int32)], 1)
        cv2.fillPoly(ring, [np.round(center + (quad - center) * 1.08).astype(np.int32)], 0)
        # The (light-matched, still brighter) plate fills its quad; right outside it is the plain photo.
        assert grey[inner > 0].mean() > grey[ring > 0].mean() + 25
        assert abs(grey[ring > 0].mean() - np.median(grey)) < 8


def test_generate_scenes_writes_a_via_dataset_with_splits(tmp_path):
    backgrounds = _backgrounds(tmp_path / "bg")
    counts = generate_scenes([backgrounds], 12, tmp_path / "scenes", ["ua", "de"], seed=1, val_fraction=0.4)
    records = read_detection(tmp_path / "scenes")
    assert sum(counts.values()) == len(records) == 12
    assert {r.split for r in records} <= {"train", "val"} and "train" in counts
    synthetic = [p for r in records for p in r.plates if p.attributes.get("synthetic")]
    assert synthetic and all(p.has_corners and p.text for p in synthetic)


def test_scenes_place_real_plate_crops_labelled_by_their_box(tmp_path):
    from conftest import make_ocr_dataset

    crops = make_ocr_dataset(tmp_path / "crops", counts=(6, 1, 1), region="br")
    backgrounds = _backgrounds(tmp_path / "bg", with_plate=False)
    generate_scenes([backgrounds], 10, tmp_path / "scenes", ["ua"], seed=4, plate_crops=[crops])
    plates = [p for r in read_detection(tmp_path / "scenes") for p in r.plates]
    real = [p for p in plates if p.attributes.get("real_crop")]
    rendered = [p for p in plates if not p.attributes.get("real_crop")]
    assert real and rendered  # about half and half
    train_texts = {json.loads(f.read_text())["description"] for f in (crops / "train" / "ann").glob("*.json")}
    assert all(p.text in train_texts and p.region == "br" and not p.has_corners for p in real)
    assert all(p.has_corners and p.region.startswith("ua") for p in rendered)
    with pytest.raises(InputError, match="no readable one-line plate crops"):
        generate_scenes([backgrounds], 2, tmp_path / "none", ["ua"], plate_crops=[tmp_path / "crops" / "val"])


@pytest.fixture(scope="module")
def trained_detector(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    backgrounds = _backgrounds(root / "bg")
    generate_scenes([backgrounds], 16, root / "scenes", ["ua"], seed=2, val_fraction=0.3)
    config = DetectTrainConfig(
        name="tiny-det", data=[DetectionSource(str(root / "scenes"))], samples_per_epoch=16, max_side=320,
        model=DetectorConfig(**vars(TINY)), augment=DetectAugmentConfig(crop=128),
        loop=LoopConfig(epochs=2, batch_size=8, threads=1, lr=1e-3))
    result = fit(DetectTask(config, load_threads=1), config.loop, root / "run")
    onnx = root / "tiny-det.onnx"
    card = export_checkpoint(result.best_checkpoint, onnx)
    return root, result, onnx, card


def test_detector_training_logs_metrics_and_exports_with_a_card(trained_detector):
    root, result, onnx, card = trained_detector
    rows = [json.loads(line) for line in (root / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1]
    assert all("val_f1" in r and "val_recall/scenes" in r for r in rows)
    assert card["task"] == "detect" and card["classes"] == ["numberplate"]
    assert card["input"]["max_side"] == 320 and card["input"]["multiple"] == 32


def test_detector_training_starts_from_an_exported_detector(trained_detector, tmp_path):
    # Its card gives no input size (any photo size goes): the import calibrates on the run's own crops.
    root, _, onnx, _ = trained_detector
    config = DetectTrainConfig(
        name="tiny-det", data=[DetectionSource(str(root / "scenes"))], samples_per_epoch=16, max_side=320,
        model=DetectorConfig(**vars(TINY)), augment=DetectAugmentConfig(crop=128), init_from=str(onnx),
        loop=LoopConfig(epochs=1, batch_size=8, threads=1, lr=1e-3))
    model = DetectTask(config, load_threads=1).build_model().eval()
    image = np.random.default_rng(0).integers(0, 255, (1, 3, 128, 160)).astype(np.float32) / 255
    with torch.no_grad():
        heat, corners = model(torch.from_numpy(image))
    onnx_heat, onnx_corners = Detector(str(onnx)).model.run_all(image)
    assert np.abs(heat.numpy() - onnx_heat).max() < 1e-3 and np.abs(corners.numpy() - onnx_corners).max() < 1e-2


def test_exported_detector_runs_on_any_photo_size(trained_detector):
    from numberplate.stages.detect import letterbox, to_network_input

    _, _, onnx, _ = trained_detector
    detector = Detector(str(onnx), threshold=0.0)
    assert detector.max_side == 320  # from the card
    for shape in ((240, 320, 3), (300, 170, 3), (90, 700, 3)):
        network_image, _ = letterbox(np.full(shape, 128, np.uint8), detector.max_side)
        heat, corners = detector.model.run_all(to_network_input([network_image]))
        assert heat.shape == (1, 1, network_image.shape[0] // 4, network_image.shape[1] // 4)
        assert corners.shape == (1, 8, network_image.shape[0] // 4, network_image.shape[1] // 4)
        for d in detector(np.full(shape, 128, np.uint8)):
            assert 0 <= d.box[0] <= d.box[2] <= shape[1] - 1 and 0 <= d.box[1] <= d.box[3] <= shape[0] - 1


def test_detector_task_rejects_labels_missing_from_classes(tmp_path):
    backgrounds = _backgrounds(tmp_path / "bg")
    config = DetectTrainConfig(data=[DetectionSource(str(backgrounds))], classes=["card"])
    with pytest.raises(ConfigError, match="not in classes"):
        DetectTask(config)


def test_detector_task_needs_a_validation_split(tmp_path):
    backgrounds = _backgrounds(tmp_path / "bg")  # a VIA set without splits is training material only
    with pytest.raises(ConfigError, match="validation"):
        DetectTask(DetectTrainConfig(data=[DetectionSource(str(backgrounds))]))


def test_tilted_samples_turn_the_plate_labels_with_the_photo(tmp_path):
    backgrounds = _backgrounds(tmp_path / "bg")
    generate_scenes([backgrounds], 6, tmp_path / "scenes", ["ua"], seed=2, val_fraction=0.3)

    def plate_angles(tilt):
        augment = DetectAugmentConfig(crop=256, scale=(1.0, 1.0), flip=0.0, rotate=2.0, tilt=tilt, max_tilt=40.0,
                                      plate_focus=1.0, photometric=0.0, blur=0.0, grey=0.0)
        task = DetectTask(DetectTrainConfig(data=[DetectionSource(str(tmp_path / "scenes"))], max_side=320,
                                            augment=augment), load_threads=1)
        record = next(r for r in task.records["train"][0] if r.plates)
        angles = []
        for seed in range(40):
            image, targets = task._sample(0, record, seed)
            assert image.shape == (256, 256, 3)
            held = targets["corner_weight"] > 0
            if not held.any():
                continue
            # The corner offsets of the plate's centre cell: top-left (0, 1) to top-right (2, 3).
            offsets = targets["corners"][:, held][:, 0]
            angles.append(np.degrees(np.arctan2(offsets[3] - offsets[1], offsets[2] - offsets[0])))
        return np.abs(np.array(angles))

    level, tilted = plate_angles(0.0), plate_angles(1.0)
    assert len(level) > 20 and len(tilted) > 20
    assert level.max() < 12  # the scene's own roll and the small rotation
    assert tilted.max() > 25 and tilted.max() < 52  # turned up to 40 degrees, labels with the photo


def test_detector_task_rejects_a_tilt_past_45_degrees(tmp_path):
    backgrounds = _backgrounds(tmp_path / "bg")
    with pytest.raises(ConfigError, match="max_tilt"):
        DetectTask(DetectTrainConfig(data=[DetectionSource(str(backgrounds))],
                                     augment=DetectAugmentConfig(max_tilt=50.0)))


def test_read_cli_reports_every_image_and_bad_files(trained_detector, tmp_path):
    from numberplate.runtime import list_shipped_models

    if not list_shipped_models("ocr"):
        pytest.skip("needs the shipped OCR models")
    root, _, onnx, _ = trained_detector
    good = root / "bg" / "photo0.png"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    draw = tmp_path / "drawn"
    result = subprocess.run([sys.executable, "-m", "numberplate.cli.main", "read", str(good), str(broken),
                             "--detector", str(onnx), "--threshold", "0.0", "--format", "jsonl", "--draw", str(draw)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(good)]
    plate = lines[0]["plates"][0]
    assert set(plate) >= {"text", "confidence", "box", "corners", "region", "char_confidences"}
    assert len(plate["corners"]) == 4 and len(plate["box"]) == 4
    assert "broken.jpg" in result.stderr and "1 failed" in result.stderr
    assert (draw / "photo0.jpg").is_file()
    only_bad = subprocess.run([sys.executable, "-m", "numberplate.cli.main", "read", str(broken), "--detector",
                               str(onnx)], capture_output=True, text=True, check=False)
    assert only_bad.returncode == 1 and "broken.jpg" in only_bad.stderr


def test_eval_read_prints_metrics_and_writes_a_failure_report(trained_detector, tmp_path):
    from numberplate.runtime import list_shipped_models

    if not list_shipped_models("ocr"):
        pytest.skip("needs the shipped OCR models")
    root, _, onnx, _ = trained_detector
    report = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "numberplate.cli.main", "eval", "read", "--data",
                             str(root / "scenes"), "--detector", str(onnx), "--json", "--report", str(report)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["photos"] == 16 and metrics["plates"] >= 8
    assert 0.0 <= metrics["end_to_end_accuracy"] <= 1.0
    assert {"detect", "rectify", "recognize"} <= set(metrics["ms_per_photo"]) <= {"detect", "refine", "rectify",
                                                                                 "classify", "recognize"}
    # Scenes have true corners: the corner error is reported for the plates found.
    assert "corner_error" in metrics and (metrics["corner_error"] is None or 0 <= metrics["corner_error"] < 10)
    page = report.read_text()
    # A barely trained detector misses plates: each failure is listed with its thumbnail.
    assert "data:image/jpeg;base64," in page and "not detected" in page


def test_eval_read_lists_the_failing_photos_it_is_asked_for(trained_detector):
    from numberplate.runtime import list_shipped_models

    if not list_shipped_models("ocr"):
        pytest.skip("needs the shipped OCR models")
    root, _, onnx, _ = trained_detector
    result = subprocess.run([sys.executable, "-m", "numberplate.cli.main", "eval", "read", "--data",
                             str(root / "scenes"), "--detector", str(onnx), "--show-errors", "2"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    summary, *failures = result.stdout.splitlines()
    assert summary.startswith(str(root / "scenes")) and "end-to-end" in summary
    # The barely trained detector fails on more than two photos: exactly two are listed, each with its problem.
    assert len(failures) == 2
    for line in failures:
        path, problems = line.strip().split(": ", 1)
        assert path.startswith(str(root / "scenes")) and ("not detected" in problems or "not read" in problems)


def test_eval_read_names_a_folder_that_is_not_a_dataset(trained_detector, tmp_path):
    _, _, onnx, _ = trained_detector
    (tmp_path / "empty").mkdir()
    result = subprocess.run([sys.executable, "-m", "numberplate.cli.main", "eval", "read", "--data",
                             str(tmp_path / "empty"), "--detector", str(onnx)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 2 and "empty" in result.stderr and "Traceback" not in result.stderr


def test_eval_read_counts_the_country_the_classifier_gives_found_plates(tmp_path):
    import cv2

    from numberplate.cli.evaluate import evaluate_read
    from numberplate.data.records import ImageRecord, PlateAnnotation
    from numberplate.types import Detection, ImageResult, Plate, PlateClass

    def quad(x):
        return ((x, 10.0), (x + 40.0, 10.0), (x + 40.0, 20.0), (x, 20.0))

    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), np.zeros((40, 200, 3), np.uint8))
    truths = [PlateAnnotation(quad(0), region="RU"), PlateAnnotation(quad(60), region="ru-taxi"),
              PlateAnnotation(quad(120), region="ru"), PlateAnnotation(quad(160), region="")]
    said = [("ru-taxi", "readable"), ("br", "readable"), ("ru", "garbage"), ("ru", "readable")]

    class Stub:  # found every plate; classified as listed
        def read_array(self, image, source=None):
            plates = tuple(Plate(Detection(t.box, t.corners, 0.9), classification=PlateClass(r, 0.9, 1, 1.0, s, 0.9))
                           for t, (r, s) in zip(truths, said))
            return ImageResult(source, 200, 40, plates)

    result = evaluate_read(Stub(), [ImageRecord(photo, truths)])
    # Three found plates carry a country: a Russian type counts as Russian (said or labelled: our scenes label
    # their plates by type), a "garbage" crop as no country, and the unlabelled fourth plate is not judged.
    assert result["country_accuracy"] == pytest.approx(1 / 3)
    assert result["countries_given"] == {"ru->ru": 1, "ru->br": 1, "ru->garbage": 1}
