"""The registry of LoRA adapters under models/adapters/ (and the shipped ones under adapters/):
save atomically, list, find, load.

Adapters are saved in the standard peft format (so stock `PeftModel.from_pretrained` loads
them) plus `survey_sim.json` with what produced them. A second-stage adapter (`--stage2 dsa`)
was trained over its first stage merged into the base model; it carries a copy of that first
stage in `first_stage/`, which `load_adapter` merges first. Listing and finding read JSON only; peft
is imported when an adapter is applied to a model.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
import warnings
from pathlib import Path

from . import __version__
from .data.schema import DataError
from .failpoints import kill_point
from .paths import SHIPPED_ADAPTERS, adapters_dir, check_adapter_name

METADATA_FILE = "survey_sim.json"
CONFIG_FILE, WEIGHTS_FILE = "adapter_config.json", "adapter_model.safetensors"
FIRST_STAGE = "first_stage"
ADAPTER_FILES = (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE)
# The fields of survey_sim.json that the CLI, the app and the jobs read, with their JSON types.
METADATA_FIELDS = {"base_model": str, "data": str, "loss": str, "config": dict, "best": dict, "first_stage": dict}
JSON_TYPES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
              bool: "a boolean", type(None): "null"}


class AdapterError(DataError):
    """An adapter that cannot be used (a damaged or missing file, weights that do not fit the base
    model), on one line naming the folder and the file. A DataError: the CLI exits 3 for it, as for
    any unusable file, and the app shows its message."""

    def __init__(self, path: str | Path, problem: str):
        self.path, self.file, self.problems = Path(path), str(path), [problem]
        ValueError.__init__(self, f"adapter {path}: {problem}")


def save_adapter(peft_model, name: str, metadata: dict, root: str | Path | None = None,
                 first_stage: Path | None = None) -> Path:
    """Write `peft_model`'s adapter to root/name atomically; returns that path.

    The adapter is written into a hidden sibling directory first and renamed into place only
    once complete, so a crash mid-save leaves any earlier adapter of that name intact (at worst
    a `.name.tmp-*` leftover, which `list_adapters` reports). Replacing takes two renames (old
    aside, new in); a crash in the microseconds between them leaves the old one at `.name.old-*`.
    """
    check_adapter_name(name)
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
        if first_stage is not None:  # a copy, so that retraining or deleting it cannot change this one
            shutil.copytree(first_stage, tmp / FIRST_STAGE)
        kill_point("adapter-mid-save")
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
    if hasattr(value, "tolist"):  # numpy scalars and arrays, torch tensors
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
        metadata, problem = json_object(path / METADATA_FILE)
        problem = problem or fields_problem(metadata)
        config, config_problem = json_object(path / CONFIG_FILE)
        entry["metadata"] = {} if problem else metadata  # garbage is never handed on to its readers
        entry["error"] = problem or config_problem or weights_problem(path / WEIGHTS_FILE, config)
        if not entry["error"] and (path / FIRST_STAGE).is_dir():
            first = read_adapter(path / FIRST_STAGE)["error"]
            entry["error"] = first and f"its first stage ({FIRST_STAGE}/): {first}"
    return entry


def json_object(path: Path) -> tuple[dict, str | None]:
    """(the JSON object in `path`, None), or ({}, why it holds none)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # ValueError: not UTF-8, not JSON
        return {}, f"unreadable {path.name}: {err}"
    return (value, None) if isinstance(value, dict) else ({}, f"{path.name}: not a JSON object")


def fields_problem(metadata: dict) -> str | None:
    """What is wrong with survey_sim.json's fields: every reader calls .get on `config`, formats
    `best`..., so a field of another type must be caught here, not in each of them."""
    for key, kind in METADATA_FIELDS.items():
        if key in metadata and not isinstance(metadata[key], kind):
            return (f"{METADATA_FILE}: field {key!r} is {JSON_TYPES.get(type(metadata[key]), 'not JSON')}, "
                    f"expected {JSON_TYPES[kind]}")
    return None


