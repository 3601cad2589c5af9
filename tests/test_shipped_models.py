"""The models that ship inside the package: present, intact, and reading plates they never saw."""

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from numberplate.regions import get_spec
from numberplate.runtime import list_shipped_models, load_model
from numberplate.stages.recognize import Recognizer

EXPECTED = {"ocr-universal", "ocr-ua", "ocr-ru", "ocr-kz", "ocr-latin"}
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plate-ua.jpg"


def test_every_expected_model_ships_with_a_valid_card():
    cards = {c["name"]: c for c in list_shipped_models("ocr")}
    assert EXPECTED <= set(cards)
    for name in EXPECTED:
        model = load_model(name, task="ocr", threads=1)  # checks sha256 and the input contract
        assert model.card["alphabet"] == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        assert model.path.stat().st_size < 10 * 1024 * 1024
        assert model.card["recipe"]["name"] == name and model.card["metrics"]


def test_shipped_refiner_moves_rough_corners_onto_the_plate():
    import cv2

    from numberplate.stages.refine import Refiner
    from numberplate.types import Detection

    # A light plate with dark text on a dark car, and a detection whose corners are off by ~10% of the width.
    image = np.full((240, 320, 3), 50, np.uint8)
    truth = np.array([[100, 100], [220, 106], [219, 134], [99, 128]], np.float32)
    cv2.fillPoly(image, [truth.astype(np.int32)], (230, 230, 230))
    cv2.putText(image, "AB 1234", (112, 127), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (20, 20, 20), 2)
    rough = truth + np.array([[-9, -8], [10, -9], [8, 10], [-10, 9]], np.float32)
    detection = Detection((*rough.min(axis=0), *rough.max(axis=0)), tuple(map(tuple, rough.tolist())), 0.9, "numberplate")
    refined = np.array(Refiner(threads=1)(image, [detection])[0].corners)
    before = np.linalg.norm(rough - truth, axis=1).max()
    after = np.linalg.norm(refined - truth, axis=1).max()
    assert after < before / 2, (before, after)


def _clean_crops(region_type: str, count: int, seed: int):
    pytest.importorskip("PIL")
    from numberplate.synth.augment import capture
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate

    spec, fonts = get_spec(region_type), FontBook()
    rng, text_rng = np.random.default_rng(seed), random.Random(seed)
    texts = [spec.sample_text(text_rng) for _ in range(count)]
    crops = [capture(render_plate(spec, t, rng, fonts, px_per_mm=1.0), rng, out_height=64) for t in texts]
    return crops, texts


@pytest.mark.parametrize("region_type, region, minimum", [
    ("ua-2015", "ua", 0.8), ("ru", "ru", 0.7), ("kz", "kz", 0.7), ("de", "de", 0.7), ("br", "br", 0.7),
])
def test_region_models_read_fresh_synthetic_plates(region_type, region, minimum):
    crops, texts = _clean_crops(region_type, 30, seed=12345)
    readings = Recognizer(region=region, threads=1).read_batch(crops)
    accuracy = np.mean([r.text == t for r, t in zip(readings, texts)])
    assert accuracy >= minimum, [(r.text, t) for r, t in zip(readings, texts) if r.text != t]


def test_universal_model_reads_every_family():
    crops, texts = [], []
    for index, region_type in enumerate(("ua-2015", "ru", "kz", "pl", "us")):
        c, t = _clean_crops(region_type, 10, seed=777 + index)
        crops += c
        texts += t
    readings = Recognizer(threads=1).read_batch(crops)
    assert np.mean([r.text == t for r, t in zip(readings, texts)]) >= 0.7


def test_large_batches_read_in_parallel_chunks_exactly_as_one_after_another(monkeypatch):
    import threading

    from numberplate.stages import recognize

    crops, _ = _clean_crops("ua-2015", 40, seed=99)
    crops = [*crops, *(np.ascontiguousarray(c[:, ::-1]) for c in crops)] * 2  # 160: three chunks of 64
    assert len(crops) >= recognize.PARALLEL_MIN_CROPS
    one_by_one = Recognizer(region="ua", threads=1).read_batch(crops)
    chunk_threads = []
    read_chunk = Recognizer._read_chunk

    def spy(self, ocr, session, chunk, *args, **kwargs):
        chunk_threads.append((threading.current_thread().name, session.session.get_session_options().intra_op_num_threads))
        return read_chunk(self, ocr, session, chunk, *args, **kwargs)

    monkeypatch.setattr(Recognizer, "_read_chunk", spy)
    parallel = Recognizer(region="ua", threads=2).read_batch(crops)
    # Every chunk ran on a worker thread with a one-thread session; the readings are those of the plain loop.
    assert len(chunk_threads) == 3
    assert all(name.startswith("numberplate-ocr") and threads == 1 for name, threads in chunk_threads)
    assert [(r.text, r.format_valid) for r in parallel] == [(r.text, r.format_valid) for r in one_by_one]
    assert [r.confidence for r in parallel] == pytest.approx([r.confidence for r in one_by_one], abs=1e-5)
    # A photo's few plates keep the multi-threaded session on the calling thread.
    chunk_threads.clear()
    Recognizer(region="ua", threads=2).read_batch(crops[:5])
    assert chunk_threads == [(threading.current_thread().name, 2)]


