"""Fine-tuning on a tiny random Llama: the loss goes down, the adapter is standard peft."""
import itertools
import json
import os
import re
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file

from survey_sim.methods import Context
from survey_sim.metrics import one_minus_jsd
from survey_sim.models import load_model
from survey_sim.simulator import Simulator
from survey_sim.training import TrainConfig
from survey_sim.training.run import train
from survey_sim.training.status import read_status
from survey_sim.scoring import letter_token_ids, option_logits
from survey_sim.training.trainer import Collator, DistributionDataset
from tiny import make_item, make_llama, make_tokenizer, save_tiny_model

ITEMS = [make_item(group=g, k=k, question=f"Question {k}?", distribution=d) for g, k, d in [
    ("Peru", 3, [0.8, 0.15, 0.05]), ("Chile", 3, [0.1, 0.2, 0.7]),
    ("Peru", 4, [0.05, 0.05, 0.1, 0.8]), ("Chile", 2, [0.9, 0.1])]]

# Two countries that answer two questions in opposite ways: what the shift objective must learn.
SHIFT_ITEMS = [make_item(group=g, k=k, question=f"Question {k}?", distribution=d) for g, k, d in [
    ("Peru", 3, [0.8, 0.15, 0.05]), ("Chile", 3, [0.05, 0.15, 0.8]),
    ("Peru", 4, [0.05, 0.05, 0.1, 0.8]), ("Chile", 4, [0.8, 0.1, 0.05, 0.05])]]


def mean_similarity(model, tokenizer, items) -> float:
    predictions = Simulator.from_model(model.eval(), tokenizer).predict(items)
    return float(np.mean([one_minus_jsd(it.distribution, p) for it, p in zip(items, predictions, strict=True)]))


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def test_a_few_steps_fit_the_training_items_and_save_a_peft_adapter(tiny_dir, tmp_path):
    base, tokenizer = load_model(tiny_dir)
    before = mean_similarity(base, tokenizer, ITEMS)
    config = TrainConfig(name="tiny", model=tiny_dir, max_steps=12, epochs=1, batch_size=4, learning_rate=3e-2,
                         lora_dropout=0.0, compile=False)
    status = tmp_path / "status.json"
    result = train(config, status_path=status, items=(ITEMS, ITEMS), adapters_root=tmp_path / "adapters",
                   runs_root=tmp_path / "runs")
    adapter = Path(result["adapter"])
    assert (adapter / "adapter_model.safetensors").exists()
    tuned = PeftModel.from_pretrained(load_model(tiny_dir)[0], adapter)  # stock peft loading
    after = mean_similarity(tuned, tokenizer, ITEMS)
    assert after > before + 0.05, (before, after)
    metadata = json.loads((adapter / "survey_sim.json").read_text())
    assert metadata["config"]["lora_r"] == 8 and metadata["loss"] == "kl"
    assert read_status(status)["state"] == "done"
    assert read_status(status)["data"] == {"train_rows": len(ITEMS), "train_groups": len({it.group for it in ITEMS}),
                                           "valid_rows": len(ITEMS), "excluded": []}
    assert result["best"]["eval_1-jsd_paper"] >= max(h["eval_1-jsd_paper"] for h in result["validation_history"])


def test_validation_sample_during_training_and_all_items_at_the_end(tiny_dir, tmp_path):
    valid = [make_item(group=f"Country {i}", k=3, question="Question 3?", distribution=[0.2, 0.3, 0.5])
             for i in range(5)]
    config = TrainConfig(name="tiny-sampled", model=tiny_dir, max_steps=2, batch_size=2, max_valid_items=2,
                         eval_steps=1, lora_dropout=0.0, compile=False)
    result = train(config, items=(ITEMS, valid), adapters_root=tmp_path / "adapters", runs_root=tmp_path / "runs")
    assert (result["valid_items"], result["final_valid_items"]) == (2, 5)
    assert len(result["validation_history"]) == 2
    assert 0 < result["final_validation"]["final_valid_1-jsd_paper"] <= 1
    assert result["dtype"] in ("float32", "bfloat16") and result["attention"] in ("eager", "sdpa")


