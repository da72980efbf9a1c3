"""The training configuration: one dataclass, saved next to every adapter it produces."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Literal, get_args, get_origin, get_type_hints

from ..paths import DEFAULT_MODEL, check_adapter_name

# The names only, so that reading or validating a config never imports torch; tests check them
# against the registries they name (`losses.LOSSES`, `models.DTYPES`).
LossName = Literal["kl", "js", "ce_sampled", "wasserstein"]
DtypeName = Literal["auto", "float32", "bfloat16", "float16"]


def type_problem(value, kind) -> str | None:
    """Why `value` does not fit the annotation `kind` (None if it does). A JSON config can
    hold anything: `"exclude_groups": "ARG"` must not silently exclude nothing."""
    args = get_args(kind)
    if get_origin(kind) is Literal:
        return None if value in args else f"choose one of {', '.join(map(repr, args))}"
    if type(None) in args:  # "X | None"
        problem = value is not None and type_problem(value, next(a for a in args if a is not type(None)))
        return f"{problem}, or None" if problem else None
    if get_origin(kind) is list:
        if isinstance(value, list) and all(type_problem(v, args[0]) is None for v in value):
            return None
        return f"expected a list of {args[0].__name__}"
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return None
    return f"expected {kind.__name__}, got {type(value).__name__}"


@dataclass
class TrainConfig:
    """How to fine-tune a model into a survey simulator (defaults: Cao et al. 2025).

    Args:
        name: adapter name under models/adapters/ (letters, digits, '.', '_', '-').
        model: base model: alias, Hugging Face id, local directory or .gguf file.
        dataset / train_split: the training items, e.g. "wvs" and "C1-Q1".
        valid_dataset / valid_split: held-out items scored after every epoch; the best epoch's
            adapter is kept.
        exclude_groups: countries (ISO codes or group names) left out of training, e.g. a
            leave-countries-out fold.
        loss: "kl" (KL(human || model)), "js", "ce_sampled" or "wasserstein".
        lora_r, lora_alpha, lora_dropout, target_modules: the LoRA adapter.
        learning_rate, batch_size, grad_accum, epochs, max_steps: the optimiser (AdamW).
        shuffle_options: permute each question's options (and shares) every epoch, so the model
            cannot learn letter positions.
        paper_literal: train on the rows of the paper's own training file only, with its prompts
            as published (no options after "Here are the options:") and its letters (a code-0
            answer is "X"), to reproduce the paper's training input. Validation prompts still
            list the options.
        lang: prompt language ("en" / "zh"; None = each item's own).
        chat: wrap prompts in the chat template.
        dtype: the frozen base weights' dtype: "auto" (bfloat16 where the hardware computes it
            natively: CUDA, or CPUs with AMX / AVX512-BF16; else float32), "float32",
            "bfloat16" or "float16". The LoRA weights, the final norm, the letter logits and the
            loss stay float32 whatever this is. bf16: mixed-precision autocast over float32 weights.
        compile: compile each transformer block with `torch.compile` (regional compilation;
            compiled.py): steps ~40% faster on CPU after a first step that compiles for
            10-30 s. Falls back to eager, with a warning, where no compiler is available.
        group_by_length: batch rows of similar prompt length (transformers' length-grouped
            sampler): a third of the tokens of random batches were padding.
        max_valid_items: during training, score a fixed seeded sample of this many validation
            items at each evaluation (None: all); the kept adapter is then scored on all of them.
        eval_steps: evaluate (and checkpoint) every this many optimiser steps instead of every
            epoch; the best evaluation's adapter is kept.
        seed: everything random (LoRA init, order, shuffling, sampling).
    """

    name: str = "smollm2-wvs-c1q1"
    model: str = DEFAULT_MODEL
    dataset: str = "wvs"
    train_split: str = "C1-Q1"
    valid_dataset: str = "wvs"
    valid_split: str = "C1-Q2"
    exclude_groups: list[str] = field(default_factory=list)
    loss: LossName = "kl"
    lora_r: int = 8
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    learning_rate: float = 1e-4
    batch_size: int = 16
    grad_accum: int = 1
    epochs: float = 3.0
    max_steps: int = -1
    shuffle_options: bool = False
    paper_literal: bool = False
    lang: Literal["en", "zh"] | None = None
    chat: bool = False
    dtype: DtypeName = "auto"
    bf16: bool = False
    compile: bool = True
    group_by_length: bool = True
    max_valid_items: int | None = 400
    eval_steps: int | None = None
    seed: int = 0

    def __post_init__(self):
        for name, kind in get_type_hints(type(self)).items():
            problem = type_problem(getattr(self, name), kind)
            if problem:
                raise ValueError(f"{name}={getattr(self, name)!r}: {problem}")
        check_adapter_name(self.name)
        for name in ("lora_r", "lora_alpha", "batch_size", "grad_accum"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must be in [0, 1), got {self.lora_dropout}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ValueError("set epochs > 0 or max_steps > 0")
        if self.eval_steps is not None and self.eval_steps < 1:
            raise ValueError(f"eval_steps must be at least 1 (or None for every epoch), got {self.eval_steps}")
        if self.max_valid_items is not None and self.max_valid_items < 1:
            raise ValueError(f"max_valid_items must be at least 1 (or None for all), got {self.max_valid_items}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
