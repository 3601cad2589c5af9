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
from numberplate.synth.render import _mixed_height_mask, _text_mask, display_line, render_plate  # noqa: E402


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
    assert "".join(plate.lines).replace(" ", "").replace("-", "").replace("·", "") == "".join(
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


def test_ua_multi_line_plates_are_drawn_as_issued(fonts):
    # The square plate prints region and series apart on its top line; the three-line one carries the 2015 band's
    # blue block (flag, "UA") beside its top line only, the digits and series below running the whole width.
    square = render_plate(get_spec("ua-2015-2"), "BH3978CE", np.random.default_rng(0), fonts, px_per_mm=1.0)
    assert square.lines == ["BH CE", "3978"]
    moto = render_plate(get_spec("ua-2015-3"), "BI7996AA", np.random.default_rng(0), fonts, px_per_mm=1.0)
    assert moto.lines == ["BI", "7996", "AA"]
    height = moto.image.shape[0]

    def mean_colour(top: float, bottom: float, columns: slice) -> np.ndarray:
        return moto.image[int(height * top):int(height * bottom), columns].reshape(-1, 3).mean(axis=0)

    block = mean_colour(0.2, 0.28, slice(10, 30))  # below the flag, around "UA"
    below_block = mean_colour(0.5, 0.6, slice(5, 12))  # the left edge beside the digits: plate field
    assert block[2] > block[0] + 25
    assert below_block.min() > 200
    columns = np.flatnonzero(moto.ink[int(height * 0.4):int(height * 0.6)].any(axis=0))
    width = moto.image.shape[1]
    assert abs(columns.min() - (width - 1 - columns.max())) < 12  # the digits centred on the whole plate


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


def _red(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return (r > 150) & (g < 90) & (b < 90)


def test_brazilian_grey_plates_look_like_the_real_ones(fonts):
    # Pre-Mercosur plates: a dot-like dash between the groups, tall letters filling the plate under a small
    # "UF-TOWN" line (real crops were read as American plates when ours showed short wide letters).
    spec = get_spec("br")
    assert display_line("ABC1234", spec) == "ABC·1234"
    shown = {display_line("ABC1234", spec, np.random.default_rng(seed)) for seed in range(20)}
    assert shown == {"ABC·1234", "ABC-1234"}
    plate = render_plate(spec, "ABC1234", np.random.default_rng(4), fonts, px_per_mm=1.0)
    grey = plate.image.astype(int).mean(axis=2)
    h, w = grey.shape
    inked_rows = (grey[:, w // 10:-w // 10] < grey.mean() - 40).mean(axis=1) > 0.05
    assert inked_rows[int(h * 0.2):].mean() > 0.68  # the number takes most of the height below the town line


def test_brazilian_o_is_a_rounded_rectangle_not_an_oval(fonts):
    # Real grey Brazilian plates draw O, Q and 0 with straight sides; an oval O taught the reader that a
    # straight-sided letter is a D (real OUH9191 was read DUH9191).
    font = fonts.available(("pt-sans-narrow-latin-700-normal.woff2",))[0]  # a font whose O is an oval
    oval = _text_mask("O", font, 40, fonts, 1.0)
    square = _text_mask("O", font, 40, fonts, 1.0, square="OQ0")
    assert (oval[:, 0] > 128).mean() < 0.2 and (square[:, 0] > 128).mean() > 0.5  # its leftmost column
    assert abs(square.shape[1] - oval.shape[1]) <= 0.2 * oval.shape[1]  # in the font's own box
    assert get_spec("br").style.options["square_glyphs"] == "OQ0"
    beside = _text_mask("AOB", font, 40, fonts, 1.0, square="O")
    assert beside.shape == _text_mask("AOB", font, 40, fonts, 1.0).shape  # the neighbours keep their places


def test_country_marks_tell_same_format_plates_apart(fonts):
    # SK, FR and IT share the template LL###LL; besides the band letters, the marks must differ.
    text = "BA123CD"
    plates = {code: render_plate(get_spec(code), text, np.random.default_rng(1), fonts, px_per_mm=1.0).image
              for code in ("sk", "fr", "it", "at", "dk")}
    h, w = plates["fr"].shape[:2]
    blue_right = [(img[:, -int(w * 0.05):, 2].astype(int) - img[:, -int(w * 0.05):, 0]).mean() for img in
                  (plates["fr"], plates["it"], plates["sk"])]
    assert min(blue_right[:2]) > 40 and blue_right[2] < 15  # FR/IT: a blue band on the right
    at = plates["at"]
    assert _red(at[:3, w // 5:-10]).mean() > 0.8 and _red(at[-3:, w // 5:-10]).mean() > 0.8  # red top and bottom
    assert _red(plates["sk"][3:-3, w // 5:-10]).mean() < 0.01
    dk = plates["dk"]
    assert _red(dk[h // 3:-h // 3, -8:]).any() and _red(dk[h // 3:-h // 3, w // 2 - 20:w // 2 + 20]).mean() < 0.01


def test_german_seals_sit_in_a_gap_after_the_district(fonts):
    plate = render_plate(get_spec("de"), "BAB1234", np.random.default_rng(2), fonts, px_per_mm=1.0)
    assert plate.lines == ["BAB 1234"]
    img = plate.image.astype(int)
    saturated = (img.max(axis=2) - img.min(axis=2)) > 80
    band = int(45 * 1.0) + 4
    columns = np.where(saturated[:, band:].any(axis=0))[0]
    # The coloured inspection sticker lies between text glyphs, not at the plate's ends.
    assert columns.size and 0.05 * img.shape[1] < columns.mean() < 0.5 * img.shape[1]


def test_garbage_photo_patches_are_never_plain_surfaces(tmp_path):
    # A featureless patch framed like a plate is a blank plate to any eye: it must not be labelled garbage.
    import cv2

    from numberplate.synth.states import _photo_patch, is_featureless

    rng = np.random.default_rng(0)
    photo = np.full((400, 800, 3), 120, np.uint8)
    photo[:, 400:] = rng.integers(0, 255, (400, 400, 3), dtype=np.uint8)  # right half: detail
    path = tmp_path / "half.png"
    cv2.imwrite(str(path), photo)
    patches = [_photo_patch(str(path), rng) for _ in range(60)]
    kept = [p for p in patches if p is not None]
    assert kept and not any(is_featureless(p) for p in kept)
    assert is_featureless(photo[:, :400]) and not is_featureless(photo[:, 400:])


def test_classifier_data_leaves_out_the_generic_eu_stand_in(tmp_path):
    from numberplate.data.nomeroff import load_split as load
    from numberplate.synth.states import generate_states

    generate_states(60, tmp_path / "set", seed=3, mix=(("readable", 1.0),))
    regions = {r.region for split in ("train", "val", "test") for r in load(tmp_path / "set", split)}
    assert len(regions) > 15 and not {"eu", "eu-2"} & regions
    generate_states(4, tmp_path / "eu", seed=3, regions=("eu",), mix=(("readable", 1.0),))
    assert {r.region for r in load(tmp_path / "eu", "train")} <= {"eu", "eu-2"}  # asked for by name: still there


def test_us_emblem_goes_between_the_groups_nearest_the_middle():
    from numberplate.synth.render import _mark_position

    rng = np.random.default_rng(0)
    assert _mark_position("ZYC4177", "emblem", rng) == 3  # ZYC | 4177
    assert _mark_position("604876", "emblem", rng) == 3  # no letter/digit boundary: the middle
    assert _mark_position("1A23BCD", "emblem", rng) == 4  # boundaries 1, 2, 4: 4 is nearest 3.5 (after 2)
    assert _mark_position("HK5R9C", "emblem", rng) == 3  # Missouri: HK5 | R9C, the tab between


def test_us_plates_carry_slogans_and_stickers(fonts):
    from PIL import Image, ImageDraw

    from numberplate.synth.render import _draw_us_extras

    bottoms, inked = [], 0
    for seed in range(40):
        image = Image.new("RGB", (305, 152), (240, 240, 240))
        bottoms.append(_draw_us_extras(ImageDraw.Draw(image), 305, 152, (240, 240, 240), fonts,
                                       np.random.default_rng(seed)))
        inked += int((np.abs(np.asarray(image).astype(int) - 240).sum(axis=2) > 60).mean() > 0.005)
    with_slogan = sum(b > 0 for b in bottoms)
    assert 12 <= with_slogan <= 36 and all(b == 0 or 15 <= b <= 25 for b in bottoms)
    assert inked >= 30  # scenery, slogan or a sticker on most plates


def test_a_dealer_frame_covers_the_edges_and_leaves_the_number_row(fonts):
    from numberplate.synth.render import _draw_us_frame

    worded = 0
    for seed in range(20):
        plate = np.full((152, 305, 3), 240, np.uint8)
        _draw_us_frame(plate, (40, 125), fonts, np.random.default_rng(seed))
        changed = np.abs(plate.astype(int) - 240).sum(axis=2) > 30
        assert changed[:, 0].all() and changed[:, -1].all()  # the sides
        assert changed[0].mean() > 0.7 and changed[-1].mean() > 0.7  # the top and bottom bars (and their words)
        assert not changed[40:125, 10:-10].any()  # the number's row is left alone
        # Words in the bottom bar: its middle rows hold two clearly different colours, the bar's and the words'.
        bar = plate[140:148, 10:-10].reshape(-1, 3).astype(int)
        worded += int(np.abs(bar - bar[0]).sum(axis=1).max() > 150 or np.abs(bar - bar[-1]).sum(axis=1).max() > 150)
    assert worded >= 8


def test_russian_military_plates_carry_no_flag_beside_rus(fonts):
    def flag_pixels(code: str, seed: int) -> tuple[int, int]:
        spec = get_spec(code)
        image = render_plate(spec, spec.sample_text(random.Random(seed)), np.random.default_rng(seed), fonts,
                             px_per_mm=1.0).image.astype(int)
        h, w = image.shape[:2]
        corner = image[int(h * 0.7):, int(w * 0.85):]  # under the region digits, right of "RUS"
        blue = int(((corner[:, :, 2] - corner[:, :, 0]) > 80).sum())
        red = int(((corner[:, :, 0] - corner[:, :, 2]) > 100).sum())
        return blue, red

    for seed in range(3):
        blue, red = flag_pixels("ru", seed)
        assert blue > 50 and red > 50
        assert flag_pixels("ru-military", seed) == (0, 0)


def test_russian_region_box_takes_what_follows_the_types_number(fonts):
    # Taxi `MM 000 55`, trailer `MM 0000 55`: from the text alone `AB123177` could be either split.
    def printed(code, text):
        return render_plate(get_spec(code), text, np.random.default_rng(0), fonts).lines

    assert printed("ru-taxi", "AB12377") == ["AB 123", "77"]
    assert printed("ru-taxi", "AB123177") == ["AB 123", "177"]
    assert printed("ru-trailer", "AB152477") == ["AB 1524", "77"]
    assert printed("ru-trailer", "AB1524177") == ["AB 1524", "177"]
    assert printed("ru", "A123BC777") == ["A 123 BC", "777"]


def test_a_cover_leaves_a_rim_of_the_plates_own_paint(fonts):
    # Covered edge to edge, a plate is a blank plate of the cover's colour: "filled" must look otherwise.
    from numberplate.synth.states import cover_text

    spec = get_spec("de")
    kinds = set()
    for seed in range(16):
        rng = np.random.default_rng(seed)
        plate = render_plate(spec, "BAB1234", rng, fonts, px_per_mm=1.0)
        covered, kind = cover_text(plate.image, spec, rng)
        kinds.add(kind)
        changed = np.abs(covered.astype(int) - plate.image.astype(int)).max(axis=2) > 30
        h, w = changed.shape
        band = int(w * 0.12)
        rim = np.concatenate([changed[:3, band:].ravel(), changed[-3:, band:].ravel(), changed[:, -5:].ravel()])
        assert changed[h // 3:2 * h // 3, w // 3:2 * w // 3].mean() > 0.6, kind  # the text is hidden
        assert rim.mean() < 0.5, kind  # the plate's edge is not
    assert kinds == {"paint", "tape", "sheet", "mud"}


def test_older_designs_are_drawn_as_variants_of_their_type(fonts):
    from numberplate.synth.render import period_design

    fr, gb = get_spec("fr"), get_spec("gb")
    assert fr.matches("9166SB13") and gb.matches("PWF97R") and gb.matches("BSL554")
    fni = [period_design(fr, "9166SB13", np.random.default_rng(s)) for s in range(20)]
    assert all("right-band" not in d.style.options.get("marks", ()) for d in fni)
    assert {d.style.background for d in fni} == {fr.style.background, (246, 205, 40)}  # white front, yellow rear
    assert display_line("9166SB13", fni[0]) == "9166 SB 13"
    assert period_design(fr, "AB123CD", np.random.default_rng(0)) is fr  # today's numbers: today's plate
    old = [period_design(gb, "BSL554", np.random.default_rng(s)) for s in range(60)]
    black = [d for d in old if d.style.background == (22, 22, 24)]
    assert 2 <= len(black) <= 20 and all(d.style.band is None for d in black)
    assert all("rear-yellow" not in d.style.options["marks"] for d in black)
    plate = render_plate(black[0], "BSL554", np.random.default_rng(1), fonts, px_per_mm=1.0)
    assert np.median(plate.image) < 80  # a dark plate


def test_a_covered_older_design_is_covered_where_its_text_is(fonts):
    # The plate remembers the design it was drawn in: a French FNI plate has no band, so its cover starts at
    # the left edge, not where the band of today's plates ends.
    from numberplate.synth.states import cover_text

    spec = get_spec("fr")
    for seed in range(6):
        rng = np.random.default_rng(seed)
        plate = render_plate(spec, "9166SB13", rng, fonts, px_per_mm=1.0)
        if plate.design.style.band is not None:
            continue
        covered, _ = cover_text(plate.image, plate.design, rng)
        changed = np.abs(covered.astype(int) - plate.image.astype(int)).max(axis=2) > 30
        h, w = changed.shape
        # Where today's plate has its band (the left ~9%), this one has its first character.
        assert changed[h // 3:2 * h // 3, int(w * 0.04):int(w * 0.08)].mean() > 0.4
        break
    else:
        pytest.fail("no FNI plate without its band in 6 draws")


def _text_crop(contrast: float, height: int = 20):
    """A 3-character grey crop: characters ``contrast`` grey levels darker than the plate, their ink and boxes."""
    crop = np.full((height + 10, 90, 3), 180.0, np.float32)
    ink = np.zeros(crop.shape[:2], np.float32)
    boxes = []
    for k in range(3):
        x0 = 10 + 28 * k
        ink[5:5 + height, x0:x0 + 4] = 1.0  # a vertical stroke per character
        ink[5:9, x0:x0 + 14] = 1.0  # and a bar across its top
        boxes.append((x0, 5, x0 + 14, 5 + height))
    crop[ink > 0] -= contrast
    return crop.astype(np.uint8), ink, np.array(boxes, np.float32)


def test_legibility_sees_how_far_the_characters_stand_out():
    from numberplate.synth.augment import measure_legibility

    crop, ink, boxes = _text_crop(120)
    clear = measure_legibility(crop, ink, boxes, 1.0)
    assert clear.contrast == pytest.approx(120, abs=1) and clear.height == 20 and clear.inside and clear.readable()
    crop[:, 60:] = 180  # the third character lost in glare
    washed = measure_legibility(crop, ink, boxes, 1.0)
    assert washed.contrast < 1 and not washed.readable()
    # Shrunk to a quarter on the way and enlarged again: 5 pixels of detail, too few to read.
    assert measure_legibility(*_text_crop(120), 0.25).height == 5
    assert not measure_legibility(*_text_crop(120), 0.25).readable()
    crop, ink, boxes = _text_crop(120)
    assert not measure_legibility(crop, ink, boxes + [40, 0, 40, 0], 1.0).inside  # cut off at the right edge


def test_blur_counts_as_a_coarser_resolution():
    from numberplate.synth.augment import blur_pixel_size, measure_legibility

    assert blur_pixel_size(0, 0) == 0
    assert blur_pixel_size(8, 0) == 4  # a streak counts half its length
    assert blur_pixel_size(0, 1.0) == pytest.approx(1.65)
    assert blur_pixel_size(6, 1.0) > blur_pixel_size(6, 0)
    # 20-pixel characters: sharp, readable; streaked 6 px, still readable (height 20 / hypot(1, 3));
    # streaked 8 px and shrunk to half on the way, no longer (20 / hypot(2, 4) < 6).
    crop, ink, boxes = _text_crop(120)
    assert measure_legibility(crop, ink, boxes, 1.0, blur_pixel_size(6, 0)).height == pytest.approx(20 / 10 ** 0.5)
    assert measure_legibility(crop, ink, boxes, 1.0, blur_pixel_size(6, 0)).readable()
    assert not measure_legibility(crop, ink, boxes, 0.5, blur_pixel_size(8, 0)).readable()


def test_capture_measured_makes_the_same_crop_as_capture(fonts):
    from numberplate.synth.augment import capture_measured

    plate = render_plate(get_spec("pl"), "WA12345", np.random.default_rng(1), fonts, px_per_mm=1.0)
    assert plate.ink is not None and plate.ink.shape == plate.mask.shape and plate.ink.max() == 255
    for seed in range(6):
        crop, legibility = capture_measured(plate, np.random.default_rng(seed))
        assert np.array_equal(crop, capture(plate, np.random.default_rng(seed)))
        assert legibility.contrast >= 0 and legibility.height > 0
    # 60-pixel crops: characters 25-35 px tall, less where the capture went through a smaller size on the way.
    heights = [capture_measured(plate, np.random.default_rng(seed), out_height=60)[1].height for seed in range(8)]
    assert all(5 < h < 45 for h in heights) and max(heights) > 22


def test_ocr_sets_hold_only_legible_crops(tmp_path):
    from numberplate.synth.augment import MIN_GLYPH_CONTRAST, MIN_GLYPH_HEIGHT

    out = tmp_path / "synth"
    assert main(["synth", "ocr", "--region", "br", "--count", "60", "--out", str(out), "--seed", "2"]) == 0
    anns = [json.loads(p.read_text()) for p in out.glob("*/ann/*.json")]
    assert len(anns) == 60
    for ann in anns:
        legibility = ann["legibility"]
        assert legibility["inside"] and legibility["char_height"] >= MIN_GLYPH_HEIGHT
        assert legibility["contrast"] >= MIN_GLYPH_CONTRAST


def test_drawing_into_a_folder_that_holds_a_set_warns(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["synth", "ocr", "--region", "kz", "--count", "4", "--out", str(out), "--seed", "1"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["synth", "ocr", "--region", "kz", "--count", "4", "--out", str(out), "--seed", "2"]) == 0
    assert f"{out} already holds 4 annotated items" in capsys.readouterr().err


def _marks_beside_the_number(plate) -> bool:
    """Strong ink outside the number's columns, in its rows, away from the plate's edges."""
    h, w = plate.ink.shape
    cols = np.where((plate.ink > 127).any(axis=0))[0]
    rows = np.where((plate.ink > 127).any(axis=1))[0]
    grey = plate.image.astype(np.float32).mean(axis=2)[rows.min():rows.max() + 1]
    field = np.median(grey)
    outside = np.r_[int(w * 0.04):max(int(w * 0.04), cols.min() - 3), min(w, cols.max() + 4):int(w * 0.96)]
    return bool(outside.size) and bool((np.abs(grey[:, outside] - field) > 70).mean(axis=0).max() > 0.2)


def test_us_plates_carry_marks_beside_the_number_that_are_not_part_of_it(fonts, monkeypatch):
    import numberplate.synth.render as render

    spec = get_spec("us")
    def plates():
        return [render.render_plate(spec, spec.sample_text(random.Random(seed)), np.random.default_rng(seed), fonts,
                                    px_per_mm=1.0) for seed in range(24)]
    monkeypatch.setattr(render, "US_FRAME_SHARE", 0.0)  # frames: their own test
    monkeypatch.setattr(render, "US_SIDE_MARK_SHARE", 1.0)
    marked = plates()
    monkeypatch.setattr(render, "US_SIDE_MARK_SHARE", 0.0)
    plain = plates()
    assert sum(_marks_beside_the_number(p) for p in marked) >= 18  # wear hides a few
    assert sum(_marks_beside_the_number(p) for p in plain) <= 9  # stickers and emblems, now and then

    def span(plate):  # the share of the plate's width the number takes
        cols = np.where((plate.ink > 127).any(axis=0))[0]
        return (cols.max() - cols.min()) / plate.ink.shape[1]
    # The mark takes columns of its own: the number is set in what is left, not printed over.
    assert np.mean([span(p) for p in marked]) < np.mean([span(p) for p in plain]) - 0.05


def test_a_blank_plate_is_captured_and_never_legible(fonts):
    from numberplate.synth.augment import capture_measured

    plate = render_plate(get_spec("de"), "", np.random.default_rng(2), fonts)
    crop, legibility = capture_measured(plate, np.random.default_rng(2))
    assert crop.ndim == 3 and not legibility.readable() and legibility.height == 0


def test_kazakh_letters_stand_smaller_than_the_digits_on_their_baseline(fonts):
    spec = get_spec("kz")
    font = fonts.available(spec.style.fonts)[0]
    mask = _mixed_height_mask("005 AAA", font, 40, fonts, 1.0, 0.7)
    fifth = mask.shape[1] // 5

    def ink_rows(part):
        rows = np.where(part.max(axis=1) > 128)[0]
        return rows[0], rows[-1]

    (digit_top, digit_bottom), (letter_top, letter_bottom) = ink_rows(mask[:, :fifth]), ink_rows(mask[:, -fifth:])
    assert 0.6 < (letter_bottom - letter_top + 1) / (digit_bottom - digit_top + 1) < 0.8
    assert abs(int(letter_bottom) - int(digit_bottom)) <= 2  # one baseline

    # Most plates of the type are drawn so: the letters' ink is shorter than the digits'.
    def letters_shorter(seed):
        plate = render_plate(spec, "123ABC02", np.random.default_rng(seed), fonts, px_per_mm=1.0)
        assert plate.lines == ["123 ABC", "02"]
        width = plate.ink.shape[1]
        digit_rows = (plate.ink[:, int(width * 0.15):int(width * 0.35)].max(axis=1) > 128).sum()
        letter_rows = (plate.ink[:, int(width * 0.5):int(width * 0.7)].max(axis=1) > 128).sum()
        return letter_rows < 0.85 * digit_rows

    assert sum(letters_shorter(seed) for seed in range(12)) >= 6
    for seed in range(8):  # blank plates of the type too
        assert render_plate(spec, "", np.random.default_rng(seed), fonts).lines == ["", ""]


def test_kazakh_region_digits_stand_as_tall_as_the_number_centred_in_their_box(fonts):
    # The specimen `005 AAA | 01`: region digits as tall as the number's (~70% of the plate), not half the
    # plate low in the box (the Russian box keeps its digits high, above "RUS" and the flag).
    spec = get_spec("kz")

    def ink_rows(ink, x0, x1):
        rows = np.where(ink[:, x0:x1].max(axis=1) > 128)[0]
        return rows[0], rows[-1]

    for seed in range(6):
        plate = render_plate(spec, "123ABC02", np.random.default_rng(seed), fonts, px_per_mm=1.0)
        height, width = plate.ink.shape
        box_top, box_bottom = ink_rows(plate.ink, int(width * 0.8), width)
        number_top, number_bottom = ink_rows(plate.ink, int(width * 0.1), int(width * 0.4))
        assert 0.55 < (box_bottom - box_top + 1) / height < 0.75
        assert abs((box_top + box_bottom) / 2 - height / 2) < 0.06 * height
        assert (box_bottom - box_top) >= 0.85 * (number_bottom - number_top)
    ru = render_plate(get_spec("ru"), "A123BC77", np.random.default_rng(0), fonts, px_per_mm=1.0)
    top, bottom = ink_rows(ru.ink, int(ru.ink.shape[1] * 0.8), ru.ink.shape[1])
    assert (bottom - top + 1) / ru.ink.shape[0] < 0.55
