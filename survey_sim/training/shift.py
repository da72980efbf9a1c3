"""Training through the `shift` method (`survey-sim train --objective shift`, method 1 of issue #13).

The model is not asked for a country's answer shares but for how the country departs from
anyone; what is known without the country supplies the rest:

    log q(c, x) = log prior(x) + s * (log p_model(letters | c, x) - log p_model(letters | someone, x))
    loss        = KL(human(c, x) || q(c, x))            (or any loss of `losses.py`)

prior(x) is `population_prior` of the training items with the row's own country left out (the
mean of the other training countries' answers to x), as it will be for an unseen country. Both
prompts go through the LoRA model and the gradient flows through both, so a letter bias the
adapter learns cancels as it does in the prediction. `methods.shift` computes the same q in numpy
(tested against `shift_logits`).

To score the neutral prompt once for several countries, batches are made of chunks of rows of
one question (`QuestionGroupedSampler`) and the collator sends each distinct neutral prompt
through the model once.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import torch

from ..losses import masked_log_softmax


def shift_logits(logits: torch.Tensor, ref_index: torch.Tensor, log_prior: torch.Tensor, mask: torch.Tensor,
                 s: float) -> torch.Tensor:
    """log prior + s * (log q(group) - log q(someone)) per row. (B, L)

    logits: (B + U, L) letter logits of the B rows' prompts, then of the U distinct neutral ones;
    ref_index: (B,) which neutral row each row is measured from; log_prior, mask: (B, L).
    """
    rows = ref_index.shape[0]
    log_group = masked_log_softmax(logits[:rows], mask)
    log_neutral = masked_log_softmax(logits[rows:][ref_index], mask)
    delta = torch.where(mask, log_group - log_neutral, torch.zeros_like(log_group))  # -inf - -inf is no number
    return log_prior + s * delta


class QuestionGroupedSampler(torch.utils.data.Sampler):
    """Training order in chunks of up to `per_question` rows of one question, so a batch of 16
    needs about 4 neutral prompts instead of 16; chunks of similar prompt length are batched
    together (as transformers' LengthGroupedSampler does: sorted within megabatches of 50
    batches). Shuffled from torch's global generator, which the Trainer seeds."""

    def __init__(self, keys: Sequence[Hashable], lengths: Sequence[int], batch_size: int, per_question: int = 4):
        self.rows_by_key = defaultdict(list)
        for row, key in enumerate(keys):
            self.rows_by_key[key].append(row)
        self.lengths, self.batch_size, self.per_question = list(lengths), batch_size, per_question

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        chunks = []
        for rows in self.rows_by_key.values():
            rows = [rows[i] for i in torch.randperm(len(rows)).tolist()]
            chunks += [rows[i:i + self.per_question] for i in range(0, len(rows), self.per_question)]
        chunks = [chunks[i] for i in torch.randperm(len(chunks)).tolist()]
        per_megabatch = max(1, 50 * self.batch_size // self.per_question)
        order = []
        for start in range(0, len(chunks), per_megabatch):
            megabatch = chunks[start:start + per_megabatch]
            megabatch.sort(key=lambda chunk: max(self.lengths[i] for i in chunk), reverse=True)
            order += [row for chunk in megabatch for row in chunk]
        return iter(order)