def test_region_mask_keeps_the_output_in_the_region_alphabet():
    crops, _ = _clean_crops("de", 10, seed=3)  # Latin letters a UA plate never has
    allowed = set(get_spec("ua-2015").alphabet) | set(get_spec("ua-1995").alphabet)
    for reading in Recognizer(region="ua", threads=1).read_batch(crops):
        assert set(reading.text) <= allowed


def test_readme_example_runs_from_the_command_line():
    result = subprocess.run([sys.executable, "-m", "numberplate.cli.main", "ocr", "--region", "ua", "--format",
                             "jsonl", str(EXAMPLE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["text"] == "BH0708KA" and line["confidence"] > 0.5 and line["model"] == "ocr-ua"


def test_models_command_lists_every_shipped_model_with_its_validation_metric(capsys):
    from numberplate.cli.main import main
    from numberplate.runtime import list_shipped_models

    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    cards = list_shipped_models()
    assert len(lines) == len(cards)
    for card, line in zip(cards, lines):
        name, task, _, headline, precision, digest = line.split("\t")
        assert (name, task) == (card["name"], card["task"]) and digest == f"sha256 {card['sha256'][:12]}"
        assert headline.startswith("val ") and headline != "val -", line
        # The shipped recognizers are int8 copies; the line says so, with how closely they read as the float ones
        # (what the card records: at least the 98% numberplate quantize demands).
        if task == "ocr":
            agreement = card["quantization"]["agreement"]
            assert card["quantization"]["reduce_range"] is True and agreement >= 0.98
            assert precision == f"int8 (reads {100 * agreement:.1f}% as float)", line
        else:
            assert precision == "float", line


def test_sessions_do_not_spin_between_runs():
    # Several models run one after another on 2 cores: spinning idle threads made the detector 2-3x slower.
    session = load_model("ocr-universal", task="ocr", threads=2).session
    assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_eval_reads_each_crop_as_its_labelled_country(tmp_path, capsys):
    from conftest import draw_text_crop

    from numberplate.cli.main import main
    from numberplate.data.nomeroff import write_record
    from numberplate.data.records import OcrRecord

    # Jersey has no spec: read unrestricted, as the reader reads such a country, by its route's model (the Latin
    # one for one line); a plate of unknown country by the universal model.
    crops = {"ua": "AA1234BC", "br": "ABC1234", "je": "J12345", "unknown": "KX123"}
    for index, (region, text) in enumerate(crops.items()):
        record = OcrRecord(name=f"{region}{index}", image_path=Path(), text=text, region=region, moderated=True)
        write_record(tmp_path / "set" / "test", record, image=draw_text_crop(text, seed=index))
    assert main(["eval", "ocr", "--data", str(tmp_path / "set"), "--region", "labelled", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["plates"] == 4 and result["model"] == "ocr-latin+ocr-ua+ocr-universal"
    (tmp_path / "set" / "test" / "ann" / "unknown3.json").unlink()
    assert main(["eval", "ocr", "--data", str(tmp_path / "set"), "--region", "labelled", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ocr-latin+ocr-ua"
    assert result["region"] == "labelled"
    assert main(["eval", "ocr", "--data", str(tmp_path / "set"), "--region", "ua", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ocr-ua"  # one region given: one model for all


def test_routing_lists_the_shipped_cards_from_disk_once(monkeypatch):
    import numberplate.stages.recognize as recognize

    listed = []
    real = recognize.list_shipped_models
    monkeypatch.setattr(recognize, "list_shipped_models", lambda task=None: listed.append(task) or real(task))
    recognize._shipped_ocr_names.cache_clear()
    try:
        reader = Recognizer(region="ua")
        crop = np.full((40, 160, 3), 200, np.uint8)
        reader.read_batch([crop, crop], [1, 2])
        reader.read_batch([crop, crop], [1, 2])
        assert Recognizer(region="br").model_name(1) == "ocr-latin"
        assert reader.model_name(2) == "ocr-ua-multi"
        assert listed == ["ocr"]  # once, for every recognizer and line count: not per plate read
    finally:
        recognize._shipped_ocr_names.cache_clear()  # the next caller lists the real cards again
