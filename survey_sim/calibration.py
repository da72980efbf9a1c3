"""Affine calibration of a model's letter log-probabilities (issue #13, method 4).

    p(option i) ∝ exp(a · log p_model(i) + b[k][i])

where k is the question's number of options. The scale a corrects over- or under-confidence
(a temperature of 1/a); the offsets b correct the letter-position bias, which differs by option
count (SmolLM2 zero-shot puts "A" first for nearly every question, more so with two options than
with ten). With a = 0 the map is a fitted prior for each option count, so on the data it was
fitted to it can only do as well as that prior or better. a and b minimise the mean
KL(real || p) over the fitting rows: fit them on rows the test never sees (validation data, or
training questions for a model that was not trained on them).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize


@dataclass(frozen=True)
class AffineMap:
    scale: float
    offsets: dict[int, np.ndarray]  # option count -> one offset per letter position

    def apply(self, shares: np.ndarray) -> np.ndarray:
        """The calibrated distribution; an option count the map never saw gets the scale alone."""
        k = len(shares)
        logits = self.scale * log_shares(shares) + self.offsets.get(k, np.zeros(k))
        return softmax(logits)


def fit_affine(predicted: Sequence[np.ndarray], real: Sequence[np.ndarray], l2: float = 1e-3) -> AffineMap:
    """The map that minimises mean KL(real || calibrated) over the rows, by L-BFGS with exact
    gradients. `l2` pulls the offsets gently towards 0 so that an option count seen on a few
    rows is not fitted to them alone."""
    if len(predicted) != len(real) or not predicted:
        raise ValueError(f"fit_affine needs one real distribution per prediction, got {len(predicted)} and {len(real)}")
    groups = defaultdict(list)
    for p, r in zip(predicted, real, strict=True):
        groups[len(p)].append((log_shares(p), np.asarray(r, dtype=float)))
    counts = sorted(groups)
    logs = {k: np.stack([g[0] for g in groups[k]]) for k in counts}  # (n_k, k)
    targets = {k: np.stack([g[1] for g in groups[k]]) for k in counts}  # (n_k, k)
    starts = np.cumsum([1] + counts)  # offsets of option count counts[j] at params[starts[j]:starts[j+1]]
    n_rows = len(predicted)

    def loss_and_gradient(params):
        scale, loss, gradient = params[0], 0.0, np.zeros_like(params)
        for j, k in enumerate(counts):
            b = params[starts[j]:starts[j] + k]
            z = scale * logs[k] + b  # (n_k, k)
            z = z - z.max(axis=1, keepdims=True)
            log_q = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss -= (targets[k] * log_q).sum() / n_rows  # cross-entropy; KL differs by a constant
            residual = (np.exp(log_q) - targets[k]) / n_rows  # d loss / d z
            gradient[0] += (residual * logs[k]).sum()
            gradient[starts[j]:starts[j] + k] = residual.sum(axis=0) + 2 * l2 * b
            loss += l2 * (b ** 2).sum()
        return loss, gradient

    start = np.zeros(starts[-1])
    start[0] = 1.0
    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B")
    params = result.x
    return AffineMap(scale=float(params[0]),
                     offsets={k: params[starts[j]:starts[j] + k].copy() for j, k in enumerate(counts)})


def log_shares(shares: np.ndarray) -> np.ndarray:
    return np.log(np.clip(shares, 1e-12, None))  # a share of 0 (a real answer nobody gave) stays finite


def softmax(logits: np.ndarray) -> np.ndarray:
    shares = np.exp(logits - logits.max())
    return shares / shares.sum()
