"""Leaderboard: every method's mean score on every data set and split in the results store."""
import pandas as pd
import streamlit as st

from survey_sim import data_efficiency, paper_report
from survey_sim.bootstrap import clear_winners, mean_intervals
from survey_sim.charts import data_efficiency_figure, leaderboard_bars
from survey_sim.leaderboard import (
    DEFAULT_METRIC,
    FILL_COMMANDS,
    coverage_cells,
    higher_is_better,
    leaderboard_rows,
    results_command,
    store_metrics,
    wide,
)
from survey_sim.metrics import METRICS
from survey_sim.results import REFERENCE_RESULTS, results_path

from app_pages.shared import results_or_stop


def describe(metric: str) -> str:
    return f"{metric}: {METRICS[metric].description}" if metric in METRICS else metric


@st.cache_data(show_spinner="Bootstrapping the intervals...")
def uncertainty(results: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The low and high ends of each mean's 95% interval, and the clear winners, shaped as the
    means table (a few seconds on a large store, so once per store and metric)."""
    means = wide(leaderboard_rows(results, metric), "mean")
    intervals = mean_intervals(results, metric)
    low, high = (wide(intervals, end).reindex_like(means) for end in ("low", "high"))
    return low, high, clear_winners(results, means, metric)


def cell(mean: float, low: float, high: float) -> str:
    """"0.762 [0.751, 0.773]", or "–" where the method was not run (the grid would write "None")."""
    return "–" if pd.isna(mean) else f"{mean:.3f} [{low:.3f}, {high:.3f}]"


def store_tables(results: pd.DataFrame, store) -> None:
    """The methods x splits table, its chart and coverage, from the results store."""
    if store == REFERENCE_RESULTS:
        st.info("Showing the project's reference results (`experiments/reference_results.sh`, default model on a 2-core "
                "CPU). Your own evaluations (`survey-sim evaluate`, `survey-sim baselines`) replace them here.")

    metrics = store_metrics(results)
    metric = st.selectbox("Metric", metrics, index=metrics.index(DEFAULT_METRIC) if DEFAULT_METRIC in metrics else 0,
                          format_func=describe, key="leaderboard_metric")
    rows = leaderboard_rows(results, metric)
    better = higher_is_better(metric)

    st.subheader(f"{metric}, methods x splits")
    means = wide(rows, "mean")
    low, high, winners = uncertainty(results, metric)
    shown = pd.DataFrame({test: [cell(m, lo, hi) for m, lo, hi in zip(means[test], low[test], high[test])]
                          for test in means.columns}, index=means.index)
    if better is not None:  # bold a split's best only where it beats the runner-up beyond the noise
        bold = winners.replace({True: "font-weight: bold", False: ""})
        shown = shown.style.apply(lambda _: bold, axis=None)
    st.dataframe(shown)
    st.caption("Mean [95% bootstrap interval, resampling questions]; –: not run on that split. " +
               (f"{'Higher' if better else 'Lower'} is better; bold: the best of a column, only where the paired 95% "
                "interval of its difference from the runner-up, on the rows both scored, excludes zero (compare any "
                "two with `survey-sim compare`)." if better is not None else ""))
    st.plotly_chart(leaderboard_bars(rows, metric))

    st.subheader("Rows scored")
    st.caption("How many rows of the split each mean is over; in brackets the share of the split, where a method "
               "can answer only part of it (e.g. loo_mean needs another country on the same question).")
    st.dataframe(coverage_cells(rows))

    st.markdown("**The same on the command line**")
    st.code(results_command(metric, store, csv="leaderboard.csv"), language="bash")
    st.download_button("Download as CSV", rows.to_csv(index=False), file_name=f"leaderboard_{metric}.csv",
                       mime="text/csv", key="leaderboard_csv")


st.title("Leaderboard")
st.caption("Mean score per row of each data set and split, from every evaluation run so far "
           "(`survey-sim baselines`, `survey-sim evaluate`).")

results, store = results_or_stop()
if results.empty:
    st.info(f"The results store `{results_path()}` has no rows yet. Fill it from the command line, then reload this page:")
    st.code("\n".join(FILL_COMMANDS), language="bash")
else:
    store_tables(results, store)

paper = paper_report.load_table()
if paper is not None:
    st.subheader("Beside the paper (Cao et al., NAACL 2025)")
    st.caption("The shipped adapter on each of the paper's test splits, against the strongest model-free baseline on "
               "the same rows (paired 95% bootstrap interval over questions), and the paper's fine-tuned "
               "Llama3-8B-Instruct on its own rows, which differ from ours: context, not a paired comparison. "
               "From `experiments/paper_table.sh` (paper-compatible 1-JSD).")
    st.dataframe(paper.rename(columns={"paper_8b": "Cao et al. 8B"}), hide_index=True)

efficiency = data_efficiency.load_table()
if efficiency is not None:
    st.subheader("Data efficiency: fewer training countries")
    st.caption("Each objective trained on a seeded share of fold 0's training countries and scored on its held-out "
               "countries (unseen countries, C1-Q1): the mean over seeds, bars from the lowest to the highest seed. "
               "From `experiments/data_efficiency.sh` and `experiments/data_efficiency_figure.py` "
               f"({efficiency['seed'].nunique()} seed(s) so far).")
    st.plotly_chart(data_efficiency_figure(efficiency), key="data_efficiency")
