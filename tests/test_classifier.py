"""The plate classifier: synthetic states, labels, model, training, export, inference and evaluation."""

import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("PIL")
torch = pytest.importorskip("torch")

from numberplate.cli.main import main  # noqa: E402
from numberplate.data.nomeroff import load_split  # noqa: E402
from numberplate.data.records import STATES  # noqa: E402
from numberplate.errors import InputError, WeightsError  # noqa: E402
from numberplate.models.classifier import ClassifierConfig, PlateClassifier  # noqa: E402
from numberplate.regions import get_spec  # noqa: E402
from numberplate.runtime import list_shipped_models  # noqa: E402
from numberplate.stages.classify import GARBAGE_BIAS, Classifier, RegionLabels, resize_crop, score, to_input  # noqa: E402
from numberplate.synth.states import find_photos, generate_states  # noqa: E402
from numberplate.train.classify import (  # noqa: E402
    ClassifySource,
    ClassifyTask,
    ClassifyTrainConfig,
    daylight_look,
    infrared_look,
    region_set_loss,
)
from numberplate.train.export import export_checkpoint  # noqa: E402
from numberplate.train.loop import LoopConfig, fit  # noqa: E402

EVEN_MIX = tuple((s, 1.0) for s in STATES)
TINY = ClassifierConfig(widths=(8, 8, 16, 16))


def _photos(folder: Path, count: int = 4) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(count):
        # Shapes with edges: the generator leaves out plain surfaces (they would be blank plates).
        image = cv2.GaussianBlur(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), (0, 0), 3)
        for _ in range(40):
            x, y = (int(v) for v in rng.integers(0, 150, 2))
            cv2.rectangle(image, (x, y), (x + int(rng.integers(3, 20)), y + int(rng.integers(3, 20))),
                          rng.integers(0, 255, 3).tolist(), -1)
        cv2.imwrite(str(folder / f"photo{i}.jpg"), image)
    return folder


