"""`train(config)`: from a TrainConfig to a saved adapter, the one function the CLI, the app's
background jobs and `accelerate launch` all call."""
from __future__ import annotations

import random
import re
import time
import zipfile
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from peft.utils import CONFIG_NAME as ADAPTER_CONFIG, SAFETENSORS_WEIGHTS_NAME as ADAPTER_WEIGHTS
from transformers import TrainingArguments
from transformers.trainer import OPTIMIZER_NAME, SCHEDULER_NAME, TRAINER_STATE_NAME

from ..adapters import (adapter_path, adapters_dir, check_adapter, json_object, load_adapter, read_adapter,
                        save_adapter, weights_problem)
from ..failpoints import kill_point
from ..models import load_model
from ..paths import models_dir
from .config import TrainConfig
from ..compiled import compile_blocks
from .dropout import use_fast_lora_dropout
from .dsa import block_linear_layers, top_layers
from .status import write_status
from .trainer import (Collator, DistributionDataset, DistributionTrainer, EpochCallback, StatusCallback,
                      seed_everything)


def check_first_stage(config: TrainConfig, adapters_root=None) -> tuple[Path, dict]:
    """The folder and metadata of --init-adapter, checked: complete, on the same base model, and
    trained without any group this run holds out (else a held-out country would leak in through it)."""
    path = check_adapter(adapter_path(config.init_adapter, adapters_root))
    first = read_adapter(path)["metadata"]
    if first.get("first_stage"):
        raise ValueError(f"adapter {config.init_adapter!r} is itself a second stage; start from a first stage")
    if first.get("base_model") != config.model:
        raise ValueError(f"adapter {config.init_adapter!r} was trained on {first.get('base_model')!r}, "
                         f"this run on {config.model!r}")
    seen = sorted(set(config.exclude_groups) - set(first.get("config", {}).get("exclude_groups", [])))
    if seen:
        raise ValueError(f"adapter {config.init_adapter!r} was trained on {', '.join(seen)}, which this run "
                         "holds out: start from a first stage that held them out too")
    return path, first


def with_lora(model, config: TrainConfig, first_stage: Path | None = None):
    """The peft model to train: the config's LoRA on `model`; for --stage2 dsa, the first stage
    merged into `model` first and the new LoRA on every linear layer of the top blocks only."""
    arguments = config.lora_arguments()
    if first_stage is not None:
        model = load_adapter(model, first_stage).merge_and_unload()
        arguments.update(target_modules=block_linear_layers(model),
                         layers_to_transform=top_layers(model, config.stage2_layers))
    return get_peft_model(model, LoraConfig(**arguments, task_type="CAUSAL_LM"))


def left_out_priors(train_items: list) -> list:
    """Each training row's population prior without its own group (the mean of the other
    training countries' answers to its question), as an unseen country will get."""
    from ..baselines.model_free import population_prior
    from ..methods import Context

    return population_prior(train_items, Context(train=train_items))


def validation_sample(config: TrainConfig, valid_items: list) -> list:
    """The fixed seeded sample scored at each evaluation during training (all when small)."""
    if config.max_valid_items and len(valid_items) > config.max_valid_items:
        return random.Random(config.seed).sample(valid_items, config.max_valid_items)
    return list(valid_items)


def use_fast_attention(model) -> str:
    """Pick the attention kernel for training; returns its name for the metadata.

    Measured on a 2-core AMX CPU (README, "Performance"): in bfloat16 the backward pass of
    PyTorch's fused SDPA kernel took 0.66 s of a 2.1 s training step, while "eager" attention
    (plain batched matmuls) made the step 1.55 s; in float32 the two are within 10%.
    """
    weight = next(model.parameters())
    if weight.device.type == "cpu" and weight.dtype == torch.bfloat16:
        model.set_attn_implementation("eager")
    return model.config._attn_implementation


