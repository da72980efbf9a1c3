"""The cache of converted GGUF models: atomic, keyed by the file's content, and faithful."""

import numpy as np
import pytest
import torch

from survey_sim import model_cache
from survey_sim.scoring import letter_token_ids, option_logits
from tiny import make_llama, make_tokenizer


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SURVEY_SIM_NO_MODEL_CACHE", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "model.gguf"   # only its bytes matter here: they are the cache key
    path.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    return path


def test_a_stored_conversion_is_found_and_loads(cache, gguf):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = make_tokenizer()
    model = make_llama(len(tokenizer))
    assert model_cache.converted(gguf) is None
    folder = model_cache.store(gguf, model, tokenizer)
    assert model_cache.converted(gguf) == folder and folder.parent == cache
    again = AutoModelForCausalLM.from_pretrained(folder)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, again.state_dict()[name]), name
    assert AutoTokenizer.from_pretrained(folder)("How would (A")["input_ids"] == tokenizer("How would (A")["input_ids"]


def test_the_key_is_the_files_content(cache, gguf):
    tokenizer = make_tokenizer()
    model_cache.store(gguf, make_llama(len(tokenizer)), tokenizer)
    gguf.write_bytes(gguf.read_bytes() + b"another model")
    assert model_cache.converted(gguf) is None
    assert len(set((cache / "digests.json").read_text().split("|"))) > 1   # both digests remembered


@pytest.mark.fault
def test_a_failed_write_leaves_nothing_that_is_read(cache, gguf, monkeypatch):
    tokenizer = make_tokenizer()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tokenizer, "save_pretrained", disk_full)
    with pytest.warns(UserWarning, match="could not cache the converted model"):
        assert model_cache.store(gguf, make_llama(len(tokenizer)), tokenizer) is None
    assert model_cache.converted(gguf) is None
    assert [p.name for p in cache.iterdir()] == ["digests.json"]   # no half-written folder


@pytest.mark.fault
def test_a_folder_without_its_marker_is_replaced(cache, gguf):
    tokenizer = make_tokenizer()
    folder = model_cache.store(gguf, make_llama(len(tokenizer)), tokenizer)
    (folder / model_cache.COMPLETE).unlink()
    assert model_cache.converted(gguf) is None
    assert model_cache.store(gguf, make_llama(len(tokenizer)), tokenizer) == folder
    assert model_cache.converted(gguf) == folder


@pytest.mark.integration
def test_the_cached_default_model_is_the_gguf_model(cache, monkeypatch):
    """Same tokens, chat template, letters and logits as transformers' own GGUF conversion."""
    from survey_sim.models import load_model
    from survey_sim.paths import DEFAULT_MODEL

    try:
        fresh_model, fresh_tokenizer = load_model(DEFAULT_MODEL, device="cpu")   # converts and stores
    except FileNotFoundError as err:
        pytest.skip(str(err))
    assert any(cache.glob(f"*/{model_cache.COMPLETE}"))
    cached_model, cached_tokenizer = load_model(DEFAULT_MODEL, device="cpu")      # from the cache
    texts = ["How would someone from Peru answer the following question:\n\nIs it good? \nHere are the options: "
             "\n(A)Yes, (B)No If had to select one of the options, my answer would be (", "来自中国的人会如何回答以下问题：\n\n"]
    for text in texts:
        assert fresh_tokenizer(text)["input_ids"] == cached_tokenizer(text)["input_ids"]
    chat = [{"role": "user", "content": texts[0]}]
    assert (fresh_tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
            == cached_tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))
    letters = letter_token_ids(fresh_tokenizer, 26)
    assert letters == letter_token_ids(cached_tokenizer, 26)
    assert cached_tokenizer.padding_side == "left" and cached_tokenizer.pad_token_id == fresh_tokenizer.pad_token_id
    encoded = fresh_tokenizer(texts[:1], return_tensors="pt")
    with torch.inference_mode():
        a = option_logits(fresh_model, encoded["input_ids"], encoded["attention_mask"], letters[:4])
        b = option_logits(cached_model, encoded["input_ids"], encoded["attention_mask"], letters[:4])
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert cached_model.config._name_or_path == DEFAULT_MODEL


@pytest.mark.fault
def test_a_damaged_conversion_is_converted_again_not_a_dead_end(cache, gguf):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from survey_sim.models import load_gguf

    tokenizer = make_tokenizer()
    folder = model_cache.store(gguf, make_llama(len(tokenizer)), tokenizer)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated on disk
    conversions = []

    def attempt(source, gguf_file=None):
        if gguf_file is None:  # the cached folder
            return AutoModelForCausalLM.from_pretrained(source), AutoTokenizer.from_pretrained(source)
        conversions.append(gguf_file)  # what transformers' GGUF reader would do
        return make_llama(len(tokenizer)), tokenizer

    with pytest.warns(UserWarning, match="failed to load"):
        model, _ = load_gguf(gguf, attempt)
    assert conversions == [gguf.name] and model is not None
    assert model_cache.converted(gguf) == folder and (folder / "model.safetensors").stat().st_size > 100
