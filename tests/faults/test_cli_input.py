"""Bad input to every `survey-sim` subcommand (issue #15): out-of-range numbers, unknown names,
hostile adapter names, files that are missing, folders, empty, binary or JSON of the wrong shape,
and bad --data-root, --store, --output and --csv paths. Each case must end in exit code 2 (bad
arguments) or 3 (data problem) with one `error:` line (argparse's usage line before it, or the
indented problems of a data file after it) that names the flag, file, field or row, and no
traceback. Every case fails before a language model loads (`--model dummy` where one is named).

Cases covered beside the code already are left out: tests/test_cli.py (evaluate's unknown method,
--method adapter without --adapter, --batch-size 0, --max-items -1 on --input, a split without
rows, the bad --output matrix of evaluate and predict, train's unknown config key, existing and
250-character --name, a missing $SURVEY_SIM_DATA) and tests/test_user_import.py (bad rows, CSV
lines and suffixes of a user's file, called directly).
"""
import json

import pytest

from survey_sim.cli import main

GOOD_ROW = {"question": "Is it good?", "options": ["Yes", "No"], "group": "Peru", "distribution": [0.5, 0.5]}
GARBAGE = bytes(range(128, 256)) * 4  # no UTF-8 text starts with 0x80
LONG = "x" * 300  # longer than a file name may be (255 bytes)


def param(argv: list[str], code: int, *names: str, id: str):
    return pytest.param(argv, code, names, id=id)


def dummy(*argv: str) -> list[str]:
    """evaluate, predict or robustness on the weightless test backend."""
    return [argv[0], "--model", "dummy", *argv[1:]]


DATA = [
    param(["data", "report", "nosuch"], 2, "unknown data set 'nosuch'", id="data-report-unknown-set"),
    param(["--data-root", "{tmp}/missing", "data", "report", "wvs_valid"], 3, "{tmp}/missing", id="data-root-missing"),
    param(["--data-root", "{tmp}/plain.txt", "data", "report", "wvs_valid"], 3, "{tmp}/plain.txt",
          id="data-root-is-a-file"),
    param(["--data-root", "", "data", "report", "wvs_valid"], 3, "data root ''", id="data-root-empty"),
    param(["--data-root", "{tmp}/root_empty", "data", "report", "wvs_valid"], 3, "sft_wvs_valid.json",
          "not valid JSON", id="data-file-empty"),
    param(["--data-root", "{tmp}/root_garbage", "data", "report", "wvs_valid"], 3, "sft_wvs_valid.json",
          "not UTF-8", id="data-file-binary"),
    param(["--data-root", "{tmp}/root_object", "data", "report", "wvs_valid"], 3, "sft_wvs_valid.json",
          "expected a JSON list", id="data-file-wrong-shape"),
    param(["--data-root", "{tmp}/root_folder", "data", "report", "wvs_valid"], 3, "sft_wvs_valid.json",
          id="data-file-is-a-folder"),
    param(["data", "fetch", "--dest", "{tmp}/fetched", "--only", "nosuch/file"], 2, "no pinned source 'nosuch/file'",
          id="fetch-unknown-file"),
    param(["data", "fetch", "--dest", "{tmp}/fetched", "--timeout", "0"], 2, "--timeout", id="fetch-timeout-0"),
    param(["data", "fetch", "--dest", "{tmp}/fetched", "--timeout=-1"], 2, "--timeout", id="fetch-timeout-negative"),
    param(["data", "fetch", "--dest", "{tmp}/plain.txt"], 2, "--dest", "{tmp}/plain.txt", id="fetch-dest-is-a-file"),
    param(["data", "nope"], 2, "invalid choice: 'nope'", id="data-unknown-subcommand"),
    param(["nosuchcommand"], 2, "invalid choice: 'nosuchcommand'", id="unknown-command"),
    param(["adapters", "nope"], 2, "invalid choice: 'nope'", id="adapters-unknown-subcommand"),
]

