"""Which countries and questions a simulator saw in training: a score on training rows proves
nothing about the rows it never saw, so every page marks them (issue #14).

What an adapter saw is read from its own `survey_sim.json`: the training config it records is
replayed (`TrainConfig.items`), so held-out folds and a `--group-fraction` draw are honoured
exactly. The base model alone (zero-shot) saw no survey rows.
"""
from __future__ import annotations

from dataclasses import dataclass

SEEN, UNSEEN = "seen in training", "unseen"


@dataclass(frozen=True)
class Seen:
    """The groups (`SurveyItem.group_key`) and questions (`SurveyItem.key`) of a training set."""

    groups: frozenset
    questions: frozenset

    def group(self, item) -> bool:
        return item.group_key in self.groups

    def question(self, item) -> bool:
        return item.key in self.questions

    def row(self, item) -> bool:
        """Whether this very (question, group) answer could have been a training row."""
        return self.group(item) and self.question(item)

    def describe(self, item) -> str:
        """"country seen, question unseen": one item's mark, for a table or a hover."""
        return (f"{'country' if item.iso3 else 'group'} {'seen' if self.group(item) else 'unseen'}, "
                f"question {'seen' if self.question(item) else 'unseen'}")


NOTHING = Seen(frozenset(), frozenset())  # zero-shot: the base model was never fitted to survey rows


def seen_in_training(adapter: str | None, data_root=None) -> Seen | None:
    """What `adapter` was trained on; NOTHING for no adapter; None when the adapter does not
    record its training data (trained on items given in code, or before configs were saved)."""
    if not adapter:
        return NOTHING
    from .evaluation import adapter_training_items

    try:
        items = adapter_training_items(adapter, data_root)
    except ValueError:
        return None
    return Seen(frozenset(it.group_key for it in items), frozenset(it.key for it in items))


def mark_rows(rows, seen: Seen, survey: str):
    """Tidy result rows (one data set, `survey` its survey) with two boolean columns: whether the
    row's group and its question were in the training set."""
    groups = rows["iso3"].where(rows["iso3"].notna() & (rows["iso3"] != ""), rows["group"])
    return rows.assign(seen_group=groups.isin(seen.groups),
                       seen_question=[(survey, q) in seen.questions for q in rows["question_id"]])


FILTERS = {  # the split-averaged map's choices: which rows to average
    "all rows": lambda rows: rows,
    "unseen countries": lambda rows: rows[~rows["seen_group"]],
    "unseen questions": lambda rows: rows[~rows["seen_question"]],
    "unseen countries and questions": lambda rows: rows[~rows["seen_group"] & ~rows["seen_question"]],
}
