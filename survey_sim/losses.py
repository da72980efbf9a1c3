"""Losses between a human answer distribution and a model's letter logits.

Every loss takes `logits` (B, L) over the option letters, `target` (B, L) human shares padded
with zeros, and `mask` (B, L), True for the real options of each row (rows have different
numbers of options). The model's distribution is the softmax over the real options only.
Each returns the mean over the batch, a scalar tensor.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

from .registry import Registry

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
LOSSES: Registry[LossFn] = Registry("loss")
register_loss = LOSSES.register
get_loss = LOSSES.__getitem__


def masked_log_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log q over the real options; padded letters get log q = -inf (q = 0). (B, L)"""
    return torch.log_softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)


def xlogy_sum(p: torch.Tensor, log_q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sum_i p_i log q_i over real options, with 0 log 0 = 0. (B,)"""
    return torch.where(mask & (p > 0), p * log_q.masked_fill(~mask, 0.0), torch.zeros_like(p)).sum(-1)


@register_loss("kl")
def kl_loss(logits, target, mask):
    """KL(p || q) = sum p log p - sum p log q: the paper's loss (human distribution first)."""
    log_q = masked_log_softmax(logits, mask)
    log_p = torch.log(target.clamp_min(1e-38))
    return (xlogy_sum(target, log_p, mask) - xlogy_sum(target, log_q, mask)).mean()


@register_loss("js")
def js_loss(logits, target, mask):
    """Jensen-Shannon divergence (natural log): (KL(p || m) + KL(q || m)) / 2, m = (p + q) / 2."""
    q = masked_log_softmax(logits, mask).exp()
    m = (target + q) / 2
    log_m = torch.log(m.clamp_min(1e-38))
    kl_pm = xlogy_sum(target, torch.log(target.clamp_min(1e-38)), mask) - xlogy_sum(target, log_m, mask)
    kl_qm = xlogy_sum(q, torch.log(q.clamp_min(1e-38)), mask) - xlogy_sum(q, log_m, mask)
    return ((kl_pm + kl_qm) / 2).mean()


@register_loss("ce_sampled")
def ce_sampled_loss(logits, target, mask, n_samples: int = 16, generator: torch.Generator | None = None):
    """Cross-entropy on answers sampled from the human distribution (the paper's ablation:
    training on individual responses instead of the distribution). Unbiased for
    CE(p, q) = KL(p || q) + H(p), noisier than `kl`."""
    log_q = masked_log_softmax(logits, mask)
    answers = torch.multinomial(target.clamp_min(0) * mask, n_samples, replacement=True, generator=generator)  # (B, S)
    return -log_q.gather(1, answers).mean()


@register_loss("wasserstein")
def wasserstein_loss(logits, target, mask):
    """Ordinal earth mover's distance: sum_i |P_i - Q_i| over cumulative shares, / (k - 1)."""
    q = masked_log_softmax(logits, mask).exp()
    gap = (torch.cumsum(target, -1) - torch.cumsum(q, -1)).abs() * mask  # (B, L)
    k = mask.sum(-1).clamp_min(2)
    return (gap.sum(-1) / (k - 1)).mean()
