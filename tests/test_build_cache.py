"""The disk cache of rebuilt data sets: reused while the inputs stay, rebuilt when they change."""
import numpy as np

from survey_sim.data import Dataset
from survey_sim.data.build_cache import cached

from tiny import make_item


def counting_build(calls):
    def build():
        calls.append(1)
        return Dataset("demo", [make_item(distribution=[0.1, 0.2, 0.3, 0.4])])
    return build


def test_second_load_comes_from_disk_and_equals_the_first(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.json").write_text("[]")
    calls = []
    first = cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    second = cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 1
    (a,), (b,) = list(first), list(second)
    assert (a.question, a.options, a.group) == (b.question, b.options, b.group)
    np.testing.assert_array_equal(a.distribution, b.distribution)


def test_a_changed_input_file_rebuilds_and_replaces_the_old_pickle(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.json").write_text("[]")
    calls = []
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    (tmp_path / "data" / "rows.json").write_text("[1]")
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 2
    assert len(list((tmp_path / "cache").glob("demo-*.pkl"))) == 1


def test_a_corrupt_cache_file_is_rebuilt_not_trusted(tmp_path):
    (tmp_path / "data").mkdir()
    calls = []
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    (pickle_file,) = (tmp_path / "cache").glob("demo-*.pkl")
    pickle_file.write_bytes(b"half a pick")
    dataset = cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 2 and len(dataset) == 1


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_NO_BUILD_CACHE", "1")
    calls = []
    for _ in range(2):
        cached("demo", tmp_path, counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 2 and not (tmp_path / "cache").exists()
