#!/usr/bin/env bash
# The text prior for unseen questions (issue #13; survey_sim/baselines/text_prior.py), chosen on
# validation, then scored once on the paper's test splits.
#   VALIDATE (default): C1-Q2 (unseen questions, seen countries) against uniform and the training
#     prior; the shipped adapter's shift over the learned prior there; and, on C1-Q2 rows of the
#     countries held out by folds 1 and 2 (unseen countries and questions), the fold adapters'
#     shift over the learned prior against the text prior alone. The hyper-parameters (rank 8,
#     hidden 64, 10 epochs, 3 seeds) were chosen before on C1-Q2 and four random question folds
#     of C1-Q1, in a prototype not kept: random folds leave sibling items of a battery on both
#     sides. experiments/unseen_question_blocks.py holds out whole blocks instead, and there the
#     text prior does not beat the training prior; the tests below agree (README).
#   TEST=1: the paper's test splits, into the paper-table store, and the report with
#     shift(text_prior=1) over the shipped adapter as ours and the text prior as a column.
# About 15 minutes each on 2 CPU cores with the prediction cache of experiments/paper_table.sh.
source "$(dirname "$0")/common.sh"
SCORE=(--cache --dtype bfloat16)
if [ -z "${TEST:-}" ]; then
  log survey-sim baselines --train wvs:C1-Q1 --test wvs:C1-Q2 --methods uniform train_prior text_prior
  log survey-sim evaluate --method shift --param text_prior=1 --adapter smollm2-135m-shift --train wvs:C1-Q1 \
    --test wvs:C1-Q2 "${SCORE[@]}"
  for fold in 1 2; do
    log survey-sim evaluate --method text_prior --train wvs:C1-Q1 --test wvs:C1-Q2 --fold "$fold"
    log survey-sim evaluate --method shift --param text_prior=1 --adapter "smollm2-shift-lr1e-3-fold$fold" \
      --train wvs:C1-Q1 --test wvs:C1-Q2 --fold "$fold" "${SCORE[@]}"
  done
  for baseline in uniform train_prior; do log survey-sim compare text_prior "$baseline" --test wvs:C1-Q2; done
  log survey-sim compare "shift(text_prior=1):smollm2-shift-lr1e-3-fold{fold}" text_prior --pool \
    --test wvs:C1-Q2:fold1 --test wvs:C1-Q2:fold2
  exit
fi
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/paper_table.parquet}"
TESTS=(--test wvs:C1-Q3 --test wvs:C2-Q1 --test wvs:C2-Q3 --test wvs:C3-Q1 --test wvs:C3-Q3 --test pew:PEW_C1)
OURS="shift(text_prior=1):smollm2-135m-shift"
log survey-sim baselines --train wvs:C1-Q1 "${TESTS[@]}" --methods text_prior
log survey-sim evaluate --method shift --param text_prior=1 --adapter smollm2-135m-shift --train adapter \
  "${TESTS[@]}" "${SCORE[@]}"
for test in wvs:C1-Q3 pew:PEW_C1; do
  for baseline in uniform train_prior; do log survey-sim compare text_prior "$baseline" --test "$test"; done
done
mkdir -p results docs
log survey-sim report --method "$OURS" --also "shift:smollm2-135m-shift" --also text_prior \
  --also "zero_shot (smollm2-135m)" --also knn --store "$SURVEY_SIM_RESULTS" --output docs/paper_table.md \
  --csv results/paper_table.csv
