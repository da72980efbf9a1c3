"""World map: one question across every country, real answers and how far the simulation is off."""
import numpy as np
import pandas as pd
import streamlit as st

from survey_sim.data import dataset_specs
from survey_sim.geo import PLOTLY_CONFIG, world_map
from survey_sim.metrics import one_minus_jsd_paper
from survey_sim.models import DEFAULT_MODEL

from app_pages.shared import cached_simulator, dataset_or_stop

st.title("World map")
st.caption("One question across every country that answered it. Countries without data stay grey.")

specs = {n: s for n, s in dataset_specs().items() if s.survey != "gss"}  # maps are for country data only
name = st.selectbox("Data set", list(specs), format_func=lambda n: f"{n}: {specs[n].title}", key="map_dataset")
dataset = dataset_or_stop(name)

by_question = {}
for item in dataset:
    if item.iso3:
        by_question.setdefault(item.key, []).append(item)
questions = sorted(by_question.values(), key=len, reverse=True)  # best-covered questions first
labels = [f"{items[0].question_id or ''} {items[0].question[:140]} ({len(items)} countries)".strip() for items in questions]
chosen = st.selectbox("Question (type to search)", range(len(labels)), format_func=labels.__getitem__, key="map_question")
items = questions[chosen]
if items[0].options is None:
    st.info("This source has no option texts; pick another data set.")
    st.stop()

majority = [int(np.argmax(it.distribution)) for it in items]
real = pd.DataFrame({
    "iso3": [it.iso3 for it in items], "majority option": majority,
    "hover": [f"{it.group}<br>most common: {it.options[m]} ({it.distribution[m]:.0%})" for it, m in zip(items, majority)],
})
st.plotly_chart(world_map(real, "majority option", "Real: the most common answer", colorscale="Turbo",
                          zmin=0, zmax=max(it.n_options for it in items) - 1),
                config=PLOTLY_CONFIG, width="stretch")
st.caption("Colour = option: " + ", ".join(f"{i}: {text}" for i, text in enumerate(items[0].options)))

if st.toggle(f"Simulate every country with {DEFAULT_MODEL} (zero-shot)", key="map_simulate"):
    with st.spinner(f"Simulating {len(items)} countries..."):
        simulated = cached_simulator(None).predict(items)
    scores = pd.DataFrame({
        "iso3": [it.iso3 for it in items],
        "1-JSD": [one_minus_jsd_paper(it.distribution, p) for it, p in zip(items, simulated)],
        "hover": [f"{it.group}<br>1-JSD {one_minus_jsd_paper(it.distribution, p):.3f}<br>"
                  f"real: {it.options[int(np.argmax(it.distribution))]}<br>"
                  f"simulated: {it.options[int(np.argmax(p))]}" for it, p in zip(items, simulated)],
    })
    st.plotly_chart(world_map(scores, "1-JSD", "Simulated vs real: 1-JSD (paper-compatible; higher is better)",
                              colorscale="RdYlGn", zmin=0.5, zmax=1.0), config=PLOTLY_CONFIG, width="stretch")
    st.caption("These are simulations, not survey data.")
