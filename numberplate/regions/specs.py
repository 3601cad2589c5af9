"""The plate types we know. Facts and sources: ../shared/design/PLATES.md (summarised in docstrings)."""

from __future__ import annotations

from numberplate.regions.spec import PlateStyle, RegionSpec

UA_LETTERS = "ABCEHIKMOPTX"
RU_LETTERS = "ABEKMHOPCTYX"
BY_LETTERS = "ABEIKMHOPCTX"
LATIN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

SPECS: tuple[RegionSpec, ...] = (
    RegionSpec("ua-2015", "ua", "Ukraine 2015 one-line", UA_LETTERS, ("LL####LL",),
               style=PlateStyle(band="ua-2015", band_text="UA")),
    RegionSpec("ru", "ru", "Russia type 1", RU_LETTERS, ("L###LL##", "L###LL###")),
    RegionSpec("kz", "kz", "Kazakhstan 2012", LATIN_LETTERS, ("###LLL##",)),
    RegionSpec("de", "de", "Germany", LATIN_LETTERS, ("LLL####", "LLL###", "LL####", "LLL####")),
    RegionSpec("br", "br", "Brazil (old and Mercosur)", LATIN_LETTERS, ("LLL####", "LLL#L##")),
    RegionSpec("us", "us", "United States (generic)", LATIN_LETTERS, ("LLL####", "###LLL", "#LLL###")),
    RegionSpec("ar", "ar", "Argentina (old and Mercosur)", LATIN_LETTERS, ("LLL###", "LL###LL")),
)
