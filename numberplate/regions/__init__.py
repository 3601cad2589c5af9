"""Plate specifications per country and plate type.

Every plate type is one :class:`RegionSpec`, registered under its type code (``"ua-2015"``,
``"ru"``, ``"de"``...). A *region code* given by a user (``--region ua``) names either one type
(``"ua-2015"``) or a whole country (``"ua"``: every UA type); :func:`resolve` turns it into specs.

All texts use one internal alphabet: digits and upper-case Latin letters, with Cyrillic look-alikes
written as their Latin twins (see :mod:`numberplate.regions.alphabet`).
"""

from numberplate.regions.alphabet import LATIN_ALPHABET, to_internal
from numberplate.regions.registry import (
    all_specs,
    country_of,
    get_spec,
    list_region_codes,
    model_family,
    reading_order,
    resolve,
)
from numberplate.regions.spec import RegionSpec

__all__ = [
    "LATIN_ALPHABET",
    "RegionSpec",
    "all_specs",
    "country_of",
    "get_spec",
    "list_region_codes",
    "model_family",
    "reading_order",
    "resolve",
    "to_internal",
]
