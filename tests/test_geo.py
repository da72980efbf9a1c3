"""The served world map: which countries it can draw, and the note for those it cannot."""
import pandas as pd
import pytest

from survey_sim.geo import (
    MAP_FILE,
    answer_map,
    countries_with_shape,
    without_shape,
    world_map,
)

SMALL_C1_COUNTRIES = ["AND", "HKG", "MAC", "MDV", "SGP"]  # no shape in plotly's default 1:110m map


def test_maps_ask_plotly_for_the_file_the_app_serves():
    import pandas as pd

    frame = pd.DataFrame({"iso3": ["FRA"], "v": [1.0], "hover": ["France"]})
    for figure in (world_map(frame, "v", "t"), answer_map(["FRA"], [0], ["Yes"], ["France"], "t")):
        assert f"world_{figure.layout.geo.resolution}m.json" == MAP_FILE.name
    assert MAP_FILE.parent.name == "static" and MAP_FILE.is_file()


def test_the_small_countries_of_the_surveys_have_shapes_and_others_are_named():
    assert set(SMALL_C1_COUNTRIES) <= countries_with_shape()
    assert without_shape(["SGP", "GIB", "FRA", "GIB"]) == ["GIB"]  # Gibraltar: not on the 1:50m map


@pytest.mark.integration
def test_every_country_in_the_surveys_can_be_drawn(survey_root):
    from survey_sim.data import load_dataset

    for name in ("wvs", "pew"):
        codes = {it.iso3 for it in load_dataset(name, root=survey_root) if it.iso3}
        assert len(codes) > 60 and without_shape(codes) == [], name


def test_a_map_names_the_countries_it_cannot_draw():
    from streamlit.testing.v1 import AppTest

    def page():
        import pandas as pd

        from app_pages.shared import show_map
        from survey_sim.geo import world_map

        frame = pd.DataFrame({"iso3": ["FRA", "GIB", "SGP"], "v": [1.0, 2.0, 3.0], "hover": ["a", "b", "c"]})
        show_map(world_map(frame, "v", "t"), frame["iso3"])

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert [c.value for c in at.caption] == ["Not drawn (no shape on this map): Gibraltar."]


def test_scales_get_ordered_colours_and_other_options_distinct_hues():
    from survey_sim.geo import looks_ordinal, option_colours

    assert looks_ordinal(["Very important", "Rather important", "Not very important", "Not at all important"])
    assert looks_ordinal(["1 Never justifiable", "2", "3", "10 Always justifiable"])
    assert not looks_ordinal(["Yes", "No", "Depends"])
    assert not looks_ordinal(["Catholic", "Protestant", "Muslim", "None"])
    scale = answer_map(["FRA", "DEU"], [0, 3], ["Agree strongly", "Agree", "Disagree", "Strongly disagree"],
                       ["f", "d"], "t")
    assert [t.colorscale[0][1] for t in scale.data] == option_colours(4, ordinal=True)  # dark to light, in order
    assert len(set(option_colours(3, ordinal=False))) == 3


def test_a_metric_keeps_its_colour_range_and_names_its_colour_bar():
    from survey_sim.geo import metric_range

    frame = pd.DataFrame({"iso3": ["FRA"], "value": [0.8], "hover": ["France"]})
    figure = world_map(frame, "value", "t", colorbar_title="1-jsd_paper", **metric_range("1-jsd_paper"))
    assert (figure.data[0].zmin, figure.data[0].zmax) == (0.5, 1.0)
    assert figure.data[0].colorbar.title.text == "1-jsd_paper"
    assert metric_range("something new") == {}
