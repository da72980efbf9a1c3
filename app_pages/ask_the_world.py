"""Ask the world (for the classroom): type a question, see how the simulator thinks every
country would answer it. Nothing on this page is survey data."""
import time

import numpy as np
import streamlit as st

from survey_sim import robustness
from survey_sim.ask import EXAMPLE_OPTIONS, EXAMPLE_QUESTION, answers_table, country_items, known_countries, parse_options
from survey_sim.geo import TIE, TIE_MARGINS, answer_map, world_map
from survey_sim.adapters import list_adapters
from survey_sim.models import fast_dtype

from app_pages.shared import (dataset_or_stop, default_adapter, how_it_predicts, show_collapse, show_map, simulate,
                              simulator_or_stop, zero_shot_label)

ZERO_SHOT = zero_shot_label()
PRECISION_HELP = ("bfloat16 runs two to three times faster on this hardware and moves an answer share by up to 3.4 "
                  "points on such questions (measured against float32), so answers closer than 3 points are drawn "
                  "as ties; float32 matches the other pages and the evaluations exactly.")


@st.cache_data(show_spinner=False)
def typical_spread(n_options: int) -> float:
    """How much real countries differ on WVS questions with as many options (the collapse check's bar)."""
    return robustness.typical_real_spread(dataset_or_stop("wvs"), n_options)


@st.cache_resource(show_spinner="Finding the countries the model knows...")
def countries() -> dict[str, str]:
    return known_countries(dataset_or_stop("wvs"), [dataset_or_stop("pew")])


st.title("Ask the world")
st.warning("Every answer on this page is a **simulation** by a language model, not survey data. "
           "Use it to ask how the model *thinks* countries differ, then compare with real surveys on the other pages.",
           icon=":material/smart_toy:")

adapters = [a["name"] for a in list_adapters()]
with st.form("ask"):
    question = st.text_area("Question", EXAMPLE_QUESTION, height=80)
    options_text = st.text_area("Answer options, one per line", EXAMPLE_OPTIONS, height=140)
    left, right = st.columns([3, 2])
    choices = [ZERO_SHOT, *adapters]
    default = default_adapter()
    simulator_choice = left.selectbox("Simulate with", choices, index=choices.index(default) if default in choices else 0)
    precisions = ["bfloat16", "float32"] if fast_dtype() == "bfloat16" else ["float32"]
    dtype = right.radio("Precision", precisions, horizontal=True, help=PRECISION_HELP)
    if st.form_submit_button("Ask every country", type="primary"):
        st.session_state["asked"] = (question, options_text, simulator_choice, dtype)

if "asked" not in st.session_state:
    st.info("Type a question and its options, then ask every country.")
    st.stop()
question, options_text, simulator_choice, dtype = st.session_state["asked"]
try:
    items = country_items(question, parse_options(options_text), countries())
except ValueError as err:
    st.error(str(err))
    st.stop()

adapter = None if simulator_choice == ZERO_SHOT else simulator_choice
simulator_or_stop(adapter, dtype)  # loaded once per server; not part of the time shown
started = time.perf_counter()
with st.spinner(f"Simulating {len(items)} countries..."):
    # No country answered this question: a shift adapter's prior is the WVS share per option position.
    table = answers_table(items, simulate(adapter, items, known=dataset_or_stop("wvs"), dtype=dtype),
                          margin=TIE_MARGINS[dtype])
st.caption(f"{len(items)} countries simulated with {simulator_choice} ({dtype}) in {time.perf_counter() - started:.1f} s "
           "(predictions are cached: asking again is instant). " + how_it_predicts(adapter, surveyed=False))

options = list(items[0].options)
hover = [f"{country}<br>most likely: {answer} ({share:.0%})" for country, answer, share
         in zip(table["country"], table["most likely answer"], table[options].max(axis=1))]
show_map(answer_map(table["iso3"].tolist(), table["majority"].tolist(), options, hover,
                    f"Simulated: the most likely answer to “{question.strip()[:90]}”", tie_margin=TIE_MARGINS[dtype]),
         table["iso3"])
ties = int((table["majority"] == TIE).sum())
if ties:
    st.caption(f"{ties} countries are drawn as ties: their top answers are within {TIE_MARGINS[dtype] * 100:g} "
               f"points of each other{', as far as bfloat16 can move a share' if dtype != 'float32' else ''}.")

reference = typical_spread(len(options))
if np.isfinite(reference):
    show_collapse(robustness.against_reference([table[options].to_numpy()[i] for i in range(len(table))], reference,
                                               f"the median real WVS question with {len(options)} options"),
                  f"{simulator_choice}, {len(items)} countries")
else:
    st.caption(f"No WVS question with {len(options)} options was asked in enough countries to say how much real "
               "countries differ on such a question.")

option = st.selectbox("Share choosing", options, key="ask_option")
table["share hover"] = [f"{c}<br>{option}: {s:.0%}" for c, s in zip(table["country"], table[option])]
show_map(world_map(table, option, f"Simulated share answering “{option}”", hover="share hover",
                   colorscale="Viridis", zmin=0, zmax=1), table["iso3"])

shown = table[["country", "iso3", "most likely answer", *options]]
st.dataframe(shown, hide_index=True, column_config={o: st.column_config.ProgressColumn(o, format="percent", min_value=0,
                                                                                      max_value=1) for o in options})
st.download_button("Download the simulated shares (CSV)", shown.to_csv(index=False), "ask_the_world.csv", "text/csv")