def weights_problem(path: Path, config: dict | None = None) -> str | None:
    """Why a safetensors file cannot be read (truncated, not safetensors) or does not match the
    rank of its adapter_config.json, None if it is fine. Reads the header and checks that it
    covers the file exactly; the weights themselves stay on disk."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as weights:
            shapes = {key: weights.get_slice(key).get_shape() for key in weights.keys()}
    except (SafetensorError, OSError) as err:
        return f"unreadable weights {path.name}: {err}"
    return rank_problem(shapes, config or {}, path.name)


def rank_problem(shapes: dict[str, list[int]], config: dict, weights_name: str) -> str | None:
    """A LoRA rank in adapter_config.json other than the weights' (peft would then fail on every
    layer with a size mismatch); None where they agree, or where ranks vary by layer."""
    rank = config.get("r")
    if not isinstance(rank, int) or isinstance(rank, bool) or config.get("rank_pattern"):
        return None
    for key, shape in sorted(shapes.items()):
        parts = key.split(".")
        found = shape[0] if "lora_A" in parts else shape[-1] if "lora_B" in parts else rank
        if len(shape) == 2 and found != rank:
            return f"{CONFIG_FILE} says r={rank} but {weights_name} holds rank-{found} weights ({key})"
    return None


def check_adapter(path: Path) -> Path:
    """`path`, or an AdapterError (a ValueError) naming the adapter and what is wrong with it."""
    error = read_adapter(path)["error"]
    if error:
        raise AdapterError(path, error)
    return path


def adapter_roots(root: str | Path | None = None) -> list[Path]:
    """Where adapters are found: `root` alone if given, else models/adapters (under
    $SURVEY_SIM_MODELS if set, looked up at each call) and then the shipped adapters."""
    return [Path(root)] if root else [adapters_dir(), SHIPPED_ADAPTERS]


def list_adapters(root: str | Path | None = None, include_invalid: bool = False) -> list[dict]:
    """The adapters under root (default: `adapter_roots()`), sorted by name: dicts with name,
    path, metadata, error and shipped (True for the ones committed with the project).

    Directories that are not complete adapters are skipped with a warning naming each and why
    (or returned with their `error` set when include_invalid=True); nothing here raises. Of two
    adapters with one name, the first root's wins.
    """
    entries = {}
    for folder in adapter_roots(root):
        found = [read_adapter(path) for path in sorted(folder.iterdir()) if path.is_dir()] if folder.is_dir() else []
        bad = [e for e in found if e["error"]]
        if bad and not include_invalid:
            warnings.warn(f"skipped {len(bad)} director{'y' if len(bad) == 1 else 'ies'} under {folder} that "
                          "are not complete adapters: " + "; ".join(f"{e['name']} ({e['error']})" for e in bad),
                          stacklevel=2)
        for entry in found:
            if include_invalid or not entry["error"]:
                entries.setdefault(entry["name"], {**entry, "shipped": folder == SHIPPED_ADAPTERS})
    return sorted(entries.values(), key=lambda e: e["name"])


def shipped_adapter(base_model: str) -> dict | None:
    """The first adapter shipped with the project (adapters/) for `base_model`: the app's default
    simulator. None where there is none (or a user adapter has taken its name)."""
    matching = [e for e in list_adapters() if e["shipped"] and e["metadata"].get("base_model") == base_model]
    return matching[0] if matching else None


def adapter_path(name_or_path: str | Path, root: str | Path | None = None) -> Path:
    """A registered adapter's directory (see `adapter_roots`), or an adapter directory given by path."""
    path = Path(name_or_path).expanduser()
    candidates = [path] + [folder / str(name_or_path) for folder in adapter_roots(root)]
    for candidate in candidates:  # os.path: False, not OSError, for a name too long to be a file
        if os.path.isfile(candidate / CONFIG_FILE):
            return candidate
    for candidate in candidates[1:]:  # a registered adapter's folder that lost its config: say that
        if os.path.isdir(candidate) and not candidate.name.startswith("."):
            check_adapter(candidate)
    known = ", ".join(e["name"] for e in list_adapters(root)) or "none"
    places = " or ".join(str(folder) for folder in adapter_roots(root))
    raise FileNotFoundError(f"no adapter {str(name_or_path)!r}: neither a directory with adapter_config.json "
                            f"nor a name under {places} (registered: {known})")


def adapter_metadata(name_or_path: str | Path | None) -> dict | None:
    """A registered adapter's survey_sim.json (base model, how it was trained), None for no adapter."""
    return read_adapter(adapter_path(name_or_path))["metadata"] if name_or_path else None


def load_adapter(model, name_or_path: str | Path, root: str | Path | None = None, is_trainable: bool = False):
    """`model` with the adapter applied, as a peft PeftModel (stock `PeftModel.from_pretrained`).

    Raises AdapterError, naming the adapter, for a damaged file and for weights that do not fit
    `model` (peft's own errors are pages of size mismatches; fewer or more layers it applies in
    part, silently)."""
    from peft import PeftModel

    path = check_adapter(adapter_path(name_or_path, root))
    if (path / FIRST_STAGE).is_dir():  # a second stage: it was trained over its first stage merged in
        model = load_adapter(model, path / FIRST_STAGE).merge_and_unload()
    base = getattr(model.config, "_name_or_path", "") or "(unnamed)"
    try:
        peft_model = PeftModel.from_pretrained(model, path, is_trainable=is_trainable)
    except Exception as err:  # noqa: BLE001  (whatever peft, torch or safetensors raise: one line with the path)
        check_adapter(path)  # damaged since the check above: that is the message
        raise AdapterError(path, f"does not fit base model {base}: {first_line(err)}") from err
    if problem := keys_problem(peft_model, path / WEIGHTS_FILE):
        raise AdapterError(path, f"does not fit base model {base}: {problem}")
    return peft_model if is_trainable else peft_model.eval()


def keys_problem(peft_model, weights: Path) -> str | None:
    """Whether the file's weights are exactly the LoRA weights peft made for the model."""
    from peft import get_peft_model_state_dict
    from safetensors import safe_open

    with safe_open(weights, framework="numpy") as opened:
        in_file = set(opened.keys())
    in_model = set(get_peft_model_state_dict(peft_model))
    if extra := sorted(in_file - in_model):
        return f"{len(extra)} weights in the file have no place in the model (e.g. {extra[0]})"
    if missing := sorted(in_model - in_file):
        return f"{len(missing)} LoRA weights of the model are not in the file (e.g. {missing[0]})"
    return None


def first_line(err: Exception) -> str:
    """The informative first line of an error: torch's "Error(s) in loading state_dict" is a
    heading over one line per weight."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
    if lines[0].startswith("Error(s) in loading") and len(lines) > 1:
        return lines[1] + (f" (and {len(lines) - 2} more)" if len(lines) > 2 else "")
    return lines[0]
