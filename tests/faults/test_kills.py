"""kill -9 of a training run at each stage where files are being written: after a checkpoint,
in the middle of saving the adapter, and after the save but before the status says done.
The kill comes from a named point in the code (`survey_sim.failpoints`, $SURVEY_SIM_KILL_AT), the
same SIGKILL as kill -9, at an exact instant instead of a flaky sleep. Killing the train process
before any checkpoint and killing the worker are in test_jobs.py.

Real `survey-sim train` processes on a tiny random model and the real validation data."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from survey_sim.training import TrainConfig
from tiny import save_tiny_model

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def models(tmp_path, survey_root, monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def config_file(folder: Path, model: str, name: str, **overrides) -> Path:
    values = dict(dataset="wvs_valid", train_split="C1-Q2", valid_dataset="wvs_valid", valid_split="C1-Q2",
                  max_valid_items=8, batch_size=4, compile=False, max_steps=4)
    path = folder / f"{name}.json"
    path.write_text(TrainConfig(name=name, model=model, **{**values, **overrides}).to_json())
    return path


def train(config: Path, *flags: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SURVEY_SIM_KILL_AT": kill_at or ""}
    return subprocess.run([sys.executable, "-m", "survey_sim.cli", "train", "--config", str(config), *flags],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def folder_bytes(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_kill_9_mid_save_keeps_the_old_adapter_byte_for_byte(models, tiny_model, tmp_path):
    config = config_file(tmp_path, tiny_model, "kept", max_steps=2)
    assert train(config).returncode == 0
    adapter = models / "adapters" / "kept"
    before = folder_bytes(adapter)
    killed = train(config, "--overwrite", kill_at="adapter-mid-save")
    assert killed.returncode == -signal.SIGKILL
    assert folder_bytes(adapter) == before  # the old adapter, whole
    from survey_sim.adapters import list_adapters

    with pytest.warns(UserWarning, match=r"\.kept\.tmp-.*not complete|not complete.*\.kept\.tmp-"):
        listed = list_adapters(models / "adapters")  # the partial folder is named, never offered
    assert [entry["name"] for entry in listed] == ["kept"] and listed[0]["error"] is None
    assert train(config, "--overwrite").returncode == 0  # and the name can be trained again


def test_kill_9_after_a_checkpoint_resumes_from_it(models, tiny_model, tmp_path):
    config = config_file(tmp_path, tiny_model, "resumed", max_steps=4, eval_steps=2)
    killed = train(config, kill_at="checkpoint-saved")
    assert killed.returncode == -signal.SIGKILL
    assert not (models / "adapters" / "resumed").exists()
    checkpoints = sorted(p.name for p in (models / "runs" / "resumed").glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-2"]
    resumed = train(config, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from" in resumed.stdout and "checkpoint-2" in resumed.stdout
    record = json.loads((models / "adapters" / "resumed" / "survey_sim.json").read_text())
    assert record["config"]["max_steps"] == 4


def test_kill_9_after_the_save_keeps_the_job_and_its_adapter(models, tiny_model, monkeypatch):
    """The train process dies after its adapter is in place but before its status says done:
    the adapter is whole, so the job is done (not failed with the adapter orphaned)."""
    from survey_sim.jobs import JobQueue
    from test_jobs import tiny_config, wait_for

    monkeypatch.setenv("SURVEY_SIM_KILL_AT", "adapter-saved")  # the worker passes it to its train process
    queue = JobQueue(models / "jobs", adapters_root=models / "adapters")
    job = queue.submit(tiny_config(tiny_model, "saved-then-killed"))
    job = wait_for(queue, job.id, {"done", "failed"}, timeout=600)
    assert job.returncode == -signal.SIGKILL and job.state == "done" and job.error is None
    assert job.status().get("state") != "done"  # it really died before saying so
    from survey_sim.adapters import read_adapter

    assert read_adapter(models / "adapters" / "saved-then-killed")["error"] is None
