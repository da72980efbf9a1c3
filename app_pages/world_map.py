"""World map: where the simulation is wrong. One question across every country (real majority
answer and the simulator's divergence), or a method's mean score per country over a whole
evaluated split (from the results store)."""
import numpy as np
import pandas as pd
import streamlit as st

from survey_sim.evaluation import country_means
from survey_sim import robustness
from survey_sim.geo import answer_map, metric_range, questions_by_coverage, world_map
from survey_sim.leaderboard import higher_is_better, method_label, store_metrics
from survey_sim.metrics import METRICS, score_pairs
from survey_sim.adapters import list_adapters
from survey_sim.data import dataset_specs
from survey_sim.gis import region_table
from survey_sim.results import REFERENCE_RESULTS, RUN_KEYS
from survey_sim.seen import FILTERS, mark_rows

from app_pages.shared import (dataset_choices, dataset_or_stop, dataset_title, default_adapter, gis_downloads,
                              how_it_predicts, results_or_stop, seen_in_training, show_collapse, show_map, simulate,
                              training_mark, zero_shot_label)

ZERO_SHOT = zero_shot_label()
DIVERGENCES = {"1-jsd_paper": "1-JSD (paper-compatible)", "emd": "EMD (ordinal)"}


def divergence_colours(metric: str) -> dict:
    """Green where the simulation is good, whichever way the metric points."""
    return {"colorscale": "RdYlGn", "reversescale": higher_is_better(metric) is False}


def one_question() -> None:
    name = st.selectbox("Data set", dataset_choices(countries_only=True), format_func=dataset_title, key="map_dataset")
    dataset = dataset_or_stop(name)
    questions = questions_by_coverage(dataset)  # best-covered questions first
    labels = [f"{items[0].question_id or ''} {items[0].question[:140]} ({len(items)} countries)".strip()
              for items in questions]
    chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__,
                          key=f"map_question:{name}")  # a widget per data set, as on Compare
    items = questions[chosen]
    if items[0].options is None:
        st.info("This source has no option texts; pick another data set.")
        return

    majority = [int(np.argmax(it.distribution)) for it in items]
    hover = [f"{it.group}<br>most common: {it.options[m]} ({it.distribution[m]:.0%})" for it, m in zip(items, majority)]
    named = question_name(items[0])  # a map saved or shown on its own still says what was asked
    show_map(answer_map([it.iso3 for it in items], majority, list(items[0].options), hover,
                        f"Real: the most common answer to {named}"), [it.iso3 for it in items])

    left, middle, right = st.columns([2, 2, 2])
    simulators = ["(none)", ZERO_SHOT, *(a["name"] for a in list_adapters())]
    default = default_adapter()
    choice = left.selectbox("Simulate every country with", simulators, key="map_simulator",
                            index=simulators.index(default) if default in simulators else 0)
    beside = [s for s in simulators if s != choice or s == "(none)"]
    second = middle.selectbox("Beside it (a map of their difference)", beside, key="map_second_simulator",
                              help="A second simulator: both divergence maps, and where the first is better")
    metric = right.radio("Divergence", list(DIVERGENCES), format_func=DIVERGENCES.get, horizontal=True,
                         key="map_metric")
    shown = [simulator for simulator in (choice, second) if simulator != "(none)"]
    real = [it.distribution for it in items]
    scores = {}
    for simulator in shown:
        with st.spinner(f"Simulating {len(items)} countries with {simulator}..."):
            adapter = None if simulator == ZERO_SHOT else simulator
            simulated = simulate(adapter, items, known=dataset)
        scores[simulator] = score_pairs(real, simulated)[metric]
        marks = training_mark(adapter, items)
        divergence_map(items, simulated, scores[simulator], metric, f"{simulator} vs real on {named}", marks)
        st.caption(seen_caption(simulator, marks))
        show_collapse(robustness.of_question(real, simulated), f"{simulator}, all {len(items)} countries")
        st.caption(f"Simulated answers are the model's predictions, not survey data. {how_it_predicts(adapter)}")
    if len(scores) == 2:
        difference_map(items, scores[choice], scores[second], metric, choice, second, named)


