"""Country strings as the survey files write them -> ISO 3166 alpha-3 codes.

Why: the sources do not use ISO names. The same country is written several ways, sometimes
within one file ("Great Britain" and "Britain", "Czech Rep." and "Czechia", "Macao SAR" and
"Macau SAR", "Taiwan ROC" and "Taiwan"), and some strings are not national samples at all
("S. Africa (Non-national sample)"). Splits, maps and per-country metrics key on the ISO code,
so that every spelling of a country lands in one place.

Policy, in this order, never guessing:
1. Non-national samples (the Pew "(Non-national sample)" rows and sub-national samples such as
   "Northern Ireland") get no code: they stay separate groups, off the map.
2. The explicit alias table `ALIASES` below, for the spellings pycountry does not know.
3. `pycountry.countries.lookup`: an exact, case-insensitive match on an ISO code or on a name,
   official name or common name. Its fuzzy `search_fuzzy` is never used: it guesses (it
   offers "Nigeria" for "Niger").
4. Otherwise None, so that a data report can show what stayed unmapped instead of dropping it
   quietly.
"""
from __future__ import annotations

import re
from functools import lru_cache

import pycountry

from ..registry import UnknownName

# Source spelling -> ISO 3166 alpha-3, for names pycountry's exact lookup does not know.
# Matched after strip() and case-folding. Keep it short: add a name only after checking it.
ALIASES: dict[str, str] = {
    "Bosnia Herzegovina": "BIH",
    "Britain": "GBR",
    "Great Britain": "GBR",
    "Czech Rep.": "CZE",
    "Hong Kong SAR": "HKG",
    # Pew drew two national samples of India over the years; both are national, so both -> IND.
    # No question in the files holds both (checked in tests/test_countries.py).
    "India (Current national sample)": "IND",
    "India (Old national sample)": "IND",
    "Ivory Coast": "CIV",
    # Not in ISO 3166. "XKX" is the user-assigned code in common use (European Commission,
    # World Bank, IMF); Natural Earth writes "-99" or "KOS", so Kosovo is not drawn on the map.
    "Kosovo": "XKX",
    "Macao SAR": "MAC",
    "Macau SAR": "MAC",
    "Palest. ter.": "PSE",  # Pew's "Palestinian territories"
    "Palestinian territories": "PSE",
    "Russia": "RUS",
    "S. Africa": "ZAF",
    "S. Korea": "KOR",
    "Taiwan ROC": "TWN",
    "Turkey": "TUR",  # ISO 3166 renamed it Türkiye in 2022
}
_ALIASES_FOLDED = {name.casefold(): code for name, code in ALIASES.items()}

# Samples of part of a country, kept as their own groups like the non-national ones. Northern
# Ireland (the WVS/EVS rows of GlobalOpinionQA) is a region of GBR, surveyed apart from Great
# Britain; giving it "GBR" would put two samples on one country.
SUB_NATIONAL: frozenset[str] = frozenset({"Northern Ireland"})
_SUB_NATIONAL_FOLDED = frozenset(name.casefold() for name in SUB_NATIONAL)

NON_NATIONAL_MARK = re.compile(r"\(\s*non-national sample\s*\)", re.IGNORECASE)

# Labels for codes pycountry lacks (XKX) or names too long for a label ("Palestine, State of").
_DISPLAY_NAMES: dict[str, str] = {"XKX": "Kosovo", "PSE": "Palestine"}


def is_non_national(name: str) -> bool:
    """True for a sample that does not stand for a whole country: "... (Non-national sample)"
    and the sub-national samples in `SUB_NATIONAL` ("Northern Ireland")."""
    return bool(NON_NATIONAL_MARK.search(name)) or name.strip().casefold() in _SUB_NATIONAL_FOLDED


@lru_cache(maxsize=1024)
def to_iso3(name: str) -> str | None:
    """ISO 3166 alpha-3 code for a country string as the sources write it.

    None for non-national samples and for strings neither the alias table nor pycountry's
    exact lookup knows. Examples: "Taiwan ROC" -> "TWN", "Niger" -> "NER",
    "S. Africa (Non-national sample)" -> None.
    """
    if is_non_national(name):
        return None
    key = name.strip()
    if not key:
        return None
    if key.casefold() in _ALIASES_FOLDED:
        return _ALIASES_FOLDED[key.casefold()]
    try:
        return pycountry.countries.lookup(key).alpha_3
    except LookupError:
        return None


@lru_cache(maxsize=None)
def display_name(iso3: str) -> str:
    """A short name for maps and labels: pycountry's common name where it has one ("Iran",
    "South Korea", "Taiwan"), else its name ("Russian Federation"). KeyError for unknown codes."""
    code = iso3.strip().upper()
    if code in _DISPLAY_NAMES:
        return _DISPLAY_NAMES[code]
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        raise UnknownName(f"{iso3!r} is not an ISO 3166 alpha-3 code known to pycountry or to survey_sim")
    return getattr(country, "common_name", None) or country.name