@pytest.fixture(scope="module")
def states_set(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("states")
    generate_states(160, root / "set", seed=5, backgrounds=(_photos(root / "photos"),), mix=EVEN_MIX,
                    val_fraction=0.2, test_fraction=0.2, regions=("ua", "de", "us"))
    return root / "set"


@pytest.fixture(scope="module")
def tiny_run(states_set, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run")
    config = ClassifyTrainConfig(name="tiny-cls", data=[ClassifySource(str(states_set))], samples_per_epoch=256,
                                 model=ClassifierConfig(widths=(8, 8, 16, 16)),
                                 loop=LoopConfig(epochs=3, batch_size=32, threads=1, lr=5e-3))
    fit(ClassifyTask(config), config.loop, run)
    return run


@pytest.fixture(scope="module")
def tiny_model(tiny_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "tiny-cls.onnx"
    export_checkpoint(tiny_run / "best.pt", out)
    return out


# -- synthetic data ---------------------------------------------------------------------------------------
def test_generator_writes_every_state_with_its_labels(states_set):
    records = [r for split in ("train", "val", "test") for r in load_split(states_set, split)]
    assert len(records) == 160
    assert {r.state for r in records} == set(STATES)
    for record in records:
        assert record.moderated and record.extra["synthetic"]
        if record.state == "garbage":
            assert record.region == "unknown" and record.text == "" and record.extra["garbage"]
            continue
        spec = get_spec(record.region)
        assert spec.country in ("ua", "de", "us") and record.count_lines == spec.count_lines
        if record.state == "readable":
            assert spec.matches(record.text)
        else:
            assert record.text == ""
        if record.state == "filled":
            assert record.extra["cover"] in ("paint", "tape", "sheet", "mud")
    garbage = [r for r in records if r.state == "garbage"]
    assert any(r.extra["garbage"] == "photo" for r in garbage)


def test_generator_is_a_function_of_the_seed_whatever_the_jobs(tmp_path):
    generate_states(12, tmp_path / "a", seed=9, jobs=1, mix=EVEN_MIX)
    generate_states(12, tmp_path / "b", seed=9, jobs=2, mix=EVEN_MIX)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    assert files_a == files_b and len(files_a) == 24
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)


def test_blank_plates_show_no_characters():
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate

    plate = render_plate(get_spec("ua-1995"), "", np.random.default_rng(0), FontBook(), px_per_mm=1.0)
    assert plate.lines == [""]  # no group separators drawn on a blank plate


def test_backgrounds_are_split_by_photo_and_checked(tmp_path):
    photos = find_photos((_photos(tmp_path / "p", 30),), 0.2, 0.2)
    assert len(photos) == 30 and {s for _, s in photos} == {"train", "val", "test"}
    with pytest.raises(InputError, match="background folder not found"):
        find_photos((tmp_path / "missing",), 0.1, 0.1)


def test_cli_synth_classify(tmp_path):
    out = tmp_path / "cls"
    assert main(["synth", "classify", "--count", "10", "--out", str(out), "--region", "pl", "--seed", "1",
                 "--val-fraction", "0.1", "--test-fraction", "0.1"]) == 0
    assert len(load_split(out, "train")) == 8 and len(load_split(out, "val")) == 1


# -- labels and loss ---------------------------------------------------------------------------------------
def test_region_labels_follow_the_label_kind():
    labels = RegionLabels(["br", "br-mercosur", "br-red", "dk", "ua-1995", "ua-2004", "unknown"])
    index = labels.index
    assert labels.allowed("", "garbage", True) == (index["unknown"],)
    assert labels.allowed("br-red", "readable", True) == (index["br-red"],)
    assert labels.allowed("br", "readable", False) == (index["br"], index["br-mercosur"], index["br-red"])
    assert labels.allowed("ua-2004", "empty", True) == () == labels.allowed("br", "filled", False)
    assert labels.allowed("DK", "readable", False) == (index["dk"],)
    assert labels.allowed("", "readable", False) == () and labels.allowed("unknown", "filled", True) == ()
    assert labels.allowed("xx", "readable", False) == ()


def test_score_counts_country_labels_and_garbage():
    labels = RegionLabels(["br", "br-red", "de", "unknown"])
    predicted = [("br-red", 1, "readable"), ("de", 2, "readable"), ("unknown", 1, "garbage"), ("de", 1, "readable")]
    truth = [("br", 1, "readable", False), ("de", 1, "readable", True), ("unknown", 1, "garbage", True),
             ("xx", 1, "readable", False)]
    result = score(predicted, truth, labels)
    assert result["region_acc"] == 0.75 and result["region_acc_n"] == 4  # "xx" has no class: wrong
    assert result["country_acc"] == pytest.approx(2 / 3)
    assert result["lines_acc"] == pytest.approx(2 / 3) and result["state_acc"] == 1.0
    assert result["garbage_recall"] == 1.0 and result["plates_as_garbage"] == 0.0


def _plate_with_text(plate: int, text: int) -> np.ndarray:
    image = np.full((48, 160, 3), plate, np.uint8)
    image[:, :, 1] = np.clip(plate + 40, 0, 255)  # a tint, as infrared crops have
    cv2.putText(image, "ABC1234", (10, 34), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (text, text, text), 3)
    return image


def test_daylight_look_gives_dark_text_on_a_light_plate():
    night = _plate_with_text(40, 230)  # infrared: light text on a dark plate
    day = _plate_with_text(200, 30)
    for image in (night, day):
        out = daylight_look(image)
        assert out.shape == image.shape and (out[:, :, 0] == out[:, :, 2]).all()  # grey
        grey = out[:, :, 0].astype(int)
        ink = image.astype(int).mean(axis=2) != np.median(image.astype(int).mean(axis=2))
        assert grey[ink].mean() < grey[~ink].mean() - 100  # the text is the dark part
    assert daylight_look(day)[0, 0, 0] == int(day[0, 0].astype(float).mean())  # not inverted


def test_daylight_share_of_a_source_is_used_in_training_batches(states_set):
    def batch_of(daylight: float):
        config = ClassifyTrainConfig(data=[ClassifySource(str(states_set), daylight=daylight, augment=0.0)],
                                     samples_per_epoch=16)
        task = ClassifyTask(config)
        return next(iter(task.train_batches(0, 16, np.random.default_rng(0))))[0].numpy()

    plain, daylight = batch_of(0.0), batch_of(1.0)
    assert not np.allclose(plain[:, 0], plain[:, 2])  # coloured crops
    assert np.allclose(daylight[:, 0], daylight[:, 1]) and np.allclose(daylight[:, 0], daylight[:, 2])


def test_infrared_look_is_a_dim_flat_grey_or_green_picture_of_the_crop():
    day = _plate_with_text(200, 30)
    rng = np.random.default_rng(0)
    looks = [infrared_look(day, rng) for _ in range(40)]
    green = [out for out in looks if out[:, :, 1].mean() > out[:, :, 0].mean() + 10]
    grey = [out for out in looks if (out[:, :, 0] == out[:, :, 1]).all() and (out[:, :, 1] == out[:, :, 2]).all()]
    assert len(green) + len(grey) == len(looks) and 10 <= len(green) <= 30  # half of them green-tinted
    source = day.astype(float).mean(axis=2)
    for out in looks:
        assert out.shape == day.shape
        picture = out[:, :, 1].astype(float)  # the green channel keeps the grey picture in both looks
        assert np.corrcoef(picture.ravel(), source.ravel())[0, 1] > 0.99  # the same crop, not inverted
        assert picture.std() <= source.std() + 1  # flatter, never more contrasty


def test_infrared_share_of_a_source_is_used_in_training_batches(states_set):
    def batch_of(infrared: float):
        config = ClassifyTrainConfig(data=[ClassifySource(str(states_set), infrared=infrared, augment=0.0)],
                                     samples_per_epoch=16)
        return next(iter(ClassifyTask(config).train_batches(0, 16, np.random.default_rng(0))))[0].numpy()

    plain, infrared = batch_of(0.0), batch_of(1.0)
    # Every crop is grey or green-tinted grey: red and blue move together (in the same ratio) in both looks.
    assert not np.allclose(plain[:, 0] * 0.65, plain[:, 2] * 0.4, atol=0.02)
    ratio = infrared[:, 2] / np.maximum(infrared[:, 0], 1e-3)
    lit = infrared[:, 0] > 0.05
    assert np.all((np.abs(ratio[lit] - 1.0) < 0.05) | (np.abs(ratio[lit] - 0.65 / 0.4) < 0.1))


def test_region_set_loss_is_the_log_of_the_summed_probability():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5], [1.0, 2.0, 3.0]], requires_grad=True)
    allowed = torch.tensor([[True, True, False], [False, False, False], [False, False, True]])
    loss = region_set_loss(logits, allowed)
    p = logits.detach().softmax(1)
    expected = (-torch.log(p[0, 0] + p[0, 1]) - torch.log(p[2, 2])) / 2
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-5)
    loss.backward()
    assert torch.isfinite(logits.grad).all() and float(logits.grad[1].abs().sum()) == 0.0


