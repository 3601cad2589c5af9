import random

import pytest

from numberplate.regions import all_specs, get_spec, list_region_codes, model_family, resolve, to_internal


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
    assert get_spec("es").matches("1234BCD") and not get_spec("es").matches("1234ABC")  # no vowels in ES


def test_two_and_three_line_visual_order():
    assert get_spec("ua-2015-2").visual_lines("BH1234CE") == ["BHCE", "1234"]
    assert get_spec("ua-2015-3").visual_lines("BI7996AA") == ["BI", "7996", "AA"]
    assert get_spec("ua-2015").visual_lines("BH1234CE") == ["BH1234CE"]


def test_resolve_country_or_type_and_families():
    assert {s.code for s in resolve("ua")} >= {"ua-2015", "ua-2004", "ua-1995"}
    assert [s.code for s in resolve("ua-2004")] == ["ua-2004"]
    assert model_family("by") == "ru" and model_family("ua-2015") == "ua" and model_family("de") == "latin"
    with pytest.raises(KeyError, match="unknown region 'xx'"):
        resolve("xx")


def test_cyrillic_look_alikes_become_latin():
    assert to_internal("АА 1234 ВХ") == "AA1234BX"
    assert to_internal("у123кт-77") == "Y123KT77"
