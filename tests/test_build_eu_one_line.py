"""configs/build_eu_one_line.py: country labels applied to an unlabelled crop set, near-copies kept in one split."""

import importlib.util
import json
from pathlib import Path

import numpy as np

from numberplate.data.images import write_image
from numberplate.data.nomeroff import load_split, write_record
from numberplate.data.records import OcrRecord

SCRIPT = Path(__file__).resolve().parent.parent / "configs" / "build_eu_one_line.py"


def load_script():
    spec = importlib.util.spec_from_file_location("build_eu_one_line", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def crop(seed: int, noise: float = 0.0) -> np.ndarray:
    """A 200 x 50 crop of random blocks (each seed its own look); ``noise`` makes a near-copy."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 255, (5, 20), dtype=np.uint8)
    image = np.kron(blocks, np.ones((10, 10), np.uint8)).astype(np.float32)
    image += noise * np.random.default_rng(seed + 100).standard_normal(image.shape)
    return np.repeat(np.clip(image, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def unlabelled_set(tmp_path: Path, looks: dict[str, np.ndarray], labels: dict[str, str]) -> list[str]:
    """An unlabelled crop set (train split) and a labels file beside it; returns their ``--source --labels``."""
    source = tmp_path / "eu-unlabelled"
    for name, image in looks.items():
        path = source / "train" / "img" / f"{name}.jpg"
        write_image(path, image)
        write_record(source / "train", OcrRecord(name, path, extra={"_region_style": "country"}))
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    return ["--source", str(source), "--labels", str(tmp_path / "labels.json")]


def test_labels_become_countries_and_near_copies_share_a_split(tmp_path):
    looks = {"eu-0": crop(0), "eu-1": crop(0, noise=8.0), "eu-2": crop(2), "eu-3": crop(3), "eu-4": crop(4),
             "eu-5": crop(5)}
    labels = {"eu-0.jpg": "de", "eu-1.jpg": "de", "eu-2.jpg": "de", "eu-3.jpg": "?", "eu-4.jpg": "x",
              "eu-5.jpg": "pl"}
    inputs = unlabelled_set(tmp_path, looks, labels)
    out = tmp_path / "out"
    assert load_script().main([*inputs, "--out", str(out)]) == 0
    where = {r.name: (split, r) for split in ("train", "val", "test") for r in load_split(out, split)}
    assert sorted(where) == sorted(looks)
    assert where["eu-0"][0] == where["eu-1"][0]  # the same plate twice: never one in train, one in test
    # two German groups: the first of a country trains, its second is tested
    assert {where["eu-0"][0], where["eu-2"][0]} == {"train", "test"}
    assert where["eu-5"][1].region == "pl" and where["eu-5"][1].moderated
    unsure, not_plate = where["eu-3"][1], where["eu-4"][1]
    assert (unsure.region, unsure.state, unsure.moderated) == ("", "readable", False)
    assert (not_plate.region, not_plate.state) == ("", "garbage")
    assert json.loads((out / where["eu-5"][0] / "ann" / "eu-5.json").read_text())["country"] == "pl"
    # --unlabel keeps a country's crops but not their country
    assert load_script().main([*inputs, "--out", str(tmp_path / "out2"), "--unlabel", "pl"]) == 0
    regions = {r.name: r.region for split in ("train", "val", "test") for r in load_split(tmp_path / "out2", split)}
    assert regions["eu-5"] == "" and regions["eu-0"] == "de"


def test_an_output_folder_with_a_set_in_it_is_refused(tmp_path, capsys):
    # Splits drawn again over old ones would leave a crop in two of them.
    argv = [*unlabelled_set(tmp_path, {"eu-0": crop(0)}, {"eu-0.jpg": "de"}), "--out", str(tmp_path / "out")]
    assert load_script().main(argv) == 0
    assert load_script().main(argv) == 1
    assert "output folder is not empty" in capsys.readouterr().err
    assert load_script().main([*argv, "--force"]) == 0


def test_labels_that_name_no_crop_are_an_error(tmp_path, capsys):
    inputs = unlabelled_set(tmp_path, {"eu-0": crop(0)}, {"other.jpg": "de"})
    assert load_script().main([*inputs, "--out", str(tmp_path / "out")]) == 1
    assert "no crop of its train split has a label" in capsys.readouterr().err
