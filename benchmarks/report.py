"""Pure helpers of the benchmark: machine description, FLOP counting, targets, the JSON check and
the markdown tables. Nothing here times anything, so the unit tests can run all of it."""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1

FORMULAS = {
    "forward_flops": "2 * n_params_nonembedding * tokens + 4 * n_layers * (n_heads * head_dim) * sum(rows * width^2)"
                     " over padded batches; tokens = sum(rows * width), padding included (it is computed)",
    "naive_forward_flops": "forward_flops with n_params_nonembedding + vocab * hidden (the full output layer runs at"
                           " every position), batch 1 so no padding",
    "training_flops": "6 * n_params_nonembedding * tokens (padded tokens of the measured steps); with the base"
                      " weights frozen, LoRA's real work is nearer 4 * n_params * tokens, so this overstates it",
    "matmul_gflops": "2 * n^3 * reps / seconds / 1e9 for an (n x n) @ (n x n) product; best of reps",
    "pct_of_peak": "100 * achieved FLOP/s / matmul_peak FLOP/s (fp32 or bf16, same machine, same run)",
}

# (section, path in its results, comparison, bound, unit): the targets of the performance issue.
TARGETS = [
    ("training", "minutes_per_epoch", "<=", 12.0, "min"),
    ("cold_start", "cached.simulator_s", "<=", 3.0, "s"),
    ("cold_start", "cached.first_compare_s", "<=", 5.0, "s"),
    ("cold_start", "gemma3_270m.cached.simulator_s", "<=", 10.0, "s"),
    ("c1q2_sweep", "fastest.projected_full_s", "<=", 60.0, "s"),
    ("ask_the_world", "app_example.predict_s_per_65_countries", "<=", 3.0, "s"),
    ("ask_the_world", "long_question.predict_s_per_65_countries", "<=", 3.0, "s"),
    ("scoring", "speedup_vs_naive", ">=", 3.0, "x"),
    ("scoring", "project.pct_of_bf16_peak", ">=", 60.0, "%"),
    ("scoring_bf16", "bf16_weights.speedup_vs_naive", ">=", 3.0, "x"),
    ("scoring_bf16", "bf16_weights.pct_of_bf16_peak", ">=", 60.0, "%"),
]

# CPU features that decide how fast bf16 can be (AVX-512 BF16 / AMX tiles) and fp32 (AVX2 / AVX-512).
_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8")


# ---------------------------------------------------------------- machine

