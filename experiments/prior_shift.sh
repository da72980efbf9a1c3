#!/usr/bin/env bash
# prior_shift (survey_sim/methods.py) with the zero-shot default model: does the model's
# centred departure of a country from the others add anything to the population prior?
# s is chosen on validation only (unseen questions: wvs:C1-Q2; unseen countries: fold 1 of C1),
# then fold 0 (the README's unseen-country test) is scored once with that s. Zero-shot scores
# are computed once (--cache); each other s reuses them. About 10 minutes on 2 CPU cores.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/prior_shift.parquet}"
COMMON=(--dtype float32 --cache)
# Unseen questions: the prior is what the training questions say for this many options (train_prior).
for s in 0 0.5 1 2; do
  log survey-sim evaluate --method prior_shift --param s=$s --train wvs:C1-Q1 --test wvs:C1-Q2 "${COMMON[@]}"
done
# Unseen countries, validation fold 1: the prior is the mean of the other 36 countries (avg_culture).
for s in 0 0.5 1 2; do
  log survey-sim evaluate --method prior_shift --param s=$s --train wvs:C1-Q1 --fold 1 --test wvs:C1-Q1 "${COMMON[@]}"
done
log survey-sim evaluate --method avg_culture --train wvs:C1-Q1 --fold 1 --test wvs:C1-Q1
log survey-sim evaluate --method zero_shot --test wvs:C1-Q2 "${COMMON[@]}"
log survey-sim evaluate --method zero_shot --test wvs:C1-Q1 --fold 1 "${COMMON[@]}"
# The test, once, with the s chosen on fold 1 (0.5: +0.001 [+0.000, +0.001] over avg_culture there).
log survey-sim evaluate --method prior_shift --param s=0.5 --train wvs:C1-Q1 --fold 0 --test wvs:C1-Q1 "${COMMON[@]}"
log survey-sim evaluate --method avg_culture --train wvs:C1-Q1 --fold 0 --test wvs:C1-Q1
log survey-sim compare "prior_shift(s=0.5) (smollm2-135m)" avg_culture --test wvs:C1-Q1:fold1 --test wvs:C1-Q1:fold0 \
  --store "$SURVEY_SIM_RESULTS"
# Order-robust scoring (method 3 of #13): k cyclic shifts of the options, mapped back and averaged;
# the letter bias before and after: mean share of each letter position on 4-option questions.
log survey-sim evaluate --method permuted --param k=4 --test wvs:C1-Q2 "${COMMON[@]}"
log survey-sim compare "permuted(k=4) (smollm2-135m)" "zero_shot (smollm2-135m)" --test wvs:C1-Q2 --store "$SURVEY_SIM_RESULTS"
log survey-sim results --store "$SURVEY_SIM_RESULTS" --letter-bias 4
