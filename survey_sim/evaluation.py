"""Score predictions against real distributions and shape them as one tidy table.

Every method (baselines now, language models later) ends here: a list of predictions, one
per test item (None where the method has no answer), becomes rows of
(method, model, adapter, dataset, split, question_id, group, iso3, metric, value) with the
real and predicted distributions kept as JSON lists, so maps and leaderboards are queries.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .baselines import get_baseline
from .data import Dataset
from .metrics import METRICS, score_pairs
from .sharding import sharded

ID_COLUMNS = ["method", "model", "adapter", "dataset", "split", "question_id", "group", "iso3"]


def tidy_scores(test: Dataset, predictions: Sequence[np.ndarray | None], *, method: str, dataset: str,
                split: str, model: str = "", adapter: str = "") -> pd.DataFrame:
    """One row per (item with a prediction, metric)."""
    if len(predictions) != len(test):
        raise ValueError(f"{method}: {len(predictions)} predictions for {len(test)} items")
    pairs = [(item, pred) for item, pred in zip(test, predictions) if pred is not None]
    if not pairs:
        return pd.DataFrame(columns=[*ID_COLUMNS, "question", "real", "pred", "metric", "value"])
    wide = score_pairs([item.distribution for item, _ in pairs], [np.asarray(pred) for _, pred in pairs])
    wide = wide.assign(
        method=method, model=model, adapter=adapter, dataset=dataset, split=split,
        question_id=[item.question_id or item.question for item, _ in pairs],
        question=[item.question for item, _ in pairs],
        group=[item.group for item, _ in pairs],
        iso3=[item.iso3 for item, _ in pairs],
        real=[json.dumps(np.round(item.distribution, 6).tolist()) for item, _ in pairs],
        pred=[json.dumps(np.round(np.asarray(pred, dtype=float), 6).tolist()) for _, pred in pairs],
    )
    return wide.melt(id_vars=[*ID_COLUMNS, "question", "real", "pred"], var_name="metric", value_name="value")


def evaluate_baselines(names: Sequence[str], train: Dataset, test: Dataset, *, dataset: str, split: str) -> pd.DataFrame:
    """Run each named baseline on `test` (with `train` as its training data) and score it."""
    frames = []
    for name in names:
        predictions = get_baseline(name)(train, test)
        frame = tidy_scores(test, predictions, method=name, dataset=dataset, split=split)
        frame["coverage"] = sum(p is not None for p in predictions) / max(len(test), 1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


MODEL_METHODS = {
    "zero_shot": "the base model with the paper's prompt",
    "adapter": "the base model with a fine-tuned LoRA adapter",
    "ctrl": "the paper's control: the base model (or adapter) prompted with a random other country",
    "json_zs": "the model is asked for a JSON object of percentages (greedy generation); unparseable answers "
               "are counted and left out",
}


def json_zero_shot(test: Dataset, simulator, batch_size: int = 16, max_new_tokens: int = 80,
                   progress=None) -> list[np.ndarray | None]:
    """Generate a JSON answer per item (chat template when the tokenizer has one) and parse it."""
    import torch

    from .prompts import build_prompt, parse_json_answer

    tokenizer, model = simulator.tokenizer, simulator.model
    chat = bool(getattr(tokenizer, "chat_template", None))
    prompts = [build_prompt(it, lang=simulator.lang, template="json", chat=chat, tokenizer=tokenizer) for it in test]
    results = []
    for start in range(0, len(prompts), batch_size):
        batch = tokenizer(prompts[start:start + batch_size], return_tensors="pt", padding=True,
                          add_special_tokens=not chat).to(model.device)
        with torch.inference_mode():
            output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                    pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        items = list(test)[start:start + batch_size]
        results += [parse_json_answer(text, it.n_options) for text, it in zip(texts, items)]
        if progress is not None:
            progress(min(start + batch_size, len(prompts)), len(prompts))
    return results


def prompt_distributions(simulator, prompts: Sequence[str], n_options: Sequence[int], batch_size: int = 16,
                         progress=None) -> list[np.ndarray]:
    """`option_distributions` of ready-made prompts with the simulator's model, sharded across
    `accelerate launch` processes (survey_sim.sharding); input order kept."""
    from .scoring import option_distributions

    def score(share):
        return option_distributions(simulator.model, simulator.tokenizer, [p for p, _ in share], [k for _, k in share],
                                    batch_size=batch_size, progress=progress)

    return sharded(score, list(zip(prompts, n_options)))


def model_predictions(method: str, test: Dataset, simulator, batch_size: int = 16, progress=None,
                      seed: int = 0) -> list[np.ndarray | None]:
    """Predictions of a language-model method; `simulator` is a `scoring.Simulator`."""
    # Under `accelerate launch`, each process scores a share (survey_sim.sharding); else all.
    if method in ("zero_shot", "adapter"):
        return sharded(lambda share: simulator.predict(share, batch_size=batch_size, progress=progress), list(test))
    if method == "ctrl":
        from .prompts import build_control_prompts

        # Prompts first, over all rows, so each row's random country is the same however it is sharded.
        prompts = build_control_prompts(list(test), seed=seed, lang=simulator.lang, chat=simulator.chat,
                                        tokenizer=simulator.tokenizer)
        return prompt_distributions(simulator, prompts, [it.n_options for it in test], batch_size, progress)
    if method == "json_zs":
        return sharded(lambda share: json_zero_shot(share, simulator, batch_size=batch_size, progress=progress),
                       list(test))
    raise KeyError(f"unknown model method {method!r}; choose one of {', '.join(MODEL_METHODS)}")


def evaluate_model(method: str, test: Dataset, simulator, *, dataset: str, split: str, model: str,
                   adapter: str = "", batch_size: int = 16, progress=None) -> pd.DataFrame:
    """Run a language-model method on `test` and score it (tidy rows, as for the baselines)."""
    predictions = model_predictions(method, test, simulator, batch_size=batch_size, progress=progress)
    frame = tidy_scores(test, predictions, method=method, dataset=dataset, split=split, model=model, adapter=adapter)
    frame["coverage"] = sum(p is not None for p in predictions) / max(len(test), 1)
    return frame


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric per (method, dataset, split), with the number of items scored."""
    keys = ["method", "model", "adapter", "dataset", "split"]
    if results.empty:
        return pd.DataFrame(columns=[*keys, *METRICS, "n"])
    means = results.pivot_table(index=keys, columns="metric", values="value", aggfunc="mean")
    first_metric = results[results["metric"] == results["metric"].iloc[0]]
    table = means[[m for m in METRICS if m in means.columns]].join(first_metric.groupby(keys).size().rename("n"))
    if "coverage" in results:
        table = table.join(first_metric.groupby(keys)["coverage"].first())
    return table.reset_index()


def country_means(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per country (iso3): the mean of `metric` over the rows of `results` (one run), and how many.

    Rows without an ISO code (non-national samples, subpopulations) are left out: they have no
    place on a map.
    """
    rows = results[(results["metric"] == metric) & results["iso3"].notna()]
    table = rows.groupby("iso3").agg(group=("group", "first"), value=("value", "mean"), n=("value", "size"))
    return table.reset_index()
