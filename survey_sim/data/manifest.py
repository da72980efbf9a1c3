"""Where the data lives: the manifest (`data/datasets.toml`) and the data root.

The survey files are never copied into the repo. The data root is looked up in this order:
an explicit path, the `SURVEY_SIM_DATA` environment variable, `../shared/surveys` beside
the project, then the user cache `~/.cache/survey-sim/surveys`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import tomllib

from ..paths import PROJECT_ROOT
from ..registry import UnknownName

MANIFEST_PATH = PROJECT_ROOT / "data" / "datasets.toml"
CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "survey-sim" / "surveys"


class DataRootNotFound(FileNotFoundError):
    pass


def candidate_roots() -> list[tuple[str, Path]]:
    """The places searched for the survey files, in order, each with where it came from."""
    found = []
    if os.environ.get("SURVEY_SIM_DATA"):
        found.append(("SURVEY_SIM_DATA", Path(os.environ["SURVEY_SIM_DATA"]).expanduser()))
    found.append(("../shared/surveys beside the project", PROJECT_ROOT.parent / "shared" / "surveys"))
    found.append(("user cache", CACHE_ROOT))
    return found


def data_root(explicit: str | Path | None = None) -> Path:
    """The first existing data root; a clear error naming every place looked at otherwise."""
    if explicit is not None:
        if not str(explicit).strip():  # Path("") is ".", the folder the command happens to run in
            raise DataRootNotFound("data root '' (given explicitly) is empty; name a folder")
        path = Path(explicit).expanduser()
        if not path.is_dir():
            raise DataRootNotFound(f"data root {path} (given explicitly) is not a directory")
        return path
    env = os.environ.get("SURVEY_SIM_DATA")
    if env and not Path(env).expanduser().is_dir():
        raise DataRootNotFound(f"SURVEY_SIM_DATA={env} is not a directory. Point it at a folder holding "
                               "the survey files (the layout of ../shared/surveys), or unset it.")
    roots = candidate_roots()
    for _, path in roots:
        if path.is_dir():
            return path
    looked = "\n  ".join(f"{path}  ({why})" for why, path in roots)
    raise DataRootNotFound(
        "No survey data found. Looked in:\n  " + looked + "\n"
        "Point SURVEY_SIM_DATA at a folder holding the survey files "
        "(the layout of ../shared/surveys), e.g. `export SURVEY_SIM_DATA=/path/to/surveys`, "
        f"or run `survey-sim data fetch` to download the files into {CACHE_ROOT}."
    )


@dataclass(frozen=True)
class DatasetSpec:
    """One entry of `data/datasets.toml`."""

    name: str
    title: str
    survey: str
    format: str
    path: str
    lang: Literal["en", "zh"]
    scale: Literal["percent", "fraction", "counts"]
    bad_rows: Literal["error", "drop"] = "error"
    source: str = ""
    licence: str = ""
    enabled: bool = True
    groups: Literal["countries", "subpopulations"] = "countries"

    def __post_init__(self):
        if self.scale not in ("percent", "fraction", "counts"):
            raise ValueError(f"{MANIFEST_PATH}: data set {self.name!r}: scale={self.scale!r} is not percent/fraction/counts")
        if self.groups not in ("countries", "subpopulations"):
            raise ValueError(f"{MANIFEST_PATH}: data set {self.name!r}: groups={self.groups!r} is not countries/subpopulations")
        if self.bad_rows not in ("error", "drop"):
            raise ValueError(f"{MANIFEST_PATH}: data set {self.name!r}: bad_rows={self.bad_rows!r} is not error/drop")
        if self.lang not in ("en", "zh"):
            raise ValueError(f"{MANIFEST_PATH}: data set {self.name!r}: lang={self.lang!r} is not en/zh")


@lru_cache(maxsize=None)
def read_manifest(path: Path = MANIFEST_PATH) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def dataset_specs(include_disabled: bool = False) -> dict[str, DatasetSpec]:
    entries = read_manifest()["datasets"]
    specs = {}
    for name, fields in entries.items():
        try:
            spec = DatasetSpec(name=name, **fields)
        except TypeError as err:  # unknown or missing key in the manifest
            raise ValueError(f"{MANIFEST_PATH}: data set {name!r}: {err}") from None
        if spec.enabled or include_disabled:
            specs[name] = spec
    return specs


@lru_cache(maxsize=None)  # asked once per prompt; the manifest is read once per process
def answered_by_countries(survey: str) -> bool:
    """Whether a survey's groups are countries (the manifest's `groups`; surveys it does not
    list, e.g. a user's upload, are taken to be by country)."""
    return all(spec.groups == "countries" for spec in dataset_specs(include_disabled=True).values()
               if spec.survey == survey)


def dataset_spec(name: str) -> DatasetSpec:
    specs = dataset_specs(include_disabled=True)
    if name not in specs:
        raise UnknownName(f"unknown data set {name!r}; known: {', '.join(sorted(specs))}")
    return specs[name]


@lru_cache(maxsize=1)  # asked once per question while the codebook is matched
def question_sets() -> dict[str, tuple[int, int]]:
    """The paper's question splits (Q1, Q2, Q3) as inclusive ranges of WVS question numbers."""
    return {name: tuple(bounds) for name, bounds in read_manifest()["splits"]["questions"].items()}