BASELINES = [
    param(["baselines", "--test", "nosuch:C1-Q2"], 2, "unknown data set 'nosuch'", id="baselines-unknown-set"),
    param(["baselines", "--test", "wvs_valid:nosplit"], 2, "unknown split 'nosplit'", id="baselines-unknown-split"),
    param(["baselines", "--test", "C1-Q2"], 2, "unknown data set 'C1-Q2'", id="baselines-test-without-colon"),
    param(["baselines", "--test", ":C1-Q2"], 2, "unknown data set ''", id="baselines-test-without-name"),
    param(["baselines", "--train", "nosuch:C1-Q1", "--test", "wvs_valid:C1-Q2"], 2, "unknown data set 'nosuch'",
          id="baselines-unknown-train-set"),
    param(["baselines", "--train", "wvs_valid:C1-Q3", "--test", "wvs_valid:C1-Q2", "--output", "{tmp}/b.csv"], 2,
          "--train wvs_valid:C1-Q3: no rows", id="baselines-train-split-without-rows"),
    param(["baselines", "--test", "wvs_valid:C1-Q2", "--methods", "nope"], 2, "--methods", "'nope'",
          id="baselines-unknown-method"),
    param(["baselines", "--test", "wvs_valid:C1-Q2", "--output", "{tmp}/b.txt"], 2, "--output", "'.txt'",
          id="baselines-output-suffix"),
    param(["baselines", "--test", "upload:"], 2, "upload:FILE", id="baselines-upload-without-name"),
    param(["baselines", "--test", "upload:../../x.csv"], 3, "no upload called '../../x.csv'",
          id="baselines-upload-path-traversal"),
]

def train(*argv: str) -> list[str]:
    return ["train", "--model", "dummy", *argv]


TRAIN = [
    param(train("--epochs", "0"), 2, "epochs", id="train-epochs-0"),
    param(train("--epochs=-1"), 2, "epochs", id="train-epochs-negative"),
    param(train("--epochs", "two"), 2, "--epochs", "'two'", id="train-epochs-not-a-number"),
    param(train("--learning-rate", "0"), 2, "learning_rate", id="train-learning-rate-0"),
    param(train("--learning-rate=-1e-4"), 2, "learning_rate", id="train-learning-rate-negative"),
    param(train("--group-fraction", "0"), 2, "group_fraction", id="train-group-fraction-0"),
    param(train("--group-fraction", "1.5"), 2, "group_fraction", id="train-group-fraction-1.5"),
    param(train("--fold", "7"), 2, "--fold", id="train-fold-7"),
    param(train("--fold", "-1"), 2, "--fold", id="train-fold-negative"),
    param(train("--batch-size", "0"), 2, "batch_size", id="train-batch-size-0"),
    param(train("--batch-size=-2"), 2, "batch_size", id="train-batch-size-negative"),
    param(train("--lora-r", "0"), 2, "lora_r", id="train-lora-r-0"),
    param(train("--lora-dropout", "1"), 2, "lora_dropout", id="train-lora-dropout-1"),
    param(train("--max-valid-items", "0"), 2, "max_valid_items", id="train-max-valid-items-0"),
    param(train("--eval-steps", "0"), 2, "eval_steps", id="train-eval-steps-0"),
    param(train("--seed=-1"), 2, "seed", id="train-seed-negative"),
    param(train("--loss", "nope"), 2, "--loss", "'nope'", id="train-unknown-loss"),
    param(train("--dataset", "nosuch"), 2, "unknown data set 'nosuch'", id="train-unknown-set"),
    param(train("--valid-dataset", "nosuch"), 2, "unknown data set 'nosuch'", id="train-unknown-valid-set"),
    param(train("--train-split", "nosplit"), 2, "unknown split 'nosplit'", id="train-unknown-split"),
    param(train("--name", "../x"), 2, "adapter name '../x'", id="train-name-path-traversal"),
    param(train("--name", "/abs"), 2, "adapter name '/abs'", id="train-name-absolute-path"),
    param(train("--name", "a\nb"), 2, r"adapter name 'a\nb'", id="train-name-newline"),
    param(train("--name", "a\x07b"), 2, r"adapter name 'a\x07b'", id="train-name-control-character"),
    param(train("--name", ""), 2, "adapter name ''", id="train-name-empty"),
    param(train("--stage2", "dsa", "--init-adapter", "../x"), 2, "--init-adapter", "'../x'",
          id="train-init-adapter-path-traversal"),
    param(train("--stage2", "dsa", "--init-adapter", LONG), 2, "--init-adapter", "at most 100",
          id="train-init-adapter-300-characters"),
    param(train("--status", "{tmp}/folder.json"), 2, "--status", "is a folder", id="train-status-is-a-folder"),
    param(train("--config", "{tmp}/missing.json"), 3, "{tmp}/missing.json", id="train-config-missing"),
    param(train("--config", "{tmp}/folder.json"), 3, "{tmp}/folder.json", "is a folder",
          id="train-config-is-a-folder"),
    param(train("--config", "{tmp}/empty.json"), 3, "{tmp}/empty.json", "not valid JSON", id="train-config-empty"),
    param(train("--config", "{tmp}/garbage.json"), 3, "{tmp}/garbage.json", "not UTF-8",
          id="train-config-binary"),
    param(train("--config", "{tmp}/list.json"), 3, "{tmp}/list.json", "expected a JSON object",
          id="train-config-a-list"),
    param(train("--config", "{tmp}/groups.json"), 2, "exclude_groups='ARG'", id="train-config-groups-a-string"),
    param(train("--config", "{tmp}/groups.json", "--fold", "0"), 2, "exclude_groups='ARG'",
          id="train-config-groups-a-string-with-fold"),
    param(train("--config", "{tmp}/epochs.json"), 2, "epochs='two'", id="train-config-epochs-a-string"),
    param(train("--config", "{tmp}/lora.json"), 2, "lora_r=True", id="train-config-rank-a-bool"),
]

