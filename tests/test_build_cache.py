"""The disk cache of rebuilt data sets: reused while the inputs stay, rebuilt when they change."""
import gzip
import json

import numpy as np
import pytest

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


def test_a_changed_input_file_rebuilds_and_replaces_the_old_build(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.json").write_text("[]")
    calls = []
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    (tmp_path / "data" / "rows.json").write_text("[1]")
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 2
    assert len(list((tmp_path / "cache").glob("demo-*"))) == 1


@pytest.mark.fault
def test_a_corrupt_cache_file_is_rebuilt_not_trusted(tmp_path):
    (tmp_path / "data").mkdir()
    calls = []
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    (build_file,) = (tmp_path / "cache").glob("demo-*")
    build_file.write_bytes(b"half a file")
    dataset = cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 2 and len(dataset) == 1


def rewrite(path, change) -> None:
    """Edit a cached build's content as an attacker or a bad disk would, keeping it valid gzip/JSON."""
    envelope = json.loads(gzip.decompress(path.read_bytes()))
    content = json.loads(envelope["content"])
    change(envelope, content)
    envelope["content"] = envelope.get("content_override", json.dumps(content))
    envelope.pop("content_override", None)
    path.write_bytes(gzip.compress(json.dumps(envelope).encode()))


@pytest.mark.fault
def test_a_cached_build_is_data_not_code_and_is_checked_before_use(tmp_path):
    import hashlib

    (tmp_path / "data").mkdir()
    calls = []
    cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")
    (build_file,) = (tmp_path / "cache").glob("demo-*")
    assert build_file.name.endswith(".json.gz") and b"pickle" not in gzip.decompress(build_file.read_bytes())

    def wrong_shares(envelope, content):  # content changed, checksum not updated: refused
        content["items"][0]["distribution"] = [0.25, 0.25, 0.25, 0.25]

    rewrite(build_file, wrong_shares)
    assert list(cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache"))[0].distribution[0] \
        == 0.1 and len(calls) == 2

    def not_a_distribution(envelope, content):  # checksum updated too: the rows are still checked
        content["items"][0]["distribution"] = [0.9, 0.9, 0.1, 0.1]
        text = json.dumps(content)
        envelope["content_override"], envelope["sha256"] = text, hashlib.sha256(text.encode()).hexdigest()

    (build_file,) = (tmp_path / "cache").glob("demo-*")
    rewrite(build_file, not_a_distribution)
    assert len(cached("demo", tmp_path / "data", counting_build(calls), folder=tmp_path / "cache")) == 1
    assert len(calls) == 3


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_NO_BUILD_CACHE", "1")
    calls = []
    for _ in range(2):
        cached("demo", tmp_path, counting_build(calls), folder=tmp_path / "cache")
    assert len(calls) == 2 and not (tmp_path / "cache").exists()
