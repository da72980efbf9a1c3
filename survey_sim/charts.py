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


def distribution_bars(items: list[SurveyItem], simulated: list | None = None, title: str = "") -> go.Figure:
    """Grouped bars of answer shares (%), one colour per group; with `simulated` (one
    distribution per item), each real bar (solid) is followed by its simulated twin (hatched)."""
    figure = go.Figure()
    for i, item in enumerate(items):
        colour = qualitative.Plotly[i % len(qualitative.Plotly)]
        labels = option_labels(item)
        real_name = item.group if simulated is None else f"{item.group}: real"
        figure.add_bar(name=real_name, x=labels, y=item.distribution * 100, marker_color=colour,
                       hovertemplate="%{x}<br>real %{y:.1f}%<extra>" + item.group + "</extra>")
        if simulated is not None:
            figure.add_bar(name=f"{item.group}: simulated", x=labels, y=simulated[i] * 100, marker_color=colour,
                           marker_pattern_shape="/", marker_opacity=0.55,
                           hovertemplate="%{x}<br>simulated %{y:.1f}%<extra>" + item.group + "</extra>")
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
