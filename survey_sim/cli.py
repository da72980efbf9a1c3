"""`survey-sim`: the command line. Each subcommand parses flags and calls one function.

Exit codes: 0 success, 2 bad arguments (unknown data set, split or method, an invalid value),
3 data problem (data root missing, invalid file), 1 anything else (its type and message are
printed; `--debug` shows the traceback).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

EXIT_USAGE, EXIT_DATA = 2, 3

EPILOG_BASELINES = """examples:
  survey-sim baselines --test wvs_valid:C1-Q2
  survey-sim baselines --train wvs:C1-Q1 --test wvs_valid:all --test pew:all --methods uniform loo_mean train_prior
  survey-sim baselines --test pew:PEW_C1 --output results.csv
"""


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
        dataset = load_dataset(name, root=args.data_root)
        print(dataset_report(dataset))
        print()
    return 0


def cmd_data_fetch(args) -> int:
    from .data.fetch import default_dest, fetch_all, summary
    from .data.manifest import candidate_roots

    dest = Path(args.dest or args.data_root or default_dest()).expanduser()
    if args.timeout <= 0:  # urllib would fail every download, each as a checksum mismatch
        raise ValueError(f"--timeout must be positive, got {args.timeout}")
    if dest.exists() and not dest.is_dir():  # every file would fail to be written, after its download
        raise ValueError(f"--dest {dest}: is a file, not a folder")
    results = fetch_all(dest, base_url=args.base_url, only=args.only, timeout=args.timeout)
    print(summary(results, dest))
    used = Path(args.data_root).expanduser() if args.data_root else next(
        (path for _, path in candidate_roots() if path.is_dir()), None)
    if used is not None and used.resolve() != dest.resolve():
        print(f"note: survey-sim reads data from {used} first; to use these files pass "
              f"--data-root {dest} or `export SURVEY_SIM_DATA={dest}`")
    return 0 if all(r.ok for r in results) else EXIT_DATA


def check_output(path: str | None, suffixes: tuple[str, ...], inputs=(), flag: str = "--output") -> Path | None:
    """--output (or another `flag` naming a file to write), checked before any work: a known
    suffix, a folder that exists, not a folder itself, and not one of the inputs (which it would
    overwrite)."""
    if path is None:
        return None
    output = Path(path)
    if path.endswith(("/", os.sep)) or os.path.isdir(output):  # os.path: no OSError for a name too long
        raise ValueError(f"{flag} {path}: is a folder; give a file path ending in {' or '.join(suffixes)}")
    if any(input_path and output.resolve() == Path(input_path).resolve() for input_path in inputs):
        raise ValueError(f"{flag} {path}: is also the input; writing it would replace what was read")
    if output.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {path}: unknown suffix {output.suffix!r}; use {' or '.join(suffixes)}")
    if not output.parent.is_dir():
        raise ValueError(f"{flag} {path}: folder {output.parent} does not exist")
    if len(output.name.encode()) > 255:  # the file system's limit: found now, not when the results are written
        raise ValueError(f"{flag}: a file name of {len(output.name.encode())} bytes; at most 255")
    return output


TABLE_SUFFIXES = (".csv", ".parquet")


def cmd_baselines(args) -> int:
    import pandas as pd

    from .evaluation import load_target, run, training_items
    from .methods import Context

    check_output(args.output, TABLE_SUFFIXES)
    context = Context(train=training_items(args.train, args.data_root))
    targets = [load_target(text, args.data_root) for text in args.test]
    results = pd.concat([run(name, targets, context) for name in args.methods], ignore_index=True)
    report_results(results.assign(train=args.train), args.output)
    return 0


def report_results(results, output: str | None, per_group: bool = False) -> None:
    """Print the summary table; write the rows to `output` (.csv or .parquet), else append them
    to the results store."""
    from .evaluation import summary_table
    from .results import append_results

    print(summary_table(results).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if per_group:
        table = results.pivot_table(index="group", columns="metric", values="value", aggfunc="mean")
        print("\nper group:\n" + table.to_string(float_format=lambda x: f"{x:.3f}"))
    if output:
        write = results.to_csv if Path(output).suffix.lower() == ".csv" else results.to_parquet  # check_output'ed
        partial = Path(output).with_name(f".{Path(output).name}.tmp{os.getpid()}")
        write(partial, index=False)
        partial.replace(output)  # whole or not at all
        print(f"\nwrote {len(results)} rows to {output}")
    else:
        print(f"\nappended {len(results)} rows to {append_results(results)}")


# --- model commands ------------------------------------------------------------------------

EPILOG_TRAIN = """examples:
  survey-sim train                                   # the paper's recipe on wvs:C1-Q1, validated on wvs:C1-Q2
  survey-sim train --name fold0 --fold 0             # leave-countries-out fold 0 of C1 (10 countries held out)
  survey-sim train --loss wasserstein --epochs 1 --max-valid-items 300
  accelerate launch --multi_gpu --num_processes 2 -m survey_sim.cli train ...   # DDP: GPUs, or gloo on CPUs
