#!/usr/bin/env bash
# The adapter shipped with the project (adapters/smollm2-135m-shift, the app's default simulator):
# the recipe chosen on validation folds 1 and 2 and tested on all five folds
# (experiments/unseen_countries.sh), trained on every C1-Q1 country: the shift objective at
# lr 1e-3, two epochs, the better epoch on 400 C1-Q2 rows kept. About 25 minutes on 2 CPU cores, and 15 for
# the evaluations.
# Then copied into adapters/ (its card, adapters/smollm2-135m-shift/README.md, is written by hand
# from its survey_sim.json and the five-fold results).
source "$(dirname "$0")/common.sh"
name=smollm2-135m-shift
mkdir -p models/logs
[ -f "models/adapters/$name/survey_sim.json" ] ||
  log survey-sim train --name "$name" --epochs 2 --objective shift --learning-rate 1e-3 \
    --status "models/logs/$name.status.json"
mkdir -p adapters/$name
cp models/adapters/$name/{adapter_config.json,adapter_model.safetensors,survey_sim.json} adapters/$name/
# Its numbers for the card. Unseen questions (C1-Q2 validation, C1-Q3 test) and Pew C1' as a new
# survey: no country's answer to them is known, so the prior is the training prior for the
# option count (--train adapter: its own training rows). Then Pew C1' with the other Pew
# countries' answers as the prior (--train pew:PEW_C1; a row's own country is always left out),
# against their mean (loo_mean), in a store of its own (the store keys runs without --train).
export SURVEY_SIM_RESULTS=models/results/shipped.parquet
for test in wvs:C1-Q2 wvs:C1-Q3 pew:PEW_C1; do
  log survey-sim evaluate --method shift --adapter $name --train adapter --test $test --cache --dtype bfloat16
  for baseline in uniform train_prior; do
    log survey-sim evaluate --method $baseline --train wvs:C1-Q1 --test $test
  done
done
export SURVEY_SIM_RESULTS=models/results/shipped_pew_prior.parquet
log survey-sim evaluate --method shift --adapter $name --train pew:PEW_C1 --test pew:PEW_C1 --cache --dtype bfloat16
log survey-sim evaluate --method loo_mean --test pew:PEW_C1
for test in wvs:C1-Q2 wvs:C1-Q3 pew:PEW_C1; do
  for baseline in uniform train_prior; do
    log survey-sim compare shift:$name $baseline --test $test --store models/results/shipped.parquet
  done
done
log survey-sim compare shift:$name loo_mean --test pew:PEW_C1 --store "$SURVEY_SIM_RESULTS"
