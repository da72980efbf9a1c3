"""The concurrent-evaluate stress run of issue #15: P processes, each running `survey-sim evaluate`
R times (in process, through `survey_sim.cli.main`, the command's own path to the store), all
appending to one results store at once. Every evaluation is its own run (its own input file), so
the store must end with P x R runs and every row of each.

    .venv/bin/python experiments/store_stress.py [--processes 8] [--runs 20] [--store FILE]

Prints the runs and rows expected and kept; exit 1 if any is missing. The model-free `uniform`
method keeps it about the store, not the model: a few minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


WORKER = """
import sys, time
from survey_sim.cli import main
folder, worker, runs, start_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
time.sleep(max(0.0, start_at - time.time()))
for run in range(runs):
    code = main(["evaluate", "--method", "uniform", "--input", f"{folder}/w{worker}-r{run}.jsonl"])
    assert code == 0, f"worker {worker} run {run}: exit {code}"
"""


def write_inputs(folder: Path, processes: int, runs: int) -> None:
    rows = [{"question": f"Question {q}?", "options": ["Yes", "No", "Depends"], "group": group,
             "distribution": [0.5, 0.3, 0.2]} for q in range(3) for group in ("France", "Peru")]
    for worker in range(processes):
        for run in range(runs):
            (folder / f"w{worker}-r{run}.jsonl").write_text("\n".join(json.dumps(r) for r in rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--store", help="results store (default: a new one in a temporary folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="store-stress-"))
    store = Path(args.store or folder / "results.sqlite")
    write_inputs(folder, args.processes, args.runs)
    env = {**os.environ, "SURVEY_SIM_RESULTS": str(store)}
    started, start_at = time.time(), str(time.time() + 5)  # every interpreter up before the first append
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(folder), str(w), str(args.runs), start_at],
                                env=env, stdout=subprocess.DEVNULL) for w in range(args.processes)]
    codes = [w.wait() for w in workers]

    from survey_sim.results import load_results

    kept = load_results(store)
    runs = kept.drop_duplicates(["method", "model", "adapter", "dataset", "split"])
    rows_per_run = kept.groupby("dataset").size()
    expected_runs = args.processes * args.runs
    print(f"{args.processes} processes x {args.runs} evaluations in {time.time() - started:.0f} s "
          f"(exit codes {sorted(set(codes))}): {len(runs)} of {expected_runs} runs kept, "
          f"{len(kept)} rows ({rows_per_run.min() if len(rows_per_run) else 0}-"
          f"{rows_per_run.max() if len(rows_per_run) else 0} per run); store {store}")
    whole = len(runs) == expected_runs and rows_per_run.nunique() == 1 and not any(codes)
    return 0 if whole else 1


if __name__ == "__main__":
    sys.exit(main())
