"""Plotly figures as pure functions: data in, figure out. Nothing here imports streamlit."""
from __future__ import annotations

import textwrap

import plotly.graph_objects as go

from .data import SurveyItem


def option_labels(item: SurveyItem) -> list[str]:
    letters = [chr(ord("A") + i) for i in range(item.n_options)]
    if item.options is None:
        return letters
    return [f"({letter}) {'<br>'.join(textwrap.wrap(text, 28))}" for letter, text in zip(letters, item.options)]


def distribution_bars(items: list[SurveyItem], title: str = "") -> go.Figure:
    """Grouped bars: one colour per group, one bar group per option, shares in percent."""
    figure = go.Figure()
    for item in items:
        figure.add_bar(name=item.group, x=option_labels(item), y=item.distribution * 100,
                       hovertemplate="%{x}<br>%{y:.1f}%<extra>" + item.group + "</extra>")
    figure.update_layout(barmode="group", title=title, yaxis_title="share of answers (%)",
                         legend_title="group", margin=dict(t=60, b=20))
    return figure
