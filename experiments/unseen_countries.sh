#!/usr/bin/env bash
# Unseen countries, all five leave-10-countries-out folds (Cao et al.'s protocol), for the method
# chosen on validation folds 1 and 2 (experiments/shift_and_dsa.sh): the shift objective at
# lr 1e-3, two epochs, the better epoch on 400 C1-Q2 rows kept. Each fold's adapter is trained on
# C1-Q1 without the fold's 10 countries and scored on their C1-Q1 rows, beside the mean of the
# training countries (avg_culture, and population_prior, its version with fallbacks for
# questions no training country answered). Folds 1 and 2 chose the learning rate; folds 0, 3
# and 4 were never used for a choice. The pooled comparison resamples questions across all
# folds. Resumable: finished adapters are kept; evaluations are served from the prediction cache.
# About 35 minutes per fold on 2 CPU cores. MODEL=gemma3-270m PREFIX=gemma3 runs the same recipe on
# another base model (experiments/gemma_fold1.sh is the one-epoch run that chose the default model).
source "$(dirname "$0")/common.sh"
MODEL=${MODEL:-smollm2-135m}
PREFIX=${PREFIX:-smollm2}
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/unseen_countries.parquet}"
mkdir -p models/logs
FOLDS=${FOLDS:-0 1 2 3 4}
for fold in $FOLDS; do
  name=$PREFIX-shift-lr1e-3-fold$fold
  [ -f "models/adapters/$name/survey_sim.json" ] ||
    log survey-sim train --name "$name" --model "$MODEL" --fold "$fold" --epochs 2 --objective shift --learning-rate 1e-3 \
      --status "models/logs/$name.status.json"
  log survey-sim evaluate --method shift --adapter "$name" --train adapter --fold "$fold" --test wvs:C1-Q1 \
    --cache --dtype bfloat16
  for baseline in avg_culture population_prior uniform; do
    log survey-sim evaluate --method $baseline --train wvs:C1-Q1 --fold "$fold" --test wvs:C1-Q1
  done
done
# Each fold, then all five pooled (questions resampled across folds), then the three folds that
# chose nothing pooled.
tests=(); for fold in $FOLDS; do tests+=(--test "wvs:C1-Q1:fold$fold"); done
log survey-sim compare "shift:$PREFIX-shift-lr1e-3-fold{fold}" avg_culture "${tests[@]}" --store "$SURVEY_SIM_RESULTS"
for metric in 1-jsd_paper 1-jsd emd majority_acc; do
  log survey-sim compare "shift:$PREFIX-shift-lr1e-3-fold{fold}" avg_culture "${tests[@]}" --pool --metric $metric \
    --store "$SURVEY_SIM_RESULTS"
done
log survey-sim compare "shift:$PREFIX-shift-lr1e-3-fold{fold}" avg_culture --pool --store "$SURVEY_SIM_RESULTS" \
  --test wvs:C1-Q1:fold0 --test wvs:C1-Q1:fold3 --test wvs:C1-Q1:fold4
log survey-sim compare "shift:$PREFIX-shift-lr1e-3-fold{fold}" uniform "${tests[@]}" --pool --store "$SURVEY_SIM_RESULTS"