def seen_caption(name: str, marks: list[str]) -> str:
    """How many of the mapped rows the simulator was trained on."""
    if marks[0].startswith("base model"):
        return f"{name} was never fitted to survey answers: every country here is unseen."
    if marks[0] == "not recorded":
        return f"{name} does not record its training data: which countries it saw is unknown."
    question = "saw this question" if marks[0].endswith("question seen") else "never saw this question"
    countries = sum(mark.startswith("country seen") for mark in marks)
    return (f"In training, {name} {question} and {countries} of these {len(marks)} countries"
            + (": their scores show what it was taught, not how it simulates." if countries and
               question == "saw this question" else "."))


def divergence_map(items, simulated, scores, metric: str, title: str, marks: list[str]) -> None:
    frame = pd.DataFrame({
        "iso3": [it.iso3 for it in items], metric: scores,
        "hover": [f"{it.group} ({mark})<br>{DIVERGENCES[metric]} {s:.3f}<br>"
                  f"real: {it.options[int(np.argmax(it.distribution))]}<br>simulated: {it.options[int(np.argmax(p))]}"
                  for it, p, s, mark in zip(items, simulated, scores, marks)],
    })
    better = "higher" if higher_is_better(metric) else "lower"
    show_map(world_map(frame, metric, f"{title}: {DIVERGENCES[metric]} ({better} is better)",
                       colorbar_title=metric, **metric_range(metric), **divergence_colours(metric)), frame["iso3"])
    gis_downloads(frame.assign(group=[it.group for it in items], training=marks).drop(columns="hover"),
                  f"{title.split(' vs real')[0]}_{items[0].question_id or 'question'}_{metric}".replace(":", "_"))


DIFFERENCE_RANGE = 0.2  # fixed: the same blue means the same gain on every question's map


def difference_map(items, first, second, metric: str, first_name: str, second_name: str, named: str) -> None:
    """Where the first simulator does better than the second (blue) and worse (red), per country."""
    gain = (first - second) if higher_is_better(metric) else (second - first)
    frame = pd.DataFrame({"iso3": [it.iso3 for it in items], "gain": gain,
                          "hover": [f"{it.group}<br>{first_name}: {a:.3f}<br>{second_name}: {b:.3f}"
                                    for it, a, b in zip(items, first, second)]})
    show_map(world_map(frame, "gain", f"Where {first_name} beats {second_name} on {named} (blue: better)",
                       colorscale="RdBu", zmin=-DIFFERENCE_RANGE, zmax=DIFFERENCE_RANGE,
                       colorbar_title=f"{metric} gain"), frame["iso3"])
    st.caption(f"{first_name} is better in {int((gain > 0).sum())} of {len(gain)} countries, worse in "
               f"{int((gain < 0).sum())}; mean gain {gain.mean():+.3f} {metric}. One question: a difference here "
               "is an anecdote; the Leaderboard's paired intervals over many questions say whether it holds.")


def question_name(item, width: int = 70) -> str:
    """“Q164 How important is God in your life? ...”: the id and the start of the text, for a title."""
    text = item.question if len(item.question) <= width else item.question[:width - 1].rstrip() + "…"
    return f"{item.question_id + ' ' if item.question_id else ''}“{text}”"


