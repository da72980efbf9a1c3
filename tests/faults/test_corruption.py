"""Corruption of every file the project writes (issue #15): adapters, training checkpoints, the
status files and logs of training runs and jobs, the jobs' configs, robustness reports and the
converted-model cache's digest memo. Each case damages a file as a bad disk, an interrupted copy
or a hand edit would, and asserts the outcome: a clear error naming the file (one line where it
is an adapter's), the old data intact, or the damage recomputed; never a traceback. The cases
that drive the app read the real survey files, so they are also marked `integration`.

Covered beside the code, not repeated here: a truncated adapter in the listing and in
`Simulator.load` and a broken first stage (test_models.py, test_training.py), the prediction
cache (test_cache.py), the data-set build cache (test_build_cache.py), a damaged converted model
(test_model_cache.py), a robustness report with the wrong columns (test_robustness.py). The
results store and the job database have their own cases (test_results.py, test_jobs.py).
"""
import json
import re
import shutil
import sqlite3

import numpy as np
import pytest
from peft import LoraConfig, get_peft_model

from survey_sim import adapters
from survey_sim.adapters import AdapterError, list_adapters, load_adapter, read_adapter, save_adapter
from survey_sim.cli import main
from survey_sim.training import TrainConfig
from survey_sim.training.run import train

from test_models import adapted
from test_training import ITEMS
from tiny import make_llama, make_tokenizer, save_tiny_model

WEIGHTS, CONFIG, RECORD = "adapter_model.safetensors", "adapter_config.json", "survey_sim.json"


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")  # the base model `adapted` adapts


@pytest.fixture
def models(tmp_path, monkeypatch):
    """$SURVEY_SIM_MODELS of this test, with no shipped adapters beside its own."""
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr(adapters, "SHIPPED_ADAPTERS", tmp_path / "no-shipped-adapters")
    return tmp_path / "models"


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def error_line(stderr: str) -> str:
    """The CLI's one error line (transformers' progress bars may share stderr), and no traceback."""
    assert "Traceback" not in stderr, stderr
    return one_line("\n".join(line for line in stderr.splitlines() if line.startswith("error")))


# --- adapters -----------------------------------------------------------------------------------

def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def zero(path):
    path.write_bytes(bytes(path.stat().st_size))


def set_rank(rank):
    def change(path):
        config = json.loads(path.read_text())
        path.write_text(json.dumps({**config, "r": rank}))
    return change


def write(text):
    return lambda path: path.write_text(text)


# (file, damage, what the error says): every way of breaking an adapter's three files
DAMAGE = {
    "weights truncated": (WEIGHTS, truncate, rf"unreadable weights {WEIGHTS}"),
    "weights zeroed": (WEIGHTS, zero, rf"unreadable weights {WEIGHTS}"),
    "weights deleted": (WEIGHTS, lambda p: p.unlink(), rf"missing {WEIGHTS}"),
    "config not JSON": (CONFIG, write('{"r": 4, "lora_al'), rf"unreadable {CONFIG}"),
    "config not an object": (CONFIG, write("[4, 8]"), rf"{CONFIG}: not a JSON object"),
    "config deleted": (CONFIG, lambda p: p.unlink(), rf"missing {CONFIG}"),
    "config with another rank": (CONFIG, set_rank(8), rf"{CONFIG} says r=8 but {WEIGHTS} holds rank-4 weights"),
    "record not JSON": (RECORD, write('{"name": "bro'), rf"unreadable {RECORD}"),
    "record not an object": (RECORD, write('"broken"'), rf"{RECORD}: not a JSON object"),
    "record with a wrong field": (RECORD, write('{"best": [0.8], "base_model": "x"}'),
                                  rf"{RECORD}: field 'best' is a list, expected an object"),
    "record deleted": (RECORD, lambda p: p.unlink(), rf"missing {RECORD}"),
}


@pytest.fixture
def broken(models, tokenizer, tiny_dir, request):
    """models/adapters/broken, saved whole and then damaged as `request.param` says; with the
    pattern its error must match."""
    file, damage, says = DAMAGE[request.param]
    path = save_adapter(adapted(tokenizer, seed=1), "broken", {"base_model": tiny_dir}, root=models / "adapters")
    damage(path / file)
    return path, says


