"""First-token scoring: a model's answer distribution is its next-token distribution over the
option letters after the prompt's closing "(", renormalised over the item's k letters.

Only the last position matters, so the transformer body runs once and the output layer is
applied to the last hidden state and only to the letters' rows of its weight: (B, H) @ (H, 26)
instead of (B, T, H) @ (H, V). `option_logits` does this with gradients (training reuses it);
`option_distributions` runs it under inference_mode in length-sorted, left-padded batches.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from .adapters import adapter_path, check_adapter, load_adapter
from .compiled import compile_blocks
from .data.schema import LETTERS
from .models import load_model
from .paths import DEFAULT_MODEL
from .simulator import model_identity

# Config fields of architectures whose logits are more than `lm_head(h)` (Gemma 2/3 soft-cap,
# Cohere and Granite scale): those run the whole model instead of the fast path.
_HEAD_EXTRAS = ("final_logit_softcapping", "logit_scale", "logits_scaling")


def letter_token_ids(tokenizer, k: int = 26) -> list[int]:
    """Token id of each of the first k letters as it follows "(" in this tokenizer.

    "(A" must split into the tokens of "(" followed by one token for "A"; otherwise the first
    answer token is not a letter and first-token scoring cannot work with this tokenizer.
    """
    paren = tokenizer("(", add_special_tokens=False)["input_ids"]
    ids = []
    for letter in LETTERS[:k]:
        pieces = tokenizer("(" + letter, add_special_tokens=False)["input_ids"]
        if pieces[:-1] != paren or tokenizer.decode(pieces[-1:]).strip() != letter:
            raise ValueError(
                f"this tokenizer splits '({letter}' into {tokenizer.convert_ids_to_tokens(pieces)}, not '(' "
                f"followed by a single token for {letter!r}; first-token scoring needs single-token letters"
            )
        ids.append(pieces[-1])
    return ids


def _split_model(model):
    """(body, output layer) for the fast path, or None when the model must run whole.

    Works through a peft wrapper: its LoRA layers are injected into the base model's modules,
    so the body still applies them. Prompt-learning adapters change the inputs in
    PeftModel.forward and so take the whole-model path.
    """
    lm = model
    if hasattr(model, "get_base_model") and hasattr(model, "active_peft_config"):
        if model.active_peft_config.is_prompt_learning:
            return None
        lm = model.get_base_model()
    head = lm.get_output_embeddings() if hasattr(lm, "get_output_embeddings") else None
    body = getattr(lm, getattr(lm, "base_model_prefix", ""), None)
    config = getattr(lm, "config", None)
    if (not isinstance(head, torch.nn.Linear) or not isinstance(body, torch.nn.Module) or body is lm
            or any(getattr(config, name, None) for name in _HEAD_EXTRAS)):
        return None
    return body, head


def option_logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  letter_ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Next-token logits of the letters at each row's last real token, float32, (B, n_letters).

    `letter_ids` is (L,), the same letters for every row, or (B, L), each row its own (the
    paper's training file labels some answers "X"). Differentiable (training calls it
    directly). Rows may be left- or right-padded: positions come from the attention mask, as in
    `generate`, so padding changes nothing.
    """
    letter_ids = torch.as_tensor(letter_ids, device=input_ids.device)
    position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # (B, T)
    last = attention_mask.shape[1] - 1 - attention_mask.flip(-1).argmax(-1)  # (B,) last real token
    rows = torch.arange(input_ids.shape[0], device=input_ids.device)
    parts = _split_model(model)
    if parts is None:  # whole model, all positions: slower, same numbers
        logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                       use_cache=False).logits  # (B, T, V)
        last_logits = logits[rows, last]  # (B, V)
        if letter_ids.dim() == 2:
            return last_logits.gather(1, letter_ids).float()  # (B, L)
        return last_logits[:, letter_ids].float()  # (B, L)
    body, head = parts
    h = _last_hidden_float32(body, rows, last, input_ids=input_ids, attention_mask=attention_mask,
                             position_ids=position_ids, use_cache=False)  # (B, H)
    weight = head.weight[letter_ids].float()  # (L, H) or (B, L, H)
    if letter_ids.dim() == 2:  # each row its own letters: (B, H) x (B, L, H)
        logits = torch.einsum("bh,blh->bl", h, weight)  # (B, L)
    else:
        logits = h @ weight.T  # (B, L)
    if head.bias is not None:
        logits = logits + head.bias[letter_ids].float()
    return logits


def _final_norm(body) -> torch.nn.Module | None:
    for name in ("norm", "ln_f", "final_layernorm"):  # Llama/Gemma/Qwen, GPT-2, Phi
        module = getattr(body, name, None)
        if isinstance(module, torch.nn.Module) and any(True for _ in module.parameters()):
            return module
    return None


