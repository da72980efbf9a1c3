"""The performance benchmark: `python -m benchmarks.bench [--quick] [--only NAME ...] [--output PATH]`.

Loads the survey data once, runs each section in its own spawned process (so wall time and peak
memory are per section), writes one JSON document and prints markdown tables. See README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import random
import sys
import tempfile
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report, sections  # noqa: E402
from survey_sim.paths import DEFAULT_MODEL  # noqa: E402
from survey_sim.testing import save_tiny_model  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Sizes of a full run and of --quick (a smoke test on a tiny random model, under a minute).
FULL = {"matmul_size": 2048, "matmul_reps": 5, "matmul_warmup": 2, "scoring_rows": 128, "bf16_rows": 128,
        "sweep_rows": None, "max_countries": None, "train_steps": 52, "paper_train_steps": 20, "train_batch": 16, "train_warmup": 2,
        "batch_sizes": [16, 32, 64], "gpu_rows": 1024, "gpu_train_steps": 20}
QUICK = {"matmul_size": 256, "matmul_reps": 3, "matmul_warmup": 1, "scoring_rows": 8, "bf16_rows": 8,
         "sweep_rows": 32, "max_countries": 16, "train_steps": 4, "paper_train_steps": 4, "train_batch": 4, "train_warmup": 1,
         "batch_sizes": [16, 32], "gpu_rows": 32, "gpu_train_steps": 3}


AUTHORITY_QUESTION = "Should schools teach children to question authority?"


class SurveyData:
    """The real wvs rows the sections use, loaded on first use (matmul_peak needs none)."""

    def __init__(self, root: str | None):
        self.root = root

    @cached_property
    def wvs(self):
        from survey_sim.data import load_dataset

        return load_dataset("wvs", root=self.root)

    def split(self, name: str) -> list:
        from survey_sim.data import select

        return list(select(self.wvs, name))

    @cached_property
    def c1q2(self) -> list:
        return self.split("C1-Q2")

    def c1q2_sample(self, n: int) -> list:
        # A seeded sample, in file order: mixes questions and countries like a real evaluation.
        chosen = sorted(random.Random(0).sample(range(len(self.c1q2)), min(n, len(self.c1q2))))
        return [self.c1q2[i] for i in chosen]

    def countries(self) -> dict[str, str]:
        """Every distinct country group of wvs with an ISO code: group name -> iso3."""
        found = {}
        for item in self.wvs:
            if item.iso3 and item.group not in found:
                found[item.group] = item.iso3
        return dict(sorted(found.items()))

    def one_question_everywhere(self) -> list:
        """The first C1-Q2 question asked of every country (uniform shares: only prediction is timed)."""
        import numpy as np

        from survey_sim.data.schema import SurveyItem

        q = self.c1q2[0]
        uniform = np.full(q.n_options, 1 / q.n_options)
        return [SurveyItem(survey=q.survey, question_id=q.question_id, question=q.question, options=q.options,
                           lang=q.lang, group=group, iso3=iso3, distribution=uniform)
                for group, iso3 in self.countries().items()]


    def app_example_everywhere(self) -> list:
        """The Ask-the-world page's example question (shorter: 4 options) for the same countries."""
        from survey_sim.ask import EXAMPLE_OPTIONS, EXAMPLE_QUESTION, country_items, parse_options

        countries = {iso3: group for group, iso3 in self.countries().items()}
        return country_items(EXAMPLE_QUESTION, parse_options(EXAMPLE_OPTIONS), countries)

    def authority_everywhere(self) -> list:
        """The question whose bf16 answers were mostly three-way ties (issue #14): Yes / No / Depends."""
        from survey_sim.ask import country_items

        countries = {iso3: group for group, iso3 in self.countries().items()}
        return country_items(AUTHORITY_QUESTION, ["Yes", "No", "Depends"], countries)


def section_arguments(name: str, model: str, sizes: dict, data: SurveyData, threads: list[int]) -> dict:
    """The keyword arguments of one section, built in the parent so the data is loaded once."""
    if name == "matmul_peak":
        return {"size": sizes["matmul_size"], "reps": sizes["matmul_reps"], "warmup": sizes["matmul_warmup"]}
    if name == "scoring":
        return {"model_name": model, "items": data.c1q2_sample(sizes["scoring_rows"]),
                "batch_sizes": sizes["batch_sizes"], "thread_counts": threads}
    if name == "scoring_bf16":
        return {"model_name": model, "items": data.c1q2_sample(sizes["bf16_rows"])}
    if name == "ask_the_world":
        countries = sizes["max_countries"]
        return {"model_name": model, "questions": {
            "long_question": data.one_question_everywhere()[:countries],
            "app_example": data.app_example_everywhere()[:countries],
            "authority": data.authority_everywhere()[:countries]}}
    if name == "c1q2_sweep":
        rows = sizes["sweep_rows"] or len(data.c1q2)
        return {"model_name": model, "items": data.c1q2[:rows], "full_rows": len(data.c1q2)}
    if name == "training":
        train_rows = data.split("C1-Q1")
        return {"model_name": model, "items": train_rows, "steps": sizes["train_steps"],
                "paper_steps": sizes["paper_train_steps"],
                "batch_size": sizes["train_batch"], "warmup_steps": sizes["train_warmup"],
                "epoch_rows": len(train_rows)}
    if name == "cold_start":
        return {"model_name": model, "data_root": data.root}
    if name == "gpu":
        return {"model_name": model, "items": data.c1q2_sample(sizes["gpu_rows"]), "train_items": data.split("C1-Q1"),
                "steps": sizes["gpu_train_steps"]}
    raise KeyError(name)


