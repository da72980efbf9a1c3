"""`accelerate launch` splits predict / evaluate across processes; the output equals one process's."""
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from survey_sim.cli import main
from survey_sim.sharding import launched, sharded
from tiny import save_tiny_model

QUESTIONS = [("Is it good?", ["Yes", "No"]), ("How often?", ["Never", "Sometimes", "Often"]),
             ("Which one?", ["Red", "Green", "Blue", "Other"])]
# 7 rows: shares of 4 and 3, prompts of different lengths in both, so padding differs by process
ROWS = [{"question": q, "options": o, "group": g, "distribution": [1 / len(o)] * len(o), "row": n}
        for n, ((q, o), g) in enumerate(zip((QUESTIONS * 3)[:7], ["Peru", "Japan", "Chile", "Kenya", "Peru", "Fiji", "Chad"],
                                            strict=True))]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_one_process_scores_everything_itself(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not launched()
    assert sharded(lambda share: [x * 2 for x in share], [1, 2, 3]) == [2, 4, 6]


def launch(args, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--multi_gpu",
                           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                           "-m", "survey_sim.cli", *args], capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)


@pytest.mark.integration
def test_two_gloo_processes_predict_and_evaluate_like_one(tiny_dir, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text("\n".join(json.dumps(r) for r in ROWS))
    common = ["--model", tiny_dir, "--dtype", "float32"]
    assert main(["predict", *common, "--input", str(rows), "--output", str(tmp_path / "one.jsonl")]) == 0
    assert main(["evaluate", "--method", "zero_shot", *common, "--input", str(rows),
                 "--output", str(tmp_path / "one.csv")]) == 0

    run = launch(["predict", *common, "--input", str(rows), "--output", str(tmp_path / "two.jsonl")], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("wrote 7 predictions") == 1  # only the main process writes
    assert "| 4/4 " in run.stderr and "| 3/3 " in run.stderr  # each process scored its own share
    one = [json.loads(line) for line in (tmp_path / "one.jsonl").read_text().splitlines()]
    two = [json.loads(line) for line in (tmp_path / "two.jsonl").read_text().splitlines()]
    assert [r["row"] for r in two] == list(range(7))  # input order kept
    for a, b in zip(one, two, strict=True):
        assert b["prediction"] == pytest.approx(a["prediction"], abs=1e-5)

    run = launch(["evaluate", "--method", "zero_shot", *common, "--input", str(rows),
                  "--output", str(tmp_path / "two.csv")], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    one, two = pd.read_csv(tmp_path / "one.csv"), pd.read_csv(tmp_path / "two.csv")
    assert len(one) == len(two) > 0
    pd.testing.assert_series_equal(one["value"], two["value"], atol=1e-5)
    assert one["group"].tolist() == two["group"].tolist()


def test_ctrl_scores_ready_made_prompts_in_input_order(tiny_dir):
    from survey_sim.data.schema import SurveyItem
    from survey_sim.methods import METHODS, Context
    from survey_sim.models import load_model
    from survey_sim.simulator import Simulator

    simulator = Simulator.from_model(*load_model(tiny_dir, device="cpu", dtype="float32"))
    items = [SurveyItem(survey="wvs", question_id=f"q{n}", question=r["question"], options=tuple(r["options"]),
                        lang="en", group=r["group"], iso3=None, distribution=np.asarray(r["distribution"]))
             for n, r in enumerate(ROWS)]
    predictions = METHODS["ctrl"].predict(items, Context(load_simulator=lambda: simulator))
    assert [len(p) for p in predictions] == [it.n_options for it in items]
    assert all(abs(p.sum() - 1) < 1e-6 for p in predictions)
