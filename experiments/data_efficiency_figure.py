"""The data-efficiency figure: results/data_efficiency.csv (shown by the app's Leaderboard page)
and docs/data_efficiency.png (the README's), from the per-draw stores that
experiments/data_efficiency.sh writes, merged into the committed table (a fresh checkout has no
stores of earlier sessions' draws, so their rows are kept; a draw scored again replaces them). Drawn with whatever draws have run, so it can be redrawn
as more seeds finish.

    .venv/bin/python experiments/data_efficiency_figure.py [STORES_FOLDER]

The PNG needs kaleido and a Chromium (BROWSER_PATH, default /usr/bin/chromium).
"""
import os
import sys
from pathlib import Path

from survey_sim.charts import data_efficiency_figure
from survey_sim.data_efficiency import TABLE, data_efficiency_table, load_table, merge_draws

ROOT = Path(__file__).resolve().parents[1]


def seed_counts(table) -> str:
    """"2 seeds" when every share has as many, else "seeds per share: 10% 2, 25% 2, 50% 1, 100% 1"."""
    counts = table.groupby("fraction")["seed"].nunique()
    if counts.nunique() == 1:
        return f"{counts.iloc[0]} seed{'s' if counts.iloc[0] > 1 else ''}"
    return "seeds per share: " + ", ".join(f"{f:.0%} {n}" for f, n in counts.items())


def main(folder: str = "models/results/data_efficiency") -> int:
    try:
        table = merge_draws(load_table(), data_efficiency_table(ROOT / folder))
    except (FileNotFoundError, ValueError) as err:  # no draws yet, or a store misnamed
        print(f"error: {err}", file=sys.stderr)
        return 2
    table.to_csv(TABLE, index=False, float_format="%.4f")
    print(f"wrote {len(table)} rows to {TABLE}")
    print(table.groupby(["fraction", "method"])["score"].agg(["mean", "min", "max", "count"]).round(4).to_string())
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")
    png = ROOT / "docs" / "data_efficiency.png"
    figure = data_efficiency_figure(table)
    figure.update_layout(title="Unseen countries (fold 0, C1-Q1): trained on a share of the training countries"
                               f"<br><sup>{seed_counts(table)} so far; bars: min to max over seeds</sup>",
                         margin=dict(t=80))
    figure.write_image(png, width=900, height=520, scale=1)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
