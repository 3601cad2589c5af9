"""The plate types we know. Facts and sources: ../shared/design/PLATES.md (sizes, layouts, alphabets).

Texts are canonical: reading order, no separators, Cyrillic look-alikes as Latin letters.
``style.options`` keys the renderer understands:
  ``region_digits``: the trailing digits sit in a separate region box (RU, KZ); ``main_digits``: how many digits
    the number before it has, where the two meet (RU taxi 3, trailer 4), else the box takes the trailing 2-3;
    ``region_height``: (low, high) height of the region digits against the plate's, centred in the box (KZ);
  ``margin``: space above and below the text, share of the plate height (0.1 by default);
  ``separator``: what separates letter/digit groups on the plate (" " by default, "-" for FR);
  ``top_text``: small text along the top edge (US state names, BR city, AR country);
  ``stretch``: horizontal stretch of the font;
  ``letter_scale``: (low, high) height of the letters against the digits, drawn on ``letter_scale_share`` of the
    plates (KZ: smaller letters on the digits' baseline);
  ``marks``: what else tells a country's plates apart besides the band letters (drawn by the renderer):
    ``seals`` (DE registration seals after the district), ``crest`` (AT/SK coat of arms after the district),
    ``stripes`` (AT red edges), ``right-band`` (FR/IT blue band on the right), ``red-border`` (DK),
    ``flag`` (a national flag on the band instead of the EU stars: NO, IS), ``rear-yellow`` and
    ``no-band`` (GB rear plates are yellow; older ones carry no band), ``shields`` (CH: both ends), ``old-black``
    (GB before 1973: silver on black), ``fni`` (FR numbers of the pre-2009 system: no bands, yellow rear).
"""

from __future__ import annotations

from numberplate.regions.spec import PlateStyle, RegionSpec

UA_LETTERS = "ABCEHIKMOPTX"
RU_LETTERS = "ABEKMHOPCTYX"
BY_LETTERS = "ABEIKMHOPCTX"
LATIN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ES_LETTERS = "BCDFGHJKLMNPRSTVWXYZ"
RO_LETTERS = LATIN_LETTERS.replace("Q", "")  # Romania never issues Q (too like O)

WHITE, BLACK, YELLOW = (244, 244, 238), (22, 22, 24), (246, 205, 40)
FE_FONTS = ("GL-Nummernschild-Mtl.ttf", "GL-Nummernschild-Eng.ttf")
DIN_FONTS = ("OSP-DIN.ttf", "GL-Nummernschild-Eng.ttf")
GOST_FONTS = ("RoadNumbers2.0.ttf", "GL-Nummernschild-Eng.ttf")
_BR_OLD_OPTIONS = {"top_text": True, "top_share": 0.16, "top_font": "GL-Nummernschild-Mtl.ttf", "margin": 0.07,
                   "separator": ("·", "·", "-"),
                   "shade": 30, "marks": ("lacre",), "square_glyphs": "OQ0"}
GENERIC_FONTS = ("barlow-condensed-latin-600-normal.woff2", "oswald-latin-500-normal.woff2",
                 "pt-sans-narrow-latin-700-normal.woff2", "GL-Nummernschild-Eng.ttf")
# Grey Brazilian plates are lettered in "Mandatory", a DIN-like face: DIN Mittelschrift draws most of them.
_BR_OLD_FONTS = ("GL-Nummernschild-Mtl.ttf",) + GENERIC_FONTS

# Nomeroff Net's region statistics (PLATES.md §1.2), rounded: realistic UA prefixes for sampling.
UA_PREFIXES = (
    ("AA", 60), ("AE", 38), ("BH", 34), ("AI", 31), ("AX", 29), ("BC", 28), ("AH", 28), ("AP", 21),
    ("AB", 20), ("BI", 19), ("CA", 16), ("AT", 16), ("BX", 16), ("AM", 15), ("BK", 15), ("BE", 14),
    ("AC", 14), ("BA", 13), ("CB", 13), ("BB", 13), ("BM", 12), ("BO", 12), ("BT", 12), ("AO", 11),
    ("CE", 10), ("AK", 6), ("CH", 2), ("KA", 8), ("KI", 6), ("KE", 5), ("HH", 4), ("KX", 4), ("HC", 3),
    ("TT", 2), ("OO", 2), ("XX", 2), ("CC", 2),
)