EVALUATE = [
    param(dummy("evaluate", "--test", "wvs_valid:C1-Q2", "--fold", "7"), 2, "--fold", id="evaluate-fold-7"),
    param(dummy("evaluate", "--test", "wvs_valid:C1-Q2", "--fold", "-1"), 2, "--fold", id="evaluate-fold-negative"),
    param(dummy("evaluate", "--input", "{rows}", "--fold", "7", "--output", "{tmp}/r.csv"), 2, "--fold",
          id="evaluate-fold-7-with-input"),
    param(dummy("evaluate", "--test", "wvs_valid:C1-Q2", "--max-items", "0"), 2, "--max-items",
          id="evaluate-max-items-0"),
    param(dummy("evaluate", "--input", "{rows}", "--batch-size=-3"), 2, "--batch-size",
          id="evaluate-batch-size-negative"),
    param(dummy("evaluate", "--test", "nosuch:C1-Q2"), 2, "unknown data set 'nosuch'", id="evaluate-unknown-set"),
    param(dummy("evaluate", "--test", "wvs_valid:nosplit"), 2, "unknown split 'nosplit'",
          id="evaluate-unknown-split"),
    param(dummy("evaluate", "--test", "C1-Q2"), 2, "unknown data set 'C1-Q2'", id="evaluate-test-without-colon"),
    param(dummy("evaluate", "--method", "train_prior", "--train", "nosuch:C1-Q1", "--test", "wvs_valid:C1-Q2"), 2,
          "unknown data set 'nosuch'", id="evaluate-unknown-train-set"),
    param(dummy("evaluate", "--method", "train_prior", "--train", "wvs_valid:C1-Q3", "--test", "wvs_valid:C1-Q2"), 2,
          "--train wvs_valid:C1-Q3: no rows", id="evaluate-train-split-without-rows"),
    param(dummy("evaluate", "--method", "train_prior", "--train", "adapter", "--test", "wvs_valid:C1-Q2"), 2,
          "--adapter", id="evaluate-train-adapter-without-adapter"),
    param(dummy("evaluate", "--test", "wvs_valid:C1-Q2", "--param", "s"), 2, "--param", "'s'",
          id="evaluate-param-without-value"),
    param(dummy("evaluate", "--test", "wvs_valid:C1-Q2", "--param", "=1"), 2, "--param", "'=1'",
          id="evaluate-param-without-name"),
    param(dummy("evaluate", "--method", "prior_shift", "--test", "wvs_valid:C1-Q2", "--param", "s=nan"), 2,
          "--param", "'s=nan'", id="evaluate-param-nan"),
    param(dummy("evaluate", "--method", "prior_shift", "--test", "wvs_valid:C1-Q2", "--param", "nope=1"), 2,
          "no parameter nope", id="evaluate-param-unknown"),
    param(dummy("evaluate", "--test", "wvs_valid:C1-Q2", "--lang", "xx"), 2, "--lang", "'xx'",
          id="evaluate-unknown-lang"),
    param(dummy("evaluate", "--input", "{tmp}/missing.jsonl"), 3, "{tmp}/missing.jsonl", id="evaluate-input-missing"),
    param(dummy("evaluate", "--input", "{tmp}/folder.jsonl"), 3, "{tmp}/folder.jsonl", "is a folder",
          id="evaluate-input-is-a-folder"),
    param(dummy("evaluate", "--input", "{tmp}/empty.jsonl"), 3, "{tmp}/empty.jsonl", "no rows",
          id="evaluate-input-empty"),
    param(dummy("evaluate", "--input", "{tmp}/garbage.jsonl"), 3, "{tmp}/garbage.jsonl", "not UTF-8",
          id="evaluate-input-binary-jsonl"),
    param(dummy("evaluate", "--input", "{tmp}/garbage.csv"), 3, "{tmp}/garbage.csv", "not UTF-8",
          id="evaluate-input-binary-csv"),
    param(dummy("evaluate", "--input", "{tmp}/object.json"), 3, "{tmp}/object.json", "expected a JSON list",
          id="evaluate-input-json-object"),
    param(dummy("evaluate", "--input", "{tmp}/numbers.json"), 3, "{tmp}/numbers.json", "row 0",
          id="evaluate-input-json-numbers"),
    param(dummy("evaluate", "--input", "{tmp}/" + LONG + ".jsonl"), 3, "no such file",
          id="evaluate-input-300-characters"),
    param(dummy("evaluate", "--input", "{rows}", "--output", "{tmp}/" + LONG + ".csv"), 2, "--output",
          id="evaluate-output-300-characters"),
]

