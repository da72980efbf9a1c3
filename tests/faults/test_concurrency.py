"""Concurrent writers of every shared file: the job database, the prediction cache, the data-set
build cache and the converted-model cache (the results store and uploads have theirs in
test_results.py and test_uploads.py). Each writer is a separate Python process started at the
same moment, as the app's sessions, the worker and CLI runs are."""
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]


def run_together(script: str, arguments: list[list[str]], timeout: int = 300) -> list[subprocess.CompletedProcess]:
    """Start one process per argument list, each waiting for the same moment before it begins."""
    start_at = str(time.time() + 3)  # time enough for every interpreter to start first
    prelude = f"import sys, time\nsys.path.insert(0, {str(TESTS)!r})\ntime.sleep(max(0, float(sys.argv[1]) - time.time()))\n"
    processes = [subprocess.Popen([sys.executable, "-c", prelude + script, start_at, *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in arguments]
    done = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return done


SUBMIT = """
from survey_sim.jobs import JobQueue
from survey_sim.training import TrainConfig
folder, name = sys.argv[2], sys.argv[3]
queue = JobQueue(folder, adapters_root=folder + "/adapters")
try:
    job = queue.submit(TrainConfig(name=name, model="tiny", max_steps=1), start_worker=False)
    print("queued", job.id)
except ValueError as err:
    print("refused", err)
"""


def test_one_name_submitted_by_six_processes_at_once_is_queued_once(tmp_path):
    outcomes = run_together(SUBMIT, [[str(tmp_path), "same-name"]] * 6)
    assert all(o.returncode == 0 for o in outcomes), [o.stderr for o in outcomes]
    said = sorted(o.stdout.split()[0] for o in outcomes)
    assert said == ["queued"] + ["refused"] * 5
    from survey_sim.jobs import JobQueue

    assert [job.name for job in JobQueue(tmp_path, adapters_root=tmp_path / "adapters").jobs()] == ["same-name"]


def test_six_submits_at_once_each_get_a_job_with_its_whole_config(tmp_path):
    outcomes = run_together(SUBMIT, [[str(tmp_path), f"run-{i}"] for i in range(6)])
    assert [o.stdout.split()[0] for o in outcomes] == ["queued"] * 6, [o.stderr for o in outcomes]
    from survey_sim.jobs import JobQueue

    jobs = JobQueue(tmp_path, adapters_root=tmp_path / "adapters").jobs()
    assert sorted(job.name for job in jobs) == [f"run-{i}" for i in range(6)]
    for job in jobs:  # written before the job could be claimed, whole
        assert json.loads(job.config_path.read_text())["name"] == job.name


def test_a_busy_job_database_is_waited_for_or_reported_never_set_aside(tmp_path, monkeypatch):
    """"database is locked" is not damage: the jobs it holds must stay where they are."""
    from survey_sim import jobs
    from survey_sim.training import TrainConfig

    queue = jobs.JobQueue(tmp_path, adapters_root=tmp_path / "adapters")
    queue.submit(TrainConfig(name="kept", model="tiny", max_steps=1), start_worker=False)
    holder = sqlite3.connect(queue.db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in a long write
    monkeypatch.setattr(jobs, "WAIT_S", 0.2)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        jobs.JobQueue(tmp_path, adapters_root=tmp_path / "adapters")
    holder.execute("ROLLBACK")
    assert not list(tmp_path.glob("jobs.sqlite.unreadable-*"))
    assert [job.name for job in jobs.JobQueue(tmp_path, adapters_root=tmp_path / "adapters").jobs()] == ["kept"]


CACHE = """
import numpy as np
from survey_sim.cache import PredictionCache
path, worker = sys.argv[2], int(sys.argv[3])
cache = PredictionCache(path)
rng = np.random.default_rng(worker)
for round in range(40):
    keys = [f"key-{k}" for k in range(round % 7, 60, 3)]  # overlapping with the other writers' keys
    cache.put_many({key: rng.dirichlet(np.ones(4)) for key in keys})
    found = cache.get_many([f"key-{k}" for k in range(60)])
    assert all(abs(v.sum() - 1) < 1e-9 and len(v) == 4 for v in found.values())
print(len(cache))
"""


def test_six_processes_share_the_prediction_cache(tmp_path):
    path = tmp_path / "predictions.sqlite"
    outcomes = run_together(CACHE, [[str(path), str(worker)] for worker in range(6)])
    assert all(o.returncode == 0 for o in outcomes), [o.stderr[-800:] for o in outcomes]
    assert "busy" not in "".join(o.stderr for o in outcomes)  # waited for, not skipped
    from survey_sim.cache import PredictionCache

    assert len(PredictionCache(path)) == 60 and not list(tmp_path.glob("*.unreadable-*"))


def test_a_busy_prediction_cache_is_a_miss_and_kept(tmp_path, monkeypatch):
    from survey_sim import cache

    store = cache.PredictionCache(tmp_path / "predictions.sqlite")
    store.put_many({"a": np.array([0.25, 0.75])})
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(cache, "WAIT_S", 0.2)
    assert store.get_many(["a"]) == {}  # predicted afresh this time
    store.put_many({"b": np.array([0.5, 0.5])})  # not stored, no error
    holder.execute("ROLLBACK")
    assert set(store.get_many(["a", "b"])) == {"a"} and not list(tmp_path.glob("*.unreadable-*"))


BUILD = """
import numpy as np
from pathlib import Path
from survey_sim.data import Dataset, SurveyItem
from survey_sim.data.build_cache import cached
root, folder = Path(sys.argv[2]), Path(sys.argv[3])
def build():
    items = [SurveyItem(survey="s", question_id=f"Q{i}", question=f"Question {i}?", options=("Yes", "No"),
                        lang="en", group="France", iso3="FRA", distribution=np.array([0.3, 0.7]))
             for i in range(2000)]
    return Dataset("tiny", items)
print(len(cached("tiny", root, build, folder).items))
"""


def test_four_processes_building_one_data_set_at_once_agree_and_leave_one_good_file(tmp_path):
    root = tmp_path / "inputs"
    root.mkdir()
    (root / "survey.csv").write_text("question,options\n")
    outcomes = run_together(BUILD, [[str(root), str(tmp_path / "builds")]] * 4)
    assert [o.stdout.strip() for o in outcomes] == ["2000"] * 4, [o.stderr[-800:] for o in outcomes]
    (build,) = (tmp_path / "builds").glob("tiny-*.json.gz")  # one file, no partial ones left
    from survey_sim.data.build_cache import read_build

    assert len(read_build(build).items) == 2000


CONVERT = """
from pathlib import Path
from survey_sim import model_cache
from tiny import make_llama, make_tokenizer
tokenizer = make_tokenizer()
model = make_llama(len(tokenizer))
print(model_cache.store(Path(sys.argv[2]), model, tokenizer))
"""


def test_two_processes_caching_one_converted_model_leave_one_complete_copy(tmp_path, monkeypatch):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"stands in for a GGUF file: only its sha256 names the cache folder")
    monkeypatch.setenv("SURVEY_SIM_MODEL_CACHE", str(tmp_path / "cache"))
    outcomes = run_together(CONVERT, [[str(gguf)]] * 2)
    assert all(o.returncode == 0 for o in outcomes), [o.stderr[-800:] for o in outcomes]
    from survey_sim import model_cache

    folder = model_cache.converted(gguf)
    assert folder is not None and {o.stdout.strip() for o in outcomes} == {str(folder)}
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()] == [folder.name]  # no partial copies