def _eu(code: str, band_text: str, templates: tuple[str, ...], letters: str = LATIN_LETTERS,
        description: str = "", background=WHITE, foreground=BLACK, template_weights: tuple[float, ...] = (),
        **options) -> RegionSpec:
    return RegionSpec(code, code, description or f"{code.upper()} (EU one-line)", letters, templates,
                      template_weights=template_weights,
                      style=PlateStyle(size_mm=(520, 110), background=background, foreground=foreground, band="eu",
                                       band_text=band_text, fonts=FE_FONTS, options=options))


def _eu_square(one_line: RegionSpec, weight: float = 0.3) -> RegionSpec:
    """The two-line (square, ~340 x 200 mm) plate of a one-line European type: same text, stacked."""
    style = one_line.style
    return RegionSpec(f"{one_line.code}-2", one_line.country, f"{one_line.description}, two-line square",
                      one_line.letters, one_line.templates, template_weights=one_line.template_weights, count_lines=2,
                      style=PlateStyle(size_mm=(340, 200), background=style.background, foreground=style.foreground,
                                       band=style.band, band_text=style.band_text, fonts=style.fonts,
                                       options=style.options),
                      weight=weight)


def _de_templates() -> tuple[str, ...]:
    out = []
    for district in ("L", "LL", "LLL"):
        for letters in ("L", "LL"):
            for digits in ("#", "##", "###", "####"):
                if len(district + letters + digits) <= 8:
                    out.append(district + letters + digits)
    return tuple(out)


#: Russian region codes (PLATES.md 1.3): two digits, or three: 1xx (102 ... 199, still being issued: any two
#: digits after the 1), or one of the few 7xx and 9xx codes issued so far (Faker's list plus 702, 725, 761, 774, 790,
#: 797 and Moscow's 977). Reading "984" or "758" where the plate says "98" or "75" (the flag's colours read as a
#: digit) is a common misread of the small region box, and the format is what rules it out.
RU_SEVENS_AND_NINES = ("702", "716", "725", "750", "761", "763", "774", "777", "790", "797", "799", "977")
RU_REGION_DIGITS = ("##", "1##") + RU_SEVENS_AND_NINES
RU_REGION_WEIGHTS = (3, 1.3) + tuple(0.7 / len(RU_SEVENS_AND_NINES) for _ in RU_SEVENS_AND_NINES)

#: Kazakh region codes 01-20 (PLATES.md 1.5), drawn about evenly, after 3 digits and 3 (private) or 2 letters;
#: the one-line and the square plate carry the same texts.
KZ_REGION_DIGITS = ("0#", "1#", "20")
KZ_REGION_WEIGHTS = (9, 10, 1)
KZ_TEMPLATES = tuple(number + region for number in ("###LLL", "###LL") for region in KZ_REGION_DIGITS)
KZ_TEMPLATE_WEIGHTS = tuple(n * r for n in (4, 1) for r in KZ_REGION_WEIGHTS)


def _ro_temporary() -> tuple[str, ...]:
    """Romanian temporary ("red number") plates: the county (B, or two letters) and 3-6 digits, the first 0."""
    return tuple(county + "0" + "#" * digits for county in ("B", "LL") for digits in range(2, 6))


def _ru_regions(number: str) -> tuple[str, ...]:
    """Templates of a Russian plate type: its number part followed by each form of region code."""
    return tuple(number + region for region in RU_REGION_DIGITS)


#: UA, RU and KZ plates draw the letter O as a wider 0, which photos of plates lose; every slot of their
#: formats is a letter or a digit, so the format says which one was meant. On the Russian plates of
#: ../shared/data/detection/ru-cars (README, "Post-processing") this mends most misreads of real photos.
O_ZERO_TWINS = ("O0",)


