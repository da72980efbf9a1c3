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
from .paths import SHIPPED_ADAPTERS, adapters_dir, check_adapter_name

METADATA_FILE = "survey_sim.json"
FIRST_STAGE = "first_stage"
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", METADATA_FILE)


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
        try:
            entry["metadata"] = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
            json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            entry["error"] = f"unreadable metadata: {err}"
        else:
            entry["error"] = weights_problem(path / "adapter_model.safetensors")
            if not entry["error"] and (path / FIRST_STAGE).is_dir():
                first = read_adapter(path / FIRST_STAGE)["error"]
                entry["error"] = first and f"its first stage ({FIRST_STAGE}/): {first}"
    return entry


def weights_problem(path: Path) -> str | None:
    """Why a safetensors file cannot be read (truncated, not safetensors), None if it can. Reads
    the header and checks that it covers the file exactly; the weights themselves stay on disk."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="numpy") as weights:
            weights.keys()
    except (SafetensorError, OSError) as err:
        return f"unreadable weights {path.name}: {err}"
    return None


def check_adapter(path: Path) -> Path:
    """`path`, or a ValueError naming the adapter and what is wrong with it."""
    error = read_adapter(path)["error"]
    if error:
        raise ValueError(f"adapter {path}: {error}")
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
    for candidate in candidates:
        if (candidate / "adapter_config.json").is_file():
            return candidate
    known = ", ".join(e["name"] for e in list_adapters(root)) or "none"
    places = " or ".join(str(folder) for folder in adapter_roots(root))
    raise FileNotFoundError(f"no adapter {str(name_or_path)!r}: neither a directory with adapter_config.json "
                            f"nor a name under {places} (registered: {known})")


def adapter_metadata(name_or_path: str | Path | None) -> dict | None:
    """A registered adapter's survey_sim.json (base model, how it was trained), None for no adapter."""
    return read_adapter(adapter_path(name_or_path))["metadata"] if name_or_path else None


def load_adapter(model, name_or_path: str | Path, root: str | Path | None = None, is_trainable: bool = False):
    """`model` with the adapter applied, as a peft PeftModel (stock `PeftModel.from_pretrained`)."""
    from peft import PeftModel

    path = adapter_path(name_or_path, root)
    if (path / FIRST_STAGE).is_dir():  # a second stage: it was trained over its first stage merged in
        model = load_adapter(model, path / FIRST_STAGE).merge_and_unload()
    peft_model = PeftModel.from_pretrained(model, path, is_trainable=is_trainable)
    return peft_model if is_trainable else peft_model.eval()