"""

EPILOG_EVALUATE = """examples:
  survey-sim evaluate --method zero_shot --test wvs:C1-Q2
  survey-sim evaluate --method adapter --adapter smollm2-wvs-c1q1 --test wvs:C1-Q2 --test pew:PEW_C1
  survey-sim evaluate --method adapter --adapter fold0 --test wvs:C1-Q1 --fold 0   # the held-out countries only
  survey-sim evaluate --method zero_shot --input my_rows.jsonl                     # rows with a "distribution"
  survey-sim evaluate --method loo_mean --test wvs:C1-Q2                           # a baseline, no model
  survey-sim evaluate --model dummy --test wvs:C1-Q2                               # the weightless test backend
  survey-sim evaluate --method prior_shift --param s=0.5 --train wvs:C1-Q1 --test wvs:C1-Q2 --cache
"""


def add_config_flags(parser, config_class, groups: dict[str, str]) -> None:
    """One flag per dataclass field, typed from its annotation, with its `metadata["help"]`, in
    argument groups by `metadata["group"]`. Flags default to None: only given ones override a
    --config file."""
    from dataclasses import MISSING, fields
    from typing import Literal, get_args, get_origin, get_type_hints

    from .training.config import without_none

    hints = get_type_hints(config_class)
    sections = {key: parser.add_argument_group(title) for key, title in groups.items()}
    for f in fields(config_class):
        default = f.default if f.default is not MISSING else f.default_factory()
        shown = " ".join(default or ["none"]) if isinstance(default, list) else default
        shown = f.metadata.get("none") if default is None else shown
        options = {"default": None, "help": f"{f.metadata['help']} (default: {shown})".replace("%", "%%")}
        kind, _ = without_none(hints[f.name])
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif get_origin(kind) is list:
            options["nargs"] = "*"
        elif get_origin(kind) is Literal:
            options["choices"] = get_args(kind)
        else:
            options["type"] = kind
        sections[f.metadata["group"]].add_argument("--" + f.name.replace("_", "-"), **options)


def config_file(path: str | None) -> dict:
    """The fields of a --config JSON file: an object, else a DataError naming the file."""
    import json as json_module

    from .data import DataError
    from .data.loaders import read_text

    if path is None:
        return {}
    try:
        values = json_module.loads(read_text(Path(path)))
    except json_module.JSONDecodeError as err:
        raise DataError(path, [f"line {err.lineno}, column {err.colno}: not valid JSON ({err.msg})"]) from None
    if not isinstance(values, dict):
        raise DataError(path, [f"expected a JSON object of training options, got {type(values).__name__}"])
    return values


def check_data_names(config) -> None:
    """The data sets and splits of a training config, checked against the manifest: an unknown
    name is then refused in a second, not after the seconds of importing transformers."""
    from .data import dataset_spec
    from .data.loaders import UPLOAD_PREFIX
    from .data.splits import parse_split

    for name, split in ((config.dataset, config.train_split), (config.valid_dataset, config.valid_split)):
        if not name.startswith(UPLOAD_PREFIX):
            dataset_spec(name)
        parse_split(split)


def cmd_train(args) -> int:
    from .paths import adapters_dir
    from .training import TrainConfig

    if args.status and os.path.isdir(args.status):  # else found when the first status is written
        raise ValueError(f"--status {args.status}: is a folder; give a JSON file path")
    values = config_file(args.config)
    values.update({k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None})
    if args.fold is not None:
        from .data.splits import fold_countries

        excluded = TrainConfig.from_dict(values).exclude_groups  # checked first: a string would be split in letters
        values["exclude_groups"] = [*excluded, *fold_countries(args.fold)]
        values.setdefault("name", f"fold{args.fold}")
    config = TrainConfig.from_dict(values)
    check_data_names(config)
    if config.init_adapter:
        check_adapter_flag(config.init_adapter, "--init-adapter")
    existing = adapters_dir() / config.name
    if existing.exists() and not (args.overwrite or args.resume):  # minutes of training must not replace it silently
        raise ValueError(f"adapter {config.name!r} already exists ({existing}); give --overwrite to replace it "
                         "or another --name")
    print(config.to_json())

    def show(record):
        parts = [f"step {record['step']}/{record['max_steps']}", f"epoch {record['epoch'] or 0:.2f}"]
        if "loss" in record:
            parts.append(f"loss {record['loss']:.4f}")
        if record.get("validation"):
            parts.append(f"valid 1-JSD(paper) {record['validation'][-1].get('1-jsd_paper', float('nan')):.4f}")
        if record.get("eta_s") is not None:
            parts.append(f"ETA {record['eta_s'] / 60:.1f} min")
        print("  ".join(parts), flush=True)

    from .training.run import train  # transformers: imported once the arguments are known to be good

    result = train(config, status_path=args.status, progress=show, data_root=args.data_root, resume=args.resume)
    print(f"adapter saved to {result['adapter']}; best validation: {result['best']}")
    return 0


def check_adapter_flag(text: str, flag: str = "--adapter") -> str:
    """An adapter folder, else a name as `train --name` allows: a path to no folder, a control
    character or 300 characters (an OSError on lookup) are refused before any file is opened."""
    from .paths import check_adapter_name

    if os.path.isdir(os.path.expanduser(text)):  # os.path: False, not an OSError, for a name too long
        return text
    if "/" in text or os.sep in text:
        raise ValueError(f"{flag} {text!r}: no such folder")
    try:
        return check_adapter_name(text)
    except ValueError as err:
        raise ValueError(f"{flag}: {err}") from None


def base_model(args) -> str:
    """--model, else the base model --adapter was trained on, else the default; an adapter
    trained on another base model than --model is refused before anything loads."""
    from .adapters import adapter_metadata
    from .paths import DEFAULT_MODEL

    if args.adapter is not None:
        check_adapter_flag(args.adapter)
    trained_on = (adapter_metadata(args.adapter) or {}).get("base_model")
    if args.model and trained_on and args.model != trained_on:
        raise ValueError(f"adapter {args.adapter!r} was trained on {trained_on!r}, not --model {args.model!r}: "
                         "drop --model or give the adapter's base model")
    return args.model or trained_on or DEFAULT_MODEL


def simulator_loader(args):
    """What `Context.simulator` loads: the model flags of evaluate and predict."""
    def load():
        from .sharding import process_device
        from .simulator import Simulator

        return Simulator.load(args.model, adapter=args.adapter, lang=args.lang, chat=args.chat, dtype=args.dtype,
                              device=process_device(), compile=args.compile, cache=args.cache)

    return load


def progress_bar(total_label: str):
    """(close, update) of a tqdm bar that appears at the first update: an error raised before any
    prompt is scored is then stderr's only line, not glued to an empty bar."""
    from tqdm import tqdm

    bars = []

    def update(done, total):
        if not bars:
            bars.append(tqdm(desc=total_label, unit="prompt"))
        bars[0].total = total
        bars[0].n = done
        bars[0].refresh()

    def close():
        for bar in bars:
            bar.close()

    return close, update


