import numpy as np
import pytest
import torch
from peft import LoraConfig, get_peft_model

from survey_sim import scoring
from survey_sim.prompts import build_prompt
from survey_sim.scoring import encode_prompt, letter_token_ids, option_distributions, option_logits
from survey_sim.simulator import Simulator
from tiny import make_item, make_llama, make_tokenizer, save_tiny_model


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer):
    return make_llama(len(tokenizer))


PROMPTS = [
    "How would someone from Peru answer: yes? (A)yes, (B)no If had to select one of the options, my answer would be (",
    "Short (",
    "A much longer prompt about a question with several options, to force left padding on the others. "
    "(A)one, (B)two, (C)three, (D)four, (E)five If had to select one of the options, my answer would be (",
]


def test_letter_token_ids(tokenizer):
    ids = letter_token_ids(tokenizer, 26)
    assert len(set(ids)) == 26
    assert [tokenizer.decode([i]) for i in ids] == list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_letter_token_ids_rejects_merged_letters():
    tokenizer = make_tokenizer()
    tokenizer.add_tokens(["(C"])
    with pytest.raises(ValueError, match=r"'\(C'"):
        letter_token_ids(tokenizer, 5)


def test_distributions_have_k_entries_and_sum_to_one(model, tokenizer):
    dists = option_distributions(model, tokenizer, PROMPTS, [2, 3, 5], batch_size=2)
    assert [d.shape for d in dists] == [(2,), (3,), (5,)]
    for d in dists:
        assert np.all(d > 0) and d.sum() == pytest.approx(1, abs=1e-12)
    assert max(np.ptp(d) for d in dists) > 0.02  # far enough from uniform for the checks below to bite


