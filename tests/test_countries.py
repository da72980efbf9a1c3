"""Country strings -> ISO 3166 alpha-3: the tricky names, and every string in the real files."""
import json
import re
from collections import defaultdict

import pandas as pd
import pytest

from survey_sim.data.countries import ALIASES, display_name, is_non_national, to_iso3


@pytest.mark.parametrize("name, iso3", [
    ("Great Britain", "GBR"), ("Britain", "GBR"),
    ("Taiwan ROC", "TWN"), ("Taiwan", "TWN"),
    ("Hong Kong SAR", "HKG"), ("Macao SAR", "MAC"), ("Macau SAR", "MAC"),
    ("Czech Rep.", "CZE"), ("Czechia", "CZE"),
    ("Russia", "RUS"), ("South Korea", "KOR"), ("S. Korea", "KOR"), ("S. Africa", "ZAF"),
    ("Bolivia", "BOL"), ("Iran", "IRN"), ("Vietnam", "VNM"), ("Tanzania", "TZA"), ("Turkey", "TUR"),
    ("Palestinian territories", "PSE"), ("Palest. ter.", "PSE"),
    ("Bosnia Herzegovina", "BIH"), ("North Macedonia", "MKD"), ("Puerto Rico", "PRI"),
    ("Kosovo", "XKX"),
    ("India (Current national sample)", "IND"), ("India (Old national sample)", "IND"),
    ("Niger", "NER"), ("Nigeria", "NGA"),
    ("  Great Britain ", "GBR"), ("great britain", "GBR"), ("NIGER", "NER"),
])
def test_tricky_names(name, iso3):
    assert to_iso3(name) == iso3


@pytest.mark.parametrize("name", [
    "S. Africa (Non-national sample)", "Ivory Coast (Non-national sample)", "India (Non-national sample)",
    "China (non-national sample)", "Northern Ireland",
])
def test_non_national_samples_get_no_code(name):
    assert is_non_national(name)
    assert to_iso3(name) is None


@pytest.mark.parametrize("name", ["India (Current national sample)", "Nigeria", "Ireland", "Great Britain"])
def test_national_samples_are_not_non_national(name):
    assert not is_non_national(name)


@pytest.mark.parametrize("name", ["Atlantis", "", "   ", "Nigerr", "Korea", "Congo Republic", "Male: 18-29"])
def test_unknown_strings_are_not_guessed(name):
    assert to_iso3(name) is None


def test_alias_targets_are_real_codes():
    for name, code in ALIASES.items():
        assert re.fullmatch(r"[A-Z]{3}", code), name
        assert display_name(code)


@pytest.mark.parametrize("iso3, name", [
    ("TWN", "Taiwan"), ("KOR", "South Korea"), ("IRN", "Iran"), ("BOL", "Bolivia"), ("GBR", "United Kingdom"),
    ("XKX", "Kosovo"), ("PSE", "Palestine"), ("NER", "Niger"), ("deu", "Germany"),
])
def test_display_name(iso3, name):
    assert display_name(iso3) == name


def test_display_name_rejects_unknown_codes():
    with pytest.raises(KeyError, match="QQQ"):
        display_name("QQQ")


def country_table(names) -> pd.DataFrame:
    """One row per distinct name (first-seen order): name, iso3, non_national, mapped."""
    distinct = list(dict.fromkeys(names))
    codes = [to_iso3(name) for name in distinct]
    return pd.DataFrame({
        "name": pd.Series(distinct, dtype=object),
        "iso3": pd.Series(codes, dtype=object),
        "non_national": pd.Series([is_non_national(name) for name in distinct], dtype=bool),
        "mapped": pd.Series([code is not None for code in codes], dtype=bool),
    })


def test_country_table():
    table = country_table(["Britain", "Atlantis", "Mali (Non-national sample)", "Britain", "Niger"])
    assert list(table.columns) == ["name", "iso3", "non_national", "mapped"]
    assert table["name"].tolist() == ["Britain", "Atlantis", "Mali (Non-national sample)", "Niger"]
    assert table["iso3"].tolist() == ["GBR", None, None, "NER"]
    assert table["non_national"].tolist() == [False, False, True, False]
    assert table["mapped"].tolist() == [True, False, False, True]
    assert country_table([]).empty


