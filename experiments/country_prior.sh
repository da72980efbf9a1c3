#!/usr/bin/env bash
# The country prior for unseen questions (issue #13; `country_prior` in
# survey_sim/baselines/model_free.py), chosen on validation across question blocks
# (experiments/unseen_question_blocks.py: +0.006 [+0.004, +0.008] over the training prior on four
# held-out blocks of C1-Q1, +0.004 [+0.001, +0.007] on C1-Q2), scored once on the paper's test
# splits of unseen questions into the paper-table store. Under a minute; no model.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/paper_table.parquet}"
log survey-sim baselines --train wvs:C1-Q1 --test wvs:C1-Q3 --test pew:PEW_C1 --methods country_prior
for test in wvs:C1-Q3 pew:PEW_C1; do
  for baseline in train_prior uniform; do log survey-sim compare country_prior "$baseline" --test "$test"; done
done