def test_padding_invariance(model, tokenizer):
    alone = [option_distributions(model, tokenizer, [p], [4])[0] for p in PROMPTS]
    batched = option_distributions(model, tokenizer, PROMPTS, [4] * 3, batch_size=3)
    for a, b in zip(alone, batched, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_padding_invariance_with_absolute_positions(tokenizer):
    """GPT-2 adds learned position embeddings: left padding only works with mask-derived positions."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=4,
                                      n_positions=512, initializer_range=0.3, bos_token_id=1,
                                      eos_token_id=1)).eval()
    assert scoring._split_model(gpt2) is not None  # the fast path, via model.transformer
    alone = [option_distributions(gpt2, tokenizer, [p], [4])[0] for p in PROMPTS]
    batched = option_distributions(gpt2, tokenizer, PROMPTS, [4] * 3, batch_size=3)
    for a, b in zip(alone, batched, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_last_position_logits_equal_full_forward(model, tokenizer):
    letters = letter_token_ids(tokenizer, 6)
    for prompt in PROMPTS:
        ids = torch.tensor([tokenizer(prompt)["input_ids"]])
        with torch.no_grad():
            full = model(input_ids=ids).logits[0, -1, letters]  # (L,)
            fast = option_logits(model, ids, torch.ones_like(ids), letters)[0]
        torch.testing.assert_close(fast, full, atol=1e-5, rtol=1e-5)


def test_bf16_model_gets_float32_logits_from_a_float32_final_norm_and_head(model, tokenizer):
    """bf16 logits of ~10 are 0.06 apart, so near letters tied exactly (70 of 104 countries on
    Ask the world); the last norm and the letter rows now run in float32."""
    import copy

    bf16 = copy.deepcopy(model).to(torch.bfloat16)
    letters = letter_token_ids(tokenizer, 6)
    ids = torch.tensor([tokenizer(PROMPTS[0])["input_ids"]])
    with torch.no_grad():
        fast = option_logits(bf16, ids, torch.ones_like(ids), letters)[0]  # (L,)
        caught = {}  # the final norm's input, to apply RMSNorm and the head by hand in float32
        handle = bf16.model.norm.register_forward_hook(lambda m, a, o: caught.setdefault("x", a[0]))
        bf16.model(input_ids=ids)
        handle.remove()
        x = caught["x"][0, -1].float()
        norm = x * torch.rsqrt(x.pow(2).mean() + bf16.config.rms_norm_eps) * bf16.model.norm.weight.float()
        expected = norm @ bf16.lm_head.weight[letters].float().T
    torch.testing.assert_close(fast, expected, atol=1e-4, rtol=1e-4)
    assert (fast.bfloat16().float() != fast).any()  # not on the bf16 grid any more


def test_left_and_right_padding_agree(model, tokenizer):
    letters = letter_token_ids(tokenizer, 4)
    seqs = [tokenizer(p)["input_ids"] for p in PROMPTS]
    width = max(map(len, seqs))
    left = torch.tensor([[0] * (width - len(s)) + s for s in seqs])
    right = torch.tensor([s + [0] * (width - len(s)) for s in seqs])
    with torch.no_grad():
        a = option_logits(model, left, (torch.arange(width) >= width - torch.tensor([[len(s)] for s in seqs])).long(), letters)
        b = option_logits(model, right, (torch.arange(width) < torch.tensor([[len(s)] for s in seqs])).long(), letters)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_whole_model_fallback_gives_the_same_numbers(model, tokenizer, monkeypatch):
    fast = option_distributions(model, tokenizer, PROMPTS, [3] * 3)
    monkeypatch.setattr(scoring, "_split_model", lambda m: None)
    slow = option_distributions(model, tokenizer, PROMPTS, [3] * 3)
    np.testing.assert_allclose(np.stack(fast), np.stack(slow), atol=1e-6)


def lora(model):
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():  # B starts at zero; make the adapter change the outputs
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    return peft_model


def test_option_logits_through_peft_has_lora_gradients(tokenizer):
    peft_model = lora(make_llama(len(tokenizer)))
    peft_model.train()
    letters = letter_token_ids(tokenizer, 4)
    enc = [tokenizer(p)["input_ids"] for p in PROMPTS[:2]]
    width = max(map(len, enc))
    ids = torch.tensor([[0] * (width - len(s)) + s for s in enc])
    mask = (ids != 0).long()
    logits = option_logits(peft_model, ids, mask, letters)  # (B, 4)
    assert logits.shape == (2, 4) and logits.requires_grad
    torch.log_softmax(logits, -1)[:, 0].sum().backward()
    grads = {n: p.grad for n, p in peft_model.named_parameters() if p.requires_grad}
    assert grads and all("lora_" in n for n in grads)
    assert all(g is not None for g in grads.values())
    assert any(g.abs().sum() > 0 for n, g in grads.items() if "lora_A" in n)
    # and through the wrapper the fast path matches the PeftModel's own forward
    with torch.no_grad():
        full = peft_model(input_ids=ids[1:], attention_mask=mask[1:]).logits[0, -1, letters]
        fast = option_logits(peft_model, ids[1:], mask[1:], letters)[0]
    torch.testing.assert_close(fast, full, atol=1e-5, rtol=1e-5)


def test_simulator_restores_order_and_reports_progress(model, tokenizer):
    items = [make_item(group=g, k=k, question="Q" * n) for g, k, n in
             [("Peru", 4, 40), ("Chad", 2, 3), ("Fiji", 5, 90), ("Iran", 3, 10), ("Oman", 4, 1)]]
    sim = Simulator.from_model(model, tokenizer)
    calls = []
    preds = sim.predict(items, batch_size=2, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (5, 5) and len(calls) == 3
    assert [p.shape[0] for p in preds] == [4, 2, 5, 3, 4]
    one_by_one = [option_distributions(model, tokenizer, [build_prompt(it)], [it.n_options])[0] for it in items]
    for a, b in zip(preds, one_by_one, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    chat = Simulator.from_model(model, tokenizer, chat=True).predict(items[:2])
    assert not np.allclose(chat[0], preds[0])  # the chat wrapping reached the model


@pytest.mark.integration  # runs inductor and the system's C++ compiler: 7-11 s
def test_a_compiled_simulator_predicts_what_the_eager_one_does(tmp_path):
    from survey_sim.compiled import compiler_missing

    if compiler_missing(torch.device("cpu")):
        pytest.skip(compiler_missing(torch.device("cpu")))
    folder = save_tiny_model(tmp_path / "tiny")
    items = [make_item(group=g, k=k) for g, k in [("Peru", 2), ("Japan", 3), ("Chile", 5), ("Kenya", 4)]]
    eager = Simulator.load(folder, device="cpu").predict(items, batch_size=2)
    compiled = Simulator.load(folder, device="cpu", compile=True)
    assert compiled.backend.model.config._attn_implementation == "eager"
    for a, b in zip(compiled.predict(items, batch_size=2), eager, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_simulator_rejects_json_template(model, tokenizer):
    with pytest.raises(ValueError, match="json"):
        Simulator.from_model(model, tokenizer, template="json")


def test_mismatched_lengths(model, tokenizer):
    with pytest.raises(ValueError, match="2 prompts but 1"):
        option_distributions(model, tokenizer, PROMPTS[:2], [3])


# --- the real default model --------------------------------------------------------------

@pytest.fixture(scope="module")
def real_model():
    from survey_sim.models import load_model
    from survey_sim.paths import DEFAULT_MODEL

    try:
        return load_model(DEFAULT_MODEL, device="cpu")
    except FileNotFoundError as err:
        pytest.skip(str(err))


@pytest.mark.integration
def test_real_letters_are_single_tokens(real_model):
    _, tokenizer = real_model
    ids = letter_token_ids(tokenizer, 26)
    assert len(set(ids)) == 26
    # the letter after the prompt's own " (" is the same token as after "("
    prompt_ids = tokenizer("my answer would be (B", add_special_tokens=False)["input_ids"]
    assert prompt_ids[-1] == ids[1]


@pytest.mark.integration
def test_real_zero_shot_predictions(real_model, survey_root):
    from survey_sim.data import load_dataset

    items = load_dataset("wvs_valid", root=survey_root).items[::200][:8]
    model, tokenizer = real_model
    sim = Simulator.from_model(model, tokenizer)
    preds = sim.predict(items, batch_size=4)
    for item, pred in zip(items, preds, strict=True):
        assert pred.shape == (item.n_options,) and np.all(np.isfinite(pred)) and np.all(pred >= 0)
        assert pred.sum() == pytest.approx(1, abs=1e-9)
    again = sim.predict(items, batch_size=4)
    assert all(np.array_equal(a, b) for a, b in zip(preds, again, strict=True))  # deterministic
    single = sim.predict(items[:2], batch_size=1)
    for a, b in zip(preds[:2], single, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)  # padding moves nothing beyond float noise


@pytest.fixture(scope="module")
def real_gemma():
    """The second embedded model, Gemma 3 270M (base); converted once, then loaded from the model cache."""
    from survey_sim.models import load_model

    try:
        return load_model("gemma3-270m", device="cpu")
    except FileNotFoundError as err:
        pytest.skip(str(err))


@pytest.mark.integration  # about 2 minutes the first time (assembling and converting the GGUF), then seconds
def test_real_gemma_scores_letters_as_the_whole_model_does(real_gemma, survey_root):
    from survey_sim.data import load_dataset

    model, tokenizer = real_gemma
    assert type(model).__name__ == "Gemma3ForCausalLM"
    letters = letter_token_ids(tokenizer, 10)
    item = load_dataset("wvs_valid", root=survey_root).items[0]
    ids = torch.tensor([encode_prompt(tokenizer, build_prompt(item))])
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        fast = option_logits(model, ids, mask, letters[:item.n_options])  # the last hidden state and letter rows only
        whole = model(input_ids=ids, attention_mask=mask).logits[:, -1, letters[:item.n_options]].float()
    torch.testing.assert_close(fast, whole, atol=1e-3, rtol=1e-4)
    shares = Simulator.from_model(model, tokenizer).predict([item])[0]
    assert shares.shape == (item.n_options,) and shares.sum() == pytest.approx(1, abs=1e-9)
