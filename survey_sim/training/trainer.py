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
from ..methods import METHODS, Context, log_shares
from ..prompts import LETTERS, build_prompt, neutral_item
from ..scoring import encode_prompt, letter_token_ids, option_logits
from ..simulator import Simulator
from ..compiled import eager
from ..failpoints import kill_point
from .dsa import dsa_loss
from .shift import QuestionGroupedSampler, shift_logits
from .status import read_status, write_status


def reordered(item: SurveyItem, order: list[int]) -> SurveyItem:
    """The same item with its options (and their shares) in the given order."""
    letters = item.source_letters and "".join(item.source_letters[i] for i in order)
    options = item.options and tuple(item.options[i] for i in order)
    return replace(item, options=options, distribution=item.distribution[order], source_letters=letters)


class DistributionDataset(torch.utils.data.Dataset):
    """Survey items as tokenised prompts with their answer distributions as targets, and the
    token of each option's letter (A, B, C ...; with `paper_literal`, the letters and the prompt
    of the paper's training file, which labels code-0 answers "X" and lists no options).

    With `priors` (one per item: what is known without its group), each example also carries
    the neutral prompt of its question and the prior's log, for `--objective shift`
    (`shift.py`). Shuffled options are shuffled per question and epoch, so the rows of one
    question in a batch share their neutral prompt.
    """

    def __init__(self, items, tokenizer, lang=None, chat=False, shuffle_options=False, seed=0, paper_literal=False,
                 priors=None, with_question=False):
        self.items, self.tokenizer = list(items), tokenizer
        self.lang, self.chat, self.shuffle_options, self.seed = lang, chat, shuffle_options, seed
        self.paper_literal = paper_literal
        self.priors = None if priors is None else [np.asarray(p, dtype=float) for p in priors]
        # for --stage2 dsa: a number per question, so the loss can pair a question's rows
        questions = sorted({(it.key, it.n_options) for it in self.items}, key=str)
        self.question_index = {question: i for i, question in enumerate(questions)} if with_question else None
        self.letter_ids = dict(zip(LETTERS, letter_token_ids(tokenizer, len(LETTERS))))
        self.epoch = 0

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        item = self.items[index]
        order = list(range(item.n_options))
        if self.shuffle_options:
            random.Random(f"{self.seed}-{self.epoch}-{item.key}").shuffle(order)
            item = reordered(item, order)
        letters = (item.source_letters if self.paper_literal and item.source_letters else LETTERS)[:item.n_options]
        example = {"input_ids": self.encode(item), "target": item.distribution.tolist(),
                   "letter_ids": [self.letter_ids[letter] for letter in letters]}
        if self.priors is not None:
            example["ref_input_ids"] = self.encode(neutral_item(item))
            example["log_prior"] = log_shares(self.priors[index][order]).tolist()  # as the shift method takes it
        if self.question_index is not None:
            example["question"] = self.question_index[(item.key, item.n_options)]
        return example

    def encode(self, item: SurveyItem) -> list[int]:
        template = "paper_literal" if self.paper_literal else "paper"
        return encode_prompt(self.tokenizer, build_prompt(item, lang=self.lang, chat=self.chat,
                                                          tokenizer=self.tokenizer, template=template))


