"""Compare: one question's real answer distribution, country against country, and what the
simulator predicts for each (zero-shot or with a fine-tuned adapter)."""
import streamlit as st

from survey_sim.charts import distribution_bars
from survey_sim.data import dataset_specs
from survey_sim.metrics import METRICS, score_pairs
from survey_sim.adapters import list_adapters

from app_pages.shared import dataset_or_stop, default_adapter, how_it_predicts, simulate, zero_shot_label

NO_SIMULATION = "real answers only"
ZERO_SHOT = zero_shot_label()

st.title("How would people answer?")
st.caption("Real survey answer distributions by country or group, and the simulator's prediction beside them.")

specs = dataset_specs()
params = st.query_params  # a shared link restores its view once; the widgets rule after that
opening_link = "dataset" not in st.session_state and bool(params)
not_found = []  # what an opened link asked for that is not there: said, not silently replaced
if opening_link and params.get("dataset") in specs:
    st.session_state["dataset"] = params["dataset"]
elif opening_link and "dataset" in params:
    not_found.append(f"data set “{params['dataset']}”")
name = st.selectbox("Data set", list(specs), format_func=lambda n: f"{n}: {specs[n].title}", key="dataset")
dataset = dataset_or_stop(name)
st.caption(f"Source: {specs[name].source}. Licence: {specs[name].licence}.")

by_question = {}
for item in dataset:
    by_question.setdefault(item.key, []).append(item)
questions = list(by_question.values())
labels = [f"{items[0].question_id or ''} {items[0].question[:150]}".strip() for items in questions]
tokens = [items[0].question_id or f"#{i}" for i, items in enumerate(questions)]  # the URL's name for a question
if "question" not in st.session_state and params.get("q") in tokens:
    st.session_state["question"] = tokens.index(params["q"])
    st.session_state["picked_groups"] = params.get_all("group")
    st.session_state["simulator"] = params.get("sim")
elif opening_link and "q" in params:
    not_found.append(f"question “{params['q']}” in {name}")
chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__, key="question")
answers = {item.group: item for item in questions[chosen]}
if opening_link and params.get("q") in tokens:
    not_found += [f"“{group}” among the groups that answered it" for group in params.get_all("group")
                  if group not in answers]

groups = sorted(answers)
is_countries = any(item.iso3 for item in answers.values())
# Keep the groups picked before where the new question has them (a fresh widget per question).
kept = [g for g in st.session_state.get("picked_groups", []) if g in answers]
picked = st.multiselect("Countries" if is_countries else "Groups", groups, default=kept or groups[:2],
                        max_selections=6, key=f"groups:{name}:{chosen}")
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
simulator_choice = st.radio("Simulate with", simulators, horizontal=True, key="simulator")
if not_found:
    st.warning("This link asked for what is not here: " + "; ".join(not_found) + ". Showing what is.",
               icon=":material/link_off:")
st.query_params.from_dict({"dataset": name, "q": tokens[chosen], "group": picked, "sim": simulator_choice})

items = [answers[g] for g in picked]
st.markdown(f"**{items[0].question}**")
if items[0].options is None:
    st.warning("This source has no option texts, so letters are shown and nothing can be simulated.")
    simulator_choice = NO_SIMULATION

simulated = None
if simulator_choice != NO_SIMULATION:
    adapter = None if simulator_choice == ZERO_SHOT else simulator_choice
    with st.spinner("Simulating..."):
        simulated = simulate(adapter, items, known=dataset)
st.plotly_chart(distribution_bars(items, simulated), width="stretch")

if simulated is not None:
    scores = score_pairs([it.distribution for it in items], simulated)
    scores.insert(0, "group", picked)
    st.dataframe(scores, hide_index=True, column_config={
        m: st.column_config.NumberColumn(m, help=METRICS[m].description, format="%.3f") for m in METRICS})
    st.caption("Simulated answers are the model's predictions, not survey data. "
               f"{how_it_predicts(adapter)} 1-JSD: higher is better; EMD: lower is better; majority_acc: 1 when "
               "the top option matches.")
elif len(items) > 1:
    st.caption("Pick a simulator above to see predicted answers beside the real ones.")