ADAPTER_NAMES = [("../x", "path-traversal"), ("/abs", "absolute-path"), ("a\nb", "newline"),
                 ("a\x1bb", "control-character"), ("y" * 250, "250-characters"), (LONG, "300-characters"),
                 ("", "empty")]
ADAPTERS = [param(dummy("evaluate", "--method", "adapter", "--adapter", name, "--input", "{rows}"), 2, "--adapter",
                  id=f"evaluate-adapter-{why}") for name, why in ADAPTER_NAMES]
ADAPTERS += [param(dummy("predict", "--adapter", name, "--input", "{rows}", "--output", "{tmp}/p.jsonl"), 2,
                   "--adapter", id=f"predict-adapter-{why}") for name, why in ADAPTER_NAMES]
ADAPTERS += [param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--adapter", "../x"), 2, "--adapter",
                   id="robustness-adapter-path-traversal")]


def predict(*argv: str) -> list[str]:
    return dummy("predict", *argv, "--output", "{tmp}/p.jsonl")


PREDICT = [
    param(predict("--input", "{rows}", "--batch-size", "0"), 2, "--batch-size", id="predict-batch-size-0"),
    param(predict("--input", "{rows}", "--batch-size=-3"), 2, "--batch-size", id="predict-batch-size-negative"),
    param(predict("--input", "{tmp}/missing.jsonl"), 3, "{tmp}/missing.jsonl", id="predict-input-missing"),
    param(predict("--input", "{tmp}/folder.jsonl"), 3, "{tmp}/folder.jsonl", "is a folder",
          id="predict-input-is-a-folder"),
    param(predict("--input", "{tmp}/empty.jsonl"), 3, "{tmp}/empty.jsonl", "no rows", id="predict-input-empty"),
    param(predict("--input", "{tmp}/garbage.jsonl"), 3, "{tmp}/garbage.jsonl", "not UTF-8",
          id="predict-input-binary"),
    param(predict("--input", "{tmp}/numbers.json"), 3, "{tmp}/numbers.json", "line 1", id="predict-input-wrong-shape"),
    param(predict("--input", "{rows}", "--group-kind", "nope"), 2, "--group-kind", id="predict-unknown-group-kind"),
    param(dummy("predict", "--input", "{rows}"), 2, "--output", id="predict-without-output"),
]

