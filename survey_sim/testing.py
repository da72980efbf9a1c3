"""Tiny random models, built in a second and offline: for the tests and `make bench --quick`.

A byte-level tokenizer without merges (one token per byte, so "(A" is "(", "A" as first-token
scoring needs) and a 2-layer Llama (SmolLM2's architecture) of any vocabulary size.
"""
from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant>\n{% endif %}")

# A large init range so the letter distributions are far from uniform and bugs show.
TINY_LLAMA = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=1024, initializer_range=0.3,
                  tie_word_embeddings=False)


def make_tokenizer():
    """A PreTrainedTokenizerFast with one token per byte, "<pad>" and "</s>", and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={"<pad>": 0, "</s>": 1, **{c: i + 2 for i, c in enumerate(alphabet)}},
                                   merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>", pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_llama(vocab_size: int, seed: int = 0, **sizes):
    """A random LlamaForCausalLM in eval mode; `sizes` override TINY_LLAMA's config values."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=vocab_size, **{**TINY_LLAMA, **sizes})).eval()


def save_tiny_model(path: str | Path, **sizes) -> str:
    """A tiny Llama and its tokenizer saved as a local model folder (what `load_model` reads)."""
    tokenizer = make_tokenizer()
    make_llama(len(tokenizer), **sizes).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)
