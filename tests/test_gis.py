"""Maps for GIS users: a per-country table joined to the app's country shapes (survey_sim.gis)."""
import io
import json

import pandas as pd
import pytest

from survey_sim import gis

TABLE = pd.DataFrame({"iso3": ["FRA", "DEU", "JPN", "SGP", "PER", "XXX"], "score": [0.8, 0.7, 0.6, 0.9, 0.5, 0.1],
                      "group": ["France", "Germany", "Japan", "Singapore", "Peru", "Atlantis"]})


def test_every_drawable_country_has_a_region():
    from survey_sim.geo import countries_with_shape

    shapes = gis.country_shapes()
    assert set(shapes["iso3"]) == countries_with_shape() and len(shapes) == 235 and shapes["region"].notna().all()
    regions = dict(zip(shapes["iso3"], shapes["region"]))
    assert (regions["FRA"], regions["SGP"], regions["AND"], regions["PER"]) == ("Europe", "Asia", "Europe",
                                                                              "South America")


def test_regions_are_the_mean_of_their_countries_with_data():
    means = gis.region_means(TABLE, "score").set_index("region")
    assert means.loc["Europe", "score"] == pytest.approx(0.75) and means.loc["Europe", "countries"] == 2
    assert means.loc["Asia", "score"] == pytest.approx(0.75) and "Africa" not in means.index
    assert means.geometry.area.loc["Europe"] > gis.country_shapes().set_index("iso3").geometry.area.loc["FRA"]
    by_country = gis.region_table(TABLE, "score").set_index("iso3")
    assert by_country.loc["PER", "region_mean"] == 0.5 and "XXX" not in by_country.index  # no shape, no region


@pytest.mark.parametrize("file_format", ["GeoJSON", "GeoPackage"])
def test_exports_hold_each_country_with_its_shape_and_scores(file_format):
    import geopandas

    data = gis.export(TABLE, file_format)
    frame = geopandas.read_file(io.BytesIO(data))
    assert sorted(frame["iso3"]) == ["DEU", "FRA", "JPN", "PER", "SGP"]  # Atlantis has no shape
    assert frame.set_index("iso3").loc["SGP", "score"] == 0.9 and frame.geometry.notna().all()
    if file_format == "GeoJSON":
        assert json.loads(data)["type"] == "FeatureCollection"
    else:
        assert data.startswith(b"SQLite format 3")


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="choose one of GeoJSON, GeoPackage"):
        gis.export(TABLE, "Shapefile")
