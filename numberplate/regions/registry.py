"""Lookup of plate specs by type code or country code."""

from __future__ import annotations

from functools import cache

from numberplate.regions.spec import RegionSpec

# OCR model family per country: which shipped recognizer reads it best. Everything else: "latin".
_FAMILY = {"ua": "ua", "ru": "ru", "by": "ru", "kz": "kz"}


@cache
def _registry() -> dict[str, RegionSpec]:
    from numberplate.regions.specs import SPECS

    registry: dict[str, RegionSpec] = {}
    for spec in SPECS:
        if spec.code in registry:
            raise ValueError(f"duplicate plate spec code {spec.code!r}")
        registry[spec.code] = spec
    return registry


def all_specs() -> list[RegionSpec]:
    return list(_registry().values())


def get_spec(code: str) -> RegionSpec:
    """The spec of one plate type. Raises KeyError with the known codes listed."""
    try:
        return _registry()[code.lower()]
    except KeyError:
        raise KeyError(f"unknown plate type {code!r}; known: {', '.join(sorted(_registry()))}") from None


def list_region_codes() -> list[str]:
    """Every code a user may pass as ``--region``: countries first, then plate types."""
    countries = sorted({s.country for s in all_specs()})
    types = sorted(c for c in _registry() if c not in countries)
    return countries + types


def resolve(code: str) -> list[RegionSpec]:
    """The specs a region code stands for: one type, or every type of a country.

    Raises:
        KeyError: unknown code (the message lists the known ones).
    """
    code = code.lower().strip()
    registry = _registry()
    if code in registry and registry[code].country != code:
        return [registry[code]]
    specs = [s for s in registry.values() if s.country == code]
    if not specs:
        raise KeyError(f"unknown region {code!r}; known: {', '.join(list_region_codes())}")
    return specs


def model_family(code: str) -> str:
    """The OCR model family for a region code: ``ua``, ``ru``, ``kz`` or ``latin``."""
    return _FAMILY.get(resolve(code)[0].country, "latin")


def country_of(code: str) -> str:
    """Country of a type or country code (``"ua-2015"`` -> ``"ua"``); codes we have no spec for
    (countries a classifier learned from data, e.g. ``"dk"``) are their own country."""
    spec = _registry().get(code.lower())
    return spec.country if spec else code.lower()


def reading_order(text: str, region: str, count_lines: int) -> str:
    """A canonical text in the order its lines are read top to bottom (what the recognizer sees when
    the lines of a crop are put side by side). Unchanged for one-line plates and unknown types."""
    if count_lines <= 1 or not region:
        return text
    registry = _registry()
    candidates = [registry[region.lower()]] if region.lower() in registry else []
    candidates += [s for s in registry.values() if s.country == region.lower()]
    for spec in candidates:
        if spec.count_lines == count_lines and spec.matches(text):
            return "".join(spec.visual_lines(text))
    return text