def test_training_arguments_group_batches_by_length_unless_told_not_to(tmp_path):
    from survey_sim.training.run import training_arguments

    grouped = training_arguments(TrainConfig(), tmp_path, has_validation=False)
    plain = training_arguments(TrainConfig(group_by_length=False), tmp_path, has_validation=False)
    assert (grouped.train_sampling_strategy, plain.train_sampling_strategy) == ("group_by_length", "random")


def test_each_option_reaches_the_trainer_and_lora_config_by_its_own_name(tmp_path):
    from dataclasses import fields

    from peft import LoraConfig

    from survey_sim.training.run import training_arguments

    config = TrainConfig(learning_rate=3e-4, weight_decay=0.1, batch_size=4, grad_accum=2, epochs=2.0, seed=7)
    arguments = training_arguments(config, tmp_path, has_validation=True)
    assert {name: getattr(arguments, name) for name in config.trainer_arguments()} == config.trainer_arguments()
    assert config.trainer_arguments()["weight_decay"] == 0.1 and arguments.per_device_train_batch_size == 4
    lora = LoraConfig(**config.lora_arguments())
    assert (lora.r, lora.lora_alpha, lora.lora_dropout) == (8, 32, 0.05)
    assert sorted(lora.target_modules) == ["q_proj", "v_proj"]
    assert all(f.metadata["help"] and f.metadata["label"] for f in fields(TrainConfig))  # --help and the form


def test_bf16_training_on_cpu_uses_eager_attention_and_float32_lora(tiny_dir):
    from peft import LoraConfig, get_peft_model

    from survey_sim.training.run import use_fast_attention

    model, _ = load_model(tiny_dir, device="cpu", dtype="bfloat16")
    assert use_fast_attention(model) == "eager"
    model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    assert {p.dtype for p in model.parameters() if p.requires_grad} == {torch.float32}  # peft keeps LoRA in fp32
    fp32, _ = load_model(tiny_dir, device="cpu", dtype="float32")
    before = fp32.config._attn_implementation
    assert use_fast_attention(fp32) == before  # float32 keeps the library's choice


def literal_similarity(model, tokenizer, items) -> float:
    """Mean 1-JSD of the model's distribution over each item's own letters, on its literal prompt."""
    batch = Collator(tokenizer.pad_token_id)(list(DistributionDataset(items, tokenizer, paper_literal=True)))
    with torch.no_grad():
        logits = option_logits(model.eval(), batch["input_ids"], batch["attention_mask"], batch["letter_ids"])
    return float(np.mean([one_minus_jsd(it.distribution, torch.softmax(row[:it.n_options], -1).numpy())
                          for it, row in zip(items, logits.double(), strict=True)]))


def test_paper_literal_training_learns_the_files_letters(tiny_dir, tmp_path):
    base, tokenizer = load_model(tiny_dir)
    items = [replace(ITEMS[0], source_letters="XAB"), replace(ITEMS[1], source_letters="ABX")]
    before = literal_similarity(base, tokenizer, items)
    config = TrainConfig(name="tiny-literal", model=tiny_dir, max_steps=12, epochs=1, batch_size=2,
                         learning_rate=3e-2, lora_dropout=0.0, paper_literal=True, compile=False)
    result = train(config, items=(items, []), adapters_root=tmp_path / "adapters", runs_root=tmp_path / "runs")
    tuned = PeftModel.from_pretrained(load_model(tiny_dir)[0], Path(result["adapter"]))
    assert literal_similarity(tuned, tokenizer, items) > before + 0.05
    assert result["config"]["paper_literal"] is True


