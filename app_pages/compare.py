"""Compare: one question's real answer distribution, country against country, and what the
simulator predicts for each (zero-shot or with a fine-tuned adapter)."""
from dataclasses import replace

import pandas as pd
import streamlit as st

from survey_sim import robustness
from survey_sim.charts import distribution_bars
from survey_sim.labels import group_label, question_label, question_token
from survey_sim.metrics import METRICS, score_pairs
from survey_sim.adapters import list_adapters

from app_pages.shared import (dataset_choices, dataset_or_stop, dataset_source, dataset_title, default_adapter,
                              how_it_predicts, show_collapse, simulate, training_mark, zero_shot_label)

NO_SIMULATION = "real answers only"
ZERO_SHOT = zero_shot_label()

st.title("How would people answer?")
st.caption("Real survey answer distributions by country or group, and the simulator's prediction beside them.")

choices = dataset_choices()  # the manifest's data sets, then your uploads
params = st.query_params  # a shared link restores its view once; the widgets rule after that
opening_link = "dataset" not in st.session_state and bool(params)
not_found = []  # what an opened link asked for that is not there: said, not silently replaced
if opening_link and params.get("dataset") in choices:
    st.session_state["dataset"] = params["dataset"]
elif opening_link and "dataset" in params:
    not_found.append(f"data set “{params['dataset']}”")
name = st.selectbox("Data set", choices, format_func=dataset_title, key="dataset")
dataset = dataset_or_stop(name)
st.caption(dataset_source(name))

by_question = {}
for item in dataset:
    by_question.setdefault(item.key, []).append(item)
questions = list(by_question.values())
labels = [question_label(items[0]) for items in questions]
tokens = [question_token(items[0]) for items in questions]  # the URL's name for a question: stable, not a position
question_key = f"question:{name}"  # a widget per data set: another set's question never lingers in the box
if opening_link and question_key not in st.session_state and params.get("q") in tokens:
    st.session_state[question_key] = tokens.index(params["q"])
    st.session_state["picked_groups"] = params.get_all("group")
    st.session_state["simulator"] = params.get("sim")
elif opening_link and "q" in params:
    not_found.append(f"question “{params['q']}” in {name}")
chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__,
                      key=question_key)
answers = {item.group: item for item in questions[chosen]}
if opening_link and params.get("q") in tokens:
    not_found += [f"“{group}” among the groups that answered it" for group in params.get_all("group")
                  if group not in answers]

groups = sorted(answers)
is_countries = any(item.iso3 for item in answers.values())
# Keep the groups picked before where the new question has them (a fresh widget per question).
kept = [g for g in st.session_state.get("picked_groups", []) if g in answers]
picked = st.multiselect("Countries" if is_countries else "Groups", groups, default=kept or groups[:2],
                        max_selections=6, key=f"groups:{name}:{chosen}", format_func=group_label)
st.session_state["picked_groups"] = picked
if not picked:
    st.info("Pick at least one country or group.")
    st.stop()

adapters = [a["name"] for a in list_adapters()]
simulators = [NO_SIMULATION, ZERO_SHOT, *adapters]
if st.session_state.get("simulator") not in simulators:
    st.session_state["simulator"] = default_adapter() or NO_SIMULATION
if opening_link and params.get("sim") and params.get("sim") not in simulators:
    not_found.append(f"simulator “{params['sim']}”")
left, right = st.columns([3, 2])
simulator_choice = left.radio("Simulate with", simulators, horizontal=True, key="simulator")
# A second simulator beside the first (zero-shot beside the shipped adapter by default): what
# fine-tuning changed, on the same bars.
beside = [NO_SIMULATION, *(s for s in simulators[1:] if s != simulator_choice)]
if "second_simulator" not in st.session_state:
    wanted = params.get("sim2") if opening_link else (ZERO_SHOT if simulator_choice not in (NO_SIMULATION, ZERO_SHOT)
                                                       else NO_SIMULATION)
    if opening_link and wanted and wanted not in beside:
        not_found.append(f"second simulator “{wanted}”")
    st.session_state["second_simulator"] = wanted if wanted in beside else NO_SIMULATION
elif st.session_state["second_simulator"] not in beside:
    st.session_state["second_simulator"] = NO_SIMULATION
second_choice = right.selectbox("Beside it", beside, key="second_simulator",
                                help="A second simulator on the same bars, e.g. zero-shot beside a fine-tuned adapter")
if not_found:
    st.warning("This link asked for what is not here: " + "; ".join(not_found) + ". Showing what is.",
               icon=":material/link_off:")
st.query_params.from_dict({"dataset": name, "q": tokens[chosen], "group": picked, "sim": simulator_choice,
                           "sim2": second_choice})

items = [answers[g] for g in picked]
st.markdown(f"**{items[0].question}**")
chosen_simulators = [c for c in (simulator_choice, second_choice) if c != NO_SIMULATION]
if items[0].options is None and chosen_simulators:
    st.warning("This source has no option texts, so letters are shown and nothing can be simulated.")
    chosen_simulators = []

simulated = {}
for choice in chosen_simulators:
    with st.spinner(f"Simulating with {choice}..."):
        simulated[choice] = simulate(None if choice == ZERO_SHOT else choice, items, known=dataset)
shown = [replace(item, group=group_label(item.group)) for item in items]  # "Political party: Democrat", not a code
st.plotly_chart(distribution_bars(shown, simulated), width="stretch")

if simulated:
    real = [it.distribution for it in items]
    scores = pd.concat([score_pairs(real, predictions).assign(
        group=[group_label(g) for g in picked], simulator=choice, training=training_mark(None if choice == ZERO_SHOT else choice, items))
        for choice, predictions in simulated.items()], ignore_index=True)
    st.dataframe(scores[["group", "simulator", *METRICS, "training"]], hide_index=True, column_config={
        m: st.column_config.NumberColumn(m, help=METRICS[m].description, format="%.3f") for m in METRICS})
    st.caption("Simulated answers are the model's predictions, not survey data. 1-JSD: higher is better; EMD: lower "
               "is better; majority_acc: 1 when the top option matches. "
               + " ".join(how_it_predicts(None if c == ZERO_SHOT else c) for c in simulated))
    if scores["training"].eq("country seen, question seen").any():
        st.caption(":material/school: Rows marked *country seen, question seen* were training rows: a good score "
                   "there shows what the simulator was taught, not how it simulates an unseen population.")
    if len(items) > 1:
        for choice, predictions in simulated.items():
            show_collapse(robustness.of_question(real, predictions), f"{choice}, across the {len(items)} groups picked")
elif len(items) > 1:
    st.caption("Pick a simulator above to see predicted answers beside the real ones.")