@pytest.mark.parametrize("broken", list(DAMAGE), indirect=True)
def test_a_broken_adapter_is_listed_with_its_reason(broken):
    path, says = broken
    [entry] = list_adapters(path.parent, include_invalid=True)
    assert one_line(entry["error"]) and re.search(says, entry["error"])
    assert isinstance(entry["metadata"], dict)  # what every reader of it calls .get on
    with pytest.warns(UserWarning, match="broken"):
        assert list_adapters(path.parent) == []  # not offered


@pytest.mark.parametrize("broken", list(DAMAGE), indirect=True)
def test_survey_sim_adapters_list_says_why_each_adapter_is_invalid(broken, capsys):
    path, says = broken
    assert main(["adapters", "list"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("broken"))
    assert "INVALID" in line and re.search(says, line)


@pytest.mark.parametrize("broken", list(DAMAGE), indirect=True)
def test_loading_a_broken_adapter_is_one_error_naming_it_and_the_file(broken, tokenizer):
    """Through the project's own loader (peft underneath): AdapterError with the path, not
    safetensors' or peft's or json's own exception."""
    path, says = broken
    with pytest.raises(AdapterError, match=says) as err:
        load_adapter(make_llama(len(tokenizer)), "broken", root=path.parent)
    assert str(path) in one_line(str(err.value))
    with pytest.raises(AdapterError, match=says):
        load_adapter(make_llama(len(tokenizer)), path)  # by folder too


@pytest.mark.parametrize("broken", ["weights truncated", "weights zeroed", "weights deleted", "config not JSON",
                                    "config deleted", "config with another rank", "record not an object"],
                         indirect=True)
def test_the_cli_exits_3_with_one_line_naming_the_adapter(broken, tiny_dir, tmp_path, capsys):
    path, says = broken
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "Is it good?", "options": ["Yes", "No"], "group": "Peru"}))
    code = main(["predict", "--model", tiny_dir, "--adapter", "broken", "--input", str(rows),
                 "--output", str(tmp_path / "out.jsonl")])
    error = error_line(capsys.readouterr().err)
    assert code == 3 and error.startswith(f"error: adapter {path}") and re.search(says, error)
    assert not (tmp_path / "out.jsonl").exists()


def adapter_of(base, rank=4):
    return get_peft_model(base, LoraConfig(r=rank, lora_alpha=8, target_modules=["q_proj", "v_proj"]))


@pytest.mark.parametrize("other_base, says", [
    (dict(hidden_size=64, intermediate_size=128), r"does not fit base model .*: size mismatch for .*lora_A"),
    (dict(num_hidden_layers=3), r"does not fit base model .*: 4 weights in the file have no place in the model"),
    (dict(num_hidden_layers=1), r"does not fit base model .*: 4 LoRA weights of the model are not in the file"),
])
def test_an_adapter_of_another_base_model_is_refused_not_half_applied(models, tokenizer, tiny_dir, tmp_path, capsys,
                                                                      other_base, says):
    """Valid files, wrong model: peft raises a page of size mismatches, or (fewer or more
    layers) silently applies part of the adapter. Either way, one error naming both."""
    path = save_adapter(adapter_of(make_llama(len(tokenizer), **other_base)), "other", {}, root=models / "adapters")
    with pytest.raises(AdapterError, match=says) as err:
        load_adapter(make_llama(len(tokenizer)), "other")
    assert one_line(str(err.value)).startswith(f"adapter {path}: ")
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "Is it good?", "options": ["Yes", "No"], "group": "Peru"}))
    assert main(["predict", "--model", tiny_dir, "--adapter", "other", "--input", str(rows),
                 "--output", str(tmp_path / "out.jsonl")]) == 3
    assert re.search(says, error_line(capsys.readouterr().err))


def test_a_whole_adapter_still_loads_after_the_checks(models, tokenizer):
    """The checks above must not refuse a good adapter (a second stage over its first: the DSA
    test in test_training.py)."""
    peft_model = adapted(tokenizer, seed=1)
    save_adapter(peft_model, "whole", {}, root=models / "adapters")
    loaded = load_adapter(make_llama(len(tokenizer)), "whole")
    for name, value in peft_model.state_dict().items():
        assert np.array_equal(value.numpy(), loaded.state_dict()[name].numpy()), name
    assert read_adapter(models / "adapters" / "whole")["error"] is None


