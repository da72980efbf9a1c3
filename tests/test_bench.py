"""The benchmark's pure helpers (FLOP counting, targets, the JSON check, tables) on a tiny model.

No timings are asserted: the numbers depend on the machine. Runs in a few seconds.
"""
import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks` from a fresh clone

from benchmarks import report, sections  # noqa: E402
from tiny import make_item, make_llama, make_tokenizer  # noqa: E402

CPUINFO = "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu avx2 fma avx512f avx512_bf16\n"


@pytest.fixture(scope="module")
def model():
    return make_llama(len(make_tokenizer()))


def test_count_params_leaves_out_the_embedding_and_an_untied_head(model):
    counts = report.count_params(model)
    vocab, hidden = model.config.vocab_size, model.config.hidden_size
    assert counts["embedding"] == counts["untied_head"] == counts["output_layer"] == vocab * hidden
    assert counts["nonembedding"] == counts["total"] - 2 * vocab * hidden
    layers = sum(p.numel() for p in model.model.layers.parameters()) + model.model.norm.weight.numel()
    assert counts["nonembedding"] == layers


def test_count_params_counts_a_tied_head_once():
    tied = make_llama(len(make_tokenizer()))
    tied.lm_head.weight = tied.model.embed_tokens.weight
    counts = report.count_params(tied)
    assert counts["untied_head"] == 0
    assert counts["total"] == counts["nonembedding"] + counts["embedding"]


def test_padded_batches_sort_by_length_like_the_scorer():
    assert report.padded_batches([5, 1, 3, 2, 4], 2) == [(2, 2), (2, 4), (1, 5)]
    assert report.padded_tokens(report.padded_batches([5, 1, 3, 2, 4], 2)) == 4 + 8 + 5


def test_forward_flops_is_dense_plus_attention(model):
    shape = sections.model_shape(model)
    assert shape["n_layers"] == 2 and shape["attention_width"] == 32
    n = shape["nonembedding"]
    assert report.forward_flops(n, [(2, 10)], 2, 32) == 2 * n * 20 + 4 * 2 * 32 * 2 * 100
    # The naive loop also runs the whole output layer at every position.
    assert sections.naive_flops(shape, [10]) == report.forward_flops(n + shape["output_layer"], [(1, 10)], 2, 32)
    assert sections.scorer_flops(shape, [3, 10], 16) == report.forward_flops(n, [(2, 10)], 2, 32)
    assert report.training_flops(n, 100) == 6 * n * 100


def test_naive_and_project_scorers_agree_on_a_tiny_model(model):
    tokenizer = make_tokenizer()
    prompts = [f"Question {i} about life? Options: (A) yes, (B) no, (C) maybe. Answer: (" for i in range(5)]
    ks = [3, 2, 3, 3, 2]
    naive = sections.naive_scores(model, tokenizer, prompts, ks)
    project = sections.project_scores(model, tokenizer, prompts, ks, batch_size=2)
    assert sections.max_abs_diff(naive, project) < 1e-5
    assert [len(d) for d in naive] == ks


def test_peak_percentages_and_targets():
    results = {
        "matmul_peak": {"status": "ok", "fp32": {"gflops": 100.0}, "bf16": {"gflops": 200.0}},
        "scoring": {"status": "ok", "speedup_vs_naive": 2.0, "project": {"gflops_achieved": 50.0},
                    "variants": {"a": {"gflops_achieved": 150.0}}},
        "training": {"status": "error", "error": "boom"},
    }
    report.add_peak_percentages(results)
    assert results["scoring"]["project"] == {"gflops_achieved": 50.0, "pct_of_fp32_peak": 50.0, "pct_of_bf16_peak": 25.0}
    assert results["scoring"]["variants"]["a"]["pct_of_bf16_peak"] == 75.0
    checks = {(c["section"], c["metric"]): c for c in report.evaluate_targets(results)}
    assert checks[("scoring", "speedup_vs_naive")]["met"] is False
    assert checks[("scoring", "project.pct_of_bf16_peak")]["met"] is False
    assert checks[("training", "minutes_per_epoch")]["met"] is None  # did not run
    assert report.percent(5.0, None) is None


def test_machine_description_parts():
    assert report.cpu_model(CPUINFO) == "Test CPU 9000"
    assert report.cpu_flags(CPUINFO) == ["avx2", "fma", "avx512f", "avx512_bf16"]
    machine = report.machine_description()
    for key in report.REQUIRED_MACHINE:
        assert key in machine
    path = report.default_output_path(Path("r"), {"hostname": "my host/1"}, dt.date(2025, 1, 2), quick=True)
    assert path == Path("r/my-host-1-2025-01-02-quick.json")


def test_a_second_run_of_the_day_does_not_replace_the_first(tmp_path):
    name = lambda: report.default_output_path(tmp_path, {"hostname": "vm"}, dt.date(2025, 1, 2), quick=False)  # noqa: E731
    assert name() == tmp_path / "vm-2025-01-02.json"
    name().write_text("{}")
    assert name() == tmp_path / "vm-2025-01-02-2.json"
    name().write_text("{}")
    assert name() == tmp_path / "vm-2025-01-02-3.json"


def _document(sections_results):
    return {"schema_version": report.SCHEMA_VERSION, "created": "2025-01-02T03:04:05", "quick": True, "argv": [],
            "machine": {"cpu_model": "x", "cpu_count": 2, "torch": "2", "torch_num_threads": 2, "cuda_device": None},
            "settings": {}, "formulas": report.FORMULAS, "sections": sections_results,
            "targets": report.evaluate_targets(sections_results)}


def test_validate_accepts_a_complete_document_and_names_what_is_missing():
    ok = {"status": "ok", "wall_s": 1.0, "peak_rss_mb": 10.0, "n_countries": 65, "predict_s_per_65_countries": 2.0}
    assert report.validate(_document({"ask_the_world": ok})) == []
    broken = _document({"ask_the_world": {"status": "maybe"}})
    del broken["machine"]["torch"], broken["targets"]
    problems = report.validate(broken)
    assert "targets: missing or not a list" in problems
    assert "machine.torch: missing" in problems
    assert "sections.ask_the_world.wall_s: missing" in problems
    assert any("status" in p for p in problems)


def test_tables_show_headlines_targets_and_errors():
    results = {"ask_the_world": {"status": "ok", "wall_s": 3.5, "peak_rss_mb": 812.4, "app_dtype": "bfloat16",
                                 "long_question": {"n_countries": 89, "float32": {"predict_s": 9.0, "cached_s": 0.01},
                                                   "bfloat16": {"predict_s": 5.0}, "predict_s_per_65_countries": 3.65}},
               "training": {"status": "error", "error": "Traceback ...\nRuntimeError: no|steps", "wall_s": 1.0,
                            "peak_rss_mb": 5.0}}
    text = report.render(_document(results))
    assert "| ask_the_world | 10-point question: s per 65 countries, app's dtype | 3.65 | <= 3 s | **no** |" in text
    assert "| ask_the_world | 10-point question: bf16 s (cold) | 5.00 |  |  |" in text
    assert "| ask_the_world | ok | 3.5 | 812 |" in text
    assert "error: RuntimeError: no\\|steps" in text  # a "|" in a message does not break the table
    assert "minutes_per_epoch" not in text  # the failed section has no headline rows
    assert report.markdown_table(["a", "b"], [[1, 2]]) == "| a | b |\n|---|---|\n| 1 | 2 |"
    assert "busy" not in text


def test_busy_machine_is_flagged():
    doc = _document({"scoring": {"status": "ok", "wall_s": 1.0, "peak_rss_mb": 1.0, "load_average_1min": [1.5, 4.2]}})
    doc["machine"]["usable_cores"] = 2
    assert "load average up to 4.2 on 2 cores" in report.busy_warning(doc)
    assert "machine was busy" in report.render(doc)
    doc["sections"]["scoring"]["load_average_1min"] = [0.5, 1.9]
    assert report.busy_warning(doc) is None


def test_one_question_is_asked_of_every_country_with_an_iso_code():
    from benchmarks import bench

    data = bench.SurveyData(None)
    question = replace(make_item(group="Peru", k=3), iso3="PER", distribution=[0.5, 0.3, 0.2])
    data.__dict__["wvs"] = [question, replace(make_item(group="Chile"), iso3="CHL"),
                            replace(make_item(group="Peru", k=2), iso3="PER"), make_item(group="Democrats")]
    data.__dict__["c1q2"] = [question]
    items = data.one_question_everywhere()
    assert [(it.group, it.iso3) for it in items] == [("Chile", "CHL"), ("Peru", "PER")]
    assert all(it.question == question.question and it.n_options == 3 for it in items)
    assert items[0].distribution.tolist() == pytest.approx([1 / 3] * 3)


def test_cli_knows_every_section():
    from benchmarks import bench

    assert bench.parse_args([]).only == list(sections.SECTIONS)
    assert bench.parse_args(["--quick", "--only", "scoring", "training"]).only == ["scoring", "training"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "nonsense"])


def test_epoch_tokens_follow_the_samplers_order():
    lengths = [10, 2, 9, 3, 8, 1]
    assert report.batch_shapes(lengths, [0, 1, 2, 3, 4, 5], 2) == [(2, 10), (2, 9), (2, 8)]
    assert report.batch_shapes(lengths, [0, 2, 4, 3, 1, 5], 2) == [(2, 10), (2, 8), (2, 2)]
    grouped = sections.epoch_order(lengths * 20, 4, grouped=True)
    random = sections.epoch_order(lengths * 20, 4, grouped=False)
    assert sorted(grouped) == sorted(random) == list(range(120))  # each row once per epoch
    tokens = {name: report.padded_tokens(report.batch_shapes(lengths * 20, order, 4))
              for name, order in (("grouped", grouped), ("random", random))}
    assert sum(lengths * 20) <= tokens["grouped"] < tokens["random"]


def test_gpu_section_is_skipped_not_failed_without_cuda(monkeypatch):
    monkeypatch.setattr(sections.torch.cuda, "is_available", lambda: False)
    result = sections.gpu("unused", [], [])
    assert result["status"] == "skipped" and "unmeasured" in result["reason"]
    doc = _document({"gpu": {**result, "wall_s": 0.0, "peak_rss_mb": 1.0}})
    assert report.validate(doc) == []
    assert "| gpu | skipped: no CUDA device" in report.render(doc)


def test_readme_table_joins_measurements_targets_and_unmeasured_sections():
    results = {"training": {"status": "ok", "wall_s": 1.0, "peak_rss_mb": 1.0, "minutes_per_epoch": 11.5,
                            "speedup": 3.9, "default": {"examples_per_s": 9.99}, "paper_fp32": {"minutes_per_epoch": 45.0}},
               "gpu": {"status": "skipped", "reason": "no CUDA device", "wall_s": 0.0, "peak_rss_mb": 1.0}}
    doc = _document(results)
    doc["targets"] = report.evaluate_targets(results)
    rows = {row[0]: row[1:] for row in report.readme_rows(doc)}
    assert rows["training, default recipe: min per C1-Q1 epoch (6,892 rows)"] == ["11.5", "<= 12 min", "yes"]
    assert rows["training, default recipe: speedup over the paper recipe"] == ["3.90x", "", ""]
    assert rows["GPU: scorer prompts/s / training examples/s"][0] == "unmeasured (no CUDA device)"
    assert rows["cold start: Simulator() s"] == ["-", "<= 3 s", "-"]  # did not run


def test_step_time_model_separates_a_fixed_cost_from_the_cost_per_token():
    fixed, per_token = report.step_time_model([1000, 2000, 3000], [0.3, 0.5, 0.7])
    assert fixed == pytest.approx(0.1) and per_token == pytest.approx(0.0002)
    assert report.step_time_model([100, 100], [1.0, 3.0]) == (0.0, 0.02)  # one size: the mean rate
    assert report.step_time_model([100, 200], [2.0, 1.0]) == (0.0, 0.01)  # a tilted line: the mean rate
    with pytest.raises(ValueError, match="at least two steps"):
        report.step_time_model([100], [1.0])