def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo, else whatever platform knows."""
    text = cpuinfo if cpuinfo is not None else _read("/proc/cpuinfo")
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else (platform.processor() or platform.machine() or "unknown")


def cpu_flags(cpuinfo: str | None = None) -> list[str]:
    text = cpuinfo if cpuinfo is not None else _read("/proc/cpuinfo")
    match = re.search(r"^flags\s*:\s*(.+)$", text, re.MULTILINE)
    present = set(match.group(1).split()) if match else set()
    return [flag for flag in _CPU_FLAGS if flag in present]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def usable_cores() -> int:
    # The affinity mask is what this process may use (containers often restrict it).
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def machine_description() -> dict:
    import torch
    import transformers

    cuda = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "cuda_device": cuda,
        "load_average_at_start": _load_average(),
    }


def _load_average() -> list[float] | None:
    # Other work on the machine slows every section; the load average says how much there was.
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def default_output_path(results_dir: Path, machine: dict, when: dt.date, quick: bool) -> Path:
    """results/<hostname or cpu>-<date>[-quick][-N].json, the name made of safe characters only;
    a later run of the same day gets the next free -N instead of replacing an earlier one."""
    label = machine.get("hostname") or machine.get("cpu_model") or "machine"
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "machine"
    stem = f"{label}-{when.isoformat()}{'-quick' if quick else ''}"
    path, n = Path(results_dir) / f"{stem}.json", 1
    while path.exists():
        n += 1
        path = Path(results_dir) / f"{stem}-{n}.json"
    return path


# ---------------------------------------------------------------- FLOP counting

def count_params(model) -> dict:
    """Parameter counts; `nonembedding` leaves out the input embedding and an untied output layer
    (an embedding lookup costs no FLOPs, and the scorer applies only 26 rows of the output layer)."""
    unique = {id(p): p for p in model.parameters()}  # tied weights once
    total = sum(p.numel() for p in unique.values())
    embed = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    head_weight = getattr(head, "weight", None)
    untied_head = head_weight.numel() if head_weight is not None and head_weight is not embed else 0
    return {"total": total, "embedding": embed.numel(), "untied_head": untied_head,
            "nonembedding": total - embed.numel() - untied_head,
            "output_layer": head_weight.numel() if head_weight is not None else 0}


def attention_shape(config) -> dict:
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return {"n_layers": config.num_hidden_layers, "attention_width": heads * head_dim}


def padded_batches(lengths: Sequence[int], batch_size: int) -> list[tuple[int, int]]:
    """(rows, width) of each batch the project scorer runs: length-sorted, padded to the longest."""
    ordered = sorted(lengths)
    return [(len(ordered[i:i + batch_size]), max(ordered[i:i + batch_size]))
            for i in range(0, len(ordered), batch_size)]


def batch_shapes(lengths: Sequence[int], order: Sequence[int], batch_size: int) -> list[tuple[int, int]]:
    """(rows, width) of each batch when rows are taken in `order` (a sampler's), padded to the longest."""
    return [(len(order[i:i + batch_size]), max(lengths[j] for j in order[i:i + batch_size]))
            for i in range(0, len(order), batch_size)]


def step_time_model(tokens: Sequence[int], seconds: Sequence[float]) -> tuple[float, float]:
    """(fixed s per step, s per padded token): the least-squares line through the measured steps.

    A step has a cost that does not grow with its tokens (Python, 60 LoRA dropout masks, the
    optimiser), so seconds per token alone, taken from the long batches a length-grouped epoch
    starts with, would make short batches look cheaper than they are.
    """
    if len(tokens) != len(seconds) or len(tokens) < 2:
        raise ValueError(f"need at least two steps with their token counts, got {len(tokens)} and {len(seconds)}")
    if len(set(tokens)) == 1:  # all steps the same size: no slope to fit
        return 0.0, sum(seconds) / sum(tokens)
    slope, fixed = np.polyfit(np.asarray(tokens, float), np.asarray(seconds, float), 1)
    if fixed < 0 or slope <= 0:  # noise can tilt a short line; fall back to the plain mean rate
        return 0.0, sum(seconds) / sum(tokens)
    return float(fixed), float(slope)


def padded_tokens(batches: Sequence[tuple[int, int]]) -> int:
    return sum(rows * width for rows, width in batches)


def forward_flops(n_params: int, batches: Sequence[tuple[int, int]], n_layers: int, attention_width: int) -> float:
    """FORMULAS['forward_flops']: weight matmuls plus QK^T and AV over the full padded square."""
    dense = 2.0 * n_params * padded_tokens(batches)
    attention = 4.0 * n_layers * attention_width * sum(rows * width ** 2 for rows, width in batches)
    return dense + attention


def training_flops(n_params: int, tokens: int) -> float:
    return 6.0 * n_params * tokens


def percent(value: float | None, of: float | None) -> float | None:
    return None if not value or not of else round(100.0 * value / of, 1)


# ---------------------------------------------------------------- derived numbers and targets

def lookup(results: dict, path: str):
    """results['a']['b'] for path 'a.b'; None when any step is missing."""
    for key in path.split("."):
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def add_naive_ratio(sections: dict) -> None:
    """bf16 scorer vs the naive fp32 loop: two sections of one run, on the same seeded rows."""
    naive = lookup(sections.get("scoring", {}), "naive.prompts_per_s")
    bf16 = lookup(sections.get("scoring_bf16", {}), "bf16_weights")
    same_rows = lookup(sections.get("scoring", {}), "n_rows") == lookup(sections.get("scoring_bf16", {}), "n_rows")
    if naive and bf16 and same_rows:
        bf16["speedup_vs_naive"] = round(bf16["prompts_per_s"] / naive, 3)


def add_peak_percentages(sections: dict) -> None:
    """Adds pct_of_fp32_peak / pct_of_bf16_peak wherever a section reports achieved GFLOP/s.

    Done after all sections ran because the peak comes from another section (matmul_peak).
    """
    peak = sections.get("matmul_peak", {})
    fp32, bf16 = lookup(peak, "fp32.gflops"), lookup(peak, "bf16.gflops")
    for result in sections.values():
        for node in _nodes_with(result, "gflops_achieved"):
            node["pct_of_fp32_peak"] = percent(node["gflops_achieved"], fp32)
            node["pct_of_bf16_peak"] = percent(node["gflops_achieved"], bf16)


def _nodes_with(node, key: str):
    if isinstance(node, dict):
        if key in node:
            yield node
        for value in node.values():
            yield from _nodes_with(value, key)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes_with(value, key)


def evaluate_targets(sections: dict) -> list[dict]:
    """One record per target; `met` is None when its section did not run (or failed)."""
    checks = []
    for section, path, op, bound, unit in TARGETS:
        value = lookup(sections.get(section, {}), path)
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        checks.append({"section": section, "metric": path, "target": f"{op} {bound:g} {unit}",
                       "value": value, "met": met})
    return checks


# ---------------------------------------------------------------- the JSON document

REQUIRED = {"schema_version": int, "created": str, "quick": bool, "argv": list, "machine": dict,
            "settings": dict, "formulas": dict, "sections": dict, "targets": list}
REQUIRED_MACHINE = ("cpu_model", "cpu_count", "torch", "torch_num_threads", "cuda_device")
REQUIRED_SECTION = ("status", "wall_s", "peak_rss_mb")


def validate(doc: dict) -> list[str]:
    """What is wrong with a results document (empty list: nothing)."""
    problems = [f"{key}: missing or not a {kind.__name__}" for key, kind in REQUIRED.items()
                if not isinstance(doc.get(key), kind)]
    problems += [f"machine.{key}: missing" for key in REQUIRED_MACHINE if key not in doc.get("machine", {})]
    for name, result in (doc.get("sections") or {}).items():
        problems += [f"sections.{name}.{key}: missing" for key in REQUIRED_SECTION if key not in result]
        if result.get("status") not in ("ok", "error", "skipped"):
            problems.append(f"sections.{name}.status: {result.get('status')!r}, not 'ok', 'error' or 'skipped'")
    return problems


# ---------------------------------------------------------------- tables

# (section, label, path, format): the headline numbers, in the order the table shows them.
HEADLINES = [
    ("matmul_peak", "fp32 matmul GFLOP/s", "fp32.gflops", "{:.1f}"),
    ("matmul_peak", "bf16 matmul GFLOP/s", "bf16.gflops", "{:.1f}"),
    ("matmul_peak", "fp32 matmul GFLOP/s, 1 thread", "one_thread.fp32.gflops", "{:.1f}"),
    ("matmul_peak", "bf16 matmul GFLOP/s, 1 thread", "one_thread.bf16.gflops", "{:.1f}"),
    ("matmul_peak", "fp32 model-shaped matmul GFLOP/s", "model_shaped.fp32.gflops", "{:.1f}"),
    ("matmul_peak", "bf16 model-shaped matmul GFLOP/s", "model_shaped.bf16.gflops", "{:.1f}"),
    ("scoring", "rows", "n_rows", "{}"),
    ("scoring", "naive prompts/s (batch 1, full logits)", "naive.prompts_per_s", "{:.2f}"),
    ("scoring", "project scorer prompts/s (batch 16)", "project.prompts_per_s", "{:.2f}"),
    ("scoring", "speedup vs naive", "speedup_vs_naive", "{:.2f}x"),
    ("scoring", "max abs diff vs naive", "max_abs_diff_vs_naive", "{:.2e}"),
    ("scoring", "project GFLOP/s achieved", "project.gflops_achieved", "{:.1f}"),
    ("scoring", "project % of fp32 peak", "project.pct_of_fp32_peak", "{:.1f}%"),
    ("scoring", "project % of bf16 peak", "project.pct_of_bf16_peak", "{:.1f}%"),
    ("scoring", "best variant", "best_variant.name", "{}"),
    ("scoring", "best variant prompts/s", "best_variant.prompts_per_s", "{:.2f}"),
    ("scoring_bf16", "fp32 prompts/s (same run)", "fp32.prompts_per_s", "{:.2f}"),
    ("scoring_bf16", "autocast bf16 prompts/s", "autocast_bf16.prompts_per_s", "{:.2f}"),
    ("scoring_bf16", "autocast bf16 max abs diff", "autocast_bf16.max_abs_diff_vs_fp32", "{:.2e}"),
    ("scoring_bf16", "bf16 weights prompts/s", "bf16_weights.prompts_per_s", "{:.2f}"),
    ("scoring_bf16", "bf16 weights max abs diff", "bf16_weights.max_abs_diff_vs_fp32", "{:.2e}"),
    ("scoring_bf16", "bf16 weights mean abs diff", "bf16_weights.mean_abs_diff_vs_fp32", "{:.2e}"),
    ("scoring_bf16", "fp32 mean 1-JSD vs real", "fp32.mean_1jsd_paper", "{:.4f}"),
    ("scoring_bf16", "bf16 weights mean 1-JSD vs real", "bf16_weights.mean_1jsd_paper", "{:.4f}"),
    ("scoring_bf16", "bf16 weights speedup vs the naive fp32 loop", "bf16_weights.speedup_vs_naive", "{:.2f}x"),
    ("scoring_bf16", "bf16 weights % of bf16 peak", "bf16_weights.pct_of_bf16_peak", "{:.1f}%"),
    ("ask_the_world", "countries", "app_example.n_countries", "{}"),
    ("ask_the_world", "app example (4 options): prompt tokens", "app_example.prompt_tokens", "{}"),
    ("ask_the_world", "app example: fp32 s (cold)", "app_example.float32.predict_s", "{:.2f}"),
    ("ask_the_world", "app example: bf16 s (cold)", "app_example.bfloat16.predict_s", "{:.2f}"),
    ("ask_the_world", "app example: second call (disk cache) s", "app_example.float32.cached_s", "{:.3f}"),
    ("ask_the_world", "app example: s per 65 countries, app's dtype", "app_example.predict_s_per_65_countries", "{:.2f}"),
    ("ask_the_world", "10-point question: prompt tokens", "long_question.prompt_tokens", "{}"),
    ("ask_the_world", "10-point question: fp32 s (cold)", "long_question.float32.predict_s", "{:.2f}"),
    ("ask_the_world", "10-point question: bf16 s (cold)", "long_question.bfloat16.predict_s", "{:.2f}"),
    ("ask_the_world", "10-point question: s per 65 countries, app's dtype", "long_question.predict_s_per_65_countries", "{:.2f}"),
    ("ask_the_world", "app's dtype on this machine", "app_dtype", "{}"),
    ("ask_the_world", "Yes/No/Depends question: exact ties fp32 / bf16", "authority.agreement.exact_ties", "{}"),
    ("ask_the_world", "Yes/No/Depends: most likely answer differs bf16 vs fp32 (ties as answers)",
     "authority.agreement.top_answer_differs", "{}"),
    ("ask_the_world", "Yes/No/Depends: max abs diff of a share, bf16 vs fp32", "authority.agreement.max_abs_diff",
     "{:.3f}"),
    ("c1q2_sweep", "rows", "n_rows", "{}"),
    ("c1q2_sweep", "fp32: wall s", "float32.predict_s", "{:.1f}"),
    ("c1q2_sweep", "fp32: prompts/s", "float32.prompts_per_s", "{:.2f}"),
    ("c1q2_sweep", "bf16: wall s", "bfloat16.predict_s", "{:.1f}"),
    ("c1q2_sweep", "bf16: prompts/s", "bfloat16.prompts_per_s", "{:.2f}"),
    ("c1q2_sweep", "bf16, compiled blocks: wall s (compiling included)", "bfloat16+compile.predict_s", "{:.1f}"),
    ("c1q2_sweep", "bf16, compiled blocks: prompts/s", "bfloat16+compile.prompts_per_s", "{:.2f}"),
    ("c1q2_sweep", "fastest variant", "fastest.variant", "{}"),
    ("c1q2_sweep", "projected s for all C1-Q2 rows, fastest", "fastest.projected_full_s", "{:.1f}"),
    ("training", "paper fp32, random batches: examples/s", "paper_fp32.examples_per_s", "{:.2f}"),
    ("training", "paper fp32: min per C1-Q1 epoch", "paper_fp32.minutes_per_epoch", "{:.1f}"),
    ("training", "paper fp32: padding share of an epoch", "paper_fp32.epoch_padding_share", "{:.1%}"),
    ("training", "paper fp32: % of fp32 peak", "paper_fp32.pct_of_fp32_peak", "{:.1f}%"),
    ("training", "default: frozen weights dtype", "default.dtype", "{}"),
    ("training", "default: attention", "default.attention", "{}"),
    ("training", "default: compiled blocks", "default.compiled_blocks", "{}"),
    ("training", "default: first step s (compiles the blocks)", "default.first_step_s", "{:.1f}"),
    ("training", "default: examples/s", "default.examples_per_s", "{:.2f}"),
    ("training", "default: padding share of an epoch", "default.epoch_padding_share", "{:.1%}"),
    ("training", "default: % of bf16 peak", "default.pct_of_bf16_peak", "{:.1f}%"),
    ("training", "default vs paper fp32", "speedup", "{:.2f}x"),
    ("training", "default: min per C1-Q1 epoch", "minutes_per_epoch", "{:.1f}"),
    ("cold_start", "first run ever (GGUF converted): Simulator s", "empty_cache.simulator_s", "{:.2f}"),
    ("cold_start", "imports s", "cached.import_s", "{:.2f}"),
    ("cold_start", "survey data s", "cached.data_s", "{:.2f}"),
    ("cold_start", "Simulator() s (cached conversion)", "cached.simulator_s", "{:.2f}"),
    ("cold_start", "six countries predicted s", "cached.predict_6_s", "{:.2f}"),
    ("cold_start", "process start to first Compare s", "cached.first_compare_s", "{:.2f}"),
    ("cold_start", "Gemma 3 270M: first run ever (GGUF converted): Simulator s", "gemma3_270m.empty_cache.simulator_s",
     "{:.2f}"),
    ("cold_start", "Gemma 3 270M: Simulator() s (cached conversion)", "gemma3_270m.cached.simulator_s", "{:.2f}"),
    ("cold_start", "Gemma 3 270M: not measured because", "gemma3_270m.reason", "{}"),
    ("gpu", "device", "scoring.device", "{}"),
    ("gpu", "bf16 matmul GFLOP/s", "bf16_matmul.gflops", "{:.0f}"),
    ("gpu", "scorer prompts/s (bf16, batch 64)", "scoring.prompts_per_s", "{:.1f}"),
    ("gpu", "scorer % of bf16 peak", "scoring.pct_of_bf16_peak", "{:.1f}%"),
    ("gpu", "training examples/s (default recipe)", "training.examples_per_s", "{:.1f}"),
    ("gpu", "training % of bf16 peak", "training.pct_of_bf16_peak", "{:.1f}%"),
]


def fmt(value, pattern: str = "{}") -> str:
    if value is None:
        return "-"
    try:
        return pattern.format(value)
    except (ValueError, TypeError):
        return str(value)


def headline_rows(doc: dict) -> list[list[str]]:
    """[section, metric, value, target, met] for every headline number of the sections that ran."""
    sections = doc.get("sections", {})
    targets = {(t["section"], t["metric"]): t for t in doc.get("targets", [])}
    rows = []
    for section, label, path, pattern in HEADLINES:
        if sections.get(section, {}).get("status") != "ok":
            continue
        target = targets.get((section, path))
        met = "" if target is None else {True: "yes", False: "**no**", None: "-"}[target["met"]]
        rows.append([section, label, fmt(lookup(sections[section], path), pattern),
                     target["target"] if target else "", met])
    return rows


def section_rows(doc: dict) -> list[list[str]]:
    """[section, status, wall s, peak RSS MB] per section, errors with their last line."""
    rows = []
    for name, result in doc.get("sections", {}).items():
        status = result.get("status", "?")
        if status == "error":
            status = "error: " + (result.get("error", "").strip().splitlines() or [""])[-1][:80]
        elif status == "skipped":
            status = "skipped: " + result.get("reason", "")
        rows.append([name, status, fmt(result.get("wall_s"), "{:.1f}"), fmt(result.get("peak_rss_mb"), "{:.0f}")])
    return rows


# The README's performance table: (label, section, path in its results, format); target and met
# come from the document's `targets`. `python -m benchmarks.bench --readme-table` prints it.
README_ROWS = [
    ("matmul bound, fp32 / bf16 (2048^3), GFLOP/s", "matmul_peak", ("fp32.gflops", "bf16.gflops"), "{:.0f}"),
    ("training, paper recipe as first built (fp32, random batches): min per C1-Q1 epoch", "training",
     ("paper_fp32.minutes_per_epoch",), "{:.1f}"),
    ("training, default recipe: examples/s", "training", ("default.examples_per_s",), "{:.2f}"),
    ("training, default recipe: speedup over the paper recipe", "training", ("speedup",), "{:.2f}x"),
    ("training, default recipe: min per C1-Q1 epoch (6,892 rows)", "training", ("minutes_per_epoch",), "{:.1f}"),
    ("cold start, first run ever (GGUF converted and cached): Simulator() s", "cold_start",
     ("empty_cache.simulator_s",), "{:.2f}"),
    ("cold start: imports / survey data s", "cold_start", ("cached.import_s", "cached.data_s"), "{:.2f}"),
    ("cold start: Simulator() s", "cold_start", ("cached.simulator_s",), "{:.2f}"),
    ("cold start: process start to six countries simulated s", "cold_start", ("cached.first_compare_s",), "{:.2f}"),
    ("cold start, Gemma 3 270M: Simulator() s cached / first run ever", "cold_start",
     ("gemma3_270m.cached.simulator_s", "gemma3_270m.empty_cache.simulator_s"), "{:.2f}"),
    ("C1-Q2 sweep, 1,586 prompts, fp32 / bf16 / bf16 compiled (`--compile`) s", "c1q2_sweep",
     ("float32.predict_s", "bfloat16.predict_s", "bfloat16+compile.predict_s"), "{:.1f}"),
    ("C1-Q2 sweep, fastest s", "c1q2_sweep", ("fastest.projected_full_s",), "{:.1f}"),
    ("bf16 vs fp32 answer shares, 128 C1-Q2 rows: mean / max abs diff", "scoring_bf16",
     ("bf16_weights.mean_abs_diff_vs_fp32", "bf16_weights.max_abs_diff_vs_fp32"), "{:.4f}"),
    ("bf16 vs fp32 mean 1-JSD vs real", "scoring_bf16", ("bf16_weights.mean_1jsd_paper", "fp32.mean_1jsd_paper"),
     "{:.4f}"),
    ("Ask the world, page example: s per 65 countries (app's dtype)", "ask_the_world",
     ("app_example.predict_s_per_65_countries",), "{:.2f}"),
    ("Ask the world, 10-point question: s per 65 countries", "ask_the_world",
     ("long_question.predict_s_per_65_countries",), "{:.2f}"),
    ("scorer fp32 vs naive loop", "scoring", ("speedup_vs_naive",), "{:.2f}x"),
    ("scorer fp32: share of the bf16 bound", "scoring", ("project.pct_of_bf16_peak",), "{:.1f}%"),
    ("scorer bf16 vs the naive fp32 loop", "scoring_bf16", ("bf16_weights.speedup_vs_naive",), "{:.2f}x"),
    ("scorer bf16: share of the bf16 bound", "scoring_bf16", ("bf16_weights.pct_of_bf16_peak",), "{:.1f}%"),
    ("GPU: scorer prompts/s / training examples/s", "gpu", ("scoring.prompts_per_s", "training.examples_per_s"),
     "{:.1f}"),
]


def readme_rows(doc: dict) -> list[list[str]]:
    """[what, measured, target, met] for the README, from one results document."""
    sections = doc.get("sections", {})
    targets = {(t["section"], t["metric"]): t for t in doc.get("targets", [])}
    rows = []
    for label, section, paths, pattern in README_ROWS:
        result = sections.get(section, {})
        if result.get("status") == "skipped":
            rows.append([label, f"unmeasured ({result.get('reason', 'skipped')})", "", ""])
            continue
        values = [lookup(result, path) for path in paths]
        reason = lookup(result, paths[0].split(".")[0] + ".reason")  # e.g. a model that is not installed
        if reason and all(value is None for value in values):
            rows.append([label, f"unmeasured ({reason})", "", ""])
            continue
        measured = " / ".join(fmt(value, pattern) for value in values)
        target = targets.get((section, paths[0]))
        met = "" if target is None else {True: "yes", False: "**no**", None: "-"}[target["met"]]
        rows.append([label, measured, target["target"] if target else "", met])
    return rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [list(header)] + [[str(c).replace("|", "\\|") for c in row] for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in header) + "|")
    return "\n".join(lines)