ROBUSTNESS = [
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--max-questions", "0"), 2, "--max-questions",
          id="robustness-max-questions-0"),
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--max-questions", "-1"), 2, "--max-questions",
          id="robustness-max-questions-negative"),
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--orders", "0"), 2, "--orders", id="robustness-orders-0"),
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--fold", "7"), 2, "--fold", id="robustness-fold-7"),
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--batch-size", "0"), 2, "--batch-size",
          id="robustness-batch-size-0"),
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--method", "nope"), 2, "--method", "'nope'",
          id="robustness-unknown-method"),
    param(dummy("robustness", "--test", "nosuch:C1-Q2"), 2, "unknown data set 'nosuch'",
          id="robustness-unknown-set"),
    param(dummy("robustness", "--test", "wvs_valid:C1-Q2", "--output", "{tmp}/r.txt"), 2, "--output", "'.txt'",
          id="robustness-output-suffix"),
    param(dummy("robustness"), 2, "--test", id="robustness-without-test"),
]

STORES = [
    param(["results", "--store", "{tmp}/folder.json"], 2, "--store", "is a folder", id="results-store-is-a-folder"),
    param(["results", "--store", "{tmp}/empty.parquet"], 3, "{tmp}/empty.parquet", id="results-store-empty"),
    param(["results", "--store", "{tmp}/garbage.parquet"], 3, "{tmp}/garbage.parquet", id="results-store-binary"),
    param(["results", "--store", "{rows}"], 3, "{rows}", id="results-store-not-a-store"),
    param(["results", "--store", "{store}", "--metric", "nope"], 2, "metric 'nope'", id="results-unknown-metric"),
    param(["results", "--store", "{store}", "--letter-bias", "0"], 2, "--letter-bias", id="results-letter-bias-0"),
    param(["results", "--store", "{store}", "--letter-bias", "1"], 2, "--letter-bias", id="results-letter-bias-1"),
    param(["results", "--store", "{store}", "--letter-bias", "-1"], 2, "--letter-bias",
          id="results-letter-bias-negative"),
    param(["results", "--store", "{store}", "--letter-bias", "7"], 2, "--letter-bias 7",
          id="results-letter-bias-without-questions"),
    param(["results", "--store", "{store}", "--csv", "{tmp}/missing/t.csv"], 2, "--csv", "does not exist",
          id="results-csv-folder-missing"),
    param(["results", "--store", "{store}", "--csv", "{tmp}/folder.json"], 2, "--csv", "is a folder",
          id="results-csv-is-a-folder"),
    param(["results", "--store", "{store}", "--csv", "{tmp}/t.txt"], 2, "--csv", "'.txt'", id="results-csv-suffix"),
    param(["compare", "uniform", "adapter:mine", "--test", "wvs:C1-Q2", "--store", "{tmp}/missing.parquet"], 2,
          "no rows in the results store {tmp}/missing.parquet", id="compare-store-missing"),
    param(["compare", "uniform", "adapter:mine", "--test", "wvs:C1-Q2"], 2, "no rows",
          id="compare-store-without-rows"),  # $SURVEY_SIM_RESULTS: a store not written yet
    param(["compare", "nope", "uniform", "--test", "wvs:C1-Q2", "--store", "{store}"], 2, "'nope'",
          id="compare-unknown-method"),
    param(["compare", "uniform", "adapter:mine", "--test", "nosuch:C1-Q2", "--store", "{store}"], 2, "nosuch:C1-Q2",
          id="compare-unknown-test"),
    param(["compare", "uniform", "adapter:mine", "--test", "wvs:C1-Q2", "--metric", "nope", "--store", "{store}"], 2,
          "no nope rows", id="compare-unknown-metric"),
    param(["compare", "uniform", "adapter:m-fold{fold}", "--test", "wvs:C1-Q2", "--store", "{store}"], 2,
          "'wvs:C1-Q2' is not a fold", id="compare-fold-name-without-fold"),
    param(["compare", "uniform", "adapter:mine", "--test", "wvs:C1-Q2", "--seed=-1", "--store", "{store}"], 2,
          "--seed", id="compare-seed-negative"),
    param(["compare", "uniform", "adapter:mine"], 2, "--test", id="compare-without-test"),
    param(["report", "--method", "uniform", "--store", "{tmp}/missing.parquet"], 2,
          "no rows in the results store {tmp}/missing.parquet", id="report-store-missing"),
    param(["report", "--method", "nope", "--store", "{store}"], 2, "'nope'", id="report-unknown-method"),
    param(["report", "--method", "uniform", "--store", "{store}", "--output", "{tmp}/missing/t.md"], 2, "--output",
          "does not exist", id="report-output-folder-missing"),
    param(["report", "--method", "uniform", "--store", "{store}", "--output", "{tmp}/folder.json"], 2, "--output",
          "is a folder", id="report-output-is-a-folder"),
    param(["report", "--method", "uniform", "--store", "{store}", "--csv", "{tmp}/t.txt"], 2, "--csv", "'.txt'",
          id="report-csv-suffix"),
]


