"""What a data set holds and what loading it changed: for `survey-sim data report` and the app."""
from __future__ import annotations

import pandas as pd

from .countries import is_non_national
from .manifest import answered_by_countries
from .schema import Dataset
from .splits import select, split_names


def dataset_summary(dataset: Dataset) -> dict:
    frame = dataset.to_frame()
    countries = frame[frame["iso3"].notna()]
    return {
        "rows": len(frame),
        "questions": frame["question_id"].fillna(frame["question"]).nunique(),
        "groups": frame["group"].nunique(),
        "countries (ISO)": countries["iso3"].nunique(),
        "rows renormalised": sum(r.renormalised for r in dataset.reports),
        "rows dropped": sum(len(r.dropped) for r in dataset.reports),
        "mean dropped mass": float(frame["dropped_mass"].mean()) if len(frame) else 0.0,
    }


def items_table(dataset: Dataset) -> pd.DataFrame:
    """One line per row, answers written out ("Yes 60% | No 40%"), for reading a data set."""
    def answers(item) -> str:
        labels = item.options or [chr(ord("A") + i) for i in range(item.n_options)]  # no texts: letters
        return " | ".join(f"{label} {share:.0%}" for label, share in zip(labels, item.distribution))

    return pd.DataFrame({"question_id": [it.question_id for it in dataset], "question": [it.question for it in dataset],
                         "group": [it.group for it in dataset], "iso3": [it.iso3 for it in dataset],
                         "answers": [answers(it) for it in dataset]})


def unmapped_groups(dataset: Dataset) -> list[str]:
    """Country-like groups with no ISO code, non-national samples listed apart."""
    return sorted({it.group for it in dataset if it.iso3 is None and answered_by_countries(it.survey)})


def split_counts(dataset: Dataset) -> pd.DataFrame:
    """Rows, questions and countries of every non-empty split."""
    rows = []
    for split in split_names():
        part = select(dataset, split)
        if len(part) and split != "all":
            rows.append({"split": split, "rows": len(part), "questions": len(part.questions()),
                         "countries": len({it.iso3 for it in part})})
    return pd.DataFrame(rows)


def dataset_report(dataset: Dataset) -> str:
    lines = [f"== {dataset.name}"]
    lines += [f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}"
              for key, value in dataset_summary(dataset).items()]
    for report in dataset.reports:
        lines.append(f"  {report.summary()}")
        lines += [f"    dropped {reason}" for reason in report.dropped[:10]]
        if len(report.dropped) > 10:
            lines.append(f"    ... and {len(report.dropped) - 10} more dropped")
        lines += [f"    warning: {w}" for w in report.warnings]
    unmapped = unmapped_groups(dataset)
    if unmapped:
        non_national = [g for g in unmapped if is_non_national(g)]
        other = [g for g in unmapped if not is_non_national(g)]
        if non_national:
            lines.append(f"  non-national samples (kept as groups, off the map): {', '.join(non_national)}")
        if other:
            lines.append(f"  UNMAPPED country names: {', '.join(other)}")
    splits = split_counts(dataset)
    if len(splits):
        lines.append("  splits:\n" + splits.to_string(index=False).replace("\n", "\n    ").join(["    ", ""]))
    return "\n".join(lines)
