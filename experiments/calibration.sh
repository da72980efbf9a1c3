#!/usr/bin/env bash
# Calibration (method 4 of #13): a temperature on the zero-shot default model's shares,
# p ∝ p_model^(1/T), chosen on validation (wvs:C1-Q2), then the test splits scored once with it.
# Zero-shot C1-Q2 scores come from the prediction cache when experiments/prior_shift.sh ran first.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/calibration.parquet}"
COMMON=(--dtype float32 --cache)
for T in 1 1.5 2 3 5; do
  log survey-sim evaluate --method calibrated --param T=$T --test wvs:C1-Q2 "${COMMON[@]}"
done
log survey-sim results --store "$SURVEY_SIM_RESULTS"
# T = 2 is best on C1-Q2 (0.683; T = 1: 0.676). The tests, once:
TESTS=(--test wvs:C1-Q3 --test pew:PEW_C1)
log survey-sim evaluate --method zero_shot "${TESTS[@]}" "${COMMON[@]}"
log survey-sim evaluate --method calibrated --param T=2 "${TESTS[@]}" "${COMMON[@]}"
log survey-sim baselines --train wvs:C1-Q1 "${TESTS[@]}" --methods uniform train_prior
for test in wvs:C1-Q3 pew:PEW_C1; do
  for other in "zero_shot (smollm2-135m)" uniform train_prior; do
    log survey-sim compare "calibrated(T=2) (smollm2-135m)" "$other" --test $test --store "$SURVEY_SIM_RESULTS"
  done
done