def busy_warning(doc: dict) -> str | None:
    """A warning when the 1-minute load average went above the core count during the run: other
    work was competing for the cores, so the timings are low and noisy."""
    cores = doc.get("machine", {}).get("usable_cores") or doc.get("machine", {}).get("cpu_count") or 1
    loads = [x for r in doc.get("sections", {}).values() for x in (r.get("load_average_1min") or []) if x is not None]
    loads += (doc.get("machine", {}).get("load_average_at_start") or [])[:1]
    if not loads or max(loads) <= cores:
        return None
    return (f"Warning: the machine was busy (1-minute load average up to {max(loads):.1f} on {cores} cores); "
            "timings are lower and noisier than on an idle machine.")


def render(doc: dict) -> str:
    machine = doc.get("machine", {})
    title = (f"{machine.get('cpu_model', '?')}, {machine.get('usable_cores', '?')} cores, torch "
             f"{machine.get('torch', '?')} ({machine.get('torch_num_threads', '?')} threads)"
             + (f", CUDA {machine['cuda_device']}" if machine.get("cuda_device") else ""))
    warning = busy_warning(doc)
    return "\n\n".join([
        f"**{title}**{' (quick)' if doc.get('quick') else ''}" + (f"\n\n{warning}" if warning else ""),
        markdown_table(["section", "metric", "value", "target", "met"], headline_rows(doc)),
        markdown_table(["section", "status", "wall s", "peak RSS MB"], section_rows(doc)),
    ])
