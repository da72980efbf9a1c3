"""Data: what each data set holds, where it comes from, and what loading it fixed or dropped."""
import pandas as pd
import streamlit as st

from survey_sim.data import dataset_specs
from survey_sim.data.report import dataset_summary, split_counts, unmapped_groups
from survey_sim.data.countries import is_non_national

from app_pages.shared import dataset_or_stop

st.title("Data")
st.caption("Every data set survey-sim knows (data/datasets.toml), checked on load. "
           "The same report on the command line: `survey-sim data report NAME`.")

specs = dataset_specs(include_disabled=True)
name = st.selectbox("Data set", list(specs), format_func=lambda n: f"{n}: {specs[n].title}", key="data_dataset")
spec = specs[name]
if spec.scrambled:
    st.warning("This file lists shares in a scrambled order and has no option texts: for inspection only.")
dataset = dataset_or_stop(name, allow_scrambled=spec.scrambled)  # shown with the warning above

st.markdown(f"**Source:** {spec.source}  \n**Licence:** {spec.licence}")
st.dataframe(pd.DataFrame([dataset_summary(dataset)]), hide_index=True)

splits = split_counts(dataset)
if len(splits):
    st.subheader("Splits")
    st.dataframe(splits, hide_index=True)

st.subheader("What loading changed")
for report in dataset.reports:
    with st.expander(report.summary(), expanded=False):
        for reason in report.dropped:
            st.text(f"dropped {reason}")
        for warning in report.warnings:
            st.text(f"note: {warning}")

unmapped = unmapped_groups(dataset)
if unmapped:
    st.subheader("Groups without an ISO country code")
    st.dataframe(pd.DataFrame({"group": unmapped, "non-national sample": [is_non_national(g) for g in unmapped]}),
                 hide_index=True)
