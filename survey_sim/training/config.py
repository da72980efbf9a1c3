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


GROUPS = {  # the order of the Fine-tune form's sections and of `train --help`
    "run": "What to train", "data": "Data", "lora": "LoRA adapter", "optimiser": "Optimiser",
    "speed": "Speed", "validation": "Validation", "stage2": "Second stage (DSA)",
}


def option(default, help: str, group: str, label: str, *, trainer: str | None = None, lora: str | None = None,
           low: float | None = None, high: float | None = None, none: str | None = None, choices: str | None = None):
    """A TrainConfig field and everything said about it, in one place.

    help: the `--help` text of its flag and the Fine-tune form's tooltip. group / label: its
    section (GROUPS) and name on the form. trainer / lora: the `TrainingArguments` or peft
    `LoraConfig` argument it is passed to as is. low / high: the form's bounds. none: what None
    means, for "X | None" fields (the form's 0). choices: "datasets", "splits", "models" or
    "adapters", whose values the form offers in a list (from the manifest; the embedded models;
    the registered adapters): the app never takes a free server path for a model or an adapter.
    """
    default_kw = {"default_factory": lambda: list(default)} if isinstance(default, list) else {"default": default}
    if group not in GROUPS:
        raise ValueError(f"unknown option group {group!r}")
    return field(**default_kw, metadata={"help": help, "group": group, "label": label, "trainer": trainer,
                                         "lora": lora, "low": low, "high": high, "none": none, "choices": choices})


def without_none(kind) -> tuple[object, bool]:
    """An annotation without its "| None" (int, bool, list[str], Literal[...]), and whether None
    was allowed: what the CLI's flags and the Fine-tune form's widgets are chosen by."""
    if get_origin(kind) in (None, Literal, list):
        return kind, False
    return next(arg for arg in get_args(kind) if arg is not type(None)), True


