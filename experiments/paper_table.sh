#!/usr/bin/env bash
# Our table beside Cao et al.'s (issue #13): the shipped adapter (adapters/smollm2-135m-shift,
# trained on C1-Q1) and the zero-shot default model on each of the paper's test splits, with
# the model-free baselines learnt from C1-Q1 (KNN: the same country's answer to the most similar
# training question, so only for countries in C1). `survey-sim report` then puts the shipped adapter
# beside the strongest baseline (paired interval over questions) and the paper's 8B model,
# into docs/paper_table.md and results/paper_table.csv (the app's Leaderboard shows the latter).
# About 10 minutes on 2 CPU cores (less where experiments/ship_adapter.sh filled the cache).
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/paper_table.parquet}"
TESTS=(--test wvs:C1-Q3 --test wvs:C2-Q1 --test wvs:C2-Q3 --test wvs:C3-Q1 --test wvs:C3-Q3 --test pew:PEW_C1)
log survey-sim baselines --train wvs:C1-Q1 "${TESTS[@]}" --methods uniform train_prior avg_culture knn country_prior
log survey-sim evaluate --method shift --adapter smollm2-135m-shift --train adapter "${TESTS[@]}" --cache --dtype bfloat16
log survey-sim evaluate --method zero_shot "${TESTS[@]}" --cache --dtype bfloat16
log survey-sim results --store "$SURVEY_SIM_RESULTS"
mkdir -p results docs
log survey-sim report --method shift:smollm2-135m-shift --also "zero_shot (smollm2-135m)" --also knn \
  --store "$SURVEY_SIM_RESULTS" --output docs/paper_table.md --csv results/paper_table.csv
