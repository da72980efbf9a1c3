"""survey-sim app: real and simulated answer distributions of survey questions, by country.

Run with `make run` (or `streamlit run app.py`). This file only routes: each page lives in
app_pages/ and calls into the `survey_sim` package, which never imports streamlit.
"""
import streamlit as st

st.set_page_config(page_title="survey-sim", page_icon=":material/public:", layout="wide")

from app_pages.shared import start_warmup  # noqa: E402  (after set_page_config, which comes first)

start_warmup()  # once per server: the model loads and the default map is simulated in the background

navigation = st.navigation([
    st.Page("app_pages/compare.py", title="Compare", icon=":material/bar_chart:", default=True),
    st.Page("app_pages/world_map.py", title="World map", icon=":material/public:"),
    st.Page("app_pages/ask_the_world.py", title="Ask the world", icon=":material/travel_explore:"),
    st.Page("app_pages/robustness.py", title="Robustness", icon=":material/verified:"),
    st.Page("app_pages/fine_tune.py", title="Fine-tune", icon=":material/model_training:"),
    st.Page("app_pages/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:"),
    st.Page("app_pages/data.py", title="Data", icon=":material/dataset:"),
])
st.sidebar.caption("survey-sim: simulated survey answers are simulations, not survey data.")
navigation.run()