# -- model, training, export, inference ------------------------------------------------------------------
def test_model_output_shapes():
    model = PlateClassifier(ClassifierConfig(num_regions=7)).eval()
    region, lines, state = model(torch.rand(2, 3, 48, 96))
    assert region.shape == (2, 7) and lines.shape == (2, 3) and state.shape == (2, 4)
    with pytest.raises(ValueError, match="multiples of 16"):
        PlateClassifier(ClassifierConfig(input_height=50))


def test_column_pooling_keeps_where_a_cue_is():
    def pooled(cells: int, column: int) -> torch.Tensor:
        model = PlateClassifier(ClassifierConfig(input_width=160, widths=(4, 4, 4, 4), pool_cells=cells)).eval()
        model.features = torch.nn.Identity()  # look at the pooling alone: the "feature map" is the input
        seen = []
        model.region.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
        cue = torch.zeros(1, 4, 3, 10)  # B, w4, H/16, W/16 of a 48 x 160 crop
        cue[0, 2, 1, column] = 1.0
        model(cue)
        return seen[0]

    # The same cue near the left edge (a band) and near the right edge: global pooling sees one thing.
    assert torch.equal(pooled(1, 0), pooled(1, 9))
    assert not torch.equal(pooled(5, 0), pooled(5, 9))
    assert pooled(5, 0).shape == (1, 6 * 4) and float(pooled(5, 0)[0, 2 * 5 + 0]) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="pool_cells 3 must divide"):
        PlateClassifier(ClassifierConfig(input_width=160, pool_cells=3))


def test_preprocess_accepts_grey_and_rgba():
    grey = np.full((30, 70), 128, np.uint8)
    rgba = np.zeros((30, 70, 4), np.uint8)
    batch = to_input(np.stack([resize_crop(grey, 48, 96), resize_crop(rgba, 48, 96)]))
    assert batch.shape == (2, 3, 48, 96) and batch.dtype == np.float32
    assert batch[0].max() == pytest.approx(128 / 255) and batch[1].max() == 0.0