@pytest.fixture
def bad_files(tmp_path):
    """The inputs of the cases, under tmp_path: a good rows file and every kind of bad one."""
    (tmp_path / "rows.jsonl").write_text(json.dumps(GOOD_ROW) + "\n")
    (tmp_path / "plain.txt").write_text("not a folder\n")
    for name in ("empty.jsonl", "empty.json", "empty.parquet"):
        (tmp_path / name).write_bytes(b"")
    for name in ("garbage.jsonl", "garbage.csv", "garbage.json", "garbage.parquet"):
        (tmp_path / name).write_bytes(GARBAGE)
    for name in ("folder.jsonl", "folder.json"):
        (tmp_path / name).mkdir()
    contents = {"object.json": {"rows": [GOOD_ROW]}, "numbers.json": [1, 2], "list.json": [1],
                "groups.json": {"exclude_groups": "ARG"}, "epochs.json": {"epochs": "two"}, "lora.json": {"lora_r": True}}
    for name, value in contents.items():
        (tmp_path / name).write_text(json.dumps(value))
    data_files = {"root_empty": b"", "root_garbage": GARBAGE, "root_object": b'{"rows": []}'}
    for root, content in data_files.items():
        (tmp_path / root / "simllm-culturedist").mkdir(parents=True)
        (tmp_path / root / "simllm-culturedist" / "sft_wvs_valid.json").write_bytes(content)
    (tmp_path / "root_folder" / "simllm-culturedist" / "sft_wvs_valid.json").mkdir(parents=True)
    return tmp_path


@pytest.fixture(autouse=True)
def scratch_stores(tmp_path, monkeypatch):
    """Adapters, runs and results go to tmp_path; nothing a case does reaches the network."""
    monkeypatch.setenv("SURVEY_SIM_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(tmp_path / "empty_store.parquet"))
    monkeypatch.setenv("SURVEY_SIM_FETCH_BASE", "http://127.0.0.1:9")  # a closed port: refused at once


def run_cli(argv: list[str], capsys) -> tuple[int, str, bool]:
    """(exit code, stderr, whether argparse refused the arguments itself)."""
    try:
        return main(argv), capsys.readouterr().err, False
    except SystemExit as exit:
        return exit.code, capsys.readouterr().err, True


def assert_one_clear_error(code: int, err: str, by_argparse: bool, expected: int, names) -> None:
    assert code == expected, err
    assert "Traceback" not in err and "unexpected" not in err, err
    lines = err.rstrip("\n").splitlines()
    if by_argparse:  # usage: ... (wrapped), then "survey-sim COMMAND: error: ..."
        assert lines[0].startswith("usage: survey-sim") and ": error: " in lines[-1], err
        message = lines[-1]
    else:  # "error: ...", then only the indented problems of a data file
        assert lines[0].startswith("error: ") and all(line.startswith("  ") for line in lines[1:]), err
        assert len(lines) <= 21, err
        message = err
    for name in names:
        assert name in message, err


@pytest.mark.parametrize("argv, code, names", DATA + BASELINES + TRAIN + EVALUATE + ADAPTERS + PREDICT + ROBUSTNESS
                         + STORES)
def test_bad_input_is_one_clear_error(argv, code, names, bad_files, request, capsys):
    if any(arg.startswith(("wvs_valid", "nosuch", "C1-Q2", ":C1", "upload")) for arg in argv):
        request.getfixturevalue("survey_root")  # a case that reads the real surveys: skipped where absent
    places = {"{tmp}": str(bad_files), "{rows}": str(bad_files / "rows.jsonl")}
    if "{store}" in argv:
        from small_results import write_small_store

        places["{store}"] = str(write_small_store(bad_files / "small.parquet"))

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    code_and_err = run_cli([fill(arg) for arg in argv], capsys)
    assert_one_clear_error(*code_and_err, code, [fill(name) for name in names])