@pytest.fixture
def compare_page(survey_root, models, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from test_app import APP

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    return lambda: AppTest.from_file(APP, default_timeout=120).run()


@pytest.mark.integration
def test_the_app_names_an_adapter_truncated_while_it_loads(compare_page, models, tokenizer, monkeypatch):
    from survey_sim.simulator import Simulator

    monkeypatch.setenv("SURVEY_SIM_MODEL", "dummy")
    path = save_adapter(adapted(tokenizer, seed=1), "cut", {"base_model": "dummy"}, root=models / "adapters")
    at = compare_page()
    load = Simulator.load.__func__

    def truncated_meanwhile(cls, *args, **kwargs):  # listed whole, cut short before it is read
        truncate(path / WEIGHTS)
        return load(cls, *args, **kwargs)

    monkeypatch.setattr(Simulator, "load", classmethod(truncated_meanwhile))
    at.radio(key="simulator").set_value("cut").run()
    assert not at.exception and at.error
    assert one_line(at.error[0].value).startswith(f"Could not load adapter 'cut': adapter {path}: "
                                                  f"unreadable weights {WEIGHTS}")


@pytest.mark.integration
def test_the_app_names_an_adapter_of_another_base_model_in_one_line(compare_page, models, tokenizer, tiny_dir,
                                                                    monkeypatch):
    monkeypatch.setenv("SURVEY_SIM_MODEL", tiny_dir)
    wide = adapter_of(make_llama(len(tokenizer), hidden_size=64, intermediate_size=128))
    path = save_adapter(wide, "other", {"base_model": tiny_dir}, root=models / "adapters")
    at = compare_page()
    at.radio(key="simulator").set_value("other").run()
    assert not at.exception and at.error
    assert re.match(rf"Could not load adapter 'other': adapter {path}: does not fit base model {tiny_dir}: "
                    r"size mismatch for .*lora_A", one_line(at.error[0].value))


# --- training checkpoints -----------------------------------------------------------------------

RESUME = dict(max_steps=4, eval_steps=2, batch_size=2, lora_dropout=0.0, compile=False, dtype="float32")


@pytest.fixture(scope="module")
def finished_run(tiny_dir, tmp_path_factory):
    """The runs folder of a 4-step run that saved checkpoint-2 and checkpoint-4; tests damage copies."""
    out = tmp_path_factory.mktemp("run")
    train(TrainConfig(name="resumed", model=tiny_dir, **RESUME), items=(ITEMS, ITEMS[:2]),
          adapters_root=out / "adapters", runs_root=out / "runs")
    assert sorted(p.name for p in (out / "runs" / "resumed").iterdir()) == ["checkpoint-2", "checkpoint-4"]
    return out / "runs"


def resume(finished_run, tiny_dir, tmp_path, *damaged):
    """`train --resume` over a copy of the finished run with `damaged` (checkpoint, file, damage)
    applied; the steps it trained."""
    runs = shutil.copytree(finished_run, tmp_path / "runs")
    for checkpoint, file, spoil in damaged:
        spoil(runs / "resumed" / checkpoint / file)
    steps = []
    train(TrainConfig(name="resumed", model=tiny_dir, **RESUME), items=(ITEMS, ITEMS[:2]),
          adapters_root=tmp_path / "adapters", runs_root=runs, resume=True,
          progress=lambda record: steps.append(record["step"]))
    assert read_adapter(tmp_path / "adapters" / "resumed")["error"] is None  # and it finished
    return runs / "resumed", steps


CHECKPOINT_DAMAGE = {
    "weights truncated": (WEIGHTS, truncate),
    "weights deleted": (WEIGHTS, lambda p: p.unlink()),
    "trainer state not JSON": ("trainer_state.json", write('{"global_step": 4, "log_hist')),
    "optimizer truncated": ("optimizer.pt", truncate),
    "scheduler zeroed": ("scheduler.pt", zero),
    "random state truncated": ("rng_state.pth", truncate),
}


@pytest.mark.parametrize("damage", list(CHECKPOINT_DAMAGE))
def test_a_damaged_last_checkpoint_resumes_from_the_one_before_and_says_so(finished_run, tiny_dir, tmp_path, capsys,
                                                                           damage):
    """Neither a failure on every retry nor a silent start from zero: the previous good checkpoint."""
    file, spoil = CHECKPOINT_DAMAGE[damage]
    run, steps = resume(finished_run, tiny_dir, tmp_path, ("checkpoint-4", file, spoil))
    printed = capsys.readouterr().out
    assert re.search(rf"checkpoint-4 is unreadable \(.*{file}.*\): resuming from {run / 'checkpoint-2'}", printed)
    assert min(steps) == 2 and {3, 4} <= set(steps)  # steps 1-2 came from checkpoint-2
    assert [p.name for p in run.glob("unreadable-checkpoint-4-*")]  # kept aside for a look, never resumed from again


def test_with_every_checkpoint_damaged_training_starts_afresh_and_says_so(finished_run, tiny_dir, tmp_path, capsys):
    run, steps = resume(finished_run, tiny_dir, tmp_path, ("checkpoint-4", WEIGHTS, truncate),
                        ("checkpoint-2", "trainer_state.json", zero))
    printed = capsys.readouterr().out
    assert "checkpoint-4 is unreadable" in printed and "checkpoint-2 is unreadable" in printed
    assert f"no usable checkpoint under {run}: starting from step 0" in printed
    assert {1, 2, 3, 4} <= set(steps)


def test_a_whole_last_checkpoint_is_resumed_as_before(finished_run, tiny_dir, tmp_path, capsys):
    run, steps = resume(finished_run, tiny_dir, tmp_path)
    assert f"resuming from {run / 'checkpoint-4'}" in capsys.readouterr().out and not {1, 2, 3} & set(steps)


# --- status files and logs of training runs and jobs ---------------------------------------------

GARBAGE_STATUS = {
    "not JSON": b'{"state": "running", "st',
    "empty": b"",
    "not UTF-8": b"\xff\xfe\x00garbage\x80",
    "a list": b"[1, 2, 3]",
    "a string": b'"running"',
    "a step that is text": b'{"state": "running", "step": "three", "max_steps": 10}',
    "validation not a list": b'{"state": "running", "step": 3, "max_steps": 10, "validation": "high"}',
    "best not an object": b'{"state": "done", "best": [0.8]}',
}


@pytest.mark.parametrize("content", list(GARBAGE_STATUS))
def test_a_garbage_status_file_reads_as_unreadable_and_the_next_write_replaces_it(tmp_path, content):
    from survey_sim.training.status import read_status, write_status

    path = tmp_path / "status.json"
    path.write_bytes(GARBAGE_STATUS[content])
    status = read_status(path)
    assert status["state"] == "unreadable" and str(path) in one_line(status["error"])
    write_status(path, state="running", step=4, max_steps=10)
    assert {k: v for k, v in read_status(path).items() if k != "updated"} == {"state": "running", "step": 4,
                                                                              "max_steps": 10}
    assert read_status(tmp_path / "not-written-yet.json") == {}  # a job not started yet: nothing, not an error


def test_training_over_a_garbage_status_file_runs_and_rewrites_it(tiny_dir, tmp_path):
    from survey_sim.training.status import read_status

    status = tmp_path / "status.json"
    status.write_bytes(GARBAGE_STATUS["a list"])  # e.g. left by a crashed writer of another version
    train(TrainConfig(name="over-garbage", model=tiny_dir, **RESUME), items=(ITEMS, ITEMS[:2]), status_path=status,
          adapters_root=tmp_path / "adapters", runs_root=tmp_path / "runs")
    assert read_status(status)["state"] == "done" and len(read_status(status)["validation"]) == 2


def running_job(models, monkeypatch):
    """A job the queue holds as running (its worker's lock taken by this test)."""
    import fcntl

    from survey_sim.jobs import JobQueue

    queue = JobQueue(models / "jobs", adapters_root=models / "adapters")
    monkeypatch.setattr(JobQueue, "ensure_worker", lambda queue: None)
    job = queue.submit(TrainConfig(name="garbled", model="dummy", valid_dataset="wvs_valid"), start_worker=False)
    lock = open(queue.lock_path, "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    with sqlite3.connect(queue.db_path) as db:
        db.execute("UPDATE jobs SET state = 'running', started = created WHERE id = ?", (job.id,))
    return queue, queue.get(job.id), lock


@pytest.mark.parametrize("content", ["not JSON", "a list", "a step that is text", "validation not a list"])
def test_the_job_queue_reads_a_garbage_status_and_log_without_failing(models, monkeypatch, content):
    from survey_sim.jobs import _last_error

    queue, job, lock = running_job(models, monkeypatch)
    job.status_path.write_bytes(GARBAGE_STATUS[content])
    job.log_path.write_bytes(b"step 1\r\x00\xff\xfe garbage \x80\nTraceback\n\xc3(\n")
    assert job.status()["state"] == "unreadable"
    assert "garbage" in job.log_tail() and _last_error(job.log_tail())
    lock.close()  # the worker died: the queue settles the job by what its files say
    [failed] = queue.reconcile()
    assert failed.state == "failed" and queue.get(job.id).state == "failed"


@pytest.mark.integration
def test_the_fine_tune_page_shows_an_unreadable_status_not_a_traceback(survey_root, models, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from test_app import APP

    monkeypatch.setenv("SURVEY_SIM_DATA", str(survey_root))
    queue, done, lock = running_job(models, monkeypatch)  # `lock` held: its worker is alive
    # the first job finished, its status file garbled; the second runs, its status and log garbled
    with sqlite3.connect(queue.db_path) as db:
        db.execute("UPDATE jobs SET state = 'done', finished = started + 60 WHERE id = ?", (done.id,))
    done.status_path.write_bytes(GARBAGE_STATUS["best not an object"])
    job = queue.submit(TrainConfig(name="running", model="dummy", valid_dataset="wvs_valid"), start_worker=False)
    with sqlite3.connect(queue.db_path) as db:
        db.execute("UPDATE jobs SET state = 'running', started = created WHERE id = ?", (job.id,))
    job.status_path.write_bytes(GARBAGE_STATUS["a step that is text"])
    job.log_path.write_bytes(b"\xff\xfe\x00 half a line")
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/fine_tune.py").run()
    assert not at.exception
    warning = next(w.value for w in at.warning if w.value.startswith("Progress"))
    assert warning.startswith("Progress of job 2 unreadable: status file") and str(job.status_path) in warning
    assert np.isnan(at.dataframe[0].value["best validation 1-JSD"].iloc[0])  # the finished run: no score
    lock.close()


# --- other files under models/ -------------------------------------------------------------------

@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b'{"learning_rate": 0.1, "lora_r"'])
def test_a_garbage_job_config_is_an_error_naming_the_file(tmp_path, capsys, content):
    """models/jobs/N.config.json, written by the queue and read by `survey-sim train --config`:
    the data error of any file (its name, then the problem), which the job's row shows."""
    config = tmp_path / "1.config.json"
    config.write_bytes(content)
    assert main(["train", "--config", str(config)]) == 3
    assert error_line(capsys.readouterr().err).startswith(f"error: {config}: 1 problem(s)")


REPORT = ("simulator,test,questions,rows,check,simulated,real,meaning\n"
          "zero_shot,wvs:C1-Q2,20,902,between-country variation (ratio to real),0.35,1.0,ratio of spreads\n"
          "zero_shot,wvs:C1-Q2,20,902,rank correlation across countries,0.33,1.0,Spearman\n")


GARBAGE_REPORT = {
    "empty": b"",
    "not UTF-8": b"\xff\xfe\x00\x80garbage",
    "zeroed": bytes(len(REPORT)),
    "cut mid-row": REPORT.encode()[: REPORT.index("0.33")],
    "a garbled number": REPORT.replace("0.35", "0.3#5").encode(),
}


@pytest.mark.parametrize("content", list(GARBAGE_REPORT))
def test_a_garbage_robustness_report_is_skipped_with_a_warning_naming_it(models, monkeypatch, caplog, content):
    from survey_sim import robustness

    monkeypatch.setattr(robustness, "REFERENCE_REPORTS", models / "no-shipped-reports")
    folder = robustness.reports_dir()
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text(REPORT.replace("zero_shot", "other"))
    (folder / "garbled.csv").write_bytes(GARBAGE_REPORT[content])
    reports = robustness.load_reports()
    assert set(reports["simulator"]) == {"other"}  # the good one is still shown
    assert f"{folder / 'garbled.csv'}: not a robustness report" in caplog.text


@pytest.mark.parametrize("memo", [b"[1, 2]", b'"digests"', b"\xff\x00", None])
def test_a_garbage_digest_memo_is_recomputed(tmp_path, monkeypatch, memo):
    """The converted-model cache's digests.json: a wrong digest would load another model's weights."""
    import hashlib

    from survey_sim import model_cache

    monkeypatch.setenv("SURVEY_SIM_MODEL_CACHE", str(tmp_path / "cache"))
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + bytes(range(256)))
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert model_cache.file_digest(gguf) == digest
    memo_path = tmp_path / "cache" / "digests.json"
    if memo is None:  # valid JSON, the entry itself garbled
        memo = json.dumps({key: "0" * 10 + "not-a-digest" for key in json.loads(memo_path.read_text())}).encode()
    memo_path.write_bytes(memo)
    assert model_cache.file_digest(gguf) == digest
    assert list(json.loads(memo_path.read_text()).values()) == [digest]  # the memo holds the right one again
