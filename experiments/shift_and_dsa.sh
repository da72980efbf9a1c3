#!/usr/bin/env bash
# Methods 1 and 2 of issue #13, trained, against the paper's objective, on validation data only.
#   smollm2-shift-fold1   --objective shift: the LoRA fits softmax(log prior + (log p(country) - log p(someone)))
#   smollm2-direct-fold1  --objective direct: the paper's KL on the letters
#   smollm2-dsa-fold1     --stage2 dsa over smollm2-direct-fold1: LoRA on the top block, shift term + KL
#   smollm2-shift-lr1e-3-fold1  the shift objective at a 10x learning rate
# All on C1-Q1 without the 10 countries of validation fold 1, two epochs, the better epoch on 400
# C1-Q2 rows kept. Scored on fold 1's held-out countries (unseen countries: C1-Q1) and on their
# C1-Q2 rows (unseen countries and questions). Resumable: a finished adapter is not retrained;
# reruns of an evaluation replace its rows, and with --cache cost no model time.
# About 80 minutes on 2 CPU cores.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/shift_training.parquet}"
mkdir -p models/logs
train_once() {  # NAME FLAGS...: train unless the adapter is there
  local name=$1; shift
  [ -f "models/adapters/$name/survey_sim.json" ] ||
    log survey-sim train --name "$name" --fold 1 --epochs 2 --status "models/logs/$name.status.json" "$@"
}
evaluate_on_fold1() {  # METHOD ADAPTER: on fold 1's countries, C1-Q1 and C1-Q2, bf16 weights
  for test in wvs:C1-Q1 wvs:C1-Q2; do
    log survey-sim evaluate --method "$1" ${2:+--adapter "$2"} --train wvs:C1-Q1 --fold 1 --test "$test" \
      --cache --dtype bfloat16
  done
}
train_once smollm2-shift-fold1 --objective shift
train_once smollm2-direct-fold1 --objective direct
train_once smollm2-dsa-fold1 --stage2 dsa --init-adapter smollm2-direct-fold1
evaluate_on_fold1 shift smollm2-shift-fold1
evaluate_on_fold1 adapter smollm2-direct-fold1
evaluate_on_fold1 adapter smollm2-dsa-fold1
for baseline in avg_culture population_prior train_prior uniform; do
  for test in wvs:C1-Q1 wvs:C1-Q2; do
    log survey-sim evaluate --method $baseline --train wvs:C1-Q1 --fold 1 --test "$test"
  done
done
# Ablations: the shift method over the paper's adapter and over the base model (zero-shot).
evaluate_on_fold1 shift smollm2-direct-fold1
evaluate_on_fold1 shift
# The one hyper-parameter tried for the shift objective: a 10x learning rate.
train_once smollm2-shift-lr1e-3-fold1 --objective shift --learning-rate 1e-3
evaluate_on_fold1 shift smollm2-shift-lr1e-3-fold1
log survey-sim results --store "$SURVEY_SIM_RESULTS"
for test in wvs:C1-Q1:fold1 wvs:C1-Q2:fold1; do
  for a in shift:smollm2-shift-fold1 shift:smollm2-shift-lr1e-3-fold1 adapter:smollm2-dsa-fold1 \
           adapter:smollm2-direct-fold1; do
    log survey-sim compare "$a" population_prior --test $test --store "$SURVEY_SIM_RESULTS"
  done
  log survey-sim compare adapter:smollm2-dsa-fold1 adapter:smollm2-direct-fold1 --test $test --store "$SURVEY_SIM_RESULTS"
done
# A second validation fold for the setting chosen on fold 1 (the shift objective at lr 1e-3);
# fold 0 stays the test, scored once when the choices are done.
[ -f models/adapters/smollm2-shift-lr1e-3-fold2/survey_sim.json ] ||
  log survey-sim train --name smollm2-shift-lr1e-3-fold2 --fold 2 --epochs 2 --objective shift --learning-rate 1e-3 \
    --status models/logs/smollm2-shift-lr1e-3-fold2.status.json
log survey-sim evaluate --method shift --adapter smollm2-shift-lr1e-3-fold2 --train adapter --fold 2 --test wvs:C1-Q1 \
  --cache --dtype bfloat16
log survey-sim evaluate --method population_prior --train wvs:C1-Q1 --fold 2 --test wvs:C1-Q1
for metric in 1-jsd_paper emd majority_acc; do
  log survey-sim compare shift:smollm2-shift-lr1e-3-fold2 population_prior --test wvs:C1-Q1:fold2 --metric $metric \
    --store "$SURVEY_SIM_RESULTS"
done
