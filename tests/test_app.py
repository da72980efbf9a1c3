"""The app's page runs on the real data without an exception (Streamlit's AppTest)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
pytestmark = pytest.mark.integration


def test_compare_page_shows_two_countries(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="dataset").value == "wvs_valid" or at.selectbox(key="dataset").value
    assert len(at.multiselect[0].value) == 2
    assert at.get("plotly_chart")


def test_switching_data_set_and_question(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="dataset").set_value("pew").run()
    assert not at.exception
    options = at.selectbox(key="question").options
    at.selectbox(key="question").select_index(len(options) - 1).run()
    assert not at.exception and at.get("plotly_chart")


def test_missing_data_root_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(tmp_path / "nowhere"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.error and "SURVEY_SIM_DATA" in at.error[0].value


def test_data_page_reports_splits_and_drops(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    assert not at.exception
    at.selectbox(key="data_dataset").set_value("pew").run()
    assert not at.exception
    assert any("dropped" in e.label for e in at.expander)
    assert len(at.dataframe) >= 2  # summary and splits


def test_scrambled_file_is_flagged_on_the_data_page(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/data.py").run()
    at.selectbox(key="data_dataset").set_value("wvs_c1q1_scrambled").run()
    assert not at.exception and at.warning and "scrambled" in at.warning[0].value


def test_compare_page_simulates_with_the_default_model(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.radio(key="simulator").set_value(at.radio(key="simulator").options[1]).run()  # zero-shot
    assert not at.exception
    scores = at.dataframe[0].value
    assert list(scores["group"]) == at.multiselect[0].value
    assert ((scores["1-jsd"] > 0) & (scores["1-jsd"] <= 1)).all()


def test_world_map_page_simulates_every_country(survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("app_pages/world_map.py").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    at.toggle(key="map_simulate").set_value(True).run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
