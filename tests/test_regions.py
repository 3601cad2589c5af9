import random

import pytest

from numberplate.regions import (
    all_specs,
    country_of,
    get_spec,
    list_region_codes,
    model_family,
    reading_order,
    resolve,
    to_internal,
)


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.code)
def test_sampled_texts_match_their_own_format(spec):
    rng = random.Random(7)
    texts = [spec.sample_text(rng) for _ in range(300)]
    assert all(spec.matches(t) for t in texts)
    assert all(set(t) <= set(spec.alphabet) for t in texts)
    assert len(set(texts)) > 200  # really random, not one text repeated


def test_required_regions_exist():
    codes = set(list_region_codes())
    required = {"ua", "ua-2015", "ua-2004", "ua-2015-2", "ua-1995", "ru", "ru-taxi", "ru-trailer", "ru-moto",
                "by", "kz", "de", "pl", "sk", "cz", "fr", "nl", "it", "es", "lt", "lv", "ee", "at", "eu", "us",
                "br", "ar"}
    assert required <= codes


def test_formats_reject_wrong_texts():
    assert get_spec("ua-2015").matches("AA1234BB")
    assert not get_spec("ua-2015").matches("AA1234BD")  # D is no Cyrillic look-alike
    assert not get_spec("ua-2015").matches("AA12345B")
    assert get_spec("ru").matches("A123BC77") and get_spec("ru").matches("A123BC777")
    assert not get_spec("ru").matches("A123BC7")
    # Three-digit region codes are 1xx or one of the 7xx / 9xx issued; no plate has 479, 258 or 984.
    assert get_spec("ru").matches("A123BC977") and get_spec("ru").matches("A123BC171")
    assert not get_spec("ru").matches("A123BC479") and not get_spec("ru").matches("A123BC984")
    assert get_spec("ru-taxi").matches("AB123799") and not get_spec("ru-taxi").matches("AB123258")
    # Kazakh region codes run 01-20.
    assert get_spec("kz").matches("123ABC02") and get_spec("kz").matches("123AB20")
    assert not get_spec("kz").matches("123ABC21") and not get_spec("kz").matches("123ABC96")
    assert get_spec("es").matches("1234BCD") and not get_spec("es").matches("1234ABC")  # no vowels in ES
    # Romania: one-letter county is Bucharest alone, no Q; temporary plates are county + 0 + 2-5 digits.
    assert get_spec("ro").matches("CJ12ABC") and get_spec("ro").matches("B123ABC")
    assert not get_spec("ro").matches("N12ABC") and not get_spec("ro").matches("CJ12AQC")
    assert get_spec("ro-temp").matches("SB014882") and get_spec("ro-temp").matches("B0123")
    assert not get_spec("ro-temp").matches("SB114882") and not get_spec("ro-temp").matches("SB0148821")
    assert {s.code for s in resolve("ro")} == {"ro", "ro-2", "ro-temp"}


def test_two_and_three_line_visual_order():
    assert get_spec("ua-2015-2").visual_lines("BH1234CE") == ["BHCE", "1234"]
    assert get_spec("ua-2015-3").visual_lines("BI7996AA") == ["BI", "7996", "AA"]
    assert get_spec("ua-2015").visual_lines("BH1234CE") == ["BH1234CE"]
    # Kazakh square plates: digits and region on top, the two or three letters below.
    assert get_spec("kz-2").visual_lines("123ABC02") == ["12302", "ABC"]
    assert get_spec("kz-2").visual_lines("123AB17") == ["12317", "AB"]


def test_resolve_country_or_type_and_families():
    assert {s.code for s in resolve("ua")} >= {"ua-2015", "ua-2004", "ua-1995"}
    assert [s.code for s in resolve("ua-2004")] == ["ua-2004"]
    assert model_family("by") == "ru" and model_family("ua-2015") == "ua" and model_family("de") == "latin"
    with pytest.raises(KeyError, match="unknown region 'xx'"):
        resolve("xx")


def test_cyrillic_look_alikes_become_latin():
    assert to_internal("АА 1234 ВХ") == "AA1234BX"
    assert to_internal("у123кт-77") == "Y123KT77"


def test_canonical_text_undoes_the_visual_line_order():
    for code, text in (("ua-2015-2", "AA1234BC"), ("ua-2015-3", "KA0007XX"), ("ru-moto", "1234AB77"),
                       ("de-2", "WBMZ150"), ("ua-2015", "AA1234BC"), ("kz-2", "123ABC02"), ("kz-2", "123AB17")):
        spec = get_spec(code)
        assert spec.canonical_text("".join(spec.visual_lines(text))) == text
    assert get_spec("ua-2015-2").canonical_text("AABC1234") == "AA1234BC"
    assert get_spec("kz-2").canonical_text("12302ABC") == "123ABC02"  # Nomeroff: text[:3] + text[5:] + text[3:5]
    assert get_spec("kz-2").canonical_text("12317AB") == "123AB17"


def test_square_european_plates_break_at_a_group_boundary():
    assert get_spec("de-2").visual_lines("WBMZ150") == ["WBMZ", "150"]
    assert get_spec("pl-2").visual_lines("KR2928K") == ["KR", "2928K"]
    assert get_spec("de-2").count_lines == 2 and get_spec("de-2").country == "de"


def test_reading_order_of_labelled_multi_line_texts():
    assert reading_order("AA1234BC", "ua-2015-2", 2) == "AABC1234"
    assert reading_order("AA1234BC", "ua", 2) == "AABC1234"  # a country: its two-line type is found
    assert reading_order("AA1234BC", "ua", 1) == "AA1234BC"
    assert reading_order("HA1AWG", "xx", 2) == "HA1AWG"  # unknown region: as labelled
    assert country_of("ua-2015-2") == "ua" and country_of("dk") == "dk" and country_of("me") == "me"