def split_average() -> None:
    results, store = results_or_stop()
    if store == REFERENCE_RESULTS:
        st.caption("From the project's reference results; your own evaluations replace them.")
    if results.empty:
        st.info("No evaluations yet. Evaluate a method on a split, then its map appears here, e.g.")
        st.code("survey-sim evaluate --method zero_shot --test wvs:C1-Q2\n"
                "survey-sim baselines --train wvs:C1-Q1 --test wvs:C1-Q2", language="bash")
        return
    runs = results[RUN_KEYS].drop_duplicates().reset_index(drop=True)
    labels = [f"{method_label(r.method, r.model, r.adapter)} on {r.dataset}:{r.split}" for r in runs.itertuples()]
    chosen = st.selectbox("Evaluated run", range(len(runs)), format_func=labels.__getitem__, key="map_run")
    metrics = store_metrics(results)
    metric = st.radio("Metric", metrics, index=metrics.index("1-jsd_paper") if "1-jsd_paper" in metrics else 0,
                      horizontal=True, key="map_run_metric", format_func=lambda m: m,
                      help="; ".join(f"{m}: {METRICS[m].description}" for m in metrics if m in METRICS))
    run = only_rows_shown(results[(results[RUN_KEYS] == runs.iloc[chosen]).all(axis=1)], runs.iloc[chosen])
    if run.empty:
        st.info("No rows of this run are left by that choice: the adapter saw all of them in training.")
        return
    means = country_means(run, metric)
    if means.empty:
        st.info("This run has no countries with an ISO code (e.g. US subpopulations): nothing to map.")
        return
    means["hover"] = [f"{g}<br>mean {metric} {v:.3f} over {n} questions" for g, v, n in zip(means.group, means.value, means.n)]
    better = {True: "higher is better", False: "lower is better", None: ""}[higher_is_better(metric)]
    view = st.radio("View", ["countries", "world regions"], horizontal=True, key="map_run_view",
                    help="World regions: each region's mean over its countries with data (shapes dissolved)")
    if view == "countries":
        show_map(world_map(means, "value", f"{labels[chosen]}: mean {metric} per country ({better})",
                           colorbar_title=metric, **metric_range(metric), **divergence_colours(metric)), means["iso3"])
    else:
        regions = region_table(means, "value")
        regions["hover"] = [f"{r}<br>mean {metric} {v:.3f} over {n} countries" for r, v, n
                            in zip(regions.region, regions.region_mean, regions.region_countries)]
        show_map(world_map(regions, "region_mean", f"{labels[chosen]}: mean {metric} per world region ({better})",
                           colorbar_title=metric, **metric_range(metric), **divergence_colours(metric)),
                 regions["iso3"])
        st.dataframe(regions.drop_duplicates("region")[["region", "region_mean", "region_countries"]], hide_index=True,
                     column_config={"region_mean": st.column_config.NumberColumn(f"mean {metric}", format="%.3f")})
    gis_downloads(means.drop(columns="hover").rename(columns={"value": metric}),
                  f"{runs.iloc[chosen].method}_{runs.iloc[chosen].dataset}_{metric}".replace(":", "_"))
    if "pred" in run and run["pred"].notna().all():
        by_question = robustness.collapse_by_question(run)
        if not by_question.empty:
            show_collapse(robustness.over_questions(by_question), labels[chosen])
    st.dataframe(means.drop(columns="hover").sort_values("value"), hide_index=True,
                 column_config={"value": st.column_config.NumberColumn(metric, format="%.3f")})


def only_rows_shown(run: pd.DataFrame, key) -> pd.DataFrame:
    """An adapter's rows, filtered to what it did not see in training if the user asks: a score
    on training rows proves nothing about simulating an unseen population."""
    spec = dataset_specs().get(key.dataset)
    seen = seen_in_training(key.adapter) if key.adapter and spec else None
    if seen is None:
        return run
    marked = mark_rows(run, seen, spec.survey)
    first = marked[marked["metric"] == marked["metric"].iloc[0]]
    counts = {name: len(keep(first)) for name, keep in FILTERS.items()}
    choice = st.radio("Rows", list(FILTERS), horizontal=True, key="map_run_rows",
                      format_func=lambda name: f"{name} ({counts[name]:,})",
                      help=f"Which rows of {key.adapter}'s evaluation to average, by what it saw in training "
                           "(its survey_sim.json)")
    return FILTERS[choice](marked)


st.title("World map")
st.caption("Where answers differ, and where the simulation is wrong. Countries without data stay grey.")
mode = st.radio("Show", ["One question", "A split, averaged"], horizontal=True, key="map_mode",
                help="A split's map comes from the results store: every evaluated method, baselines included.")
if mode == "One question":
    one_question()
else:
    split_average()