def cmd_evaluate(args) -> int:
    from .data.splits import fold_countries
    from .evaluation import load_file_target, load_target, run, training_items
    from .methods import METHODS, Context
    from .sharding import is_main_process

    method = METHODS[args.method]
    args.model = base_model(args)
    check_output(args.output, TABLE_SUFFIXES, inputs=[args.input])
    if args.fold is not None:  # refused even where it selects no --test rows, only --train's
        fold_countries(args.fold)
    targets = [load_file_target(args.input, args.max_items)] if args.input else []
    targets += [load_target(text, args.data_root, args.fold, args.max_items) for text in args.test or []]
    if not targets:
        raise ValueError("give --test NAME:SPLIT (repeatable) or --input rows.jsonl")
    close_bar, update = progress_bar(args.method)
    train = training_items(args.train, args.data_root, args.fold, args.adapter) if "train" in method.uses else None
    context = Context(train=train, model=args.model, adapter=args.adapter, load_simulator=simulator_loader(args),
                      batch_size=args.batch_size, params=dict(args.param or []), progress=update)
    results = run(method, targets, context)
    close_bar()
    if is_main_process():  # under `accelerate launch`, every process holds all results: one reports them
        report_results(results, args.output, per_group=bool(args.input))
    return 0


def cmd_predict(args) -> int:
    import json as json_module

    from .data.user_import import read_prediction_rows
    from .prompts import build_prompt
    from .sharding import is_main_process, sharded

    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    check_output(args.output, (".jsonl",), inputs=[args.input])
    rows = read_prediction_rows(args.input)
    args.model = base_model(args)
    simulator = simulator_loader(args)()
    kind = "description" if args.group_kind == "description" else "country"
    prompts = [build_prompt((r["question"], r["options"], r["group"]), lang=args.lang or "en", chat=args.chat,
                            tokenizer=simulator.tokenizer, group_kind=kind) for r in rows]
    close_bar, update = progress_bar("predict")
    predictions = sharded(lambda share: simulator.predict_prompts([p for p, _ in share], [k for _, k in share],
                                                                  args.batch_size, update),
                          list(zip(prompts, [len(r["options"]) for r in rows])))
    close_bar()
    if not is_main_process():  # the main process writes the file
        return 0
    output = Path(args.output)
    tmp = output.with_suffix(output.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row, prediction in zip(rows, predictions, strict=True):
            record = {**row, "prediction": [round(float(x), 6) for x in prediction]}
            f.write(json_module.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(output)  # a crash never leaves half an output file
    print(f"wrote {len(rows)} predictions to {output}")
    return 0


def cmd_adapters_list(args) -> int:
    from .adapters import list_adapters

    adapters = list_adapters(include_invalid=True)
    if not adapters:
        print("no adapters yet; make one with `survey-sim train`")
    for adapter in adapters:
        meta = adapter.get("metadata") or {}
        best = meta.get("best", {})
        score = f"valid 1-JSD(paper) {best['eval_1-jsd_paper']:.3f}" if "eval_1-jsd_paper" in best else ""
        problem = f"  INVALID: {adapter['error']}" if adapter["error"] else ""
        shipped = "  (shipped with survey-sim: adapters/)" if adapter["shipped"] else ""
        print(f"{adapter['name']:28} {meta.get('base_model', '?'):14} {meta.get('data', '?'):12} "
              f"{meta.get('loss', '?'):6} {how_trained(meta):22} {score}{problem}{shipped}")
    return 0


def how_trained(metadata: dict) -> str:
    """"direct", "shift (s=1)" or "dsa over NAME": the objective an adapter was fitted with."""
    from .methods import trained_method

    if metadata.get("first_stage"):
        return f"dsa over {metadata['first_stage'].get('name', '?')}"
    method, params = trained_method(metadata)
    if method == "shift":
        return f"shift (s={params['s']:g})"
    return metadata.get("config", {}).get("objective", "direct")


def add_model_flags(parser) -> None:
    from .paths import ALIASES, DEFAULT_MODEL

    parser.add_argument("--model", help=f"base model: an embedded alias ({', '.join(ALIASES)}), a Hugging Face id, a "
                                        f"local folder or a .gguf file (default: the adapter's base model, else "
                                        f"{DEFAULT_MODEL})")
    parser.add_argument("--adapter", help="a LoRA adapter: a name under models/adapters or a folder")
    parser.add_argument("--lang", choices=["en", "zh"], help="prompt language (default: each row's own, else en)")
    parser.add_argument("--chat", action="store_true", help="wrap prompts in the model's chat template")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"], help="weights' dtype")
    parser.add_argument("--batch-size", type=int, default=16, help="prompts per forward pass (default 16)")
    parser.add_argument("--compile", action="store_true",
                        help="compile the model's blocks first (10-15 s), then score about 1.5x faster in bfloat16 "
                             "on a CPU: for sweeps of a thousand prompts or more")
    parser.add_argument("--cache", action="store_true",
                        help="keep predictions in the disk cache (models/cache), keyed by the model's and adapter's "
                             "files: a second run with the same prompts skips the model")


def method_param(text: str) -> tuple[str, float]:
    """"s=0.5" -> ("s", 0.5): a value for one of the method's parameters."""
    name, _, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not name.strip() or not math.isfinite(number):  # nan would score as nan, after the whole run
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, e.g. s=0.5, got {text!r}")
    return name.strip(), number


def add_model_commands(commands) -> None:
    from .methods import METHODS
    from .training.config import GROUPS, TrainConfig

    train = commands.add_parser("train", help="fine-tune a model with LoRA on survey distributions",
                                description="Fine-tune a base model with LoRA into a survey simulator; the defaults "
                                            "are the recipe of Cao et al. (2025). Flags override a --config file.",
                                epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--config", help="a JSON file of TrainConfig fields (flags override it)")
    train.add_argument("--fold", type=int, help="hold out the countries of leave-10-out fold N of C1 (0-4)")
    train.add_argument("--status", help="write progress to this JSON status file")
    train.add_argument("--resume", action="store_true", help="resume from the run's last checkpoint")
    train.add_argument("--overwrite", action="store_true", help="replace an adapter of the same name (refused otherwise)")
    add_config_flags(train, TrainConfig, GROUPS)
    train.set_defaults(run=cmd_train)

    evaluate = commands.add_parser("evaluate", help="score a method on splits or on your own rows",
                                   epilog=EPILOG_EVALUATE, formatter_class=argparse.RawDescriptionHelpFormatter)
    evaluate.add_argument("--method", default="zero_shot", metavar="METHOD",
                          help="; ".join(f"{name}: {m.description}" for name, m in METHODS.items()).replace("%", "%%"))
    evaluate.add_argument("--test", action="append", help="NAME:SPLIT to evaluate on, e.g. wvs:C1-Q2 (repeatable)")
    evaluate.add_argument("--input", help="JSONL rows {question, options, group, distribution} instead of --test")
    evaluate.add_argument("--train", default="wvs:C1-Q1", help="training data of the baselines (default wvs:C1-Q1); "
                                                               "'adapter' or 'adapter:NAME': the items --adapter (or NAME) "
                                                               "was trained on")
    evaluate.add_argument("--fold", type=int, help="keep only the countries held out in fold N")
    evaluate.add_argument("--max-items", type=int, help="score a seeded random sample of at most N rows per split")
    evaluate.add_argument("--param", action="append", type=method_param, metavar="NAME=VALUE",
                          help="a parameter of the method, e.g. --param s=0.5 for prior_shift (repeatable); the "
                               "results store names the run with it")
    evaluate.add_argument("--output", help="write the tidy results here (.csv/.parquet) instead of the results store")
    add_model_flags(evaluate)
    evaluate.set_defaults(run=cmd_evaluate)

    predict = commands.add_parser("predict", help="simulate answer distributions for your own questions",
                                  epilog="input rows (JSONL): {\"question\": str, \"options\": [str], \"group\": str, ...}; "
                                         "output: the same rows with \"prediction\": [p_A, p_B, ...] in option order")
    predict.add_argument("--input", required=True, help="JSONL file of rows")
    predict.add_argument("--output", required=True, help="where to write the rows with predictions (JSONL)")
    predict.add_argument("--group-kind", choices=["country", "description"], default="country",
                         help="'country': \"someone from {group}\"; 'description': the group is a description "
                              "(\"a Democrat in the United States\")")
    add_model_flags(predict)
    predict.set_defaults(run=cmd_predict)

    adapters = commands.add_parser("adapters", help="the fine-tuned adapters under models/adapters")
    adapters.add_subparsers(dest="adapters_command", required=True).add_parser(
        "list", help="name, base model, data, loss, best validation score").set_defaults(run=cmd_adapters_list)


EPILOG_ROBUSTNESS = """examples:
  survey-sim robustness --method zero_shot --test wvs:C1-Q2
  survey-sim robustness --method shift --adapter smollm2-135m-shift --train adapter --test wvs:C1-Q2 --dtype bfloat16
  survey-sim robustness --method adapter --adapter fold0 --fold 0 --test wvs:C1-Q1 --max-questions 50
"""


def cmd_robustness(args) -> int:
    from .evaluation import load_target, sample_questions, tidy_scores, training_items
    from .leaderboard import method_label
    from .methods import METHODS, Context
    from .robustness import order_predictions, order_sensitivity, report_path, robustness_table, save_report

    method = METHODS[args.method]
    args.model = base_model(args)
    if args.orders < 1:
        raise ValueError(f"--orders must be at least 1, got {args.orders}")
    target = sample_questions(load_target(args.test, args.data_root, args.fold), args.max_questions)
    train = training_items(args.train, args.data_root, args.fold, args.adapter) if "train" in method.uses else None
    close_bar, update = progress_bar(args.method)
    context = Context(train=train, model=args.model, adapter=args.adapter, load_simulator=simulator_loader(args),
                      batch_size=args.batch_size, params=dict(args.param or []), progress=update)
    method.check(context)
    label = method_label(method.label(context), args.model if "model" in method.uses else "", args.adapter or "")
    test = f"{target.dataset}:{target.split}"
    output = check_output(args.output, (".csv",)) or report_path(label, test)  # before minutes of scoring
    items = list(target.items)
    predictions = method.run(items, context)
    moved = order_predictions(method, items, context, range(1, args.orders))
    close_bar()
    rows = tidy_scores(items, predictions, method=method.label(context), dataset=target.dataset, split=target.split,
                       model=args.model, adapter=args.adapter or "")
    table = robustness_table(rows, order_sensitivity(predictions, moved) if moved else None)
    print(f"{label} on {test}: {rows['question_id'].nunique()} questions, {len(items)} rows\n")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"\nwrote {save_report(table, label, test, rows, output)}")
    return 0


def add_robustness_command(commands) -> None:
    from .methods import METHODS

    robustness = commands.add_parser(
        "robustness", help="how far a simulator can be trusted: collapse, letter bias, order sensitivity, [ctrl]",
        description="A simulator's robustness report on a seeded sample of a split's questions (all their "
                    "countries): between-country variation against the real one and its rank correlation "
                    "(collapse), the mean share per letter position against the real one, how much predictions "
                    "move when the options are moved round, and the agreement between a country's prediction and a "
                    "random other country's. The table goes to models/results/robustness/, where the app's "
                    "Robustness page finds it.",
        epilog=EPILOG_ROBUSTNESS, formatter_class=argparse.RawDescriptionHelpFormatter)
    robustness.add_argument("--method", default="zero_shot", choices=list(METHODS), metavar="METHOD",
                            help="a method of `survey-sim evaluate` (default zero_shot)")
    robustness.add_argument("--test", required=True, help="NAME:SPLIT, e.g. wvs:C1-Q2")
    robustness.add_argument("--train", default="wvs:C1-Q1", help="training data of methods that learn from other "
                                                                 "countries (as in evaluate; 'adapter' for its own)")
    robustness.add_argument("--fold", type=int, help="keep only the countries held out in fold N")
    robustness.add_argument("--max-questions", type=int, default=30,
                            help="a seeded sample of this many questions, with all their countries (default 30)")
    robustness.add_argument("--orders", type=int, default=2,
                            help="option orders scored: survey order and orders-1 cyclic shifts (default 2; 1 skips "
                                 "the order check)")
    robustness.add_argument("--param", action="append", type=method_param, metavar="NAME=VALUE",
                            help="a parameter of the method (repeatable)")
    robustness.add_argument("--output", help="where to write the table (.csv; default "
                                             "models/results/robustness/<simulator>@<test>.csv)")
    add_model_flags(robustness)
    robustness.set_defaults(run=cmd_robustness)


# --- results --------------------------------------------------------------------------------

EPILOG_RESULTS = """examples:
  survey-sim results                                  # paper-compatible 1-JSD, methods x splits
  survey-sim results --metric emd --csv leaderboard.csv
  survey-sim results --export all_results.parquet     # every row, one Parquet table
"""


def read_store(store: str | None, needed_for: str | None = None):
    """(results, file) of --store (a file not written yet holds no rows), else of the default
    store; for a command `needed_for` something, a store without rows is an error naming it."""
    from .results import load_results, shown_results

    if store is not None and os.path.isdir(store):
        raise ValueError(f"--store {store}: is a folder; give a results file")
    results, path = (load_results(store), Path(store)) if store is not None else shown_results()
    if needed_for and results.empty:
        raise ValueError(f"no rows in the results store {path}: nothing to {needed_for}")
    return results, path


def cmd_results(args) -> int:
    from .leaderboard import DEFAULT_METRIC, empty_store_message, leaderboard_rows, leaderboard_text

    if args.letter_bias is not None and args.letter_bias < 2:
        raise ValueError(f"--letter-bias must be at least 2 (options of a question), got {args.letter_bias}")
    check_output(args.csv, (".csv",), flag="--csv")
    check_output(args.export, (".parquet",), flag="--export")
    results, store = read_store(args.store)
    print(f"results from {store}")
    if args.export:
        from .results import write_parquet

        print(f"wrote {len(results):,} rows to {write_parquet(results, Path(args.export))}")
        return 0
    if results.empty:
        print(empty_store_message(store))
        return 0
    if args.letter_bias:
        from .evaluation import letter_bias

        tables = {test: letter_bias(rows, args.letter_bias) for test, rows in results.groupby(["dataset", "split"])}
        tables = {test: table for test, table in tables.items() if not table.empty}
        if not tables:  # printing nothing would look like a store without letter bias
            raise ValueError(f"--letter-bias {args.letter_bias}: no {args.letter_bias}-option questions in {store}")
        for (dataset, split), table in tables.items():
            print(f"\nmean share by letter, {args.letter_bias}-option questions of {dataset}:{split}:\n"
                  + table.to_string(float_format=lambda x: f"{x:.3f}"))
        return 0
    rows = leaderboard_rows(results, args.metric or DEFAULT_METRIC)
    print(leaderboard_text(rows))
    if args.csv:
        rows.to_csv(args.csv, index=False)
        print(f"\nwrote {len(rows)} rows to {args.csv}")
    return 0


def add_results_command(commands) -> None:
    results = commands.add_parser("results", help="the leaderboard: each method's mean score per data set and split",
                                  epilog=EPILOG_RESULTS, formatter_class=argparse.RawDescriptionHelpFormatter)
    results.add_argument("--metric", help="1-jsd_paper (default), 1-jsd, emd, emd_paper, majority_acc, ...")
    results.add_argument("--letter-bias", type=int, metavar="K",
                         help="instead of the leaderboard: the mean share of each letter position on K-option "
                              "questions, real and by method, per test split")
    results.add_argument("--csv", help="also write the table (method, test, metric, mean, rows, coverage) to this CSV")
    results.add_argument("--store", help="results store to read (default: $SURVEY_SIM_RESULTS, else "
                                         "models/results/results.sqlite, else the shipped results/reference.parquet)")
    results.add_argument("--export", metavar="FILE.parquet",
                         help="instead of the leaderboard: write every row of the store to one Parquet table")
    results.set_defaults(run=cmd_results)


def cmd_compare(args) -> int:
    from .bootstrap import compare

    if args.seed < 0:
        raise ValueError(f"--seed must not be negative, got {args.seed}")
    results, store = read_store(args.store, needed_for="compare")
    print(f"results from {store}")
    tests = [args.test] if args.pool else args.test
    for test in tests:
        for metric in args.metric or ["1-jsd_paper"]:
            print(compare(results, args.a, args.b, test, metric, seed=args.seed).line())
    return 0


def add_compare_command(commands) -> None:
    compare = commands.add_parser(
        "compare", help="method A against method B on the same rows, with a paired bootstrap interval over questions",
        description="Mean of each method on the rows both scored, and the 95%% bootstrap interval of the "
                    "difference A - B, resampling questions (a question's countries stay together). Methods are "
                    "named as on the leaderboard: a baseline ('loo_mean'), 'zero_shot (smollm2-135m)', "
                    "'adapter:NAME'. '{fold}' in a name is the fold of each --test (dataset:split:foldN), for "
                    "methods with an adapter per fold; --pool compares all the --test splits as one set of rows.",
        epilog="example, the five unseen-country folds pooled: survey-sim compare "
               "'shift:smollm2-shift-lr1e-3-fold{fold}' avg_culture --pool "
               "--test wvs:C1-Q1:fold0 --test wvs:C1-Q1:fold1 ... --test wvs:C1-Q1:fold4")
    compare.add_argument("a", help="method A, e.g. adapter:smollm2-wvs-c1q1")
    compare.add_argument("b", help="method B, e.g. loo_mean")
    compare.add_argument("--test", action="append", required=True, help="dataset:split as evaluated, e.g. wvs:C1-Q2")
    compare.add_argument("--metric", action="append", help="1-jsd_paper (default), 1-jsd, emd, majority_acc, ...")
    compare.add_argument("--store", help="results store to read (default as for `survey-sim results`)")
    compare.add_argument("--pool", action="store_true",
                         help="one comparison over the rows of all --test splits, resampling questions across them "
                              "(cross-validation folds); default: one comparison per --test")
    compare.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    compare.set_defaults(run=cmd_compare)


def cmd_report(args) -> int:
    from .paper_report import markdown, paper_table
    from .paths import write_text_atomically

    check_output(args.output, (".md", ".txt"))
    check_output(args.csv, (".csv",), flag="--csv")
    results, store = read_store(args.store, needed_for="report")
    table = paper_table(results, args.method, also=args.also or [])
    text = markdown(table, args.method)
    if args.output:
        write_text_atomically(Path(args.output), text)
        print(f"wrote {args.output}")
    if args.csv:
        write_text_atomically(Path(args.csv), table.to_csv(index=False))
        print(f"wrote {args.csv}")
    print(f"results from {store}\n\n{text}")
    return 0


def add_report_command(commands) -> None:
    report = commands.add_parser(
        "report", help="a method beside the paper's table: each of Cao et al.'s test splits, the strongest baseline "
                       "with a paired interval, and the paper's 8B number",
        description="One row per test split of Cao et al. (NAACL 2025) the method was scored on: the protocol, the "
                    "method's mean paper-compatible 1-JSD, the strongest model-free baseline on the same rows with "
                    "the paired 95%% bootstrap interval of the difference (over questions), and the paper's "
                    "fine-tuned Llama3-8B-Instruct, whose rows differ from ours.",
        epilog="example (experiments/paper_table.sh): survey-sim report --method shift:smollm2-135m-shift "
               "--store models/results/paper_table.parquet --output docs/paper_table.md --csv results/paper_table.csv")
    report.add_argument("--method", required=True, help="the method as named on the leaderboard, e.g. "
                                                        "shift:smollm2-135m-shift")
    report.add_argument("--also", action="append", metavar="METHOD",
                        help="another method's mean as a column, e.g. 'zero_shot (smollm2-135m)' or knn; repeatable")
    report.add_argument("--store", help="results store to read (default as for `survey-sim results`)")
    report.add_argument("--output", help="also write the Markdown table here")
    report.add_argument("--csv", help="also write the table as CSV here (the app's Leaderboard shows it)")
    report.set_defaults(run=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    from .methods import baseline_names

    parser = argparse.ArgumentParser(
        prog="survey-sim", description="Simulate how populations answer survey questions with language models.",
        epilog="exit codes: 0 success, 1 unexpected error, 2 bad arguments, 3 data problem. "
               "`survey-sim COMMAND --help` shows each command's flags and examples.")
    parser.add_argument("--debug", action="store_true", help="show the traceback of any error")
    parser.add_argument("--data-root", help="folder with the survey files (default: $SURVEY_SIM_DATA, "
                                            "then ../shared/surveys, then ~/.cache/survey-sim/surveys)")
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="list and check the data sets").add_subparsers(dest="data_command", required=True)
    data.add_parser("list", help="the data sets in data/datasets.toml").set_defaults(run=cmd_data_list)
    report = data.add_parser("report", help="rows, questions, groups, what was fixed or dropped, unmapped countries")
    report.add_argument("datasets", nargs="*", help="data set names (default: all enabled)")
    report.set_defaults(run=cmd_data_report)
    fetch = data.add_parser("fetch", help="download the survey files from their pinned public repositories "
                                          "(sha256-checked) into the user cache")
    fetch.add_argument("--only", nargs="+", metavar="FILE",
                       help="only these files or folders, relative to the data root "
                            "(e.g. subpop-eval/subpop_eval.jsonl wvs7-codebook; default: all)")
    fetch.add_argument("--dest", help="folder to store the files in (default: --data-root, else $SURVEY_SIM_DATA, "
                                      "else ~/.cache/survey-sim/surveys)")
    fetch.add_argument("--base-url", help="download from here instead of $SURVEY_SIM_FETCH_BASE or "
                                          "https://raw.githubusercontent.com; files are read from BASE/REPO/COMMIT/PATH")
    fetch.add_argument("--timeout", type=float, default=60.0, help="seconds to wait on the network (default: 60)")
    fetch.set_defaults(run=cmd_data_fetch)

    base = commands.add_parser("baselines", help="evaluate the model-free baselines on splits",
                               epilog=EPILOG_BASELINES, formatter_class=argparse.RawDescriptionHelpFormatter)
    base.add_argument("--train", default="wvs:C1-Q1",
                      help="data set and split the baselines learn from, as NAME:SPLIT (default: wvs:C1-Q1)")
    base.add_argument("--test", action="append", required=True,
                      help="data set and split to evaluate on, as NAME:SPLIT (e.g. wvs_valid:C1-Q2); repeatable")
    base.add_argument("--methods", nargs="+", default=baseline_names(), choices=baseline_names(),
                      help="baselines to run (default: all)")
    base.add_argument("--output", help="write the tidy results here (.csv or .parquet) instead of the results store")
    base.set_defaults(run=cmd_baselines)
    add_model_commands(commands)
    add_robustness_command(commands)
    add_results_command(commands)
    add_compare_command(commands)
    add_report_command(commands)
    return parser


def run_command(args) -> int:
    from .sharding import exit_launched, finish

    code = args.run(args)
    finish()  # under `accelerate launch`: every process done before any exits
    exit_launched(code)  # and then gone, before the interpreter's teardown can trip on gloo
    return code


def main(argv: list[str] | None = None) -> int:
    from .data import DataError, DataRootNotFound
    from .registry import UnknownName
    from .results import ResultsStoreError

    args = build_parser().parse_args(argv)
    if args.debug:  # every error with its traceback
        return run_command(args)
    try:
        return run_command(args)
    except (DataRootNotFound, DataError, ResultsStoreError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_DATA
    except (UnknownName, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # noqa: BLE001  (a bug or an environment problem: say what, keep the type)
        print(f"error: {type(err).__name__}: {err}\n(unexpected; `survey-sim --debug ...` shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