def run_section(name: str, kwargs: dict) -> dict:
    """The section's result from a fresh spawned process (its own peak RSS, no shared state)."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=sections.child_main, args=(name, kwargs, send), name=f"bench-{name}")
    process.start()
    send.close()  # so recv() sees EOF if the child dies without answering
    try:
        result = receive.recv()
    except EOFError:
        result = None
    process.join()
    if result is None:
        result = {"status": "error", "error": f"the section's process died (exit code {process.exitcode})",
                  "wall_s": None, "peak_rss_mb": None}
    return result


@contextmanager
def model_for_run(requested: str | None, quick: bool):
    """The model name to benchmark; --quick without --model gets a tiny random Llama in a temp folder."""
    if requested or not quick:
        yield requested or DEFAULT_MODEL
        return
    with tempfile.TemporaryDirectory(prefix="bench-tiny-") as folder:
        yield save_tiny_model(folder, hidden_size=64, intermediate_size=128, max_position_embeddings=2048,
                              initializer_range=0.02)


def build_document(args, machine: dict, sizes: dict, model: str, results: dict) -> dict:
    report.add_peak_percentages(results)
    report.add_naive_ratio(results)
    return {
        "schema_version": report.SCHEMA_VERSION,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "argv": sys.argv[1:],
        "machine": machine,
        "settings": {**sizes, "model": model if not (args.quick and not args.model) else "tiny random Llama (--quick)",
                     "data_root": args.data_root, "sections": args.only},
        "formulas": report.FORMULAS,
        "sections": results,
        "targets": report.evaluate_targets(results),
    }


def write_document(doc: dict, path: Path, also_latest: bool) -> None:
    text = json.dumps(doc, indent=2, default=str) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if also_latest:
        (RESULTS_DIR / "latest.json").write_text(text)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and a tiny random model: a smoke test")
    parser.add_argument("--only", nargs="+", choices=list(sections.SECTIONS), metavar="NAME",
                        help=f"run only these sections ({', '.join(sections.SECTIONS)})")
    parser.add_argument("--output", type=Path, help="JSON path (default results/<host>-<date>.json; "
                        "full runs also write results/latest.json)")
    parser.add_argument("--model", help=f"model to benchmark (default {DEFAULT_MODEL}; --quick: a tiny random one)")
    parser.add_argument("--data-root", help="survey data folder (default: the project's lookup)")
    parser.add_argument("--readme-table", type=Path, nargs="?", const=RESULTS_DIR / "latest.json", metavar="JSON",
                        help="print the README's performance table from a results file (default latest.json) "
                             "and exit; nothing is run")
    args = parser.parse_args(argv)
    args.only = args.only or list(sections.SECTIONS)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.readme_table:
        doc = json.loads(args.readme_table.read_text())
        print(report.markdown_table(["what", "measured", "target", "met"], report.readme_rows(doc)))
        return 0
    machine = report.machine_description()
    sizes = QUICK if args.quick else FULL
    threads = sorted({1, machine["usable_cores"]})
    output = args.output or report.default_output_path(RESULTS_DIR, machine, dt.date.today(), args.quick)
    data, results = SurveyData(args.data_root), {}
    with model_for_run(args.model, args.quick) as model:
        for index, name in enumerate(args.only, 1):
            print(f"[{index}/{len(args.only)}] {name} ...", file=sys.stderr, flush=True)
            results[name] = run_section(name, section_arguments(name, model, sizes, data, threads))
            print(f"    {results[name]['status']} in {report.fmt(results[name]['wall_s'], '{:.1f}')} s",
                  file=sys.stderr, flush=True)
            # Written after every section so a crash late in a long run keeps what was measured.
            doc = build_document(args, machine, sizes, model, results)
            write_document(doc, output, also_latest=not args.quick)
    for problem in report.validate(doc):
        print(f"results document: {problem}", file=sys.stderr)
    print(report.render(doc))
    print(f"\nwritten: {output}" + ("" if args.quick else f" and {RESULTS_DIR / 'latest.json'}"))
    return 0 if all(r["status"] in ("ok", "skipped") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