def test_collator_left_pads_and_masks():
    batch = Collator(pad_id=0)([{"input_ids": [5, 6, 7], "target": [0.5, 0.5], "letter_ids": [40, 41]},
                                {"input_ids": [8], "target": [0.2, 0.3, 0.5], "letter_ids": [63, 40, 41]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [0, 0, 8]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert batch["mask"].tolist() == [[True, True, False], [True, True, True]]
    assert torch.allclose(batch["target"], torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]))
    assert batch["letter_ids"].tolist() == [[40, 41, 0], [63, 40, 41]]


def test_paper_literal_examples_use_the_files_prompt_and_letters():
    tokenizer = make_tokenizer()
    item = replace(ITEMS[0], source_letters="XAB")   # code 0 ("X") first, as `wvs` orders it
    letter = dict(zip("ABX", letter_token_ids(tokenizer, 24)[:2] + [letter_token_ids(tokenizer, 24)[23]], strict=True))
    literal = DistributionDataset([item], tokenizer, paper_literal=True)[0]
    default = DistributionDataset([item], tokenizer)[0]
    assert literal["letter_ids"] == [letter["X"], letter["A"], letter["B"]]
    assert default["letter_ids"] == [letter["A"], letter["B"], letter_token_ids(tokenizer, 3)[2]]
    literal_text = tokenizer.decode(literal["input_ids"])
    assert literal_text.endswith("Here are the options: \n If had to select one of the options, my answer would be (")
    assert "(A)option 0" in tokenizer.decode(default["input_ids"]) and "(A)" not in literal_text


def test_per_row_letters_score_like_shared_letters():
    tokenizer, model = make_tokenizer(), make_llama(len(make_tokenizer()))
    encoded = tokenizer(["How would someone answer (", "Why ("], return_tensors="pt", padding=True)
    ids = letter_token_ids(tokenizer, 26)
    shared = option_logits(model, encoded["input_ids"], encoded["attention_mask"], ids[:3])
    per_row = option_logits(model, encoded["input_ids"], encoded["attention_mask"],
                            torch.tensor([[ids[2], ids[0], ids[1]], ids[:3]]))
    assert torch.allclose(per_row[0], shared[0][[2, 0, 1]], atol=1e-6)
    assert torch.allclose(per_row[1], shared[1], atol=1e-6)


def listed_options(tokenizer, input_ids) -> list[int]:
    """The option numbers in the order a prompt lists them ("(A)option 2, (B)option 0, ...")."""
    return [int(n) for n in re.findall(r"\([A-Z]\)option (\d)", tokenizer.decode(input_ids))]


def test_option_shuffling_keeps_options_shares_and_prior_together_and_is_shared_by_a_questions_rows():
    tokenizer = make_tokenizer()
    items = [ITEMS[2], replace(ITEMS[2], group="Chile", distribution=np.array([0.4, 0.3, 0.2, 0.1]))]
    priors = [np.array([0.1, 0.2, 0.3, 0.4])] * 2
    dataset = DistributionDataset(items, tokenizer, shuffle_options=True, seed=1, priors=priors)
    orders = []
    for epoch in range(4):
        dataset.epoch = epoch
        examples = [dataset[0], dataset[1]]
        order = listed_options(tokenizer, examples[0]["input_ids"])
        assert sorted(order) == [0, 1, 2, 3] and listed_options(tokenizer, examples[1]["input_ids"]) == order
        assert examples[0]["ref_input_ids"] == examples[1]["ref_input_ids"]  # one neutral prompt for both
        assert listed_options(tokenizer, examples[0]["ref_input_ids"]) == order
        for example, item in zip(examples, items, strict=True):
            np.testing.assert_allclose(example["target"], item.distribution[order])
            np.testing.assert_allclose(example["log_prior"], np.log(priors[0][order]))
        orders.append(order)
    assert len({tuple(o) for o in orders}) > 1  # a new order in some epoch


def test_collator_scores_each_neutral_prompt_once_after_the_rows():
    examples = [{"input_ids": [5, 6], "target": [0.5, 0.5], "letter_ids": [40, 41], "ref_input_ids": [9, 6],
                 "log_prior": [-0.7, -0.7]},
                {"input_ids": [7, 5, 6], "target": [0.2, 0.8], "letter_ids": [40, 41], "ref_input_ids": [9, 6],
                 "log_prior": [-1.6, -0.2]},
                {"input_ids": [8], "target": [0.2, 0.3, 0.5], "letter_ids": [40, 41, 42], "ref_input_ids": [9, 8],
                 "log_prior": [-1.0, -1.0, -1.2]}]
    batch = Collator(pad_id=0)(examples)
    assert batch["input_ids"].tolist() == [[0, 5, 6], [7, 5, 6], [0, 0, 8], [0, 9, 6], [0, 9, 8]]
    assert batch["ref_index"].tolist() == [0, 0, 1]
    assert batch["letter_ids"].tolist() == [[40, 41, 0], [40, 41, 0], [40, 41, 42], [40, 41, 0], [40, 41, 42]]
    assert batch["log_prior"].shape == batch["target"].shape == batch["mask"].shape == (3, 3)


def test_shift_objective_is_the_shift_methods_prediction():
    from survey_sim.methods import METHODS, Context
    from survey_sim.training.run import left_out_priors
    from survey_sim.training.shift import shift_logits

    tokenizer, model = make_tokenizer(), make_llama(len(make_tokenizer())).eval()
    items = [*SHIFT_ITEMS, make_item(group="Peru", k=2, question="Only Peru?", distribution=[0.6, 0.4])]
    priors = left_out_priors(items)
    np.testing.assert_allclose(priors[0], SHIFT_ITEMS[1].distribution)  # Peru's prior: Chile, the other country
    batch = Collator(tokenizer.pad_token_id)(list(DistributionDataset(items, tokenizer, priors=priors)))
    assert batch["input_ids"].shape[0] == len(items) + 3  # three questions: three neutral prompts
    with torch.no_grad():
        logits = option_logits(model, batch["input_ids"], batch["attention_mask"], batch["letter_ids"])
        trained = torch.softmax(shift_logits(logits, batch["ref_index"], batch["log_prior"], batch["mask"], 0.7)
                                .masked_fill(~batch["mask"], float("-inf")), -1)
    predicted = METHODS["shift"].run(items, Context(train=items, params={"s": 0.7},
                                                    load_simulator=lambda: Simulator.from_model(model, tokenizer)))
    for row, prediction in enumerate(predicted):
        np.testing.assert_allclose(trained[row, :len(prediction)].numpy(), prediction, atol=1e-5)


def test_question_grouped_batches_hold_chunks_of_one_question_in_length_order():
    from survey_sim.training.shift import QuestionGroupedSampler

    keys = [f"Q{row % 3}" for row in range(30)]  # three questions, ten rows each
    sampler = QuestionGroupedSampler(keys, lengths=[10 + row % 3 for row in range(30)], batch_size=8)
    torch.manual_seed(0)
    order = list(sampler)
    assert sorted(order) == list(range(30)) and len(sampler) == 30
    runs = [len(list(rows)) for _, rows in itertools.groupby(order, key=keys.__getitem__)]
    assert len(runs) <= 9 and max(runs) <= 10  # at most 3 chunks (4 + 4 + 2) a question
    torch.manual_seed(0)
    assert list(sampler) == order  # the Trainer's seed decides it


def test_training_through_the_shift_objective_fits_the_method_and_validates_it(tiny_dir, tmp_path):
    base, tokenizer = load_model(tiny_dir)
    context = Context(train=SHIFT_ITEMS, load_simulator=lambda: Simulator.from_model(base.eval(), tokenizer))
    before = mean_shift_similarity(context)
    config = TrainConfig(name="tiny-shift", model=tiny_dir, max_steps=12, batch_size=4, learning_rate=3e-2,
                         lora_dropout=0.0, compile=False, objective="shift", dtype="float32")
    result = train(config, items=(SHIFT_ITEMS, SHIFT_ITEMS), adapters_root=tmp_path / "adapters",
                   runs_root=tmp_path / "runs")
    tuned = PeftModel.from_pretrained(load_model(tiny_dir)[0], Path(result["adapter"])).eval()
    context = Context(train=SHIFT_ITEMS, load_simulator=lambda: Simulator.from_model(tuned, tokenizer))
    after = mean_shift_similarity(context)
    assert after > before + 0.05, (before, after)
    assert result["objective"] == "shift" and result["config"]["shift_scale"] == 1.0
    assert result["best"]["eval_1-jsd"] == pytest.approx(after, abs=1e-4)  # validated through the method


def mean_shift_similarity(context) -> float:
    from survey_sim.methods import METHODS

    predictions = METHODS["shift"].run(SHIFT_ITEMS, context)
    return float(np.mean([one_minus_jsd(it.distribution, p) for it, p in zip(SHIFT_ITEMS, predictions, strict=True)]))


@pytest.mark.parametrize("values, fragment", [
    ({"loss": "mse"}, "loss='mse'"), ({"lora_r": 0}, "lora_r"), ({"lora_dropout": 1.5}, "lora_dropout"),
    ({"epochs": 0, "max_steps": -1}, "epochs"), ({"learning_rate": 0}, "learning_rate"),
    ({"dtype": "float64"}, "dtype='float64'"), ({"max_valid_items": 0}, "max_valid_items"),
    ({"exclude_groups": "ARG"}, "exclude_groups='ARG': expected a list of str"),
    ({"lora_r": True}, "lora_r=True: expected int"), ({"compile": 1}, "compile=1: expected bool"),
    ({"lang": "fr"}, "lang='fr': choose one of 'en', 'zh', or None"), ({"epochs": "3"}, "epochs='3': expected float"),
])
def test_bad_config_names_the_field(values, fragment):
    with pytest.raises(ValueError, match=fragment):
        TrainConfig(**values)


def test_config_choices_name_exactly_what_the_registries_hold():
    from survey_sim.losses import LOSSES
    from survey_sim.models import DTYPES
    from typing import get_args

    from survey_sim.training.config import DtypeName, LossName

    assert sorted(get_args(LossName)) == sorted(LOSSES)
    assert sorted(get_args(DtypeName)) == sorted(["auto", *DTYPES])


def test_unknown_config_key_is_an_error():
    with pytest.raises(ValueError, match="unknown training option"):
        TrainConfig.from_dict({"learning_rat": 1e-4})
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()


DDP_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from survey_sim.training import TrainConfig
from survey_sim.training.run import train
from test_training import ITEMS
config = TrainConfig(name="ddp", model={model!r}, max_steps=2, batch_size=2, lora_dropout=0.0, compile=False)
result = train(config, items=(ITEMS, ITEMS[:2]), adapters_root={out!r} + "/adapters", runs_root={out!r} + "/runs")
# one write per process: the two ranks finish together, and print's separate pieces interleave
print(f"WORLD {{__import__('torch').distributed.get_world_size() if __import__('torch').distributed.is_initialized() else 1}}", flush=True)
"""


@pytest.mark.integration
def test_two_process_cpu_training_with_gloo(tiny_dir, tmp_path):
    """`accelerate launch --multi_gpu --num_processes 2` on a CPU-only machine runs the same train() with DDP over gloo."""
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT.format(tests=str(Path(__file__).parent), model=tiny_dir, out=str(tmp_path)))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2", "--multi_gpu",
                          "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", str(script)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("WORLD 2") == 2
    assert (tmp_path / "adapters" / "ddp" / "adapter_model.safetensors").exists()


def test_fast_dropout_drops_p_of_the_elements_and_keeps_the_mean():
    from survey_sim.training.dropout import FastDropout

    torch.manual_seed(0)
    dropout = FastDropout(0.05).train()
    x = torch.ones(400, 500, requires_grad=True)
    y = dropout(x)
    assert abs(float((y == 0).float().mean()) - 0.05) < 0.003
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.95))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # the gradient is the same mask, scaled
    assert dropout.eval()(x) is x


def test_fast_dropout_repeats_under_the_same_seed_and_draws_a_new_mask_each_call():
    from survey_sim.training.dropout import FastDropout

    def draw(seed):
        torch.manual_seed(seed)
        dropout = FastDropout(0.5).train()
        return dropout(torch.ones(1000)), dropout(torch.ones(1000))

    first, second = draw(3)
    assert all(torch.equal(a, b) for a, b in zip(draw(3), (first, second), strict=True))
    assert not torch.equal(first, second) and not torch.equal(draw(4)[0], first)


@pytest.mark.integration  # runs inductor and the system's C++ compiler: 7-11 s
def test_compiled_blocks_train_like_eager_ones(tiny_dir, tmp_path):
    """Same seed, same batches, same dropout masks: compiled and eager training agree."""
    from survey_sim.compiled import compiler_missing

    if compiler_missing(torch.device("cpu")):
        pytest.skip(compiler_missing(torch.device("cpu")))
    results = {}
    for compiled in (False, True):
        config = TrainConfig(name=f"tiny-compiled-{compiled}", model=tiny_dir, max_steps=4, batch_size=2,
                             learning_rate=3e-2, dtype="float32", compile=compiled)
        results[compiled] = train(config, items=(ITEMS, ITEMS), adapters_root=tmp_path / "adapters",
                                  runs_root=tmp_path / "runs")
    assert (results[False]["compiled_blocks"], results[True]["compiled_blocks"]) == (0, 2)
    weights = {compiled: load_file(Path(r["adapter"]) / "adapter_model.safetensors") for compiled, r in results.items()}
    assert weights[True].keys() == weights[False].keys() and weights[True]
    for name, eager_weight in weights[False].items():
        assert torch.allclose(weights[True][name], eager_weight, atol=1e-4), name
    assert all(weights[False][name].abs().sum() > 0 for name in weights[False] if "lora_B" in name)  # B starts at 0


def test_every_lora_dropout_is_swapped_for_the_fast_one(tiny_dir):
    from peft import LoraConfig, get_peft_model

    from survey_sim.training.dropout import FastDropout, use_fast_lora_dropout

    model, _ = load_model(tiny_dir, device="cpu")
    model = get_peft_model(model, LoraConfig(r=2, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
                                             task_type="CAUSAL_LM"))
    assert use_fast_lora_dropout(model) == 2 * model.config.num_hidden_layers
    lora_dropouts = [d for m in model.modules() if isinstance(getattr(m, "lora_dropout", None), torch.nn.ModuleDict)
                     for d in m.lora_dropout.values()]
    assert len(lora_dropouts) == 2 * model.config.num_hidden_layers
    assert all(isinstance(d, FastDropout) for d in lora_dropouts)
    assert {d.p for d in lora_dropouts} == {0.05}


def test_dsa_loss_asks_only_for_the_shift_a_constant_letter_bias_costs_nothing():
    from survey_sim.losses import get_loss
    from survey_sim.training.dsa import dsa_loss

    human = torch.tensor([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.5, 0.5, 0.0]])
    mask = torch.tensor([[True] * 3] * 3 + [[True, True, False]])
    question = torch.tensor([0, 0, 0, 1])  # three countries of one question, one row of another
    biased = torch.log(human.clamp_min(1e-12)) + torch.tensor([2.0, 0.0, -1.0])  # the model's shifts are right
    kl = get_loss("kl")
    assert kl(biased, human, mask) > 0.1  # its absolute answers are not
    assert dsa_loss(biased, human, mask, question, kl, kl_weight=0.0).item() == pytest.approx(0, abs=1e-6)
    assert dsa_loss(biased, human, mask, question, kl, kl_weight=2.0) == pytest.approx(2 * kl(biased, human, mask))
    wrong = biased.clone()
    wrong[1] = wrong[1].flip(0)  # the second country moved the other way
    assert dsa_loss(wrong, human, mask, question, kl, kl_weight=0.0) > 0.1
    alone = torch.tensor([0, 1, 2, 3])  # no pairs in the batch: the regulariser alone
    assert dsa_loss(wrong, human, mask, alone, kl, kl_weight=0.5) == pytest.approx(0.5 * kl(wrong, human, mask))


def test_dsa_second_stage_trains_only_the_top_block_and_loads_over_its_first_stage(tiny_dir, tmp_path):
    from survey_sim.adapters import list_adapters, load_adapter

    roots = {"adapters_root": tmp_path / "adapters", "runs_root": tmp_path / "runs"}
    first = TrainConfig(name="stage1", model=tiny_dir, max_steps=4, batch_size=4, learning_rate=3e-2,
                        lora_dropout=0.0, compile=False, dtype="float32")
    train(first, items=(SHIFT_ITEMS, []), **roots)
    second = replace(first, name="stage2", stage2="dsa", init_adapter="stage1", max_steps=6)
    result = train(second, items=(SHIFT_ITEMS, SHIFT_ITEMS), **roots)
    adapter = Path(result["adapter"])
    weights = load_file(adapter / "adapter_model.safetensors")
    assert weights and all(".layers.1." in key for key in weights)  # the top block of two, every linear layer
    assert {key.split(".")[-3] for key in weights} >= {"q_proj", "o_proj", "down_proj"}
    assert (adapter / "first_stage" / "adapter_model.safetensors").is_file()
    assert result["first_stage"]["name"] == "stage1"
    tuned = load_adapter(load_model(tiny_dir)[0], adapter)  # the first stage merged, then the second
    assert result["best"]["eval_1-jsd"] == pytest.approx(mean_similarity_plain(tuned, load_model(tiny_dir)[1]),
                                                         abs=1e-4)
    # the first stage can leak nothing this run holds out, and is checked like the adapter itself
    with pytest.raises(ValueError, match="was trained on Peru, which this run holds out"):
        train(replace(second, name="leaky", exclude_groups=["Peru"]), items=(SHIFT_ITEMS[1::2], []), **roots)
    (adapter / "first_stage" / "adapter_model.safetensors").write_bytes(b"broken")
    broken = {e["name"]: e["error"] for e in list_adapters(roots["adapters_root"], include_invalid=True)}
    assert broken["stage2"].startswith("its first stage (first_stage/): unreadable weights")


def mean_similarity_plain(model, tokenizer) -> float:
    predictions = Simulator.from_model(model.eval(), tokenizer).predict(SHIFT_ITEMS)
    return float(np.mean([one_minus_jsd(it.distribution, p) for it, p in zip(SHIFT_ITEMS, predictions, strict=True)]))


def test_progress_is_reported_at_every_step_not_only_at_logging_steps(tiny_dir, tmp_path):
    records = []
    config = TrainConfig(name="tiny-progress", model=tiny_dir, max_steps=3, batch_size=2, lora_dropout=0.0,
                         compile=False, max_valid_items=2)
    train(config, items=(ITEMS, ITEMS[:2]), adapters_root=tmp_path / "adapters", runs_root=tmp_path / "runs",
          progress=records.append, status_path=tmp_path / "status.json")
    assert {1, 2, 3} <= {record["step"] for record in records}  # logging runs every 5 steps
    assert all(record["eta_s"] is not None for record in records if record["step"])


def test_the_log_states_the_rows_and_the_groups_held_out(survey_root):
    from survey_sim.training.run import data_summary

    config = TrainConfig(name="fold-like", dataset="wvs_valid", train_split="C1-Q2", valid_dataset="wvs_valid",
                         exclude_groups=["JPN", "DEU"])
    train_items, valid_items = config.items(survey_root)
    summary = data_summary(config, train_items, valid_items)
    assert summary["excluded"] == ["DEU", "JPN"] and summary["train_groups"] == 44  # 46 C1 countries, 2 held out
    assert summary["train_rows"] == len(train_items) and not {"JPN", "DEU"} & {it.iso3 for it in train_items}
