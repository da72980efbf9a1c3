"""Robustness: how far a simulator can be trusted beyond its mean score. Does it tell countries
apart as much as real answers do (collapse), does it favour a letter, does it change its answer
when the options are moved round, does the country in the prompt matter ([ctrl])? The reports
are written by `survey-sim robustness`; the project ships those of its default simulators."""
import pandas as pd
import streamlit as st

from survey_sim.robustness import COLLAPSE_RATIO, load_reports

from app_pages.shared import default_adapter

st.title("Robustness")
st.caption("A good mean score can hide a simulator that says the same for every country, or one that answers "
           "(A) whatever (A) stands for. Each check is read against what the real answers give.")

reports = load_reports()
if reports.empty:
    st.info("No robustness reports yet. Make one, then it appears here:")
    st.code("survey-sim robustness --method zero_shot --test wvs:C1-Q2", language="bash")
    st.stop()

runs = reports[["simulator", "test", "source"]].drop_duplicates().reset_index(drop=True)
labels = [f"{r.simulator} on {r.test}" + (" (shipped)" if r.source == "shipped" else "") for r in runs.itertuples()]
default = default_adapter()
preferred = [label for label, run in zip(labels, runs.itertuples()) if default and default in run.simulator]
preferred += [label for label, run in zip(labels, runs.itertuples()) if run.simulator.startswith("zero_shot")]
picked = st.multiselect("Reports", labels, default=list(dict.fromkeys(preferred))[:2] or labels[:1], key="reports")
if not picked:
    st.info("Pick at least one report.")
    st.stop()

chosen = [runs.iloc[labels.index(label)] for label in picked]
# Columns named by simulator (short enough to read side by side), by report where one repeats.
simulators = [run.simulator for run in chosen]
columns = [run.simulator if simulators.count(run.simulator) == 1 else label for label, run in zip(picked, chosen)]
table = pd.DataFrame({"check": reports["check"].drop_duplicates()}).set_index("check")
meanings = reports.drop_duplicates("check").set_index("check")["meaning"]
for column, run in zip(columns, chosen):
    rows = reports[(reports["simulator"] == run.simulator) & (reports["test"] == run.test)].set_index("check")
    table[column] = rows["simulated"]
    table.loc[rows.index, "real answers"] = rows["real"]
table = table[[*columns, "real answers"]].dropna(how="all", subset=columns)
table["what it means"] = meanings
st.dataframe(table, column_config={c: st.column_config.NumberColumn(c, format="%.3f", width="small")
                                   for c in [*columns, "real answers"]})
st.caption("Tests: " + "; ".join(f"{column}: {run.test}" for column, run in zip(columns, chosen)))

for label, run in zip(picked, chosen):
    rows = reports[(reports["simulator"] == run.simulator) & (reports["test"] == run.test)].set_index("check")
    ratio = rows["simulated"].get("between-country variation (ratio to real)")
    scope = f"{rows['questions'].iloc[0]} questions, {rows['rows'].iloc[0]:,} country rows"
    if ratio is not None and ratio < COLLAPSE_RATIO:
        st.warning(f"**{label}** ({scope}) is **collapsed**: its countries differ {ratio:.0%} as much as the real "
                   "ones. Its maps show differences between countries that it does not really make.",
                   icon=":material/warning:")
    elif ratio is not None:
        st.caption(f"{label} ({scope}): its countries differ {ratio:.0%} as much as the real ones.")

st.caption("Make a report for any simulator and split (it lands in models/results/robustness/):")
st.code("survey-sim robustness --method adapter --adapter NAME --test wvs:C1-Q2 --dtype bfloat16", language="bash")
