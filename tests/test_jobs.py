"""Background jobs: real worker and `survey-sim train` processes on a tiny model and real data."""
import time

import pytest

from survey_sim.jobs import JobQueue
from survey_sim.training import TrainConfig

from tiny import save_tiny_model

pytestmark = pytest.mark.integration


@pytest.fixture
def queue(tmp_path, survey_root, monkeypatch):
    # The worker and its train processes inherit these: data from the real files, outputs in tmp.
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    return JobQueue(tmp_path / "models" / "jobs", adapters_root=tmp_path / "models" / "adapters")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


def tiny_config(model: str, name: str, max_steps: int = 2, **overrides) -> TrainConfig:
    values = dict(dataset="wvs_valid", train_split="C1-Q2", valid_dataset="wvs_valid", valid_split="C1-Q2",
                  max_valid_items=8, batch_size=4, compile=False)
    return TrainConfig(name=name, model=model, max_steps=max_steps, **{**values, **overrides})


def wait_for(queue, job_id, states, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = queue.get(job_id)
        if job.state in states:
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {queue.get(job_id).state} after {timeout} s:\n{queue.get(job_id).log_tail()}")


def test_two_jobs_run_one_after_the_other_to_done(queue, tiny_model, tmp_path):
    first = queue.submit(tiny_config(tiny_model, "tiny-a"))
    second = queue.submit(tiny_config(tiny_model, "tiny-b"))
    assert queue.get(second.id).state == "queued"  # the worker has the first one
    first, second = wait_for(queue, first.id, {"done", "failed"}), wait_for(queue, second.id, {"done", "failed"})
    assert (first.state, second.state) == ("done", "done"), first.log_tail() + second.log_tail()
    assert second.started >= first.finished  # one run at a time
    assert first.status()["step"] == 2 and first.status()["state"] == "done"
    assert (tmp_path / "models" / "adapters" / "tiny-a" / "adapter_model.safetensors").is_file()
    assert "adapter saved to" in first.log_tail()


def test_a_taken_name_is_refused(queue, tiny_model, tmp_path):
    queue.submit(tiny_config(tiny_model, "tiny-c"), start_worker=False)
    with pytest.raises(ValueError, match="already training 'tiny-c'"):
        queue.submit(tiny_config(tiny_model, "tiny-c"))
    (tmp_path / "models" / "adapters" / "existing").mkdir(parents=True)
    with pytest.raises(ValueError, match="adapter named 'existing' already exists"):
        queue.submit(tiny_config(tiny_model, "existing"))


def test_cancel_a_queued_job_and_a_running_one(queue, tiny_model, tmp_path):
    running = queue.submit(tiny_config(tiny_model, "tiny-long", max_steps=100_000))
    queued = queue.submit(tiny_config(tiny_model, "tiny-never"))
    assert queue.cancel(queued.id).state == "cancelled"
    deadline = time.time() + 120
    while not queue.get(running.id).status().get("step") and time.time() < deadline:
        time.sleep(0.5)  # training has started: the model is loaded and stepping
    assert queue.get(running.id).state == "running" and queue.get(running.id).status()["step"] > 0
    assert queue.cancel(running.id).state == "cancelled"
    deadline = time.time() + 30
    while queue.worker_alive() and time.time() < deadline:
        time.sleep(0.2)
    assert not queue.worker_alive()  # the train process stopped and the worker found nothing left to run
    assert queue.get(running.id).state == "cancelled" and queue.get(queued.id).state == "cancelled"
    assert not (tmp_path / "models" / "adapters" / "tiny-long").exists()
    assert not queue.get(queued.id).log_path.exists()  # never started
    with pytest.raises(ValueError, match="already cancelled"):
        queue.cancel(queued.id)


def test_a_failing_run_is_failed_with_the_error_from_its_log(queue, tiny_model):
    job = queue.submit(tiny_config(tiny_model, "tiny-bad", train_split="C9-Q1"))
    job = wait_for(queue, job.id, {"done", "failed"})
    assert job.state == "failed" and job.returncode != 0
    assert "C9" in job.error, job.log_tail()


@pytest.mark.fault
def test_reconcile_fails_running_jobs_whose_process_died(queue, tiny_model):
    job = queue.submit(tiny_config(tiny_model, "tiny-orphan"), start_worker=False)
    assert queue._claim_next().id == job.id  # "running", but no worker holds the lock: it died
    (failed,) = queue.reconcile()
    assert failed.id == job.id and failed.state == "failed" and "died" in failed.error
    assert queue.reconcile() == []


def test_an_evaluation_job_scores_the_new_adapter_into_the_results_store(queue, tiny_model, tmp_path, monkeypatch):
    from survey_sim.results import load_results

    store = tmp_path / "results.sqlite"
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(store))  # the worker's evaluate process inherits it
    trained = queue.submit(tiny_config(tiny_model, "tiny-eval"))
    assert wait_for(queue, trained.id, {"done", "failed"}).state == "done"
    job = queue.submit_evaluation("tiny-eval", max_items=40)
    assert job.kind == "evaluate" and job.config["command"][:5] == ["evaluate", "--method", "adapter", "--adapter",
                                                                     "tiny-eval"]
    job = wait_for(queue, job.id, {"done", "failed"})
    assert job.state == "done", job.log_tail()
    results = load_results(store)
    assert not results.empty, job.log_tail()
    assert set(results["adapter"]) == {"tiny-eval"} and set(results["split"]) == {"C1-Q2:sample40"}
    assert "\r" not in job.log_tail() and "appended" in job.log_tail()  # progress bars shown as their last state


