"""The data-efficiency table (one results store per draw) and its figure, on hand-made stores."""
import numpy as np
import pandas as pd
import pytest
from small_results import TEST

from survey_sim.charts import data_efficiency_figure
from survey_sim.data_efficiency import data_efficiency_table, draw_scores, merge_draws
from survey_sim.evaluation import tidy_scores
from survey_sim.results import append_results


def write_draw(folder, fraction: str, seed: int, shift_shares: float, rows_of_direct: int = 4):
    """A draw's store: the paper's adapter (uniform), the shift adapter (shift_shares on option 1), the prior."""
    draw = f"f{fraction}-s{seed}"
    runs = {("adapter", f"de-direct-{draw}"): [np.array([0.5, 0.5])] * 4,
            ("shift", f"de-shift-{draw}"): [np.array([shift_shares, 1 - shift_shares])] * 4,
            ("population_prior", ""): [it.distribution for it in TEST],  # perfect: the real shares
            ("adapter", "some-other-adapter"): [np.array([0.5, 0.5])] * 4}
    predictions = runs[("adapter", f"de-direct-{draw}")]
    runs[("adapter", f"de-direct-{draw}")] = predictions[:rows_of_direct] + [None] * (4 - rows_of_direct)
    for (method, adapter), shares in runs.items():
        append_results(tidy_scores(TEST, shares, method=method, dataset="wvs", split="C1-Q1:fold0",
                                   model="smollm2-135m" if adapter else "", adapter=adapter).dropna(subset=["value"]),
                       folder / f"{draw}.parquet")


def test_each_draw_is_scored_on_the_rows_all_its_methods_scored(tmp_path):
    write_draw(tmp_path, "0.1", 0, shift_shares=0.6, rows_of_direct=2)
    scores = draw_scores(tmp_path / "f0.1-s0.parquet").set_index("method")
    assert set(scores.index) == {"KL (the paper's objective)", "shift objective", "mean of the training countries"}
    assert (scores["rows"] == 2).all() and (scores["fraction"] == 0.1).all() and (scores["seed"] == 0).all()
    assert scores.loc["mean of the training countries", "score"] == pytest.approx(1.0)  # perfect on those rows


def test_the_table_and_figure_cover_every_draw(tmp_path):
    for fraction, seed, shares in [("0.1", 0, 0.6), ("0.1", 1, 0.4), ("1.0", 0, 0.7)]:
        write_draw(tmp_path, fraction, seed, shares)
    table = data_efficiency_table(tmp_path)
    assert len(table) == 9 and table["fraction"].tolist()[:3] == [0.1] * 3
    figure = data_efficiency_figure(table)
    shift = next(trace for trace in figure.data if trace.name == "shift objective")
    assert list(shift.x) == [10, 100] and len(shift.error_y.array) == 2
    low_seed, high_seed = sorted(table.query("method == 'shift objective' and fraction == 0.1")["score"])
    assert shift.y[0] == pytest.approx((low_seed + high_seed) / 2)
    assert shift.error_y.array[0] == pytest.approx((high_seed - low_seed) / 2)
    with pytest.raises(FileNotFoundError, match="no data-efficiency stores"):
        data_efficiency_table(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    pd.DataFrame().to_parquet(tmp_path / "bad" / "f-s.parquet")
    with pytest.raises(ValueError, match="named f<fraction>-s<seed>"):
        draw_scores(tmp_path / "bad" / "f-s.parquet")


def test_a_new_session_adds_its_draws_to_the_committed_table(tmp_path):
    """Stores live under models/, which a fresh checkout lacks: the committed draws are kept,
    and a draw scored again replaces its old rows whole."""
    write_draw(tmp_path, "0.1", 0, shift_shares=0.6)
    committed = data_efficiency_table(tmp_path)
    (tmp_path / "f0.1-s0.parquet").unlink()
    write_draw(tmp_path, "0.1", 2, shift_shares=0.6)
    merged = merge_draws(committed, data_efficiency_table(tmp_path))
    assert sorted(set(merged["seed"])) == [0, 2]
    assert len(merged) == 2 * len(committed)
    rescored = committed.assign(score=committed["score"] - 0.5)
    again = merge_draws(rescored, committed)
    pd.testing.assert_frame_equal(again, committed.sort_values(["fraction", "seed", "method"], ignore_index=True))
    assert merge_draws(None, committed).equals(again)
