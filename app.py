"""survey-sim app: real answer distributions of a survey question, country against country.

Run with `make run` (or `streamlit run app.py`). The simulation pages come with the core and
app issues; this page shows the data the simulator is trained and judged on.
"""
import streamlit as st

from survey_sim.charts import distribution_bars
from survey_sim.data import DataError, DataRootNotFound, data_root, dataset_specs, load_dataset

st.set_page_config(page_title="survey-sim", page_icon="🌍", layout="wide")


@st.cache_resource(show_spinner="Loading survey data...")
def cached_dataset(name: str, root: str):
    return load_dataset(name, root=root)  # shared read-only: items are frozen


st.title("survey-sim: how would people answer?")
st.caption("Real survey answer distributions per country. Simulated distributions will appear beside them.")

specs = dataset_specs()
name = st.selectbox("Data set", list(specs), format_func=lambda n: f"{n}: {specs[n].title}", key="dataset")
try:
    dataset = cached_dataset(name, str(data_root()))
except (DataRootNotFound, DataError, FileNotFoundError) as err:
    st.error(str(err))
    st.stop()
st.caption(f"Source: {specs[name].source}. Licence: {specs[name].licence}. "
           + "; ".join(r.summary() for r in dataset.reports))

by_question = {}
for item in dataset:
    by_question.setdefault(item.key, []).append(item)
questions = list(by_question.values())
labels = [f"{items[0].question_id or ''} {items[0].question[:150]}".strip() for items in questions]
chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__, key="question")
answers = {item.group: item for item in questions[chosen]}

groups = sorted(answers)
# Keep the countries picked before where the new question has them (a fresh widget per question).
kept = [g for g in st.session_state.get("picked_groups", []) if g in answers]
picked = st.multiselect("Countries / groups", groups, default=kept or groups[:2], max_selections=6,
                        key=f"groups:{name}:{chosen}")
st.session_state["picked_groups"] = picked
if not picked:
    st.info("Pick at least one country or group.")
    st.stop()

first = answers[picked[0]]
st.markdown(f"**{first.question}**")
if first.options is None:
    st.warning("This source has no option texts, so letters are shown instead.")
st.plotly_chart(distribution_bars([answers[g] for g in picked]), width="stretch")
