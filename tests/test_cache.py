"""The prediction cache: same numbers as the model, never stale after the files change."""
import numpy as np
import pytest

from survey_sim.cache import PredictionCache
from survey_sim.simulator import Simulator

from tiny import make_item, save_tiny_model


@pytest.fixture
def tiny_model(tmp_path):
    return save_tiny_model(tmp_path / "tiny")


def items():
    return [make_item(group=g, k=k) for g, k in [("Peru", 4), ("Japan", 3), ("Kenya", 5)]]


def test_cached_predictions_equal_fresh_ones_and_skip_the_model(tiny_model, tmp_path, monkeypatch):
    cache = PredictionCache(tmp_path / "cache.sqlite")
    simulator = Simulator.load(tiny_model, cache=cache)
    first = simulator.predict(items())
    assert len(cache) == 3
    calls = []
    monkeypatch.setattr("survey_sim.scoring.option_distributions",
                        lambda *args, **kwargs: calls.append(args[2]) or [])
    second = simulator.predict(items()[::-1])
    assert calls == [[]]  # nothing left for the model
    for a, b in zip(first, second[::-1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_only_missing_prompts_are_computed(tiny_model, tmp_path):
    cache = PredictionCache(tmp_path / "cache.sqlite")
    simulator = Simulator.load(tiny_model, cache=cache)
    simulator.predict(items()[:1])
    mixed = simulator.predict(items())
    fresh = Simulator.load(tiny_model).predict(items())
    for a, b in zip(mixed, fresh, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)  # batches differ: float32 rounding


def test_changed_model_files_change_the_key(tiny_model, tmp_path):
    cache = PredictionCache(tmp_path / "cache.sqlite")
    before = Simulator.load(tiny_model, cache=cache).backend.identity
    weights = next(p for p in (tmp_path / "tiny").iterdir() if p.suffix == ".safetensors")
    weights.write_bytes(weights.read_bytes())  # same bytes, new modification time
    assert Simulator.load(tiny_model, cache=cache).backend.identity != before


def test_models_wrapped_from_memory_are_not_cached(tiny_model):
    loaded = Simulator.load(tiny_model)
    assert Simulator.from_model(loaded.backend.model, loaded.tokenizer).cache is None  # provenance unknown


@pytest.mark.fault
def test_a_cache_file_that_is_not_a_database_is_moved_aside_and_rebuilt(tmp_path, caplog):
    from survey_sim.cache import PredictionCache

    path = tmp_path / "predictions.sqlite"
    cache = PredictionCache(path)
    cache.put_many({"a": np.array([0.25, 0.75])})
    path.write_bytes(b"this is not a database" * 100)  # overwritten after it was opened
    assert cache.get_many(["a"]) == {}  # a miss: recomputed, not an error
    assert "unreadable" in caplog.text and any(p.name.startswith("predictions.sqlite.unreadable-")
                                               for p in tmp_path.iterdir())
    cache.put_many({"a": np.array([0.5, 0.5])})
    assert cache.get_many(["a"])["a"].tolist() == [0.5, 0.5]
    path.write_bytes(b"garbage")  # broken before the next process opens it
    assert PredictionCache(path).get_many(["a"]) == {} and len(PredictionCache(path)) == 0


@pytest.mark.fault
def test_a_damaged_entry_is_a_miss(tmp_path):
    import sqlite3

    from survey_sim.cache import PredictionCache

    cache = PredictionCache(tmp_path / "p.sqlite")
    cache.put_many({"good": np.array([0.2, 0.8]), "nan": np.array([np.nan, 1.0]), "short": np.array([1.0])})
    with sqlite3.connect(tmp_path / "p.sqlite") as db:
        db.execute("INSERT INTO predictions VALUES ('bytes', ?)", (b"\x00\x01\x02",))
    assert set(cache.get_many(["good", "nan", "short", "bytes"])) == {"good"}