class Collator:
    """Left-pads prompts; pads targets with zeros and marks the real options in `mask`.

    Examples with a neutral prompt (`--objective shift`) add each distinct one once, after the
    B rows (`input_ids` is then (B + U, T)), with `ref_index` (B,) pointing each row at its own
    and `log_prior` (B, L)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples):
        prompts = [e["input_ids"] for e in examples]
        letters = [e["letter_ids"] for e in examples]
        batch = {}
        if "ref_input_ids" in examples[0]:
            neutral, ref_index = {}, []  # distinct neutral prompt -> its row after the B rows
            for e in examples:
                if tuple(e["ref_input_ids"]) not in neutral:
                    neutral[tuple(e["ref_input_ids"])] = len(neutral)
                    prompts.append(e["ref_input_ids"])
                    letters.append(e["letter_ids"])  # the same letters as the rows measured from it
                ref_index.append(neutral[tuple(e["ref_input_ids"])])
            batch["ref_index"] = torch.tensor(ref_index)
            batch["log_prior"] = padded([e["log_prior"] for e in examples], 0.0, torch.float)
        if "question" in examples[0]:
            batch["question"] = torch.tensor([e["question"] for e in examples])
        width = max(map(len, prompts))
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)  # (B or B + U, T)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            attention_mask[row, width - len(ids):] = 1
        target = padded([e["target"] for e in examples], 0.0, torch.float)  # (B, L)
        mask = torch.arange(target.shape[1])[None, :] < torch.tensor([len(e["target"]) for e in examples])[:, None]
        return {**batch, "input_ids": input_ids, "attention_mask": attention_mask, "target": target, "mask": mask,
                "letter_ids": padded(letters, 0, torch.long)}  # padded letters are masked out


def padded(rows: list[list], fill, dtype) -> torch.Tensor:
    """Rows of different lengths as one tensor, right-padded with `fill`."""
    out = torch.full((len(rows), max(map(len, rows))), fill, dtype=dtype)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row, dtype=dtype)
    return out


class DistributionTrainer(Trainer):
    """A Trainer whose loss compares letter distributions and whose evaluation runs the simulator.

    Args (beyond Trainer's):
        loss_name: a name in `survey_sim.losses.LOSSES`.
        valid_items: SurveyItems scored by `evaluate` (metrics "eval_1-jsd", "eval_1-jsd_paper", ...).
        prompt_options: lang / chat for the validation prompts, as in training.
        shift: for `--objective shift`, {"s": scale, "train": training items}: the loss and the
            validation go through the `shift` method's composition (`shift.py`).
        dsa_kl_weight: for `--stage2 dsa`, the weight of the KL regulariser (`dsa.py`).
    """

    def __init__(self, *args, loss_name: str = "kl", valid_items=(), prompt_options=None, shift=None,
                 dsa_kl_weight=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_fn = get_loss(loss_name)
        self.valid_items = list(valid_items)
        self.prompt_options = prompt_options or {}
        self.shift, self.dsa_kl_weight = shift, dsa_kl_weight

    def _get_train_sampler(self, train_dataset=None):
        """Both the shift objective and DSA need several countries of a question in a batch."""
        dataset = train_dataset or self.train_dataset
        if (self.shift is None and self.dsa_kl_weight is None) or not isinstance(dataset, DistributionDataset):
            return super()._get_train_sampler(train_dataset)
        lengths = [len(dataset.encode(item)) for item in dataset.items]
        return QuestionGroupedSampler([item.key for item in dataset.items], lengths, self.args.train_batch_size)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        target, mask = inputs["target"], inputs["mask"]  # (B, L), (B, L)
        logits = option_logits(model, inputs["input_ids"], inputs["attention_mask"], inputs["letter_ids"])  # (B, L)
        if "ref_index" in inputs:  # (B + U, L) -> the shift method's (B, L)
            logits = shift_logits(logits, inputs["ref_index"], inputs["log_prior"], mask, self.shift["s"])
        if "question" in inputs:
            loss = dsa_loss(logits, target.to(logits.dtype), mask, inputs["question"], self.loss_fn, self.dsa_kl_weight)
        else:
            loss = self.loss_fn(logits, target.to(logits.dtype), mask)
        return (loss, {"logits": logits}) if return_outputs else loss

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        """Score the validation items with the model as it is now; log and return the means."""
        if not self.valid_items:
            return {}
        was_training = self.model.training
        self.model.eval()
        simulator = Simulator.from_model(self.model, self.processing_class, **self.prompt_options)
        context = Context(load_simulator=lambda: simulator, batch_size=self.args.per_device_eval_batch_size)
        method = METHODS["zero_shot"]
        if self.shift is not None:  # validate what is trained: the method, not the letters alone
            method, context.train, context.params = METHODS["shift"], self.shift["train"], {"s": self.shift["s"]}
        with eager():  # compiled blocks are for training steps
            predictions = method.run(self.valid_items, context)
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

    def on_save(self, args, state, control, **kwargs):
        kill_point("checkpoint-saved")

    def on_step_end(self, args, state, control, **kwargs):
        # Every step, not only every logging step: the app's progress bar and ETA move as training
        # does (the file is a few hundred bytes, replaced atomically).
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
