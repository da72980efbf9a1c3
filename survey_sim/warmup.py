"""Start-up warm-up: simulate the World map's default view once, so visitors find it cached.

`make run` starts `python -m survey_sim.warmup` beside the server: it converts the default model
if no converted copy exists yet (survey_sim.model_cache) and simulates the map's default question
(the best-covered question of the first map data set) for every country, with the pages' default
simulator (the shipped adapter, else the base model), into the disk cache of predictions. The server then loads the model on its first session and reads those predictions
from disk (app_pages/shared.py).
"""
from __future__ import annotations

import logging
import os
import sys
import time

from .adapters import shipped_adapter
from .data import dataset_specs, load_dataset
from .geo import questions_by_coverage
from .paths import app_model

log = logging.getLogger(__name__)


def map_dataset_names() -> list[str]:
    """The data sets a world map can show: those answered by countries."""
    return [name for name, spec in dataset_specs().items() if spec.groups == "countries"]


def default_map_question(dataset) -> list:
    """The World map's default view: every country's row of the data set's best-covered question."""
    questions = questions_by_coverage(dataset)
    return questions[0] if questions and questions[0][0].options is not None else []


def warm_default_views(dataset, simulator, adapter_metadata: dict | None = None) -> int:
    """Simulate the default map question of `dataset` (the first map data set) as the World map
    does (`predict_as_trained`); returns the row count."""
    from .methods import predict_as_trained

    items = default_map_question(dataset)
    if items:
        predict_as_trained(simulator, adapter_metadata, items, known=dataset)
    return len(items)


DISABLE_ENV = "SURVEY_SIM_NO_WARMUP"  # 1: no warm-up (the tests set it)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="survey-sim warm-up: %(message)s")
    if os.environ.get(DISABLE_ENV) == "1":
        return 0
    started = time.perf_counter()
    try:
        from .simulator import Simulator

        dataset = load_dataset(map_dataset_names()[0])
        default = shipped_adapter(app_model())  # the pages' default simulator, float32 as the map asks
        simulator = Simulator.load(app_model(), adapter=default and default["name"], cache=True)
        rows = warm_default_views(dataset, simulator, default and default["metadata"])
    except Exception as err:  # noqa: BLE001  (no data or no model: the app's pages say so themselves)
        log.warning("skipped: %s", err)
        return 0
    log.info("the World map's default question simulated for %d countries in %.1f s", rows,
             time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
