"""The start-up warm-up simulates the World map's default view once, into the caches."""
import logging

import numpy as np
from dataclasses import replace

from survey_sim import warmup
from survey_sim.geo import questions_by_coverage
from tiny import make_item

ITEMS = [replace(make_item(group=g, k=k, question=f"Question {k}?"), iso3=iso3)
         for g, iso3, k in [("Peru", "PER", 3), ("Chile", "CHL", 3), ("Kenya", "KEN", 3), ("Peru", "PER", 2),
                            ("Democrats", None, 3)]]


class Recorder:
    def __init__(self):
        self.asked = []

    def predict(self, items, batch_size=16, progress=None):
        self.asked.append(list(items))
        return [np.full(it.n_options, 1 / it.n_options) for it in items]


def test_questions_by_coverage_puts_the_best_covered_first_and_drops_rows_without_a_country():
    questions = questions_by_coverage(ITEMS)
    assert [[it.group for it in q] for q in questions] == [["Peru", "Chile", "Kenya"], ["Peru"]]


def test_warmup_simulates_the_world_maps_default_question():
    simulator = Recorder()
    assert warmup.warm_default_views(ITEMS, simulator) == 3
    assert simulator.asked == [questions_by_coverage(ITEMS)[0]]
    names = warmup.map_dataset_names()
    assert "subpop" not in names and {"wvs", "pew"} <= set(names)  # US groups have no map


def test_the_app_warms_with_its_own_cached_simulator(monkeypatch):
    from app_pages import shared

    simulator = Recorder()
    monkeypatch.setattr(shared, "cached_dataset", lambda name, root: ITEMS)
    monkeypatch.setattr(shared, "cached_simulator", lambda adapter=None, dtype="float32", files="": simulator)
    monkeypatch.setattr(shared, "data_root", lambda: "/surveys")
    monkeypatch.setattr(shared, "default_adapter", lambda: None)
    shared.warm_default_views()
    assert simulator.asked == [questions_by_coverage(ITEMS)[0]]


def test_a_shift_adapter_warms_its_neutral_prompts_too():
    simulator = Recorder()
    warmup.warm_default_views(ITEMS, simulator, {"config": {"objective": "shift"}})
    default = questions_by_coverage(ITEMS)[0]
    # the rows themselves and the question asked about no country, as the World map will ask them
    assert default in simulator.asked and any(batch[0].group == "(anyone)" for batch in simulator.asked)


def test_a_failed_warmup_is_logged_not_raised(monkeypatch, caplog):
    def missing(name, root=None):
        raise FileNotFoundError("no survey data at /nowhere")

    monkeypatch.setattr(warmup, "load_dataset", missing)
    monkeypatch.delenv(warmup.DISABLE_ENV, raising=False)
    with caplog.at_level(logging.WARNING):
        assert warmup.main() == 0
    assert "skipped: no survey data at /nowhere" in caplog.text