def training_arguments(config: TrainConfig, output_dir: Path, has_validation: bool) -> TrainingArguments:
    """transformers' TrainingArguments: the config's own (`TrainConfig.trainer_arguments`), those
    derived from it, and the recipe's fixed choices."""
    return TrainingArguments(
        **config.trainer_arguments(),
        output_dir=str(output_dir),
        per_device_eval_batch_size=max(config.batch_size, 16),
        lr_scheduler_type="constant",  # the paper: AdamW at a fixed 1e-4
        optim="adamw_torch",
        logging_steps=5,
        eval_strategy=("steps" if config.eval_steps else "epoch") if has_validation else "no",
        save_strategy="steps" if config.eval_steps else "epoch",
        eval_steps=config.eval_steps,
        save_steps=config.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=has_validation,
        metric_for_best_model="1-jsd_paper",
        greater_is_better=True,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        use_cpu=not torch.cuda.is_available(),  # lets bf16 autocast run on CPUs (transformers refuses it otherwise)
        data_seed=config.seed,
        remove_unused_columns=False,
        report_to="none",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def data_summary(config: TrainConfig, train_items: list, valid_items: list) -> dict:
    """What a run learns from, for its log and status file: a held-out country that leaked into
    training would show here."""
    return {"train_rows": len(train_items), "train_groups": len({it.group_key for it in train_items}),
            "valid_rows": len(valid_items), "excluded": sorted(config.exclude_groups)}


# What `Trainer` reads to resume a LoRA run: a damaged one fails the resume (every time it is tried).
CHECKPOINT_FILES = (TRAINER_STATE_NAME, ADAPTER_CONFIG, ADAPTER_WEIGHTS, OPTIMIZER_NAME, SCHEDULER_NAME)


def checkpoint_problem(folder: Path) -> str | None:
    """Why `folder` cannot be resumed from (a file missing, cut short or garbled), None if it can.
    torch's .pt files are zip archives with a CRC per member: `testzip` reads them without unpickling."""
    if missing := [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]:
        return f"missing {', '.join(missing)}"
    state, problem = json_object(folder / TRAINER_STATE_NAME)
    if problem or not isinstance(state.get("global_step"), int):
        return problem or f"{TRAINER_STATE_NAME}: no global_step"
    problem = json_object(folder / ADAPTER_CONFIG)[1] or weights_problem(folder / ADAPTER_WEIGHTS)
    if problem:
        return problem
    for path in [folder / OPTIMIZER_NAME, folder / SCHEDULER_NAME, *sorted(folder.glob("rng_state*.pth"))]:
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (OSError, zipfile.BadZipFile) as err:
            return f"unreadable {path.name}: {err}"
        if bad:
            return f"unreadable {path.name}: {bad} fails its checksum"
    return None


def resume_checkpoint(output_dir: Path) -> str | None:
    """The newest checkpoint under `output_dir` that `--resume` can use, None for none (train from
    step 0). A damaged one would fail every resume: it is moved aside (unreadable-checkpoint-N, kept
    for a look) and the one before is used; the log says which, and why."""
    from ..sharding import is_main_process

    found = [p for p in output_dir.glob("checkpoint-*") if re.fullmatch(r"checkpoint-\d+", p.name) and p.is_dir()]
    skipped = []
    for checkpoint in sorted(found, key=lambda p: int(p.name.split("-")[1]), reverse=True):
        problem = checkpoint_problem(checkpoint)
        if problem is None:
            print("; ".join(skipped) + (": " if skipped else "") + f"resuming from {checkpoint}", flush=True)
            return str(checkpoint)
        skipped.append(f"{checkpoint.name} is unreadable ({problem})")
        if is_main_process():  # under DDP the others find the same and leave the renaming to it
            checkpoint.rename(checkpoint.with_name(f"unreadable-{checkpoint.name}-{time.strftime('%Y%m%d-%H%M%S')}"))
    print("; ".join(skipped) + (": " if skipped else "") +
          f"no usable checkpoint under {output_dir}: starting from step 0", flush=True)
    return None


def train(config: TrainConfig, status_path: str | Path | None = None, progress=None, data_root=None,
          adapters_root: str | Path | None = None, runs_root: str | Path | None = None, resume: bool = False,
          items: tuple[list, list] | None = None) -> dict:
    """Fine-tune `config.model` with LoRA; save the best adapter under `adapters_root/config.name`.

    `items` = (train items, validation items) replaces the configured data sets (e.g. a user's
    own survey). `resume` continues from the run's newest usable checkpoint (`resume_checkpoint`).
    Returns the adapter's metadata (config, metrics per epoch, best validation).
    """
    seed_everything(config.seed)
    if status_path:
        write_status(status_path, state="loading", name=config.name, config=config.to_dict())
    train_items, all_valid_items = items if items is not None else config.items(data_root)
    data = data_summary(config, train_items, all_valid_items)
    print(f"training rows: {data['train_rows']:,} of {data['train_groups']} groups; validation rows: "
          f"{data['valid_rows']:,}; groups held out: {', '.join(data['excluded']) or 'none'}", flush=True)
    if status_path:
        write_status(status_path, data=data)
    first_stage, first_stage_metadata = (check_first_stage(config, adapters_root) if config.stage2 == "dsa"
                                         else (None, None))
    valid_items = validation_sample(config, all_valid_items)
    model, tokenizer = load_model(config.model, dtype=config.dtype)
    base_dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    attention = use_fast_attention(model)
    model = with_lora(model, config, first_stage)
    use_fast_lora_dropout(model)
    compiled_blocks = compile_blocks(model) if config.compile else 0
    shift = {"s": config.shift_scale, "train": train_items} if config.objective == "shift" else None
    dataset = DistributionDataset(train_items, tokenizer, config.lang, config.chat, config.shuffle_options, config.seed,
                                  paper_literal=config.paper_literal, priors=shift and left_out_priors(train_items),
                                  with_question=first_stage is not None)
    output_dir = Path(runs_root or models_dir() / "runs") / config.name
    trainer = DistributionTrainer(
        model=model,
        args=training_arguments(config, output_dir, bool(valid_items)),
        train_dataset=dataset,
        eval_dataset=DistributionDataset(valid_items, tokenizer, config.lang, config.chat) if valid_items else None,
        data_collator=Collator(tokenizer.pad_token_id),
        processing_class=tokenizer,
        loss_name=config.loss,
        valid_items=valid_items,
        prompt_options={"lang": config.lang, "chat": config.chat},
        shift=shift,
        dsa_kl_weight=config.dsa_kl_weight if first_stage is not None else None,
        callbacks=[StatusCallback(status_path, progress), EpochCallback(dataset)],
    )
    started = time.time()
    trainer.train(resume_from_checkpoint=resume_checkpoint(output_dir) if resume else None)
    history = [{k: v for k, v in log.items()} for log in trainer.state.log_history if "eval_1-jsd_paper" in log]
    best = max(history, key=lambda log: log["eval_1-jsd_paper"]) if history else {}
    final = {}
    if len(all_valid_items) > len(valid_items):  # the kept adapter, scored on every validation item
        trainer.valid_items = list(all_valid_items)
        final = trainer.evaluate(metric_key_prefix="final_valid")
    metadata = {
        "base_model": config.model,
        "data": f"{config.dataset}:{config.train_split}" if items is None else "(items given)",
        "validation": f"{config.valid_dataset}:{config.valid_split}" if items is None else "(items given)",
        "loss": config.loss,
        "objective": config.objective,
        "config": config.to_dict(),
        "train_items": len(train_items),
        "valid_items": len(valid_items),
        "final_valid_items": len(all_valid_items),
        "train_seconds": round(time.time() - started, 1),
        "device": str(next(model.parameters()).device),
        "dtype": base_dtype,
        "attention": attention,
        "compiled_blocks": compiled_blocks,
        "torch": torch.__version__,
        "validation_history": history,
        "best": best,
        "final_validation": final,
    }
    if first_stage is not None:
        metadata["first_stage"] = first_stage_metadata
    # Under DDP every process holds the same weights: one writes them, and the others wait until
    # it has (two renames of the same name race: one of them fails).
    if trainer.is_world_process_zero():
        save_adapter(trainer.model, config.name, metadata, root=adapters_root, first_stage=first_stage)
        kill_point("adapter-saved")
    trainer.accelerator.wait_for_everyone()
    path = (Path(adapters_root) if adapters_root else adapters_dir()) / config.name
    if status_path and trainer.is_world_process_zero():
        write_status(status_path, state="done", adapter=str(path), best=best, final_validation=final)
    return {**metadata, "adapter": str(path)}
