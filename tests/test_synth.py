import json
import random

import numpy as np
import pytest

pytest.importorskip("PIL")

from numberplate.cli.main import main  # noqa: E402
from numberplate.data.nomeroff import load_split  # noqa: E402
from numberplate.regions import all_specs, get_spec  # noqa: E402
from numberplate.synth.augment import capture  # noqa: E402
from numberplate.synth.fonts import FontBook  # noqa: E402
from numberplate.synth.render import display_line, render_plate  # noqa: E402


@pytest.fixture(scope="module")
def fonts():
    return FontBook()


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.code)
def test_every_plate_type_renders(spec, fonts):
    rng = np.random.default_rng(3)
    text = spec.sample_text(random.Random(3))
    plate = render_plate(spec, text, rng, fonts)
    h, w = plate.image.shape[:2]
    assert plate.image.dtype == np.uint8 and plate.image.ndim == 3 and plate.mask.shape == (h, w)
    assert (plate.corners >= 0).all() and (plate.corners[:, 0] < w).all() and (plate.corners[:, 1] < h).all()
    assert plate.image.std() > 10  # something was drawn
    assert "".join(plate.lines).replace(" ", "").replace("-", "") == "".join(
        spec.visual_lines(text)) or spec.style.options.get("region_digits")
    crop = capture(plate, rng)
    assert crop.dtype == np.uint8 and crop.shape[2] == 3 and 15 <= crop.shape[0] <= 130


def test_render_draws_dark_text_on_a_light_plate(fonts):
    spec = get_spec("de")
    plate = render_plate(spec, "BMW123", np.random.default_rng(0), fonts, px_per_mm=1.0)
    middle = plate.image[plate.image.shape[0] // 2, int(plate.image.shape[1] * 0.2):int(plate.image.shape[1] * 0.9)]
    grey = middle.mean(axis=1)
    assert grey.min() < 90 and grey.max() > 150  # ink and field both present along the text line


def test_display_line_separators():
    assert display_line("AA1234BB", get_spec("ua-2015")) == "AA 1234 BB"
    assert display_line("AB123CD", get_spec("fr")) == "AB-123-CD"
    assert display_line("84022PE", get_spec("ua-1995")) == "840-22 PE"


def test_cli_writes_a_readable_dataset(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["synth", "ocr", "--region", "ua", "--region", "de", "--count", "20", "--out", str(out),
                 "--val-fraction", "0.1", "--test-fraction", "0.1", "--seed", "4"]) == 0
    train, val, test = (load_split(out, s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (16, 2, 2)
    for record in train + val + test:
        spec = get_spec(record.region)
        assert spec.country in ("ua", "de") and spec.matches(record.text)
        assert record.moderated and record.state == "readable" and record.count_lines == spec.count_lines
        assert record.image_path.is_file()
    ann = json.loads(train[0].ann_path.read_text())
    assert ann["description"] == train[0].text and ann["visual_lines"]


def test_same_seed_same_dataset(tmp_path):
    for name in ("a", "b"):
        main(["synth", "ocr", "--region", "kz", "--count", "5", "--out", str(tmp_path / name), "--seed", "9"])
    a = sorted((tmp_path / "a" / "train" / "img").iterdir())
    b = sorted((tmp_path / "b" / "train" / "img").iterdir())
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))


def test_unknown_region_is_a_clear_error(tmp_path, capsys):
    assert main(["synth", "ocr", "--region", "atlantis", "--count", "3", "--out", str(tmp_path)]) == 2
    assert "unknown region 'atlantis'" in capsys.readouterr().err
