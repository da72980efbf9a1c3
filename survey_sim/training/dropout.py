"""LoRA dropout whose masks are cheap to draw on a CPU, compiled or not.

Measured on a 2-core CPU (README, "Performance"): torch draws a CPU dropout mask one element at a
time from mt19937 (`bernoulli_`, 4.5 ms for the 16 x 104 x 576 input of one LoRA module), and
inside a compiled block inductor's own random numbers cost 0.39 s of a 1.44 s step. LoRA on q and
v of 30 layers draws 60 masks per step. numpy's PCG64 draws the same 16-bit integers in about
0.7 ms per mask. The mask comes from a custom operator, so `torch.compile` keeps it as one opaque
call and still fuses the multiplication into the block's generated code.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


@torch.library.custom_op("survey_sim::keep_mask", mutates_args=("state",))
def keep_mask(state: torch.Tensor, shape: Sequence[int], threshold: int) -> torch.Tensor:
    """A boolean mask of `shape`: True where a uniform 16-bit integer is >= threshold.

    `state` is (seed, masks drawn so far); the mask depends on nothing else, and the count goes
    up by one. Declaring `state` mutated keeps the compiler from merging or dropping two draws
    that look alike (q and v of one layer see the same input).
    """
    seed, drawn = (int(v) for v in state)
    state[1] += 1
    rng = np.random.Generator(np.random.PCG64([seed, drawn]))
    keep = rng.integers(0, 65536, size=math.prod(shape), dtype=np.uint16) >= threshold
    return torch.from_numpy(keep).view(*shape)


@keep_mask.register_fake
def _keep_mask_shape(state, shape, threshold):
    return torch.empty(shape, dtype=torch.bool)


class FastDropout(torch.nn.Module):
    """Inverted dropout like `torch.nn.Dropout(p)`; on CPU the mask comes from numpy's PCG64.

    An element is dropped when a uniform 16-bit integer falls below round(p * 65536), so the
    drop rate is p to within 1/65536 (0.05 -> 0.0500031). The seed is drawn from torch's global
    generator when the module is built, so `seed_everything` keeps runs repeatable, and compiled
    and eager runs draw the same masks. On GPUs, and in eval mode, it is exactly
    `torch.nn.functional.dropout`.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.threshold = round(p * 65536)
        seed = int(torch.randint(0, 2**62, (1,)))
        self.register_buffer("rng_state", torch.tensor([seed, 0], dtype=torch.int64), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return torch.nn.functional.dropout(x, self.p, training=True)
        keep = keep_mask(self.rng_state, list(x.shape), self.threshold)
        return x * keep.to(x.dtype) * (1 / (1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def use_fast_lora_dropout(model) -> int:
    """Swap every LoRA dropout of a peft model (nn.Dropout) for FastDropout; returns how many."""
    swapped = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, torch.nn.ModuleDict):
            continue
        for name, dropout in list(dropouts.items()):
            if isinstance(dropout, torch.nn.Dropout):
                dropouts[name] = FastDropout(dropout.p)
                swapped += 1
    return swapped
