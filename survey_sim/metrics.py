"""Compare a real answer distribution p with a predicted one q (same options, same order).

Every metric takes two probability vectors of equal length k >= 2 and returns a float.
They live in one registry, ``METRICS``, so the app and CLI can label and sort them
(``higher_is_better``) without special cases. ``score_pairs`` scores many items at once,
``aggregate`` averages per group, and ``diversity`` looks across the countries of one question.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .registry import Registry

SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool
    description: str

    def __call__(self, p, q) -> float:
        return self.fn(p, q)


METRICS: Registry[Metric] = Registry("metric")


def register_metric(name: str, *, higher_is_better: bool, description: str):
    """Decorator adding a metric to METRICS; a name may be registered only once."""
    def add(fn):
        METRICS.add(name, Metric(name, fn, higher_is_better, description))
        return fn
    return add


def get_metric(name: str) -> Metric:
    """The registered metric called `name`; KeyError listing the choices otherwise."""
    return METRICS[name]


def check_distribution(p, label: str = "distribution") -> np.ndarray:
    """p as a float vector, or ValueError if it is not a probability vector over k >= 2 options."""
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.size < 2:
        raise ValueError(f"{label} must be a 1-D vector over at least 2 options, got shape {p.shape}")
    if np.isnan(p).any():
        raise ValueError(f"{label} contains NaN")
    if (p < 0).any():
        raise ValueError(f"{label} has negative values")
    if abs(p.sum() - 1.0) > SUM_TOLERANCE:
        # Normalising here would hide upstream bugs (e.g. a dropped option); the caller decides.
        raise ValueError(f"{label} sums to {p.sum():.8g}, not 1 (normalise before scoring)")
    return p


def _pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    p, q = check_distribution(p, "real"), check_distribution(q, "pred")
    if p.shape != q.shape:
        raise ValueError(f"length mismatch: real has {p.size} options, pred has {q.size}")
    return p, q


def _js_distance(p: np.ndarray, q: np.ndarray, base: float | None) -> float:
    # scipy takes sqrt of a sum that rounding can push to about -1e-17 for near-identical
    # vectors, returning NaN; on validated input a NaN can only mean that, i.e. distance 0.
    from scipy.spatial.distance import jensenshannon  # imported here: scipy costs 0.4 s to import

    with np.errstate(invalid="ignore"):
        d = float(jensenshannon(p, q, base=base))
    return 0.0 if np.isnan(d) else d


@register_metric("1-jsd", higher_is_better=True,
                 description="1 - Jensen-Shannon distance (base 2), in [0, 1]")
def one_minus_jsd(p, q) -> float:
    """1 - sqrt(JSD_2(p, q)), JSD_2 = (KL_2(p||m) + KL_2(q||m)) / 2, m = (p + q) / 2.

    The Jensen-Shannon *distance* with base-2 logs lies in [0, 1]: 1 means identical.
    """
    return 1.0 - _js_distance(*_pair(p, q), base=2)


@register_metric("1-jsd_paper", higher_is_better=True,
                 description="1 - Jensen-Shannon distance (natural log), as in Cao et al. 2025")
def one_minus_jsd_paper(p, q) -> float:
    """1 - sqrt(JSD_e(p, q)), natural logs: scipy's default, as in Cao et al. (NAACL 2025) code.

    Equals 1 - sqrt(ln 2) * (JS distance base 2), so it lies in [1 - sqrt(ln 2), 1] ~ [0.167, 1].
    """
    return 1.0 - _js_distance(*_pair(p, q), base=None)


@register_metric("emd", higher_is_better=False,
                 description="ordinal earth mover's distance over option positions, / (k-1), in [0, 1]")
def ordinal_emd(p, q) -> float:
    """sum_{i=0..k-1} |CDF_p(i) - CDF_q(i)| / (k - 1), options at positions 0..k-1.

    The mass moved times the number of steps it moves, so answering "agree" for "strongly
    agree" costs less than "disagree". Divided by k-1 (all mass moved end to end) to be in [0, 1].
    """
    p, q = _pair(p, q)
    # The last term (both CDFs are 1) is 0 up to rounding; dropping it avoids that noise.
    return float(np.abs(np.cumsum(p) - np.cumsum(q))[:-1].sum() / (p.size - 1))


@register_metric("emd_paper", higher_is_better=False,
                 description="scipy wasserstein_distance of the probability values (not ordinal), as in Cao et al. 2025")
def emd_paper(p, q) -> float:
    """scipy.stats.wasserstein_distance(p, q): the probabilities themselves taken as samples.

    This is NOT an ordinal distance and ignores which option holds which probability: it
    compares the sorted probability values, so [1, 0, 0, 0] vs [0, 0, 0, 1] scores 0.
    Kept only to reproduce Cao et al. (NAACL 2025) numbers; use "emd" for ordinal error.
    """
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(*_pair(p, q)))


@register_metric("majority_acc", higher_is_better=True,
                 description="1 if the predicted most likely option is the real one, else 0")
def majority_match(p, q) -> float:
    """1.0 if argmax(q) == argmax(p) else 0.0; ties go to the first (lowest-index) option."""
    p, q = _pair(p, q)
    return float(np.argmax(q) == np.argmax(p))


def _spread(dists: list[np.ndarray]) -> float:
    # Mean JS distance (base 2) of each country's distribution to the across-country mean.
    if np.ptp(dists, axis=0).max() <= 1e-12:
        # All equal: exactly 0, not the ~1e-8 that sqrt makes of the mean's rounding error.
        return 0.0
    centre = np.mean(dists, axis=0)
    return float(np.mean([_js_distance(d, centre, base=2) for d in dists]))


def diversity(real: Sequence[np.ndarray], pred: Sequence[np.ndarray]) -> dict[str, float]:
    """How much predictions vary across countries, relative to how much the real answers vary.

    For the items of ONE question (one per country): spread(X) = mean_c JSdist_2(X_c, mean_c X_c).
    Returns {"real_spread", "pred_spread", "ratio" = pred_spread / real_spread}; ratio is NaN when
    the real answers do not vary (all equal within 1e-12). Same prediction everywhere -> ratio 0.
    """
    if len(real) != len(pred) or not real:
        raise ValueError(f"diversity needs equally many real and pred items (>0), got {len(real)} and {len(pred)}")
    pairs = [_pair(p, q) for p, q in zip(real, pred)]
    if len({p.size for p, _ in pairs}) > 1:
        raise ValueError("diversity needs the items of one question: all must have the same options")
    real_spread, pred_spread = _spread([p for p, _ in pairs]), _spread([q for _, q in pairs])
    ratio = pred_spread / real_spread if real_spread > 0 else float("nan")
    return {"real_spread": real_spread, "pred_spread": pred_spread, "ratio": ratio}


def score_pairs(real: Sequence[np.ndarray], pred: Sequence[np.ndarray],
                metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (real, pred) pair, one column per metric (all registered ones by default)."""
    if len(real) != len(pred):
        raise ValueError(f"{len(real)} real distributions but {len(pred)} predictions")
    chosen = [get_metric(name) for name in (metrics if metrics is not None else METRICS)]
    rows = []
    for i, (p, q) in enumerate(zip(real, pred)):
        try:
            p, q = _pair(p, q)
        except ValueError as err:
            raise ValueError(f"pair {i}: {err}") from None
        rows.append([m(p, q) for m in chosen])
    return pd.DataFrame(rows, columns=[m.name for m in chosen], dtype=float)