# --- every country string in the real files -----------------------------------------------

SIMLLM_FILES = ["custom_dataset.json", "sft_wvs_valid.json", "sft_wvs_zh_valid.json", "global_pew_test.json"]
INSTRUCTION = re.compile(r"How would someone from (.+?) answer the following question|来自(.+?)的人会如何回答以下问题")

# Strings that truly cannot be mapped. Empty: every national sample in the files has a code.
EXPECTED_UNMAPPED: list[str] = []

# ISO codes that several source spellings share, each pair checked by hand.
EXPECTED_SHARED = {
    "CZE": {"Czech Rep.", "Czechia"},
    "GBR": {"Britain", "Great Britain"},
    "IND": {"India (Current national sample)", "India (Old national sample)"},
    "KOR": {"S. Korea", "South Korea"},
    "MAC": {"Macao SAR", "Macau SAR"},
    "TWN": {"Taiwan", "Taiwan ROC"},
}


def read_rows(survey_root):
    """(file, question, country string) for every row of the five files with country strings."""
    rows = []
    for name in SIMLLM_FILES:
        for record in json.loads((survey_root / "simllm-culturedist" / name).read_text(encoding="utf-8")):
            match = INSTRUCTION.search(record["instruction"])
            assert match, f"{name}: no country in {record['instruction'][:60]!r}"
            rows.append((name, record.get("id", record["input"]), (match.group(1) or match.group(2)).strip()))
    goqa = survey_root / "globalopinionqa-subset" / "eval.json"
    for record in json.loads(goqa.read_text(encoding="utf-8")):
        rows.append(("eval.json", record["question"], record["country"].strip()))
    return rows


@pytest.fixture(scope="module")
def real_rows(survey_root):
    return read_rows(survey_root)


@pytest.mark.integration
def test_every_real_string_is_mapped_or_non_national(real_rows):
    names = sorted({country for _, _, country in real_rows})
    assert len(names) >= 131
    table = country_table(names)
    unmapped = table[~table["mapped"] & ~table["non_national"]]["name"].tolist()
    assert unmapped == EXPECTED_UNMAPPED, f"unmapped country strings: {unmapped}"
    assert not (table["mapped"] & table["non_national"]).any()
    assert table["iso3"].nunique() == len(names) - table["non_national"].sum() - sum(
        len(spellings) - 1 for spellings in EXPECTED_SHARED.values())


@pytest.mark.integration
def test_shared_codes_are_only_the_known_aliases(real_rows):
    by_code = defaultdict(set)
    for _, _, country in real_rows:
        if to_iso3(country):
            by_code[to_iso3(country)].add(country)
    shared = {code: names for code, names in sorted(by_code.items()) if len(names) > 1}
    for code, names in shared.items():
        print(f"{code} <- {sorted(names)}")
    assert shared == EXPECTED_SHARED


@pytest.mark.integration
def test_no_question_holds_two_spellings_of_one_country(real_rows):
    """So grouping a file by (question, iso3) never merges two samples."""
    seen = {}
    for file, question, country in real_rows:
        code = to_iso3(country)
        if code is not None:
            other = seen.setdefault((file, question, code), country)
            assert other == country, f"{file}: {other!r} and {country!r} answer {str(question)[:50]!r}"


@pytest.mark.integration
def test_manifest_country_splits_match_the_files(real_rows):
    from survey_sim.data.splits import country_sets

    sets = country_sets()
    wvs = {to_iso3(country) for file, _, country in real_rows if file == "sft_wvs_valid.json"}
    assert wvs == sets["C1"]
    every = {to_iso3(country) for _, _, country in real_rows} - {None}
    for name, codes in sets.items():
        assert codes <= every, f"{name}: {sorted(codes - every)} not in the files"
