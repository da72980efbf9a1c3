"""Run a method on evaluation targets, score its predictions, and shape them as one tidy table.

Every method (`methods.METHODS`) ends here: `run(method, targets, context)` turns its list of
predictions, one per item (None where the method has no answer), into rows of
(method, model, adapter, dataset, split, question_id, group, iso3, metric, value) with the
real and predicted distributions kept as JSON lists, so maps and leaderboards are queries.
"""
from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import SurveyItem, load_dataset, select
from .data.loaders import UPLOAD_PREFIX
from .data.splits import fold_countries
from .methods import METHODS, Context, Method
from .leaderboard import method_label
from .metrics import METRICS, score_pairs

METRICS_FIRST = next(iter(METRICS))  # every scored row has it: one row per (item, method) to count by
ID_COLUMNS = ["method", "model", "adapter", "dataset", "split", "question_id", "group", "iso3"]


def tidy_scores(test: Sequence[SurveyItem], predictions: Sequence[np.ndarray | None], *, method: str, dataset: str,
                split: str, model: str = "", adapter: str = "") -> pd.DataFrame:
    """One row per (item with a prediction, metric)."""
    if len(predictions) != len(test):
        raise ValueError(f"{method}: {len(predictions)} predictions for {len(test)} items")
    pairs = [(item, pred) for item, pred in zip(test, predictions, strict=True) if pred is not None]
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


@dataclass(frozen=True)
class Target:
    """Items to evaluate on, named as the results store names them: data set and split."""

    dataset: str
    split: str
    items: Sequence[SurveyItem]


