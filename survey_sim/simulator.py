"""A Simulator: prompts for survey items, a backend that scores them, and the prediction cache.

The backend is what turns prompts into answer distributions. `TransformersBackend`
(`scoring.py`) runs a language model; the registered `dummy` backend runs nothing (no weights,
no torch) and gives each prompt a fixed pseudo-random distribution, so the app and the CLI can
be tested in seconds. A new backend (a server, another library) is a class with the two
methods of `Backend`, added to `BACKENDS`; `Simulator.load("NAME")` then finds it.

This module is light: torch and transformers are imported only when a model backend loads.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .cache import PredictionCache, file_fingerprint
from .data.schema import Lang, SurveyItem
from .paths import ALIASES, DEFAULT_MODEL, model_file
from .prompts import Template, build_prompt
from .registry import Registry

Progress = Callable[[int, int], None]


class Backend(Protocol):
    """What a Simulator needs from whatever scores its prompts."""

    identity: str | None  # what determines its numbers besides the prompt (None: never cached)
    tokenizer: object | None  # for chat templates; None where prompts are plain text only

    def distributions(self, prompts: Sequence[str], n_options: Sequence[int], batch_size: int = 16,
                      progress: Progress | None = None) -> list[np.ndarray]:
        """The answer distribution over the first n_options[i] letters after prompts[i], in input order."""

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 80, batch_size: int = 16,
                 progress: Progress | None = None) -> list[str]:
        """Greedy continuations of the prompts (for methods that parse generated text)."""


BACKENDS: Registry[Callable[..., Backend]] = Registry("backend")


@BACKENDS.register("dummy")
class DummyBackend:
    """Deterministic and weightless, for tests and demos: each prompt's distribution is a
    Dirichlet(1, ..., 1) draw seeded by the sha256 of the prompt (and the adapter's files, when
    one is named: it must be a complete adapter, and retraining it changes the numbers)."""

    tokenizer = None

    def __init__(self, adapter: str | None = None, adapter_root=None, **_ignored):
        self.identity = "dummy"
        if adapter is not None:
            from .adapters import adapter_path, check_adapter

            self.identity += "|" + file_fingerprint(check_adapter(adapter_path(adapter, adapter_root)))

    def distributions(self, prompts, n_options, batch_size=16, progress=None) -> list[np.ndarray]:
        if len(prompts) != len(n_options):
            raise ValueError(f"{len(prompts)} prompts but {len(n_options)} option counts")
        results = []
        for prompt, k in zip(prompts, n_options, strict=True):
            seed = hashlib.sha256(f"{self.identity}\x00{prompt}".encode()).digest()
            results.append(np.random.default_rng(list(seed)).dirichlet(np.ones(k)))
        if progress is not None:
            progress(len(prompts), len(prompts))
        return results

    def generate(self, prompts, max_new_tokens=80, batch_size=16, progress=None) -> list[str]:
        raise ValueError("the dummy backend scores option letters only; it generates no text (use a model for json_zs)")


class Simulator:
    """Predicts answer distributions for survey items with a backend.

    Args:
        backend: what scores the prompts (see `Backend`); `Simulator.load` builds one by name.
        lang: prompt language; None uses each item's own language.
        chat: wrap prompts in the tokenizer's chat template (see `build_prompt`).
        template: "paper" or "lines" (first-token scoring needs a prompt ending in "(").
        cache: True (or a PredictionCache) to keep predictions on disk, keyed by the backend's
            identity and the prompt: the second request for a prompt skips the backend.
    """

    def __init__(self, backend: Backend, lang: Lang | None = None, chat: bool = False, template: Template = "paper",
                 cache: bool | PredictionCache = False):
        if template == "json":
            raise ValueError("template='json' asks for generated text; first-token scoring needs 'paper' or 'lines'")
        self.backend = backend
        self.lang, self.chat, self.template = lang, chat, template
        if backend.identity is None or cache is False:  # unknown provenance: never cached
            self.cache = None
        else:
            self.cache = PredictionCache() if cache is True else cache

    @classmethod
    def load(cls, model_name: str = DEFAULT_MODEL, adapter: str | None = None, device: str = "auto",
             dtype: str = "float32", lang: Lang | None = None, chat: bool = False, template: Template = "paper",
             adapter_root=None, cache: bool | PredictionCache = False, compile: bool = False) -> "Simulator":
        """A registered backend (`BACKENDS`, e.g. "dummy") or a language model: an alias, a Hugging
        Face id, a local folder or a .gguf file, with an optional LoRA adapter (name or folder).
        `device`, `dtype` and `compile` are as in `scoring.TransformersBackend.load`."""
        if model_name in BACKENDS:
            backend = BACKENDS[model_name](adapter=adapter, adapter_root=adapter_root)
        else:
            from .scoring import TransformersBackend

            backend = TransformersBackend.load(model_name, adapter=adapter, device=device, dtype=dtype,
                                               adapter_root=adapter_root, compile=compile)
        return cls(backend, lang=lang, chat=chat, template=template, cache=cache)

    @classmethod
    def from_model(cls, model, tokenizer, lang: Lang | None = None, chat: bool = False,
                   template: Template = "paper") -> "Simulator":
        """Wrap an already loaded transformers model (e.g. one being trained); never cached."""
        from .scoring import TransformersBackend

        return cls(TransformersBackend(model, tokenizer), lang=lang, chat=chat, template=template)

    @property
    def tokenizer(self):
        return self.backend.tokenizer

    def prompts(self, items: Sequence[SurveyItem]) -> list[str]:
        return [build_prompt(it, lang=self.lang, template=self.template, chat=self.chat, tokenizer=self.tokenizer)
                for it in items]

    def predict(self, items: Sequence[SurveyItem], batch_size: int = 16,
                progress: Progress | None = None) -> list[np.ndarray]:
        """One distribution per item, aligned with item.options, in the items' order."""
        return self.predict_prompts(self.prompts(items), [it.n_options for it in items], batch_size, progress)

    def predict_prompts(self, prompts: Sequence[str], n_options: Sequence[int], batch_size: int = 16,
                        progress: Progress | None = None) -> list[np.ndarray]:
        """Distributions of ready-made prompts (e.g. the [ctrl] method's), through the cache."""
        if self.cache is None:
            return self.backend.distributions(prompts, n_options, batch_size=batch_size, progress=progress)
        keys = [self.cache.key(self.backend.identity, p, k) for p, k in zip(prompts, n_options, strict=True)]
        found = self.cache.get_many(keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        computed = self.backend.distributions([prompts[i] for i in missing], [n_options[i] for i in missing],
                                              batch_size=batch_size, progress=progress)
        new = {keys[i]: dist for i, dist in zip(missing, computed, strict=True)}
        self.cache.put_many(new)
        found.update(new)
        return [found[key] for key in keys]


def model_identity(model_name: str, adapter_dir: Path | None, dtype: str, device_type: str) -> str:
    """What determines a model's prediction besides the prompt: the model's and adapter's files,
    dtype and device."""
    path = model_file(model_name) if model_name in ALIASES else Path(model_name).expanduser()
    model_id = file_fingerprint(path) if path.exists() else model_name  # a Hub id: its name
    adapter_id = file_fingerprint(adapter_dir) if adapter_dir else ""
    return "|".join([model_name, model_id, adapter_id, dtype, device_type])