# European one-line plates (EU band with the country letters).
_EU_ONE_LINE: tuple[RegionSpec, ...] = (
    _eu("de", "D", _de_templates(), description="Germany", marks=("seals",)),
    _eu("pl", "PL", ("LL#####", "LL####L", "LLL####", "LLL##LL", "LL###LL"), description="Poland"),
    _eu("sk", "SK", ("LL###LL",), description="Slovakia", marks=("crest",)),
    _eu("cz", "CZ", ("#L#####", "#LL####"), description="Czechia"),
    # The pre-2009 FNI numbers (`123 AB 45`: 1-4 digits, 1-3 letters, the departement) are still on the road.
    _eu("fr", "F", ("LL###LL", "####LL##", "###LL##", "###LLL##"), template_weights=(6, 1, 1, 1),
        description="France", separator="-", marks=("right-band", "fni")),
    _eu("nl", "NL", ("##LLL#", "#LLL##", "LL###L", "L###LL", "LLL##L", "##LL##", "LL##LL"), description="Netherlands",
        background=YELLOW, separator="-"),
    _eu("it", "I", ("LL###LL",), description="Italy", marks=("right-band",)),
    _eu("es", "E", ("####LLL",), letters=ES_LETTERS, description="Spain"),
    _eu("lt", "LT", ("LLL###",), description="Lithuania"),
    _eu("lv", "LV", ("LL####", "LL###"), description="Latvia", separator="-"),
    _eu("ee", "EST", ("###LLL",), description="Estonia"),
    _eu("at", "A", ("L####L", "L###LL", "LL###LL", "L##LLL", "LL####L"), description="Austria", separator="-",
        marks=("stripes", "crest")),
    _eu("eu", "EU", ("LL###LL", "LLL###", "LL####", "###LLL", "L###LL", "LL##LLL", "LLL####"),
        description="Generic Latin European plate"),
    # Other European countries (the real eu-crops set has them; the classifier learns them from here).
    _eu("dk", "DK", ("LL#####",), description="Denmark", marks=("red-border",)),
    _eu("se", "S", ("LLL###", "LLL##L"), description="Sweden"),
    _eu("no", "N", ("LL#####", "LL####"), description="Norway", marks=("flag",)),
    # Current `AB12 CDE`; the older prefix, suffix and dateless numbers stay on cars kept long.
    _eu("gb", "GB", ("LL##LLL", "LLL###", "LLL###L", "LLL##L", "L###LLL"), template_weights=(4, 1, 1, 1, 1),
        description="United Kingdom", marks=("rear-yellow", "no-band", "old-black")),
    _eu("be", "B", ("#LLL###",), description="Belgium", foreground=(160, 24, 32)),
    _eu("bg", "BG", ("LL####LL", "L####LL"), description="Bulgaria"),
    _eu("gr", "GR", ("LLL####",), description="Greece"),
    _eu("fi", "FIN", ("LLL###", "LL###"), description="Finland"),
    _eu("is", "IS", ("LL###", "LLL##", "LL#L#"), description="Iceland", foreground=(24, 56, 150),
        marks=("flag",)),
    # County (B = Bucharest alone), 2-3 digits, 3 letters: `CJ 12 ABC`, `B 123 ABC`.
    _eu("ro", "RO", ("LL##LLL", "B###LLL", "B##LLL", "LL###LLL"), template_weights=(6, 2, 2, 1),
        letters=RO_LETTERS, description="Romania"),
)


