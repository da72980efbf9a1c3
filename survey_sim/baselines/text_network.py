"""The text prior's network (`text_prior.py` says what it is and how it fared): sentence
embeddings of the options, a small MLP and a vector per training group, fitted by KL."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import SurveyItem
from . import knn

LEARNING_RATE = 3e-3
WEIGHT_DECAY = 0.01
BATCH_SIZE = 128


class TextTable:
    """Sentence embeddings of the texts seen so far, each computed once."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.vectors = torch.zeros(0, 0)

    def add(self, texts) -> torch.Tensor:
        new = sorted(set(texts) - self.index.keys())
        if new:
            self.index.update({text: len(self.index) + i for i, text in enumerate(new)})
            vectors = torch.as_tensor(knn.embed(new), dtype=torch.float32)
            self.vectors = torch.cat([self.vectors, vectors]) if len(self.vectors) else vectors
        return self.vectors


@dataclass(frozen=True)
class Encoded:
    """Rows as indices into one table of sentence embeddings, options padded to the longest row."""

    table: torch.Tensor  # (V, E) unit-length embeddings of every question and option text
    options: torch.Tensor  # (N, K) index of each option's text; 0 where padded
    question: torch.Tensor  # (N,) index of the question's text
    mask: torch.Tensor  # (N, K) True for the real options
    group: torch.Tensor  # (N,) index of the group among the training groups; the last index: unseen
    shares: torch.Tensor  # (N, K) real answer shares, 0 where padded (or unknown)


def encode(items: Sequence[SurveyItem], texts: TextTable, groups: dict[str, int]) -> Encoded:
    table = texts.add([it.question for it in items] + [o for it in items for o in it.options])
    n, width = len(items), max(item.n_options for item in items)
    options = torch.zeros(n, width, dtype=torch.long)
    mask = torch.zeros(n, width, dtype=torch.bool)
    shares = torch.zeros(n, width)
    for row, item in enumerate(items):
        k = item.n_options
        options[row, :k] = torch.tensor([texts.index[option] for option in item.options])
        mask[row, :k] = True
        shares[row, :k] = torch.as_tensor(item.distribution, dtype=torch.float32)
    question = torch.tensor([texts.index[item.question] for item in items])
    group = torch.tensor([groups.get(item.group_key, len(groups)) for item in items])
    return Encoded(table, options, question, mask, group, shares)


def features(data: Encoded, rows: torch.Tensor) -> torch.Tensor:
    """x_qj for the given rows: (R, K, 2E + 3)."""
    options = data.table[data.options[rows]]  # (R, K, E)
    question = data.table[data.question[rows]][:, None, :]  # (R, 1, E)
    mask = data.mask[rows]
    k = mask.sum(1, keepdim=True)
    j = torch.arange(mask.shape[1]).expand_as(mask)
    position = torch.stack([j / (k - 1).clamp_min(1), j == 0, j == k - 1], dim=-1).float()  # (R, K, 3)
    return torch.cat([options, options * question, position], dim=-1)


class TextPriorNet(nn.Module):
    def __init__(self, n_features: int, n_groups: int, rank: int, hidden: int):
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(n_features, hidden), nn.GELU(), nn.Linear(hidden, 1))
        self.project = nn.Linear(n_features, rank, bias=False)
        self.groups = nn.Parameter(torch.zeros(n_groups + 1, rank))  # the last row, an unseen group's, stays 0

    def forward(self, x: torch.Tensor, group: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Option logits (R, K); padded options get -inf."""
        logits = self.shared(x).squeeze(-1) + (self.project(x) * self.groups[group][:, None, :]).sum(-1)
        return logits.masked_fill(~mask, float("-inf"))


def kl(logits: torch.Tensor, shares: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean KL(real || predicted) up to the real shares' entropy (a constant)."""
    log_q = torch.log_softmax(logits, dim=-1).masked_fill(~mask, 0.0)
    return -(shares * log_q).sum(-1).mean()


def fit(data: Encoded, n_groups: int, rank: int, hidden: int, epochs: int, seed: int) -> TextPriorNet:
    with torch.random.fork_rng():  # seeded without moving anyone else's random stream
        torch.manual_seed(seed)
        net = TextPriorNet(features(data, torch.arange(1)).shape[-1], n_groups, rank, hidden)
        optimizer = torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        for _ in range(epochs):
            for rows in torch.randperm(len(data.question)).split(BATCH_SIZE):
                loss = kl(net(features(data, rows), data.group[rows], data.mask[rows]), data.shares[rows],
                          data.mask[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return net.eval()


@dataclass
class TextPrior:
    """A fitted text prior: `seeds` nets over one table of texts and one index of groups."""

    nets: list[TextPriorNet]
    groups: dict[str, int]
    texts: TextTable

    def predict(self, items: Sequence[SurveyItem]) -> list[np.ndarray]:
        """Each item's shares: the mean of the nets' softmax over its options."""
        data = encode(items, self.texts, self.groups)
        x = features(data, torch.arange(len(items)))
        with torch.inference_mode():
            shares = torch.stack([torch.softmax(net(x, data.group, data.mask), -1) for net in self.nets]).mean(0)
        return [shares[row, :item.n_options].double().numpy() for row, item in enumerate(items)]


_FITTED: dict[tuple, TextPrior] = {}  # one fit serves every test split of a run


def fitted_text_prior(train: Sequence[SurveyItem], rank: int, hidden: int, epochs: int, seeds: int,
                      seed: int = 0) -> TextPrior:
    """The text prior of these training rows, fitted once per process for the same rows and settings."""
    key = (fingerprint(train), rank, hidden, epochs, seeds, seed)
    if key not in _FITTED:
        texts, groups = TextTable(), {g: i for i, g in enumerate(sorted({it.group_key for it in train}))}
        data = encode(train, texts, groups)
        nets = [fit(data, len(groups), rank, hidden, epochs, seed=seed + s) for s in range(seeds)]
        _FITTED.clear()  # one at a time: a fit holds its embeddings
        _FITTED[key] = TextPrior(nets, groups, texts)
    return _FITTED[key]


def fingerprint(items: Sequence[SurveyItem]) -> str:
    digest = hashlib.sha256()
    for it in items:
        digest.update(repr((it.survey, it.question, it.options, it.group_key)).encode())
        digest.update(np.asarray(it.distribution, dtype=np.float64).tobytes())
    return digest.hexdigest()