def _last_hidden_float32(body, rows: torch.Tensor, last: torch.Tensor, **inputs) -> torch.Tensor:
    """The final hidden state at each row's last token, (B, H), with the final norm applied in float32.

    In a bfloat16 model the logits of letters are ~10-20 and bf16 steps there are 0.06-0.125,
    so letters whose logits differ by less than that would tie exactly. The transformer body
    stays in the model's dtype; only the last norm (taken from its input, caught by a hook)
    and the letters' rows of the output layer run in float32, which costs nothing measurable.
    """
    norm = _final_norm(body)
    caught = {}
    handle = norm.register_forward_hook(lambda module, args, output: caught.setdefault("x", args[0])) if norm else None
    try:
        hidden = body(**inputs)[0]  # (B, T, H)
    finally:
        if handle is not None:
            handle.remove()
    if "x" not in caught:  # no final norm found: the body's own output
        return hidden[rows, last].float()
    params = {name: p.float() for name, p in norm.named_parameters()}
    return torch.func.functional_call(norm, params, (caught["x"][rows, last].float(),))  # (B, H)


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    # Chat-templated prompts already start with the BOS text; plain prompts get the
    # tokenizer's usual special tokens, as the paper's `tokenizer.encode(...)` does.
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and prompt.startswith(bos))
    return tokenizer(prompt, add_special_tokens=add_special)["input_ids"]


def option_distributions(model, tokenizer, prompts: Sequence[str], n_options: Sequence[int], batch_size: int = 16,
                         progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """The answer distribution over the first n_options[i] letters after prompts[i], in input order.

    Prompts are sorted by token length into batches (less padding) and left-padded by hand, so
    the tokenizer's padding side does not matter. `progress(done, total)` is called per batch.
    """
    if len(prompts) != len(n_options):
        raise ValueError(f"{len(prompts)} prompts but {len(n_options)} option counts")
    if not prompts:
        return []
    if min(n_options) < 1 or max(n_options) > len(LETTERS):
        raise ValueError(f"option counts must be 1..{len(LETTERS)}, got {min(n_options)}..{max(n_options)}")
    letter_ids = letter_token_ids(tokenizer, max(n_options))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    device = next(model.parameters()).device
    encoded = [encode_prompt(tokenizer, p) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    results: list[np.ndarray | None] = [None] * len(prompts)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = max(len(encoded[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)  # (B, T)
            attention_mask = torch.zeros((len(batch), width), dtype=torch.long)  # (B, T)
            for row, i in enumerate(batch):
                input_ids[row, width - len(encoded[i]):] = torch.tensor(encoded[i])
                attention_mask[row, width - len(encoded[i]):] = 1
            logits = option_logits(model, input_ids.to(device), attention_mask.to(device), letter_ids)  # (B, L)
            logits = logits.double().cpu()
            for row, i in enumerate(batch):
                results[i] = torch.softmax(logits[row, :n_options[i]], dim=-1).numpy()
            if progress is not None:
                progress(min(start + batch_size, len(order)), len(order))
    return results


class TransformersBackend:
    """A Simulator backend (`simulator.Backend`) that runs a transformers model: first-token
    letter scoring (`option_distributions`) and greedy generation.

    `identity` says what determines its numbers (model and adapter files, dtype, device) for the
    prediction cache; a model given already loaded (`TransformersBackend(model, tokenizer)`) has
    unknown provenance and is never cached.
    """

    def __init__(self, model, tokenizer, identity: str | None = None):
        self.model, self.tokenizer, self.identity = model, tokenizer, identity

    @classmethod
    def load(cls, model_name: str = DEFAULT_MODEL, adapter: str | None = None, device: str = "auto",
             dtype: str = "float32", adapter_root=None, compile: bool = False) -> "TransformersBackend":
        """`load_model(model_name, device, dtype)` with an optional LoRA adapter (name or folder).

        compile: compile each transformer block (`compiled.py`), with plain-matmul attention on
            CPU: 10-15 s of compiling on the first batch, then about 1.5x the prompts/s in bf16 on
            a CPU (measured in `make bench`); worth it for sweeps of a thousand prompts or more.
        """
        adapter_dir = check_adapter(adapter_path(adapter, adapter_root)) if adapter is not None else None
        model, tokenizer = load_model(model_name, device=device, dtype=dtype)
        if adapter_dir is not None:
            # LoRA folded into the weights: inference then costs what the base model costs (no
            # extra low-rank products per layer); the numbers agree up to float rounding (tested).
            model = load_adapter(model, adapter_dir).merge_and_unload()
        if compile:
            if model.device.type == "cpu":  # compiled bf16: 36.5 prompts/s with it, 27.7 with SDPA
                model.set_attn_implementation("eager")
            compile_blocks(model)
        return cls(model, tokenizer, model_identity(model_name, adapter_dir, dtype, model.device.type))

    def distributions(self, prompts: Sequence[str], n_options: Sequence[int], batch_size: int = 16,
                      progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
        return option_distributions(self.model, self.tokenizer, prompts, n_options, batch_size=batch_size,
                                    progress=progress)

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 80, batch_size: int = 16,
                 progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Greedy continuations, batch by batch (the tokenizer pads; chat prompts carry their own BOS)."""
        texts = []
        for start in range(0, len(prompts), batch_size):
            chunk = list(prompts[start:start + batch_size])
            bos = getattr(self.tokenizer, "bos_token", None)
            batch = self.tokenizer(chunk, return_tensors="pt", padding=True,
                                   add_special_tokens=not (bos and chunk[0].startswith(bos))).to(self.model.device)
            with torch.inference_mode():
                output = self.model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                             pad_token_id=self.tokenizer.pad_token_id)
            texts += self.tokenizer.batch_decode(output[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
            if progress is not None:
                progress(min(start + batch_size, len(prompts)), len(prompts))
        return texts
