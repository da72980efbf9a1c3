"""`survey-sim report`: our method beside the paper's table, against the strongest baseline on the same rows."""
import numpy as np
import pandas as pd
import pytest
from small_results import TEST, run

from survey_sim.cli import main
from survey_sim.paper_report import PAPER_FINE_TUNED, markdown, paper_table
from survey_sim.registry import UnknownName

NEAR = [it.distribution * 0.9 + 0.05 for it in TEST]  # close to the truth, not equal


def store() -> pd.DataFrame:
    """On C1-Q3 (a paper split): ours near the truth, uniform, and an avg_culture as good as ours
    on the half of the rows it covers; on C1-Q2 (not a paper split) ours alone."""
    half = [NEAR[0], None, NEAR[2], None]
    return pd.concat([run("shift", NEAR, split="C1-Q3", adapter="ours"),
                      run("uniform", [np.array([0.5, 0.5])] * 4, split="C1-Q3"),
                      run("avg_culture", half, split="C1-Q3"),
                      run("shift", NEAR, split="C1-Q2", adapter="ours")], ignore_index=True)


def test_the_table_has_one_row_per_paper_split_with_the_strongest_baseline_on_common_rows():
    table = paper_table(store(), "shift:ours")
    assert list(table["test"]) == ["wvs:C1-Q3"]  # C1-Q2 is the paper's validation split, not in its table
    row = table.iloc[0]
    assert row["paper_8b"] == PAPER_FINE_TUNED["wvs:C1-Q3"] and row["protocol"].startswith("unseen questions")
    # avg_culture covers half of ours' rows (the least kept) and is the closest competitor there
    assert row["baseline"] == "avg_culture" and row["rows"] == 2 and row["difference"] == 0
    assert row["verdict"] == "no difference"
    assert paper_table(store(), "shift:ours", baselines=["uniform"]).iloc[0]["verdict"] == "ours better"
    text = markdown(table, "shift:ours")
    assert "| unseen questions (politics), seen countries | `wvs:C1-Q3` | 2 (2) |" in text
    assert "0.777" in text and "not a paired comparison" in text


def test_a_method_never_scored_on_a_paper_split_is_a_clear_error():
    with pytest.raises(UnknownName, match="'zero_shot' has no 1-jsd_paper rows on the paper's splits"):
        paper_table(store(), "zero_shot")


def test_report_command_writes_markdown_and_csv(tmp_path, capsys):
    path = tmp_path / "store.parquet"
    store().to_parquet(path)
    md, csv = tmp_path / "table.md", tmp_path / "table.csv"
    assert main(["report", "--method", "shift:ours", "--store", str(path), "--output", str(md), "--csv", str(csv)]) == 0
    assert md.read_text().startswith("| protocol |") and pd.read_csv(csv)["test"].tolist() == ["wvs:C1-Q3"]
    assert main(["report", "--method", "shift:ours", "--store", str(path), "--output",
                 str(tmp_path / "missing" / "t.md")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_other_methods_add_a_column_of_their_means():
    from survey_sim.metrics import one_minus_jsd_paper

    table = paper_table(store(), "shift:ours", also=["uniform", "zero_shot"])
    uniform = np.mean([one_minus_jsd_paper(it.distribution, [0.5, 0.5]) for it in TEST])
    assert table.iloc[0]["uniform"] == pytest.approx(uniform) and np.isnan(table.iloc[0]["zero_shot"])
    text = markdown(table, "shift:ours")
    assert "| difference [95% CI] | uniform | zero_shot | Cao et al. 8B |" in text
    assert "|---" * 9 + "|" in text and "| – | 0.777 |" in text