@dataclass
class TrainConfig:
    """How to fine-tune a model into a survey simulator (defaults: Cao et al. 2025).

    Each field says what it does (`metadata["help"]`), where it is shown and where it goes; the
    CLI's flags (`survey-sim train --help`), the app's Fine-tune form and the arguments of
    transformers' Trainer and peft's LoraConfig are all made from these fields. A config is
    saved next to every adapter it produces.
    """

    name: str = option("smollm2-wvs-c1q1", "adapter name under models/adapters/ (letters, digits, '.', '_', '-')",
                       "run", "Adapter name")
    model: str = option(DEFAULT_MODEL, "base model: alias, Hugging Face id, local directory or .gguf file (the "
                                       "app's form offers the embedded models and folders under models/base/)", "run", "Base model",
                        choices="models")
    dataset: str = option("wvs", "data set of the training items (data/datasets.toml)", "data", "Training data",
                          choices="datasets")
    train_split: str = option("C1-Q1", "split of the training items, e.g. C1-Q1", "data", "Training split",
                              choices="splits")
    valid_dataset: str = option("wvs", "data set of the validation items", "data", "Validation data",
                                choices="datasets")
    valid_split: str = option("C1-Q2", "held-out items scored after every epoch (or every eval_steps); the best "
                                       "evaluation's adapter is kept", "data", "Validation split", choices="splits")
    exclude_groups: list[str] = option([], "countries (ISO codes or group names) left out of training and "
                                           "validation, e.g. a leave-countries-out fold", "data", "Excluded groups")
    group_fraction: float = option(1.0, "train on a seeded random share of the training groups, all their rows "
                                        "(data-efficiency runs; the seed is --seed)", "data", "Share of groups",
                                   low=0.01, high=1.0)
    shuffle_options: bool = option(False, "permute each question's options (and shares) every epoch, so the model "
                                          "cannot learn letter positions", "data", "Shuffle option order every epoch")
    paper_literal: bool = option(False, "train on the rows of the paper's own training file only, with its prompts "
                                        "as published (no options listed) and its letters (a code-0 answer is 'X'); "
                                        "validation prompts still list the options", "data", "The paper's prompts")
    lang: Literal["en", "zh"] | None = option(None, "prompt language", "data", "Prompt language",
                                              none="each item's own")
    chat: bool = option(False, "wrap prompts in the model's chat template", "data", "Chat template")
    loss: LossName = option("kl", "kl: KL(human || model); js: Jensen-Shannon; ce_sampled: cross-entropy on sampled "
                                  "answers; wasserstein: ordinal earth mover's distance", "optimiser", "Loss")
    objective: Literal["direct", "shift"] = option(
        "direct", "direct: the model's letter distribution is fit to the human one (the paper); shift: the `shift` "
                  "method's composition is fit instead, softmax(log prior + s * (log p(group) - log p(someone))), so "
                  "the adapter learns how a group departs from what is known without it (issue #13, method 1), and "
                  "is validated through that method", "optimiser", "Objective")
    shift_scale: float = option(1.0, "s of --objective shift: how far the model's departure moves the prior",
                                "optimiser", "Shift scale s", low=0.0, high=10.0)
    stage2: Literal["none", "dsa"] = option(
        "none", "dsa: Distribution Shift Alignment (Huang et al. 2025, our loss: training/dsa.py) after a first "
                "stage: --init-adapter is merged into the base model and a new LoRA on every linear layer of the "
                "top --stage2-layers blocks learns to move the answer between two countries of a question as the "
                "real answer moves, KL(human || model) weighted by --dsa-kl-weight kept as a regulariser",
        "stage2", "Second stage")
    init_adapter: str | None = option(None, "the first-stage adapter --stage2 dsa starts from (a name under "
                                            "models/adapters); it must have held out every group this run holds out",
                                      "stage2", "First-stage adapter", none="none", choices="adapters")
    stage2_layers: int = option(1, "how many top transformer blocks --stage2 dsa trains", "stage2", "Top blocks",
                                low=1, high=64)
    dsa_kl_weight: float = option(1.0, "weight of KL(human || model) beside the shift term in --stage2 dsa",
                                  "stage2", "KL weight", low=0.0, high=100.0)
    lora_r: int = option(8, "rank of the LoRA update", "lora", "LoRA r", lora="r", low=1, high=256)
    lora_alpha: int = option(32, "LoRA scaling numerator (the update is scaled by alpha / r)", "lora", "LoRA alpha",
                             lora="lora_alpha", low=1, high=1024)
    lora_dropout: float = option(0.05, "dropout on the LoRA input", "lora", "LoRA dropout", lora="lora_dropout",
                                 low=0.0, high=0.9)
    target_modules: list[str] = option(["q_proj", "v_proj"], "the linear layers that get a LoRA update", "lora",
                                       "Target modules", lora="target_modules")
    learning_rate: float = option(1e-4, "AdamW's learning rate (constant, as in the paper)", "optimiser",
                                  "Learning rate", trainer="learning_rate", low=1e-6, high=1e-2)
    weight_decay: float = option(0.0, "AdamW's decoupled weight decay on the LoRA weights", "optimiser",
                                 "Weight decay", trainer="weight_decay", low=0.0, high=1.0)
    batch_size: int = option(16, "training items per device and step", "optimiser", "Batch size",
                             trainer="per_device_train_batch_size", low=1, high=512)
    grad_accum: int = option(1, "steps whose gradients are summed before each update", "optimiser",
                             "Gradient accumulation", trainer="gradient_accumulation_steps", low=1, high=64)
    epochs: float = option(3.0, "passes over the training items", "optimiser", "Epochs", trainer="num_train_epochs",
                           low=0.1, high=50.0)
    max_steps: int = option(-1, "stop after this many updates (-1: by epochs)", "optimiser", "Max steps",
                            trainer="max_steps", low=-1, high=1_000_000)
    dtype: DtypeName = option("auto", "the frozen base weights' dtype: auto (bfloat16 where the hardware computes it "
                                      "natively: CUDA, or CPUs with AMX / AVX512-BF16; else float32), float32, "
                                      "bfloat16 or float16; LoRA weights, final norm, letter logits and loss stay "
                                      "float32", "speed", "Base weights' dtype")
    bf16: bool = option(False, "bfloat16 autocast over float32 weights (transformers' mixed precision)", "speed",
                        "bf16 autocast", trainer="bf16")
    compile: bool = option(True, "compile each transformer block with torch.compile (regional; compiled.py): steps "
                                 "~40% faster on CPU after a first step that compiles for 10-30 s; eager, with a "
                                 "warning, where no compiler is available", "speed", "Compile blocks")
    group_by_length: bool = option(True, "batch rows of similar prompt length (a third of the tokens of random "
                                         "batches were padding)", "speed", "Group by length")
    max_valid_items: int | None = option(400, "at each evaluation score a fixed seeded sample of this many "
                                              "validation items; the kept adapter is then scored on all of them",
                                         "validation", "Validation items", low=0, high=100_000, none="all")
    eval_steps: int | None = option(None, "evaluate (and checkpoint) every this many updates instead of every "
                                          "epoch", "validation", "Evaluate every N steps", low=0, high=1_000_000,
                                    none="every epoch")
    seed: int = option(0, "everything random: LoRA init, order, shuffling, sampling", "run", "Seed", trainer="seed",
                       low=0, high=2**31 - 1)

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
        if not 0 < self.group_fraction <= 1:
            raise ValueError(f"group_fraction must be in (0, 1], got {self.group_fraction}")
        if self.stage2 == "dsa" and not self.init_adapter:
            raise ValueError("stage2='dsa' starts from a first-stage adapter: set init_adapter (--init-adapter NAME)")
        if self.stage2 == "dsa" and self.objective != "direct":
            raise ValueError("stage2='dsa' has its own loss; use objective='direct'")
        if self.shift_scale < 0 or self.dsa_kl_weight < 0:
            raise ValueError("shift_scale and dsa_kl_weight must not be negative")
        if self.max_valid_items is not None and self.max_valid_items < 1:
            raise ValueError(f"max_valid_items must be at least 1 (or None for all), got {self.max_valid_items}")
        if not 0 <= self.seed < 2**32:  # numpy's range: found here, not after the data has loaded
            raise ValueError(f"seed must be in [0, 2**32), got {self.seed}")

    def to_dict(self) -> dict:
        return asdict(self)

    def trainer_arguments(self) -> dict:
        """The fields passed to transformers' `TrainingArguments` as they are, by its names."""
        return {f.metadata["trainer"]: getattr(self, f.name) for f in fields(self) if f.metadata["trainer"]}

    def lora_arguments(self) -> dict:
        """The fields passed to peft's `LoraConfig` as they are, by its names."""
        return {f.metadata["lora"]: getattr(self, f.name) for f in fields(self) if f.metadata["lora"]}

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def items(self, data_root=None) -> tuple[list, list]:
        """(training items, validation items) of the configured data sets and splits: the groups
        held out removed from both, then the share of groups kept (`group_fraction`)."""
        from ..data import load_dataset, select
        from ..data.splits import sample_groups

        excluded = set(self.exclude_groups)
        train = [it for it in select(load_dataset(self.dataset, root=data_root), self.train_split)
                 if it.iso3 not in excluded and it.group not in excluded]
        if self.paper_literal:  # only the rows of the paper's file carry its letters
            train = [it for it in train if it.source_letters]
        if not train:
            raise ValueError(f"no training items in {self.dataset}:{self.train_split} "
                             f"after excluding {sorted(excluded)}")
        valid = [it for it in select(load_dataset(self.valid_dataset, root=data_root), self.valid_split)
                 if it.iso3 not in excluded and it.group not in excluded]  # held-out groups stay unseen
        return sample_groups(train, self.group_fraction, self.seed) if self.group_fraction < 1 else train, valid

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
