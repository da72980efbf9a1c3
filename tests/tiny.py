"""Tiny random models and tokenizers built in the tests: fast, offline, deterministic."""
import numpy as np

from survey_sim.data.schema import SurveyItem
from survey_sim.testing import make_llama, make_tokenizer, save_tiny_model  # noqa: F401  (used by the tests)


def make_item(group="Peru", k=4, question="Is it good?", survey="wvs", distribution=None) -> SurveyItem:
    return SurveyItem(survey=survey, question_id=f"q{k}", question=question,
                      options=tuple(f"option {i}" for i in range(k)), lang="en", group=group, iso3=None,
                      distribution=np.full(k, 1 / k) if distribution is None else np.asarray(distribution, float))