def run(method: str | Method, targets: Sequence[Target], context: Context) -> pd.DataFrame:
    """Run a method (a name in `methods.METHODS`) on each target and score it: the tidy rows that
    the CLI, the app and the experiments store, map and rank."""
    method = METHODS[method] if isinstance(method, str) else method
    model, adapter = (context.model, context.adapter or "") if "model" in method.uses else ("", "")
    frames = []
    for target in targets:
        items = list(target.items)
        predictions = method.run(items, context)
        frame = tidy_scores(items, predictions, method=method.label(context), dataset=target.dataset,
                            split=target.split, model=model, adapter=adapter)
        frame["coverage"] = sum(p is not None for p in predictions) / max(len(items), 1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def parse_target(text: str) -> tuple[str, str]:
    """"wvs:C1-Q2" -> ("wvs", "C1-Q2"); "upload:mine.csv" -> ("upload:mine.csv", "all"); a bare
    name means the whole data set."""
    prefix = UPLOAD_PREFIX if text.startswith(UPLOAD_PREFIX) else ""
    name, _, split = text.removeprefix(prefix).partition(":")
    return prefix + name, split or "all"


def split_items(text: str, data_root=None) -> tuple[str, str, list[SurveyItem]]:
    """("wvs", "C1-Q2", its items) for "wvs:C1-Q2"."""
    name, split = parse_target(text)
    return name, split, list(select(load_dataset(name, root=data_root), split))


def load_target(text: str, data_root=None, fold: int | None = None, max_items: int | None = None) -> Target:
    """The items of "NAME:SPLIT"; with `fold`, only the countries held out in that fold of C1
    (split named "SPLIT:foldN"); with `max_items`, a seeded sample of at most that many
    (":sampleN")."""
    name, split, items = split_items(text, data_root)
    if fold is not None:
        held_out = set(fold_countries(fold))
        items, split = [it for it in items if it.iso3 in held_out], f"{split}:fold{fold}"
    if not items:  # scoring nothing would "append 0 rows" and look like success
        raise ValueError(f"--test {text}{f' --fold {fold}' if fold is not None else ''}: no rows "
                         f"(`survey-sim data report {name}` lists its splits)")
    return sampled(Target(name, split, items), max_items)


def load_file_target(path, max_items: int | None = None) -> Target:
    """A user's rows with real distributions (any format `load_user_file` reads), as one target."""
    from .data import load_user_file

    return sampled(Target(Path(path).stem, "all", list(load_user_file(path))), max_items)


def sampled(target: Target, max_items: int | None) -> Target:
    if max_items is None:  # a seeded sample, e.g. for the slow json_zs
        return target
    if max_items < 1:
        raise ValueError(f"--max-items must be at least 1, got {max_items}")
    return Target(target.dataset, f"{target.split}:sample{max_items}", sample(target.items, max_items))


def sample(items: Sequence[SurveyItem], k: int, seed: int = 0) -> list[SurveyItem]:
    """A seeded random sample of at most k items, in their original order."""
    keep = set(random.Random(seed).sample(range(len(items)), min(k, len(items))))
    return [it for i, it in enumerate(items) if i in keep]


def sample_questions(target: Target, max_questions: int | None, seed: int = 0) -> Target:
    """A seeded sample of at most `max_questions` questions with all their groups (":questionsN"):
    what checks across the countries of a question need, where `sampled` would thin them out."""
    if max_questions is None:
        return target
    if max_questions < 1:
        raise ValueError(f"--max-questions must be at least 1, got {max_questions}")
    keys = list(dict.fromkeys(item.key for item in target.items))
    kept = set(random.Random(seed).sample(keys, min(max_questions, len(keys))))
    return Target(target.dataset, f"{target.split}:questions{max_questions}",
                  [item for item in target.items if item.key in kept])


def training_items(text: str, data_root=None, fold: int | None = None, adapter: str | None = None
                   ) -> list[SurveyItem]:
    """What baselines learn from ("NAME:SPLIT"); with `fold`, without that fold's held-out countries.
    "adapter" / "adapter:NAME": the items `adapter` (or NAME) was trained on, as its saved config
    selects them: the `shift` method's prior, or a baseline, then learns from exactly the
    adapter's training countries."""
    if text == "adapter" or text.startswith("adapter:"):
        return adapter_training_items(text.partition(":")[2] or adapter, data_root)
    _, _, items = split_items(text, data_root)
    if fold is not None:
        held_out = set(fold_countries(fold))  # they must not inform the baseline
        items = [it for it in items if it.iso3 not in held_out]
    if not items:  # a baseline that learns from nothing predicts nothing: "0 rows" would look like success
        raise ValueError(f"--train {text}{f' --fold {fold}' if fold is not None else ''}: no rows "
                         f"(`survey-sim data report {parse_target(text)[0]}` lists its splits)")
    return items


def adapter_training_items(adapter: str | None, data_root=None) -> list[SurveyItem]:
    from .adapters import adapter_path, check_adapter, read_adapter
    from .training.config import TrainConfig

    if not adapter:
        raise ValueError("--train adapter takes the training items of --adapter NAME: give --adapter")
    metadata = read_adapter(check_adapter(adapter_path(adapter)))["metadata"]
    if "config" not in metadata or metadata.get("data") == "(items given)":
        raise ValueError(f"adapter {adapter!r} does not record the data sets it was trained on; "
                         "give --train NAME:SPLIT")
    return TrainConfig.from_dict(metadata["config"]).items(data_root)[0]


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


def letter_bias(results: pd.DataFrame, n_options: int) -> pd.DataFrame:
    """The mean share each letter position gets on questions with `n_options` options: real (each
    (question, group) row once) and predicted by each method in `results` (best one test split).
    A model that prefers "A" whatever it stands for shows it here."""
    sizes = results["real"].map(lambda real: len(json.loads(real)))
    rows = results[(results["metric"] == METRICS_FIRST) & (sizes == n_options)]
    if rows.empty:
        return pd.DataFrame()
    unique = rows.drop_duplicates(["question_id", "group"])
    columns = {"real": np.mean([json.loads(r) for r in unique["real"]], axis=0)}
    for (method, model, adapter), group in rows.groupby(["method", "model", "adapter"], sort=False):
        columns[method_label(method, model, adapter)] = np.mean([json.loads(p) for p in group["pred"]], axis=0)
    return pd.DataFrame(columns, index=[chr(ord("A") + i) for i in range(n_options)]).T  # a row per source


def country_means(results: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per country (iso3): the mean of `metric` over the rows of `results` (one run), and how many.

    Rows without an ISO code (non-national samples, subpopulations) are left out: they have no
    place on a map.
    """
    rows = results[(results["metric"] == metric) & results["iso3"].notna()]
    table = rows.groupby("iso3").agg(group=("group", "first"), value=("value", "mean"), n=("value", "size"))
    return table.reset_index()