def test_training_learns_classes_from_the_data(tiny_run):
    config = json.loads((tiny_run / "config.json").read_text())["task"]
    assert config["regions"][-1] == "unknown" and "ua-2015" in config["regions"] and "us" in config["regions"]
    assert config["lines"] == [1, 2, 3] and config["states"] == list(STATES)
    rows = [json.loads(line) for line in (tiny_run / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert {"val_region_acc", "val_state_acc", "val_lines_acc", "val_score"} <= set(rows[0])


def test_init_from_with_other_classes_keeps_the_trunk(tiny_run, states_set):
    config = ClassifyTrainConfig(data=[ClassifySource(str(states_set))], regions=["de", "ua"],
                                 init_from=str(tiny_run / "best.pt"), model=ClassifierConfig(widths=(8, 8, 16, 16)))
    task = ClassifyTask(config)
    assert task.regions == ["de", "ua", "unknown"]
    model = task.build_model()
    trained = torch.load(tiny_run / "best.pt", weights_only=False)["model"]
    assert torch.equal(model.state_dict()["features.0.0.weight"], trained["features.0.0.weight"])
    assert model.region.out_features == 3


def test_export_card_and_inference(tiny_model, states_set):
    card = json.loads(tiny_model.with_suffix(".json").read_text())
    assert card["task"] == "classify" and card["name"] == "tiny-cls"
    assert card["classes"]["lines"] == [1, 2, 3] and card["classes"]["state"] == list(STATES)
    assert card["input"]["height"] == 48 and card["input"]["channels"] == 3 and card["sha256"]
    classifier = Classifier(tiny_model, threads=1)
    records = load_split(states_set, "test")[:5]
    results = classifier.classify_batch([r.image_path for r in records])
    assert len(results) == 5
    for result in results:
        assert result.region in classifier.regions and result.state in STATES and result.lines in (1, 2, 3)
        assert 0 <= result.region_confidence <= 1 and set(result.to_dict()) >= {"region", "country", "state"}
    probs = classifier.classify_probs([np.zeros((20, 60, 3), np.uint8)] * 3)
    assert probs["region"].shape == (3, len(classifier.regions)) and probs["state"].shape == (3, 4)
    assert np.allclose(probs["lines"].sum(axis=1), 1, atol=1e-5)
    assert classifier(records[0].image_path) == results[0]


def test_eval_classify_prints_confusion_matrices(tiny_model, states_set, tmp_path, capsys):
    broken = tmp_path / "broken"
    records = load_split(states_set, "test")
    picked = [next(r for r in records if r.state == s) for s in STATES] + [r for r in records if r.state == "readable"][1:3]
    for record in picked:
        for kind, path in (("ann", record.ann_path), ("img", record.image_path)):
            (broken / "test" / kind).mkdir(parents=True, exist_ok=True)
            (broken / "test" / kind / path.name).write_bytes(path.read_bytes())
    victim = broken / "test" / "img" / picked[0].image_path.name
    victim.write_bytes(victim.read_bytes()[:100])  # truncated: reported, the run goes on
    assert main(["eval", "classify", "--data", str(broken), "--model", str(tiny_model), "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert "5 crops" in captured.out and "crops/s" in captured.out
    assert "state (rows: truth, columns: prediction)" in captured.out and "readable" in captured.out
    assert victim.name in captured.err and "truncated" in captured.err
    assert main(["eval", "classify", "--data", str(states_set), "--model", str(tiny_model), "--format", "json",
                 "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[0])
    assert result["crops"] == 32 and set(result["confusion"]) == {"region", "lines", "state"}
    assert 0 <= result["state_acc"] <= 1


def test_corrupt_or_missing_model_gives_a_clear_error(tiny_model, tmp_path):
    copy = tmp_path / "m.onnx"
    copy.write_bytes(tiny_model.read_bytes()[:-10] + b"0123456789")
    copy.with_suffix(".json").write_bytes(tiny_model.with_suffix(".json").read_bytes())
    with pytest.raises(WeightsError, match="corrupt"):
        Classifier(copy)
    with pytest.raises(WeightsError, match="not found"):
        Classifier(tmp_path / "nothing.onnx")
    card = json.loads(copy.with_suffix(".json").read_text())
    card["task"] = "ocr"
    copy.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="expected a 'classify' model"):
        Classifier(copy)


# -- the shipped model ------------------------------------------------------------------------------------
SHIPPED = any(c["name"] == "classifier-plates" for c in list_shipped_models("classify"))


@pytest.mark.skipif(not SHIPPED, reason="classifier-plates is not shipped")
def test_shipped_classifier_knows_plates_from_garbage():
    from numberplate.synth.augment import capture
    from numberplate.synth.fonts import FontBook
    from numberplate.synth.render import render_plate
    from numberplate.synth.states import _as_plate, _procedural_patch

    fonts, rng = FontBook(), np.random.default_rng(4242)
    plates, types = [], ("ua-2015", "de", "pl", "us", "br-mercosur", "ru", "fr", "nl")
    for index, code in enumerate(types):
        spec = get_spec(code)
        text = spec.sample_text(random.Random(index))
        plates.append(capture(render_plate(spec, text, rng, fonts, px_per_mm=1.0), rng, out_height=60))
    garbage = [capture(_as_plate(_procedural_patch(rng, fonts)[0]), rng) for _ in range(8)]
    classifier = Classifier(threads=1)
    plate_results = classifier.classify_batch(plates)
    garbage_results = classifier.classify_batch(garbage)
    assert sum(r.state == "readable" for r in plate_results) >= 7, plate_results
    assert sum(r.country == get_spec(t).country for r, t in zip(plate_results, types)) >= 6, plate_results
    assert sum(r.state == "garbage" for r in garbage_results) >= 7, garbage_results
    assert all(r.region == "unknown" for r in garbage_results if r.state == "garbage")
    for result in plate_results:  # the runners-up: other countries, most probable first, probabilities that add up
        others = [c for c, _ in result.next_countries]
        probs = [p for _, p in result.next_countries]
        assert len(others) == 3 and result.country not in others and len(set(others)) == 3
        assert probs == sorted(probs, reverse=True) and result.country_confidence + sum(probs) <= 1 + 1e-5


def test_a_dim_crops_region_comes_from_the_crop_stretched_and_its_state_from_the_crop_as_it_is():
    from numberplate.stages.recognize import stretch_contrast

    rng = np.random.default_rng(7)
    bright = rng.integers(0, 256, (40, 160, 3), dtype=np.uint8)
    dim = (60 + bright // 5).astype(np.uint8)  # grey levels span ~50
    plain, stretching = Classifier(threads=1, region_min_contrast=0), Classifier(threads=1, region_min_contrast=120)
    both = stretching.classify_probs([bright, dim])
    as_is = plain.classify_probs([bright, dim])
    resized = np.stack([resize_crop(dim, plain.height, plain.width)])
    stretched = plain.classify_probs([stretch_contrast(resized, 120)[0]])
    # The bright crop is read as it is; the dim one's region from its stretched picture, the rest as it is.
    for head in ("region", "lines", "state"):
        assert np.allclose(both[head][0], as_is[head][0], atol=1e-6)
    assert np.allclose(both["region"][1], stretched["region"][0], atol=1e-6)
    assert not np.allclose(both["region"][1], as_is["region"][1], atol=1e-3)
    assert np.allclose(both["state"][1], as_is["state"][1], atol=1e-6)
    assert np.allclose(both["lines"][1], as_is["lines"][1], atol=1e-6)


@pytest.mark.parametrize("fresh", [False, True])
def test_init_from_keeps_the_region_rows_of_known_classes_unless_asked_afresh(tiny_run, states_set, fresh):
    start = torch.load(tiny_run / "best.pt", weights_only=False)
    old_regions, old_rows = start["task"]["regions"], start["model"]["region.weight"]
    config = ClassifyTrainConfig(data=[ClassifySource(str(states_set))], regions=[old_regions[1], "xx"],
                                 init_from=str(tiny_run / "best.pt"), fresh_region_head=fresh,
                                 model=ClassifierConfig(widths=(8, 8, 16, 16)))
    task = ClassifyTask(config)
    rows = task.build_model().state_dict()["region.weight"]
    assert task.regions == [old_regions[1], "xx", "unknown"]
    kept = [torch.equal(rows[i], old_rows[old_regions.index(r)]) for i, r in enumerate(task.regions) if r != "xx"]
    assert kept == [not fresh, not fresh]


def test_init_from_exported_onnx_with_other_classes_keeps_the_trunk(tiny_model, states_set):
    config = ClassifyTrainConfig(data=[ClassifySource(str(states_set))], regions=["de", "ua"],
                                 init_from=str(tiny_model), model=ClassifierConfig(widths=(8, 8, 16, 16)))
    model = ClassifyTask(config).build_model()
    assert model.region.out_features == 3
    # The exported lines head survives the round trip: same probabilities as ONNX Runtime on a crop.
    loaded = Classifier(tiny_model, threads=1).model
    crop = torch.rand(1, 3, loaded.card["input"]["height"], loaded.card["input"]["width"])
    expected = loaded.run_all(crop.numpy())
    model.eval()
    with torch.no_grad():
        lines = model(crop)[1].softmax(-1).numpy()
    assert np.abs(lines - expected[1]).max() < 1e-4


@pytest.mark.skipif(not SHIPPED, reason="classifier-plates is not shipped")
def test_the_plates_shape_in_the_photo_weighs_types_by_their_size(monkeypatch):
    classifier = Classifier(threads=1)
    us, br = classifier.regions.index("us"), classifier.regions.index("br")
    weights = classifier.shape_weights(400 / 130)  # a grey Brazilian plate's width over height
    assert weights[br] == pytest.approx(1.0) and weights[us] < 0.05
    assert classifier.shape_weights(2.0)[us] == pytest.approx(1.0, abs=0.01)
    if "je" in classifier.regions:  # a class learnt from data, no spec, no known shape: never penalised
        assert classifier.shape_weights(3.1)[classifier.regions.index("je")] == pytest.approx(1.0)

    def unsure(crops):  # the model torn between an American and a Brazilian plate
        region = np.zeros((len(crops), len(classifier.regions)), np.float32)
        region[:, us], region[:, br] = 0.6, 0.4
        return {"region": region, "lines": np.tile([[1.0, 0.0, 0.0]], (len(crops), 1)),
                "state": np.tile(np.eye(len(classifier.states))[classifier.states.index("readable")], (len(crops), 1))}

    monkeypatch.setattr(classifier, "classify_probs", unsure)
    crops = [np.zeros((40, 120, 3), np.uint8)] * 3
    shaped = classifier.classify_batch(crops, [3.2, 2.1, None])
    assert [c.region for c in shaped] == ["br", "us", "us"]  # the long plate is Brazilian; unknown shape: as is
    assert shaped[2].region_confidence == pytest.approx(0.6)
    assert [c.region for c in classifier.classify_batch(crops)] == ["us"] * 3
    classifier.shape_sigma = None
    assert [c.region for c in classifier.classify_batch(crops, [3.2, 2.1, None])] == ["us"] * 3
    with pytest.raises(ValueError, match="3 crops but 1 aspects"):
        Classifier(threads=1).classify_batch(crops, [2.0])


def test_a_crop_in_doubt_between_a_blank_plate_and_garbage_is_called_garbage(monkeypatch):
    classifier = Classifier(threads=1)
    assert classifier.garbage_bias == GARBAGE_BIAS > 0
    empty, garbage = classifier.states.index("empty"), classifier.states.index("garbage")

    def torn(crops):  # 0.6 a blank plate, 0.35 not a plate; then clearly blank
        state = np.zeros((len(crops), len(classifier.states)), np.float32)
        state[0, empty], state[0, garbage] = 0.6, 0.35
        state[1, empty], state[1, garbage] = 0.97, 0.01
        state[:, classifier.states.index("readable")] = 1.0 - state.sum(axis=1)
        return {"region": np.tile(np.eye(len(classifier.regions))[0], (len(crops), 1)),
                "lines": np.tile([[1.0, 0.0, 0.0]], (len(crops), 1)), "state": state}

    monkeypatch.setattr(classifier, "classify_probs", torn)
    crops = [np.zeros((40, 120, 3), np.uint8)] * 2
    doubtful, blank = classifier.classify_batch(crops)
    assert doubtful.state == "garbage" and blank.state == "empty"
    weighed = 0.35 * np.exp(GARBAGE_BIAS)
    assert doubtful.state_confidence == pytest.approx(weighed / (weighed + 0.6 + 0.05), rel=1e-5)
    classifier.garbage_bias = 0.0  # the model's own argmax
    assert [c.state for c in classifier.classify_batch(crops)] == ["empty", "empty"]


def test_a_start_model_keeps_the_region_rows_of_the_classes_both_lists_have():
    import torch

    from numberplate.train.classify import region_rows

    old = {"region.weight": torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), "region.bias": torch.tensor([1.0, 2.0, 3.0]),
           "lines.bias": torch.tensor([9.0])}
    fresh = {"region.weight": torch.zeros(3, 2), "region.bias": torch.zeros(3), "lines.bias": torch.zeros(1)}
    rows = region_rows(fresh, old, ["ru", "ro", "ua"], ["ua", "ro-2", "ru"])
    assert set(rows) == {"region.weight", "region.bias"}  # the other heads load as they are
    assert rows["region.weight"].tolist() == [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]]
    assert rows["region.bias"].tolist() == [3.0, 0.0, 1.0]
    assert fresh["region.bias"].tolist() == [0.0, 0.0, 0.0]  # the fresh model's own tensors are not changed
