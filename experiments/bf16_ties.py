"""bfloat16 against float32 on Ask the world's kind of question (issue #14).

The question that showed the artefact: "Should schools teach children to question authority?"
(Yes / No / Depends), put to all 104 countries the surveys hold, with the default model in both
precisions. For several tie margins: how many countries each precision draws as a tie, and in
how many bfloat16's most likely answer contradicts float32's (both a definite answer, not the
same one). The app draws float32 with a 0.5-point margin and bfloat16 with a 3-point one
(`survey_sim.geo.TIE_MARGINS`).

    .venv/bin/python experiments/bf16_ties.py      # about a minute on 2 CPU cores
"""
import numpy as np

from survey_sim.ask import country_items, known_countries
from survey_sim.data import load_dataset
from survey_sim.geo import TIE, TIE_MARGINS, top_answer
from survey_sim.simulator import Simulator

QUESTION, OPTIONS = "Should schools teach children to question authority?", ["Yes", "No", "Depends"]


def contradictions(reference: list[int], other: list[int]) -> int:
    return sum(a != TIE and b != TIE and a != b for a, b in zip(reference, other, strict=True))


def main() -> None:
    items = country_items(QUESTION, OPTIONS, known_countries(load_dataset("wvs"), [load_dataset("pew")]))
    fp32, bf16 = (Simulator.load("smollm2-135m", dtype=dtype, cache=True).predict(items)
                  for dtype in ("float32", "bfloat16"))
    print(f"{len(items)} countries; max abs difference of a share: "
          f"{max(np.abs(a - b).max() for a, b in zip(fp32, bf16)):.4f}")
    print("margin  ties fp32  ties bf16  bf16 contradicts fp32")
    for margin in (0.0, TIE_MARGINS["float32"], 0.02, TIE_MARGINS["bfloat16"], 0.05):
        ours, theirs = [top_answer(p, margin) for p in fp32], [top_answer(p, margin) for p in bf16]
        print(f"{margin:6.3f}  {ours.count(TIE):9d}  {theirs.count(TIE):9d}  {contradictions(ours, theirs):9d}")
    app_fp32 = [top_answer(p, TIE_MARGINS["float32"]) for p in fp32]
    app_bf16 = [top_answer(p, TIE_MARGINS["bfloat16"]) for p in bf16]
    print(f"as the app draws them (float32 at {TIE_MARGINS['float32']}, bfloat16 at {TIE_MARGINS['bfloat16']}): "
          f"bfloat16 contradicts float32 in {contradictions(app_fp32, app_bf16)} of {len(items)} countries")


if __name__ == "__main__":
    main()
