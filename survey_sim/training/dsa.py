"""Distribution Shift Alignment, the second stage of Huang et al. (2025) (`survey-sim train --stage2 dsa`).

After a first stage (an adapter fitted with KL), a new LoRA on the top transformer block(s) only
is trained so that how the model's answer *moves* from one country to another matches how the
real answer moves. Their exact loss is not public; this is ours. For two rows i, j of the same
question in a batch (`QuestionGroupedSampler` puts several countries of a question together),
with h the human shares and q the model's:

    log p(j | i) = log_softmax( log h_i + (log q_j - log q_i) )     j's answer predicted from i's real
                                                                     answer and the model's shift i -> j
    loss = mean over pairs (i, j), i != j, of KL(h_j || p(j | i))  +  kl_weight * mean over rows of KL(h || q)

The first term is zero exactly when the model's log-ratio between the two countries equals the
human one (up to a constant): a constant letter bias cancels, only the shift is asked of the model.
The second keeps the absolute distributions where stage 1 put them (the regulariser). Any loss of
`losses.py` (`--loss`) stands in for KL in both terms.
"""
from __future__ import annotations

import torch

from ..losses import LossFn, masked_log_softmax



def dsa_loss(logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, question: torch.Tensor,
             loss_fn: LossFn, kl_weight: float) -> torch.Tensor:
    """The loss above for a batch: logits, target, mask (B, L); question (B,), equal for rows of one
    question with the same option order."""
    regulariser = loss_fn(logits, target, mask)
    same = (question[:, None] == question[None, :]) & ~torch.eye(len(question), dtype=torch.bool,
                                                                  device=question.device)
    i, j = same.nonzero(as_tuple=True)
    if len(i) == 0:  # no two countries of a question in this batch: the regulariser alone
        return kl_weight * regulariser
    log_q = masked_log_softmax(logits, mask)
    log_h = torch.log(target.clamp_min(1e-12))  # a share nobody gave stays finite
    moved = torch.where(mask[j], log_h[i] + log_q[j] - log_q[i], torch.zeros_like(log_q[j]))
    return loss_fn(moved, target[j], mask[j]) + kl_weight * regulariser


def block_linear_layers(model) -> list[str]:
    """The names of the linear layers inside the transformer blocks (q_proj ... down_proj): where
    stage 2 puts its LoRA. Not the output layer, which SmolLM2 and Gemma tie to the input embeddings."""
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and ".layers." in name})


def top_layers(model, count: int) -> list[int]:
    """The indices of the model's top `count` transformer blocks."""
    n_layers = model.config.num_hidden_layers
    if not 1 <= count <= n_layers:
        raise ValueError(f"stage2_layers={count}: the model has {n_layers} transformer blocks")
    return list(range(n_layers - count, n_layers))
