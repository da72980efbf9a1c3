#!/usr/bin/env bash
# The test splits, scored once with what experiments/base_models.sh chose on validation
# (wvs:C1-Q2): Gemma 3 270M zero-shot with a temperature of 1.5 (0.710 on C1-Q2; uniform 0.664,
# the training prior 0.660; the affine map fitted on C1-Q1 0.665, SmolLM2's best 0.683).
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/base_models.parquet}"
TESTS=(--test wvs:C1-Q3 --test pew:PEW_C1)
CHOSEN="calibrated(T=1.5) (gemma3-270m)"
log survey-sim evaluate --method calibrated --param T=1.5 --model gemma3-270m "${TESTS[@]}" --dtype bfloat16 --cache
log survey-sim baselines --train wvs:C1-Q1 "${TESTS[@]}" --methods uniform train_prior
for test in wvs:C1-Q3 pew:PEW_C1; do
  for other in uniform train_prior; do
    log survey-sim compare "$CHOSEN" "$other" --test $test --store "$SURVEY_SIM_RESULTS"
  done
done
# The same method on the training questions (which no zero-shot model was trained on): 160
# questions against C1-Q2's 35, a check on how far the validation choice generalises.
log survey-sim evaluate --method calibrated --param T=1.5 --model gemma3-270m --test wvs:C1-Q1 --max-items 2000 \
  --dtype bfloat16 --cache
log survey-sim evaluate --method uniform --test wvs:C1-Q1 --max-items 2000
log survey-sim compare "$CHOSEN" uniform --test wvs:C1-Q1:sample2000 --store "$SURVEY_SIM_RESULTS"
