"""Compare: one question's real answer distribution, country against country."""
import streamlit as st

from survey_sim.charts import distribution_bars
from survey_sim.data import dataset_specs

from pages.shared import dataset_or_stop

st.title("How would people answer?")
st.caption("Real survey answer distributions by country or group. Simulated distributions will appear beside them.")

specs = dataset_specs()
name = st.selectbox("Data set", list(specs), format_func=lambda n: f"{n}: {specs[n].title}", key="dataset")
dataset = dataset_or_stop(name)
st.caption(f"Source: {specs[name].source}. Licence: {specs[name].licence}.")

by_question = {}
for item in dataset:
    by_question.setdefault(item.key, []).append(item)
questions = list(by_question.values())
labels = [f"{items[0].question_id or ''} {items[0].question[:150]}".strip() for items in questions]
chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__, key="question")
answers = {item.group: item for item in questions[chosen]}

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

first = answers[picked[0]]
st.markdown(f"**{first.question}**")
if first.options is None:
    st.warning("This source has no option texts, so letters are shown instead.")
st.plotly_chart(distribution_bars([answers[g] for g in picked]), width="stretch")
