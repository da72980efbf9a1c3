#!/usr/bin/env bash
# The numbers in the README's "Results" table, in order. Each step appends to the results store
# (models/results/results.parquet) and logs to models/runs/*.log. About 1.5 hours on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
log() { echo "+ $*" >&2; "$@"; }

# 1. The paper's recipe on the rebuilt C1-Q1, best of 3 epochs on 400 C1-Q2 items.
log survey-sim train --name smollm2-wvs-c1q1 --epochs 3 --max-valid-items 400 \
  --status models/runs/smollm2-wvs-c1q1.status.json
# 2. Unseen questions (C1-Q2) and an unseen survey (Pew C1'): zero-shot vs the adapter.
log survey-sim evaluate --method zero_shot --test wvs:C1-Q2 --test pew:PEW_C1
log survey-sim evaluate --method adapter --adapter smollm2-wvs-c1q1 --test wvs:C1-Q2 --test pew:PEW_C1
# 3. Unseen countries: leave-countries-out fold 0 (10 C1 countries out of training).
log survey-sim train --name smollm2-wvs-c1q1-fold0 --fold 0 --epochs 3 --max-valid-items 400 \
  --status models/runs/smollm2-wvs-c1q1-fold0.status.json
log survey-sim evaluate --method zero_shot --test wvs:C1-Q1 --fold 0
log survey-sim evaluate --method adapter --adapter smollm2-wvs-c1q1-fold0 --test wvs:C1-Q1 --fold 0
# 4. Baselines on the same rows (for the fold: trained on the other 36 countries).
log survey-sim baselines --train wvs:C1-Q1 --test wvs:C1-Q2 --test pew:PEW_C1
for method in avg_culture loo_mean train_prior uniform; do
  log survey-sim evaluate --method "$method" --test wvs:C1-Q1 --fold 0
done
