#!/usr/bin/env bash
# Which embedded base model, and which calibration of it, simulates unseen questions best
# (methods 4 and 5 of #13). Validation only: wvs:C1-Q2 (questions no training row asks). The
# affine map is fitted on 2,000 rows of the training questions (wvs:C1-Q1), which neither
# zero-shot model was trained on. bfloat16 (the final norm and letter rows in float32).
# experiments/base_models_test.sh scores the test splits once with what this chooses.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/base_models.parquet}"
COMMON=(--test wvs:C1-Q2 --dtype bfloat16 --cache)
log survey-sim baselines --train wvs:C1-Q1 --test wvs:C1-Q2 --methods uniform train_prior
for model in ${MODELS:-gemma3-270m smollm2-135m}; do
  log survey-sim evaluate --method zero_shot --model "$model" "${COMMON[@]}"
  for T in 1.5 2 3; do
    log survey-sim evaluate --method calibrated --param T=$T --model "$model" "${COMMON[@]}"
  done
  log survey-sim evaluate --method affine --train wvs:C1-Q1 --model "$model" "${COMMON[@]}"
done
log survey-sim results --store "$SURVEY_SIM_RESULTS"