SPECS: tuple[RegionSpec, ...] = (
    # -- Ukraine ----------------------------------------------------------------------------------
    RegionSpec("ua-2015", "ua", "Ukraine, 2015 design, one line", UA_LETTERS, ("LL####LL",),
               style=PlateStyle(band="ua-2015", band_text="UA", fonts=DIN_FONTS, options={"stretch": 1.15}),
               weight=5, prefixes=UA_PREFIXES, twins=O_ZERO_TWINS),
    RegionSpec("ua-2004", "ua", "Ukraine, 2004 design (flag band), one line", UA_LETTERS, ("LL####LL",),
               style=PlateStyle(band="ua-2004", band_text="UA", fonts=DIN_FONTS, options={"stretch": 1.15}),
               weight=3, prefixes=UA_PREFIXES, twins=O_ZERO_TWINS),
    RegionSpec("ua-1995", "ua", "Ukraine, 1995 series", UA_LETTERS, ("#####LL",),
               style=PlateStyle(band="ua-2004", band_text="UA", fonts=DIN_FONTS,
                                options={"stretch": 1.15, "groups": (3, 2, 2), "group_separators": "- "}),
               weight=1, twins=O_ZERO_TWINS),
    RegionSpec("ua-taxi", "ua", "Ukraine, yellow field (buses, taxis)", UA_LETTERS, ("LL####LL",),
               style=PlateStyle(background=YELLOW, band="ua-2015", band_text="UA", fonts=DIN_FONTS,
                                options={"stretch": 1.15}), weight=0.5, prefixes=UA_PREFIXES, twins=O_ZERO_TWINS),
    RegionSpec("ua-2015-2", "ua", "Ukraine, square two-line (region+series / digits)", UA_LETTERS, ("LL####LL",),
               count_lines=2, line_slices=(((0, 2), (6, 8)), ((2, 6),)),
               style=PlateStyle(size_mm=(280, 200), band="ua-2015", band_text="UA", fonts=DIN_FONTS,
                                options={"slice_gap": True}),
               weight=0.7, prefixes=UA_PREFIXES, twins=O_ZERO_TWINS),
    RegionSpec("ua-2015-3", "ua", "Ukraine, motorcycle three-line (region / digits / series)", UA_LETTERS,
               ("LL####LL",), count_lines=3, line_slices=(((0, 2),), ((2, 6),), ((6, 8),)),
               # The blue block with the flag and "UA" stands beside the region letters only; the digits and the
               # series below run the plate's whole width (the Nomeroff specimen, PLATES.md).
               style=PlateStyle(size_mm=(220, 174), band="ua-2015", band_text="UA", fonts=DIN_FONTS,
                                options={"band_block": True, "stretch": 1.35, "margin": 0.06}), weight=0.3,
               prefixes=UA_PREFIXES, twins=O_ZERO_TWINS),
    # -- Russia -----------------------------------------------------------------------------------
    RegionSpec("ru", "ru", "Russia, type 1", RU_LETTERS, _ru_regions("L###LL"), template_weights=RU_REGION_WEIGHTS,
               style=PlateStyle(band=None, fonts=GOST_FONTS, options={"region_digits": True}), weight=6, twins=O_ZERO_TWINS),
    RegionSpec("ru-taxi", "ru", "Russia, type 1B taxi (yellow)", RU_LETTERS, _ru_regions("LL###"),
               template_weights=RU_REGION_WEIGHTS,
               style=PlateStyle(background=YELLOW, fonts=GOST_FONTS, options={"region_digits": True, "main_digits": 3}),
               weight=1, twins=O_ZERO_TWINS),
    RegionSpec("ru-trailer", "ru", "Russia, type 2 trailer", RU_LETTERS, _ru_regions("LL####"),
               template_weights=RU_REGION_WEIGHTS,
               style=PlateStyle(fonts=GOST_FONTS, options={"region_digits": True, "main_digits": 4}), weight=0.7,
               twins=O_ZERO_TWINS),
    RegionSpec("ru-military", "ru", "Russia, military (black)", RU_LETTERS, ("####LL##",),
               # No flag beside "RUS" (the Nomeroff specimen `8658 AT 50`, PLATES.md).
               style=PlateStyle(background=(25, 25, 28), foreground=(238, 238, 238), fonts=GOST_FONTS,
                                options={"region_digits": True, "rus_flag": False}), weight=0.4, twins=O_ZERO_TWINS),
    RegionSpec("ru-moto", "ru", "Russia, type 4 motorcycle (digits / letters + region)", RU_LETTERS,
               ("####LL##",), count_lines=2, line_slices=(((0, 4),), ((4, 8),)),
               style=PlateStyle(size_mm=(245, 160), fonts=GOST_FONTS), weight=0.3, twins=O_ZERO_TWINS),
    # -- Belarus, Kazakhstan ----------------------------------------------------------------------
    RegionSpec("by", "by", "Belarus, cars since 2004", BY_LETTERS, ("####LL#",),
               style=PlateStyle(band="by", band_text="BY", fonts=DIN_FONTS,
                                options={"stretch": 1.1, "groups": (4, 2, 1), "group_separators": " -"})),
    RegionSpec("kz", "kz", "Kazakhstan, 2012 design", LATIN_LETTERS, KZ_TEMPLATES,
               template_weights=KZ_TEMPLATE_WEIGHTS, twins=O_ZERO_TWINS,
               # Letters about 3/4 of the digits' height (PLATES.md 1.5, the Nomeroff specimen `005 AAA | 01`);
               # a share drawn full height in case some series differ. As in the specimen, narrow digits ~70% of
               # the plate's height and region digits as tall as them (before 2026-11-30's eighth session the
               # generator drew ~60% wide digits and a region half the plate high: the classifier named the
               # specimen Russian).
               style=PlateStyle(band="kz", band_text="KZ", fonts=FE_FONTS[::-1] + GENERIC_FONTS,
                                options={"region_digits": True, "letter_scale": (0.64, 0.8),
                                         "letter_scale_share": 0.8, "margin": 0.06,
                                         "region_height": (0.6, 0.72)})),
    # The square plate (imported cars, motorcycles): digits and region on the top line, the letters below
    # (PLATES.md 1.5; Nomeroff reorders a reading as text[:3] + text[5:] + text[3:5]).
    RegionSpec("kz-2", "kz", "Kazakhstan, two-line square (digits + region / letters)", LATIN_LETTERS,
               KZ_TEMPLATES, template_weights=KZ_TEMPLATE_WEIGHTS, count_lines=2,
               line_slices=(((0, 3), (-2, None)), ((3, -2),)), twins=O_ZERO_TWINS, weight=0.3,
               style=PlateStyle(size_mm=(280, 200), band="kz", band_text="KZ", fonts=FE_FONTS + GENERIC_FONTS,
                                options={"slice_gap": True})),
    *_EU_ONE_LINE,
    RegionSpec("ch", "ch", "Switzerland (canton + digits)", LATIN_LETTERS, ("LL######", "LL#####", "LL####", "LL###"),
               style=PlateStyle(size_mm=(500, 110), fonts=FE_FONTS[::-1] + GENERIC_FONTS, options={"marks": ("shields",)})),
    # -- European two-line (square) plates: the same texts stacked --------------------------------
    *(_eu_square(spec) for spec in _EU_ONE_LINE),
    # Romanian temporary plates (dealers' new cars, 90 days; the leasing kind carries the same text in black with
    # a red date strip at the right): `SB 014882` is read as such, not fitted to another country's format.
    RegionSpec("ro-temp", "ro", "Romania, temporary (red: county + 0 + 2-5 digits)", RO_LETTERS, _ro_temporary(),
               style=PlateStyle(size_mm=(520, 110), foreground=(186, 28, 34), band="eu", band_text="RO",
                                fonts=FE_FONTS), weight=0.1),
    # -- Americas ---------------------------------------------------------------------------------
    # Each state has its own serials; these are the ones of the common states plus every pattern that is a
    # state's standard series in the us-crops train labels (Maine ####LL, DC LL####, New Jersey LLL##L, Rhode
    # Island LL###, Illinois L###### and #######, Texas LL#L###, South Dakota #LL###, Missouri LL#L#L,
    # Alabama #L####L, Massachusetts ###LL#, Florida L###LL). Vanity plates fit none and keep their reading.
    RegionSpec("us", "us", "United States (generic state plate)", LATIN_LETTERS,
               ("LLL####", "###LLL", "#LLL###", "LLL###", "LL#####", "#LL####", "######", "LLLL##", "##L###",
                "####LL", "LL####", "LLL##L", "LL###", "L######", "LL#L###", "#LL###", "#######", "LL#L#L",
                "#L####L", "###LL#", "L###LL"),
               template_weights=(5, 3, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
               style=PlateStyle(size_mm=(305, 152), band="us", fonts=GENERIC_FONTS + FE_FONTS[1:],
                                options={"top_text": True, "separator": ""})),
    # Grey plates before Mercosur: tall letters (the "Mandatory" typeface; DIN Mittelschrift is the nearest we
    # ship, see _BR_OLD_FONTS) filling the plate, a short mid-height dash that reads as a dot, the "UF-TOWN" line
    # above, the red wire seal; paint from near-white (most daylight photos) to weathered grey.
    RegionSpec("br", "br", "Brazil, grey plate (LLL-9999)", LATIN_LETTERS, ("LLL####",),
               style=PlateStyle(size_mm=(400, 130), background=(214, 216, 214), band="br-old",
                                fonts=_BR_OLD_FONTS, options=_BR_OLD_OPTIONS),
               weight=3, twins=("O0",)),
    # Commercial vehicles (taxis, trucks) carry the same format in white on red; many real crops show it.
    RegionSpec("br-red", "br", "Brazil, red commercial plate (LLL-9999)", LATIN_LETTERS, ("LLL####",),
               style=PlateStyle(size_mm=(400, 130), background=(150, 45, 42), foreground=(235, 235, 230),
                                band="br-old", fonts=_BR_OLD_FONTS, options=_BR_OLD_OPTIONS),
               weight=1, twins=("O0",)),
    RegionSpec("br-mercosur", "br", "Brazil, Mercosur (LLL9L99)", LATIN_LETTERS, ("LLL#L##",),
               style=PlateStyle(size_mm=(400, 130), band="mercosur", band_text="BRASIL",
                                fonts=FE_FONTS + GENERIC_FONTS, options={"separator": ""})),
    RegionSpec("ar", "ar", "Argentina, black plate (LLL 999)", LATIN_LETTERS, ("LLL###",),
               style=PlateStyle(size_mm=(294, 129), background=(24, 24, 26), foreground=(240, 240, 240),
                                band="ar-old", fonts=FE_FONTS + GENERIC_FONTS, options={"top_text": True}), weight=2),
    RegionSpec("ar-mercosur", "ar", "Argentina, Mercosur (LL 999 LL)", LATIN_LETTERS, ("LL###LL",),
               style=PlateStyle(size_mm=(400, 130), band="mercosur", band_text="REPUBLICA ARGENTINA",
                                fonts=FE_FONTS + GENERIC_FONTS)),
)