def test_a_shift_adapter_is_evaluated_as_it_predicts(tmp_path):
    import json

    from survey_sim.jobs import evaluation_command
    from test_app import ship_adapter

    ship_adapter(tmp_path, "shifty", {"base_model": "dummy", "config": {
        "objective": "shift", "shift_scale": 0.5, "valid_dataset": "wvs", "valid_split": "C1-Q2"}})
    assert evaluation_command("shifty", tmp_path) == [
        "evaluate", "--method", "shift", "--adapter", "shifty", "--test", "wvs:C1-Q2", "--cache",
        "--train", "adapter", "--param", "s=0.5"]
    assert json.loads((tmp_path / "shifty" / "survey_sim.json").read_text())["base_model"] == "dummy"


@pytest.mark.fault
def test_reconcile_keeps_a_run_that_finished_although_its_worker_died(queue, tiny_model, tmp_path):
    from survey_sim.training.status import write_status
    from test_app import ship_adapter

    job = queue.submit(tiny_config(tiny_model, "tiny-finished"), start_worker=False)
    assert queue._claim_next().id == job.id
    write_status(job.status_path, state="done", step=2, max_steps=2)  # the train process ended well...
    ship_adapter(tmp_path / "models" / "adapters", "tiny-finished", {"base_model": tiny_model})  # ...and saved
    assert queue.reconcile() == []  # ...then the worker was killed before recording it
    assert queue.get(job.id).state == "done" and queue.get(job.id).error is None
    half = queue.submit(tiny_config(tiny_model, "tiny-half"), start_worker=False)
    queue._claim_next()
    write_status(half.status_path, state="done", step=2, max_steps=2)  # said done, but no adapter on disk
    (failed,) = queue.reconcile()
    assert failed.id == half.id and failed.state == "failed"


@pytest.mark.fault
def test_an_unreadable_job_database_is_kept_aside_and_a_new_queue_starts(tmp_path, caplog):
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "jobs.sqlite").write_bytes(b"this is not a database" * 50)
    queue = JobQueue(folder, adapters_root=tmp_path / "adapters")
    assert queue.jobs() == [] and "unreadable" in caplog.text
    assert [p.name for p in folder.iterdir() if p.name.startswith("jobs.sqlite.unreadable-")]


def processes_running(fragment: str) -> list[int]:
    """Pids whose command line holds `fragment` (from /proc: no extra dependency)."""
    import os
    from pathlib import Path

    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if fragment in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in pids if pid != os.getpid()]


def wait_until(condition, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.fault
def test_kill_9_of_the_train_process_fails_the_job_and_leaves_no_adapter(queue, tiny_model, tmp_path):
    import os
    import signal

    job = queue.submit(tiny_config(tiny_model, "tiny-killed", max_steps=400))
    wait_until(lambda: (queue.get(job.id).status().get("step") or 0) >= 1)
    os.kill(queue.get(job.id).pid, signal.SIGKILL)  # mid-training, before any checkpoint or save
    job = wait_for(queue, job.id, {"done", "failed"})
    assert job.state == "failed" and job.returncode == -signal.SIGKILL
    assert not any("tiny-killed" in p.name for p in (tmp_path / "models" / "adapters").glob("*"))  # nor a partial


@pytest.mark.fault
def test_kill_9_of_the_worker_while_its_run_finishes_still_ends_done(queue, tiny_model, tmp_path):
    import os
    import signal

    job = queue.submit(tiny_config(tiny_model, "tiny-orphaned", max_steps=6))
    wait_until(lambda: queue.get(job.id).state == "running" and queue.get(job.id).pid)
    (worker,) = processes_running(f"survey_sim.jobs work --folder {queue.folder}")
    os.kill(worker, signal.SIGKILL)  # the worker dies; its train process runs on and saves the adapter
    train_pid = queue.get(job.id).pid
    wait_until(lambda: not processes_running(f"--status {queue.get(job.id).status_path}") or
               not os.path.exists(f"/proc/{train_pid}"))
    wait_until(lambda: not queue.worker_alive())
    assert queue.reconcile() == [] and queue.get(job.id).state == "done"
    assert (tmp_path / "models" / "adapters" / "tiny-orphaned" / "survey_sim.json").is_file()
