#!/usr/bin/env bash
# Order robustness (issue #13, method 3), on validation data: the letter bias of the paper's
# objective trained with the options in their survey order (smollm2-direct-fold1, from
# experiments/shift_and_dsa.sh) and with the options shuffled per question and epoch
# (--shuffle-options), each also scored with permutation-averaged inference (permuted, k=4
# cyclic shifts). Letter bias: the mean predicted share of each letter position beside the real
# one (`survey-sim results --letter-bias K`). Scored on validation fold 1's countries, C1-Q1 and
# C1-Q2. About 40 minutes on 2 CPU cores.
source "$(dirname "$0")/common.sh"
export SURVEY_SIM_RESULTS="${SURVEY_SIM_RESULTS:-models/results/shift_training.parquet}"
mkdir -p models/logs
for name in smollm2-direct-fold1 smollm2-direct-shuffled-fold1; do
  flags=(); [[ $name == *shuffled* ]] && flags=(--shuffle-options)
  [ -f "models/adapters/$name/survey_sim.json" ] ||
    log survey-sim train --name "$name" --fold 1 --epochs 2 "${flags[@]}" --status "models/logs/$name.status.json"
  for test in wvs:C1-Q1 wvs:C1-Q2; do
    log survey-sim evaluate --method adapter --adapter "$name" --train wvs:C1-Q1 --fold 1 --test "$test" \
      --cache --dtype bfloat16
  done
  log survey-sim evaluate --method permuted --adapter "$name" --fold 1 --test wvs:C1-Q2 --cache --dtype bfloat16
done
for k in 2 3 4 5; do
  log survey-sim results --letter-bias $k --store "$SURVEY_SIM_RESULTS"
done
for test in wvs:C1-Q1:fold1 wvs:C1-Q2:fold1; do
  log survey-sim compare adapter:smollm2-direct-shuffled-fold1 adapter:smollm2-direct-fold1 --test $test \
    --store "$SURVEY_SIM_RESULTS"
done
