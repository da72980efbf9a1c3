"""World map: where the simulation is wrong. One question across every country (real majority
answer and the simulator's divergence), or a method's mean score per country over a whole
evaluated split (from the results store)."""
import numpy as np
import pandas as pd
import streamlit as st

from survey_sim.evaluation import country_means
from survey_sim.geo import answer_map, questions_by_coverage, world_map
from survey_sim.leaderboard import higher_is_better, method_label, store_metrics
from survey_sim.metrics import METRICS, score_pairs
from survey_sim.adapters import list_adapters
from survey_sim.results import REFERENCE_RESULTS, RUN_KEYS, shown_results

from app_pages.shared import (dataset_or_stop, default_adapter, how_it_predicts, map_datasets, show_map, simulate,
                              zero_shot_label)

ZERO_SHOT = zero_shot_label()
DIVERGENCES = {"1-jsd_paper": "1-JSD (paper-compatible)", "emd": "EMD (ordinal)"}


def divergence_colours(metric: str) -> dict:
    """Green where the simulation is good, whichever way the metric points."""
    return {"colorscale": "RdYlGn", "reversescale": higher_is_better(metric) is False}


def one_question() -> None:
    specs = map_datasets()
    name = st.selectbox("Data set", list(specs), format_func=lambda n: f"{n}: {specs[n].title}", key="map_dataset")
    dataset = dataset_or_stop(name)
    questions = questions_by_coverage(dataset)  # best-covered questions first
    labels = [f"{items[0].question_id or ''} {items[0].question[:140]} ({len(items)} countries)".strip()
              for items in questions]
    chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__,
                          key="map_question")
    items = questions[chosen]
    if items[0].options is None:
        st.info("This source has no option texts; pick another data set.")
        return

    majority = [int(np.argmax(it.distribution)) for it in items]
    hover = [f"{it.group}<br>most common: {it.options[m]} ({it.distribution[m]:.0%})" for it, m in zip(items, majority)]
    named = question_name(items[0])  # a map saved or shown on its own still says what was asked
    show_map(answer_map([it.iso3 for it in items], majority, list(items[0].options), hover,
                        f"Real: the most common answer to {named}"), [it.iso3 for it in items])

    left, right = st.columns(2)
    simulators = ["(none)", ZERO_SHOT, *(a["name"] for a in list_adapters())]
    default = default_adapter()
    choice = left.selectbox("Simulate every country with", simulators, key="map_simulator",
                            index=simulators.index(default) if default in simulators else 0)
    metric = right.radio("Divergence", list(DIVERGENCES), format_func=DIVERGENCES.get, horizontal=True, key="map_metric")
    if choice == "(none)":
        return
    with st.spinner(f"Simulating {len(items)} countries..."):
        adapter = None if choice == ZERO_SHOT else choice
        simulated = simulate(adapter, items, known=dataset)
    scores = score_pairs([it.distribution for it in items], simulated)
    frame = pd.DataFrame({
        "iso3": [it.iso3 for it in items], metric: scores[metric],
        "hover": [f"{it.group}<br>{DIVERGENCES[metric]} {s:.3f}<br>real: {it.options[int(np.argmax(it.distribution))]}"
                  f"<br>simulated: {it.options[int(np.argmax(p))]}" for it, p, s in zip(items, simulated, scores[metric])],
    })
    better = "higher" if higher_is_better(metric) else "lower"
    show_map(world_map(frame, metric, f"{choice} vs real on {named}: {DIVERGENCES[metric]} ({better} is better)",
                       **divergence_colours(metric)), frame["iso3"])
    st.caption(f"Simulated answers are the model's predictions, not survey data. {how_it_predicts(adapter)}")


def question_name(item, width: int = 70) -> str:
    """“Q164 How important is God in your life? ...”: the id and the start of the text, for a title."""
    text = item.question if len(item.question) <= width else item.question[:width - 1].rstrip() + "…"
    return f"{item.question_id + ' ' if item.question_id else ''}“{text}”"


def split_average() -> None:
    results, store = shown_results()
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
    run = results[(results[RUN_KEYS] == runs.iloc[chosen]).all(axis=1)]
    means = country_means(run, metric)
    if means.empty:
        st.info("This run has no countries with an ISO code (e.g. US subpopulations): nothing to map.")
        return
    means["hover"] = [f"{g}<br>mean {metric} {v:.3f} over {n} questions" for g, v, n in zip(means.group, means.value, means.n)]
    better = {True: "higher is better", False: "lower is better", None: ""}[higher_is_better(metric)]
    show_map(world_map(means, "value", f"{labels[chosen]}: mean {metric} per country ({better})",
                       **divergence_colours(metric)), means["iso3"])
    st.dataframe(means.drop(columns="hover").sort_values("value"), hide_index=True,
                 column_config={"value": st.column_config.NumberColumn(metric, format="%.3f")})


st.title("World map")
st.caption("Where answers differ, and where the simulation is wrong. Countries without data stay grey.")
mode = st.radio("Show", ["One question", "A split, averaged"], horizontal=True, key="map_mode",
                help="A split's map comes from the results store: every evaluated method, baselines included.")
if mode == "One question":
    one_question()
else:
    split_average()
