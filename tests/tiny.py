"""Tiny random models and tokenizers built in the tests: fast, offline, deterministic."""
import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from survey_sim.data.schema import SurveyItem

CHAT_TEMPLATE = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>\n{% endfor %}"
                 "{% if add_generation_prompt %}<assistant>\n{% endif %}")


def make_tokenizer() -> PreTrainedTokenizerFast:
    """One token per byte (byte-level BPE without merges): tiny, and "(A" splits as "(", "A"."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={"<pad>": 0, "</s>": 1, **{c: i + 2 for i, c in enumerate(alphabet)}},
                                   merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="</s>", pad_token="<pad>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_llama(vocab_size: int, seed: int = 0) -> LlamaForCausalLM:
    # A large init range so the letter distributions are far from uniform and bugs show.
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         initializer_range=0.3, tie_word_embeddings=False)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


def make_item(group="Peru", k=4, question="Is it good?", survey="wvs", distribution=None) -> SurveyItem:
    return SurveyItem(survey=survey, question_id=f"q{k}", question=question,
                      options=tuple(f"option {i}" for i in range(k)), lang="en", group=group, iso3=None,
                      distribution=np.full(k, 1 / k) if distribution is None else np.asarray(distribution, float))


def save_tiny_model(path) -> str:
    """A tiny Llama and its tokenizer saved as a local model folder (what load_model reads)."""
    tokenizer = make_tokenizer()
    make_llama(len(tokenizer)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)
