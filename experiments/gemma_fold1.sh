#!/usr/bin/env bash
# The default-model choice on unseen countries (issue #13, method 5): Gemma 3 270M trained with
# the shift objective's recipe (lr 1e-3) on validation fold 1, one epoch (the epoch SmolLM2's
# two-epoch run on this fold kept), against SmolLM2's adapter and Avg_Culture on the fold's
# held-out countries. About 10 minutes of training on 2 CPU cores, then 5 of scoring.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/unseen_countries.parquet}"
mkdir -p models/logs
name=gemma3-shift-lr1e-3-1ep-fold1
[ -f "models/adapters/$name/survey_sim.json" ] ||
  log survey-sim train --name $name --model gemma3-270m --fold 1 --epochs 1 --objective shift --learning-rate 1e-3 \
    --status "models/logs/$name.status.json"
log survey-sim evaluate --method shift --adapter $name --train adapter --fold 1 --test wvs:C1-Q1 --cache --dtype bfloat16
log survey-sim compare "shift:$name" "shift:smollm2-shift-lr1e-3-fold1" --test wvs:C1-Q1:fold1 --store "$SURVEY_SIM_RESULTS"
log survey-sim compare "shift:$name" avg_culture --test wvs:C1-Q1:fold1 --store "$SURVEY_SIM_RESULTS"
