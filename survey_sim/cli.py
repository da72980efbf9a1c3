"""`survey-sim`: the command line. Each subcommand parses flags and calls one function.

Exit codes: 0 success, 2 bad arguments (unknown data set, split or method), 3 data problem
(data root missing, invalid file), 1 anything else.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE, EXIT_DATA = 2, 3

EPILOG_BASELINES = """examples:
  survey-sim baselines --test wvs_valid:C1-Q2
  survey-sim baselines --train wvs:C1-Q1 --test wvs_valid:all --test pew:all --methods uniform loo_mean train_prior
  survey-sim baselines --test pew:PEW_C1 --output results.csv
"""


def parse_target(text: str) -> tuple[str, str]:
    """"wvs:C1-Q2" -> ("wvs", "C1-Q2"); a bare name means the whole data set."""
    name, _, split = text.partition(":")
    return name, split or "all"


def load_split(target: str, root, allow_scrambled: bool = False):
    from .data import load_dataset, select

    name, split = parse_target(target)
    return select(load_dataset(name, root=root, allow_scrambled=allow_scrambled), split)


def cmd_data_list(args) -> int:
    from .data import dataset_specs

    for name, spec in dataset_specs(include_disabled=True).items():
        flag = "" if spec.enabled else "  [off by default]"
        print(f"{name:22} {spec.title}{flag}\n{'':22} {spec.path}  ({spec.licence})")
    return 0


def cmd_data_report(args) -> int:
    from .data import dataset_specs, load_dataset
    from .data.report import dataset_report

    names = args.datasets or list(dataset_specs())
    for name in names:
        dataset = load_dataset(name, root=args.data_root, allow_scrambled=args.allow_scrambled)
        print(dataset_report(dataset))
        print()
    return 0


def cmd_baselines(args) -> int:
    from .evaluation import evaluate_baselines, summary_table
    from .results import DEFAULT_RESULTS, append_results

    train = load_split(args.train, args.data_root)
    frames = []
    for target in args.test:
        test = load_split(target, args.data_root)
        name, split = parse_target(target)
        frames.append(evaluate_baselines(args.methods, train, test, dataset=name, split=split))
    import pandas as pd

    results = pd.concat(frames, ignore_index=True).assign(train=args.train)
    table = summary_table(results)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if args.output:
        output = Path(args.output)
        results.to_csv(output, index=False) if output.suffix == ".csv" else results.to_parquet(output, index=False)
        print(f"\nwrote {len(results)} rows to {output}")
    else:
        print(f"\nappended {len(results)} rows to {append_results(results, DEFAULT_RESULTS)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .baselines import BASELINES

    parser = argparse.ArgumentParser(prog="survey-sim", description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="folder with the survey files (default: $SURVEY_SIM_DATA, "
                                            "then ../shared/surveys, then ~/.cache/survey-sim/surveys)")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="list and check the data sets").add_subparsers(dest="data_command", required=True)
    data.add_parser("list", help="the data sets in data/datasets.toml").set_defaults(run=cmd_data_list)
    report = data.add_parser("report", help="rows, questions, groups, what was fixed or dropped, unmapped countries")
    report.add_argument("datasets", nargs="*", help="data set names (default: all enabled)")
    report.add_argument("--allow-scrambled", action="store_true", help="also load data sets flagged as scrambled")
    report.set_defaults(run=cmd_data_report)

    base = commands.add_parser("baselines", help="evaluate the model-free baselines on splits",
                               epilog=EPILOG_BASELINES, formatter_class=argparse.RawDescriptionHelpFormatter)
    base.add_argument("--train", default="wvs:C1-Q1",
                      help="data set and split the baselines learn from, as NAME:SPLIT (default: wvs:C1-Q1)")
    base.add_argument("--test", action="append", required=True,
                      help="data set and split to evaluate on, as NAME:SPLIT (e.g. wvs_valid:C1-Q2); repeatable")
    base.add_argument("--methods", nargs="+", default=sorted(BASELINES), choices=sorted(BASELINES),
                      help="baselines to run (default: all)")
    base.add_argument("--output", help="write the tidy results here (.csv or .parquet) instead of the results store")
    base.set_defaults(run=cmd_baselines)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .data import DataError, DataRootNotFound

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataRootNotFound, DataError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_DATA
    except (KeyError, ValueError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
