"""Fine-tuning a model into a survey simulator with LoRA and a distribution loss.

A transformers `Trainer` subclass: `compute_loss` scores the option letters at the last
prompt position (the same `option_logits` the scorer uses) and compares them with the human
distribution; `evaluate` scores the validation items with the simulator itself, so the
"best epoch" is chosen on the metric we report. Checkpoints, resume, gradient accumulation,
mixed precision and multi-GPU (`accelerate launch`) come from the library.
"""
from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from transformers import Trainer, TrainerCallback

from ..data.schema import SurveyItem
from ..losses import get_loss
from ..metrics import score_pairs
from ..prompts import LETTERS, build_prompt
from ..scoring import encode_prompt, letter_token_ids, option_logits
from ..simulator import Simulator
from ..compiled import eager
from .status import read_status, write_status


def shuffled(item: SurveyItem, rng: random.Random) -> SurveyItem:
    """The same item with its options (and their shares) in a random order."""
    order = list(range(item.n_options))
    rng.shuffle(order)
    letters = item.source_letters and "".join(item.source_letters[i] for i in order)
    return replace(item, options=tuple(item.options[i] for i in order), distribution=item.distribution[order],
                   source_letters=letters)


class DistributionDataset(torch.utils.data.Dataset):
    """Survey items as tokenised prompts with their answer distributions as targets, and the
    token of each option's letter (A, B, C ...; with `paper_literal`, the letters and the prompt
    of the paper's training file, which labels code-0 answers "X" and lists no options)."""

    def __init__(self, items, tokenizer, lang=None, chat=False, shuffle_options=False, seed=0, paper_literal=False):
        self.items, self.tokenizer = list(items), tokenizer
        self.lang, self.chat, self.shuffle_options, self.seed = lang, chat, shuffle_options, seed
        self.paper_literal = paper_literal
        self.letter_ids = dict(zip(LETTERS, letter_token_ids(tokenizer, len(LETTERS))))
        self.epoch = 0

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        item = self.items[index]
        if self.shuffle_options:
            item = shuffled(item, random.Random(f"{self.seed}-{self.epoch}-{index}"))
        template = "paper_literal" if self.paper_literal else "paper"
        letters = (item.source_letters if self.paper_literal and item.source_letters else LETTERS)[:item.n_options]
        prompt = build_prompt(item, lang=self.lang, chat=self.chat, tokenizer=self.tokenizer, template=template)
        return {"input_ids": encode_prompt(self.tokenizer, prompt), "target": item.distribution.tolist(),
                "letter_ids": [self.letter_ids[letter] for letter in letters]}


class Collator:
    """Left-pads prompts; pads targets with zeros and marks the real options in `mask`."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples):
        width = max(len(e["input_ids"]) for e in examples)
        n_letters = max(len(e["target"]) for e in examples)
        input_ids = torch.full((len(examples), width), self.pad_id, dtype=torch.long)  # (B, T)
        attention_mask = torch.zeros((len(examples), width), dtype=torch.long)  # (B, T)
        target = torch.zeros((len(examples), n_letters))  # (B, L)
        letter_ids = torch.zeros((len(examples), n_letters), dtype=torch.long)  # (B, L), padding masked out
        for row, e in enumerate(examples):
            n = len(e["input_ids"])
            input_ids[row, width - n:] = torch.tensor(e["input_ids"])
            attention_mask[row, width - n:] = 1
            target[row, :len(e["target"])] = torch.tensor(e["target"])
            letter_ids[row, :len(e["letter_ids"])] = torch.tensor(e["letter_ids"])
        mask = torch.arange(n_letters)[None, :] < torch.tensor([len(e["target"]) for e in examples])[:, None]
        return {"input_ids": input_ids, "attention_mask": attention_mask, "target": target, "mask": mask,
                "letter_ids": letter_ids}


class DistributionTrainer(Trainer):
    """A Trainer whose loss compares letter distributions and whose evaluation runs the simulator.

    Args (beyond Trainer's):
        loss_name: a name in `survey_sim.losses.LOSSES`.
        valid_items: SurveyItems scored by `evaluate` (metrics "eval_1-jsd", "eval_1-jsd_paper", ...).
        prompt_options: lang / chat for the validation prompts, as in training.
    """

    def __init__(self, *args, loss_name: str = "kl", valid_items=(), prompt_options=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_fn = get_loss(loss_name)
        self.valid_items = list(valid_items)
        self.prompt_options = prompt_options or {}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        target, mask = inputs["target"], inputs["mask"]  # (B, L), (B, L)
        logits = option_logits(model, inputs["input_ids"], inputs["attention_mask"], inputs["letter_ids"])  # (B, L)
        loss = self.loss_fn(logits, target.to(logits.dtype), mask)
        return (loss, {"logits": logits}) if return_outputs else loss

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        """Score the validation items with the model as it is now; log and return the means."""
        if not self.valid_items:
            return {}
        was_training = self.model.training
        self.model.eval()
        simulator = Simulator.from_model(self.model, self.processing_class, **self.prompt_options)
        with eager():  # compiled blocks are for training steps
            predictions = simulator.predict(self.valid_items, batch_size=self.args.per_device_eval_batch_size)
        self.model.train(was_training)
        scores = score_pairs([it.distribution for it in self.valid_items], predictions).mean()
        metrics = {f"{metric_key_prefix}_{name}": float(value) for name, value in scores.items()}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


class StatusCallback(TrainerCallback):
    """Progress (step, loss, validation metrics, ETA) to a status file and an optional callback."""

    def __init__(self, path: str | Path | None, progress=None):
        self.path, self.progress = path, progress
        self.started = time.time()

    def _report(self, state, **fields):
        elapsed = time.time() - self.started
        eta = elapsed / state.global_step * (state.max_steps - state.global_step) if state.global_step else None
        record = dict(step=state.global_step, max_steps=state.max_steps, epoch=state.epoch,
                      elapsed_s=round(elapsed, 1), eta_s=None if eta is None else round(eta, 1), **fields)
        if self.path is not None:
            write_status(self.path, state="running", **record)
        if self.progress is not None:
            self.progress(record)

    def on_train_begin(self, args, state, control, **kwargs):
        self.started = time.time()
        self._report(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        fields = {}
        if "loss" in logs:
            fields["loss"] = logs["loss"]
        validation = {k[5:]: v for k, v in logs.items() if k.startswith("eval_")}
        if validation:
            history = read_status(self.path).get("validation", []) if self.path else []
            fields["validation"] = [*history, {"epoch": state.epoch, "step": state.global_step, **validation}]
        if fields:
            self._report(state, **fields)


class EpochCallback(TrainerCallback):
    """Tells the dataset which epoch it is, so option shuffling differs per epoch."""

    def __init__(self, dataset: DistributionDataset):
        self.dataset = dataset

    def on_epoch_begin(self, args, state, control, **kwargs):
        self.dataset.epoch = int(state.epoch or 0)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
