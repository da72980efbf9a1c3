"""The leaderboard table (survey_sim/leaderboard.py) and `survey-sim results` on a small store."""
import numpy as np
import pandas as pd
import pytest

from small_results import small_store, write_small_store
from survey_sim.cli import main
from survey_sim.leaderboard import (coverage_cells, leaderboard_rows, leaderboard_text, method_label,
                                    results_command, store_metrics, wide)
from survey_sim.results import load_results, results_path


@pytest.fixture
def store(tmp_path):
    return write_small_store(tmp_path / "results.sqlite")


def test_labels_keep_adapters_and_models_apart():
    assert method_label("uniform") == "uniform"
    assert method_label("zero_shot", "smollm2-135m") == "zero_shot (smollm2-135m)"
    assert method_label("adapter", "smollm2-135m", "mine") == "adapter:mine"


def test_rows_hold_mean_count_and_coverage():
    rows = leaderboard_rows(small_store(), "1-jsd_paper")
    assert list(rows["method"].drop_duplicates()) == ["uniform", "zero_shot (smollm2-135m)", "adapter:mine"]
    by = rows.set_index(["method", "test"])
    assert by.loc[("adapter:mine", "wvs:C1-Q2"), "mean"] == pytest.approx(1.0)
    assert by.loc[("zero_shot (smollm2-135m)", "wvs:C1-Q2"), ["rows", "coverage"]].tolist() == [2, 0.5]
    assert by.loc[("uniform", "wvs:C1-Q3"), "rows"] == 4


def test_wide_table_has_a_gap_where_a_method_was_not_run():
    rows = leaderboard_rows(small_store(), "emd")
    table = wide(rows, "mean")
    assert list(table.columns) == ["wvs:C1-Q2", "wvs:C1-Q3"]
    assert np.isnan(table.loc["adapter:mine", "wvs:C1-Q3"]) and table.loc["adapter:mine", "wvs:C1-Q2"] == 0
    cells = coverage_cells(rows)
    assert cells.loc["zero_shot (smollm2-135m)", "wvs:C1-Q2"] == "2 (50.0%)"
    assert cells.loc["uniform", "wvs:C1-Q2"] == "4" and cells.loc["adapter:mine", "wvs:C1-Q3"] == "-"


def test_metrics_in_registry_order_and_unknown_metric_names_the_choices():
    assert store_metrics(small_store())[:2] == ["1-jsd", "1-jsd_paper"]
    with pytest.raises(KeyError, match="holds: 1-jsd, 1-jsd_paper"):
        leaderboard_rows(small_store(), "accuracy")


def test_empty_store_gives_empty_rows_and_text():
    assert leaderboard_rows(pd.DataFrame()).empty
    assert leaderboard_text(leaderboard_rows(pd.DataFrame())) == "no rows"


def test_results_command_names_a_non_default_store(tmp_path):
    assert results_command("emd") == "survey-sim results --metric emd"
    assert results_command("emd", tmp_path / "r.sqlite", csv="x.csv").endswith(f"--store {tmp_path / 'r.sqlite'} --csv x.csv")


def test_store_path_follows_the_environment(tmp_path, monkeypatch, store):
    monkeypatch.setenv("SURVEY_SIM_RESULTS", str(store))
    assert results_path() == store and len(load_results()) == len(small_store())


def test_cli_prints_the_table_and_writes_csv(store, tmp_path, capsys):
    csv = tmp_path / "board.csv"
    assert main(["results", "--store", str(store), "--metric", "majority_acc", "--csv", str(csv)]) == 0
    printed = capsys.readouterr().out
    assert "majority_acc (higher is better)" in printed and "adapter:mine" in printed and "2 (50.0%)" in printed
    written = pd.read_csv(csv)
    assert list(written.columns) == ["method", "test", "metric", "mean", "rows", "coverage"] and len(written) == 4


def test_cli_on_an_empty_store_says_how_to_fill_it(tmp_path, capsys):
    assert main(["results", "--store", str(tmp_path / "none.sqlite")]) == 0
    assert "survey-sim baselines --test" in capsys.readouterr().out


def test_cli_unknown_metric_is_a_usage_error(store, capsys):
    assert main(["results", "--store", str(store), "--metric", "nope"]) == 2
    assert "'nope' is not in the results store" in capsys.readouterr().err
