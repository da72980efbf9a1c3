"""Plotly figures as pure functions: data in, figure out. Nothing here imports streamlit."""
from __future__ import annotations

import textwrap

import plotly.graph_objects as go
from plotly.colors import qualitative

from .data import SurveyItem


def option_labels(item: SurveyItem) -> list[str]:
    letters = [chr(ord("A") + i) for i in range(item.n_options)]
    if item.options is None:
        return letters
    return [f"({letter}) {'<br>'.join(textwrap.wrap(text, 28))}" for letter, text in zip(letters, item.options)]


PATTERNS = ("/", "x", ".")  # one hatching per simulator shown beside the real bars


def distribution_bars(items: list[SurveyItem], simulated: dict[str, list] | list | None = None,
                      title: str = "") -> go.Figure:
    """Grouped bars of answer shares (%), one colour per group; with `simulated` ({simulator name:
    one distribution per item}, or one such list), each real bar (solid) is followed by its
    simulated twins, hatched one pattern per simulator."""
    if simulated is not None and not isinstance(simulated, dict):
        simulated = {"simulated": simulated}
    simulated = simulated or {}
    figure = go.Figure()
    for i, item in enumerate(items):
        colour = qualitative.Plotly[i % len(qualitative.Plotly)]
        labels = option_labels(item)
        real_name = f"{item.group}: real" if simulated else item.group
        figure.add_bar(name=real_name, x=labels, y=item.distribution * 100, marker_color=colour,
                       hovertemplate="%{x}<br>real %{y:.1f}%<extra>" + item.group + "</extra>")
        for pattern, (name, predictions) in zip(PATTERNS, simulated.items()):
            figure.add_bar(name=f"{item.group}: {name}", x=labels, y=predictions[i] * 100, marker_color=colour,
                           marker_pattern_shape=pattern, marker_opacity=0.55,
                           hovertemplate=f"%{{x}}<br>{name} %{{y:.1f}}%<extra>{item.group}</extra>")
    figure.update_layout(barmode="group", title=title, yaxis_title="share of answers (%)",
                         legend_title="group", margin=dict(t=60, b=20))
    return figure


def leaderboard_bars(rows, metric: str) -> go.Figure:
    """Grouped bars of each method's mean `metric` per test split; `rows` from
    `leaderboard.leaderboard_rows`. The hover names the rows behind each bar."""
    figure = go.Figure()
    for i, (method, part) in enumerate(rows.groupby("method", sort=False)):
        figure.add_bar(name=method, x=part["test"], y=part["mean"], customdata=part["rows"],
                       marker_color=qualitative.Plotly[i % len(qualitative.Plotly)],
                       hovertemplate="%{x}<br>%{y:.3f} over %{customdata:,} rows<extra>" + method + "</extra>")
    figure.update_layout(barmode="group", yaxis_title=metric, xaxis_title="data set:split", legend_title="method",
                         margin=dict(t=30, b=20))
    return figure


def data_efficiency_figure(table, metric: str = "1-jsd_paper") -> go.Figure:
    """Held-out score against the share of training countries, one line per method: the mean over
    seeds, with error bars from the lowest to the highest seed. `table` from
    `data_efficiency.data_efficiency_table` (fraction, seed, method, score, rows)."""
    figure = go.Figure()
    summary = table.groupby(["method", "fraction"])["score"].agg(["mean", "min", "max", "count"]).reset_index()
    for i, (method, line) in enumerate(summary.groupby("method", sort=False)):
        dashed = method.startswith("mean of")  # the bar to clear, not a trained method
        figure.add_scatter(
            x=line["fraction"] * 100, y=line["mean"], name=method, mode="lines+markers",
            line=dict(color=qualitative.Plotly[i % len(qualitative.Plotly)], dash="dash" if dashed else "solid"),
            error_y=dict(type="data", symmetric=False, array=line["max"] - line["mean"],
                         arrayminus=line["mean"] - line["min"]),
            customdata=line["count"], hovertemplate="%{x:.0f}% of the countries: %{y:.3f} (%{customdata} seeds)")
    figure.update_layout(xaxis=dict(title="share of the training countries (%)", type="log",
                                    tickvals=sorted(table["fraction"].unique() * 100)),
                         yaxis_title=f"{metric} on held-out countries (higher is better)",
                         legend_title="trained with", margin=dict(t=40, b=20))
    return figure
