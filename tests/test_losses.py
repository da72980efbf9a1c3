import math

import pytest
import torch
import torch.nn.functional as F

from survey_sim.losses import get_loss, kl_loss, wasserstein_loss

TARGET = torch.tensor([[0.2, 0.5, 0.3, 0.0], [0.9, 0.1, 0.0, 0.0]])
MASK = torch.tensor([[True, True, True, False], [True, True, False, False]])


def logits_of(dist, mask):
    return torch.log(dist.clamp_min(1e-12)).masked_fill(~mask, 7.0)  # padding logits must not matter


@pytest.mark.parametrize("name", ["kl", "js", "wasserstein"])
def test_zero_when_the_model_matches(name):
    assert get_loss(name)(logits_of(TARGET, MASK), TARGET, MASK).item() == pytest.approx(0, abs=1e-6)


def test_kl_agrees_with_torch_kl_div():
    logits = torch.randn(2, 4)
    expected = [F.kl_div(torch.log_softmax(logits[i, :k], -1), TARGET[i, :k], reduction="sum") for i, k in enumerate([3, 2])]
    assert kl_loss(logits, TARGET, MASK).item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_kl_direction_is_human_first():
    # KL(p||q) with p = [1, 0], q = [0.5, 0.5] is log 2; KL(q||p) would be infinite.
    p, mask = torch.tensor([[1.0, 0.0]]), torch.tensor([[True, True]])
    assert kl_loss(torch.zeros(1, 2), p, mask).item() == pytest.approx(math.log(2))


def test_gradients_flow_and_ignore_padding():
    logits = torch.randn(2, 4, requires_grad=True)
    for name in ["kl", "js", "wasserstein", "ce_sampled"]:
        logits.grad = None
        get_loss(name)(logits, TARGET, MASK).backward()
        assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
        assert logits.grad[~MASK].abs().max() == 0


def test_wasserstein_is_ordinal():
    p, mask = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[True, True, True]])
    near = logits_of(torch.tensor([[0.0, 1.0, 0.0]]), mask)
    far = logits_of(torch.tensor([[0.0, 0.0, 1.0]]), mask)
    assert wasserstein_loss(near, p, mask).item() == pytest.approx(0.5, abs=1e-4)
    assert wasserstein_loss(far, p, mask).item() == pytest.approx(1.0, abs=1e-4)


def test_ce_sampled_estimates_cross_entropy():
    logits = torch.randn(2, 4)
    generator = torch.Generator().manual_seed(0)
    estimate = get_loss("ce_sampled")(logits, TARGET, MASK, n_samples=20000, generator=generator).item()
    log_q = torch.log_softmax(logits.masked_fill(~MASK, float("-inf")), -1)
    exact = -(TARGET * log_q.masked_fill(~MASK, 0)).sum(-1).mean().item()
    assert estimate == pytest.approx(exact, rel=0.03)


def test_unknown_loss():
    with pytest.raises(KeyError, match="available"):
        get_loss("mse")
