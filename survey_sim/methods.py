"""Every way to predict answer distributions, registered by name in `METHODS`.

A method is `predict(items, context) -> list[np.ndarray | None]`: one distribution per item,
aligned with its options, or None where the method has nothing to say (a baseline with no
training country on the question, an unparseable generated answer); evaluation reports that
coverage instead of filling in. `context` holds what methods may use: the training items (for
baselines) and the simulator (for methods that run a model), loaded on first use.

    @register_method("uniform", "Equal share for every option.", uses="train")
    def uniform(items, context):
        return [np.full(it.n_options, 1 / it.n_options) for it in items]

is the whole of adding a method: `survey-sim evaluate --method NAME`, the results store and the
leaderboard pick it up by name. The model-free baselines live in `baselines/`, the
language-model methods below.
"""
from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np

from .calibration import fit_affine, log_shares, softmax
from .data.schema import SurveyItem
from .paths import DEFAULT_MODEL
from .registry import Registry
from .sharding import sharded

Prediction = np.ndarray | None
# "none": the items alone; "train": learns from context.train; "model": runs context.simulator
Uses = Literal["none", "train", "model", "model+train"]
AdapterUse = Literal["never", "required", "optional"]  # what --adapter may be for a model method


@dataclass
class Context:
    """What a method may use.

    Args:
        train: items the baselines learn from (other countries' or other questions' answers).
        model / adapter: the simulator's base model and LoRA adapter (names as in `Simulator.load`).
        load_simulator: builds the simulator on first use; by default `Simulator.load(model,
            adapter)`. The CLI passes its device, dtype and prompt flags through it.
        batch_size, seed: for model methods (prompts per forward pass; ctrl's random countries).
        params: values for the method's own keyword arguments (e.g. prior_shift's `s`), from
            `--param NAME=VALUE`; the results store names the run with them.
        progress: `progress(done, total)`, called as prompts are scored.
    """

    train: Sequence[SurveyItem] | None = None
    model: str = DEFAULT_MODEL
    adapter: str | None = None
    load_simulator: Callable[[], object] | None = None
    batch_size: int = 16
    seed: int = 0
    params: dict[str, float] = field(default_factory=dict)
    progress: Callable[[int, int], None] | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}")

    @cached_property
    def simulator(self):
        if self.load_simulator is not None:
            return self.load_simulator()
        from .simulator import Simulator

        return Simulator.load(self.model, adapter=self.adapter)


@dataclass(frozen=True)
class Method:
    name: str
    description: str
    predict: Callable[..., list[Prediction]]  # predict(items, context, **params)
    uses: Uses
    adapter: AdapterUse = "optional"

    @property
    def params(self) -> dict[str, float]:
        """The method's own parameters: the keyword arguments of `predict` after (items, context), with defaults."""
        return {name: p.default for name, p in list(inspect.signature(self.predict).parameters.items())[2:]}

    def label(self, context: Context) -> str:
        """The name the results store gives a run: "prior_shift" or "prior_shift(s=0.5)"."""
        if not context.params:
            return self.name
        return f"{self.name}({','.join(f'{key}={value:g}' for key, value in sorted(context.params.items()))})"

    def check(self, context: Context) -> None:
        """ValueError naming the flag a run of this method lacks or should not have."""
        if "train" in self.uses and context.train is None:
            raise ValueError(f"method {self.name!r} learns from training data: give it --train NAME:SPLIT")
        if self.adapter == "required" and not context.adapter:
            raise ValueError(f"method {self.name!r} needs --adapter NAME")
        if self.adapter == "never" and context.adapter:
            if "model" not in self.uses:
                raise ValueError(f"method {self.name!r} runs no model; drop --adapter")
            raise ValueError(f"method {self.name!r} uses the base model alone; drop --adapter or use --method adapter")
        unknown = sorted(set(context.params) - set(self.params))
        if unknown:
            known = ", ".join(f"{k} (default {v})" for k, v in self.params.items()) or "none"
            raise ValueError(f"method {self.name!r} has no parameter {', '.join(unknown)}; its parameters: {known}")

    def run(self, items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
        self.check(context)
        values = {key: type(default)(context.params.get(key, default)) for key, default in self.params.items()}
        return self.predict(items, context, **values)


METHODS: Registry[Method] = Registry("method")


def register_method(name: str, description: str, uses: Uses, adapter: AdapterUse = "optional"):
    """Decorator: `@register_method("name", "what it does", uses=...)` on a `predict(items, context,
    **params)` function adds it to METHODS; keyword arguments after (items, context) are the
    method's parameters (`--param NAME=VALUE`)."""
    def add(predict):
        METHODS.add(name, Method(name, description, predict, uses, adapter if "model" in uses else "never"))
        return predict

    return add


def baseline_names() -> list[str]:
    """The methods that run no model."""
    return [name for name, method in METHODS.items() if "model" not in method.uses]


# --- language-model methods: under `accelerate launch` each process scores a share (sharding.py) ---


@register_method("zero_shot", "The base model with the paper's prompt.", uses="model", adapter="never")
def zero_shot(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    simulator = context.simulator
    return sharded(lambda share: simulator.predict(share, context.batch_size, context.progress), items)


@register_method("adapter", "The base model with a fine-tuned LoRA adapter.", uses="model", adapter="required")
def with_adapter(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    return zero_shot(items, context)


@register_method("ctrl", "The paper's control: the model (or adapter) prompted with a random other country.",
                 uses="model")
def ctrl(items: Sequence[SurveyItem], context: Context) -> list[Prediction]:
    from .prompts import control_items

    simulator = context.simulator
    # The random countries are drawn over all rows first, so each row gets the same one however it is sharded.
    prompts = simulator.prompts(control_items(items, seed=context.seed))
    rows = list(zip(prompts, [it.n_options for it in items]))
    return sharded(lambda share: simulator.predict_prompts([p for p, _ in share], [k for _, k in share],
                                                           context.batch_size, context.progress), rows)


@register_method("json_zs", "The model is asked for a JSON object of percentages (greedy generation); "
                            "unparseable answers are counted and left out.", uses="model")
def json_zero_shot(items: Sequence[SurveyItem], context: Context, max_new_tokens: int = 80) -> list[Prediction]:
    from .prompts import build_prompt, parse_json_answer

    simulator = context.simulator
    tokenizer = simulator.tokenizer
    chat = bool(getattr(tokenizer, "chat_template", None))

    def answer(share: list[SurveyItem]) -> list[Prediction]:
        prompts = [build_prompt(it, lang=simulator.lang, template="json", chat=chat, tokenizer=tokenizer)
                   for it in share]
        texts = simulator.backend.generate(prompts, max_new_tokens, context.batch_size, context.progress)
        return [parse_json_answer(text, it.n_options) for text, it in zip(texts, share, strict=True)]

    return sharded(answer, items)


@register_method("prior_shift", "The population prior moved by how the model says this country departs from the "
                                "others: softmax(log prior + s * (log p_model(country) - mean over the question's "
                                "countries of log p_model)); the prior is population_prior of --train.",
                 uses="model+train")
def prior_shift(items: Sequence[SurveyItem], context: Context, s: float = 1.0) -> list[Prediction]:
    """Cao et al.'s model says little about absolute shares (zero-shot, letter A first for every
    country) but may say something about differences between countries. The letter bias is
    the same for every country of a question, so it cancels in the centred log-probabilities
    `delta`; what is left is added, scaled by s, to what is known without the country."""
    from .baselines.model_free import population_prior

    log_model = [log_shares(p) for p in zero_shot(items, context)]
    by_question = defaultdict(list)
    for i, item in enumerate(items):
        by_question[(item.key, item.n_options)].append(i)
    centred = [None] * len(items)
    for rows in by_question.values():
        mean = np.mean([log_model[i] for i in rows], axis=0)
        for i in rows:
            centred[i] = log_model[i] - mean
    return shifted_priors(population_prior(items, context), centred, s)


@register_method("shift", "The population prior moved by how the model says this group departs from anyone: "
                          "softmax(log prior + s * (log p_model(group) - log p_model(someone))), where 'someone' is "
                          "the same question asked about no group; the prior is population_prior of --train. What "
                          "`survey-sim train --objective shift` fits. text_prior=1: learned_prior in its place (a "
                          "question no training country answered gets text_prior, not the option count's prior), "
                          "and a group text_prior learnt a vector for keeps that prior unmoved.",
                 uses="model+train")
def shift(items: Sequence[SurveyItem], context: Context, s: float = 1.0, text_prior: int = 0) -> list[Prediction]:
    """prior_shift with a reference that needs no other countries: one row can be predicted
    alone (the app's Compare page), and training can fit the same composition row by row
    (`training/shift.py`). The letter bias is the same in both prompts, so it cancels."""
    from .baselines.model_free import population_prior
    from .baselines.text_prior import learned_priors
    from .prompts import neutral_item

    items = list(items)
    neutral = {neutral_key(it): neutral_item(it) for it in items}  # one reference per question and option order
    log_neutral = dict(zip(neutral, map(log_shares, zero_shot(list(neutral.values()), context)), strict=True))
    deltas = [log_shares(p) - log_neutral[neutral_key(it)] for p, it in zip(zero_shot(items, context), items,
                                                                            strict=True)]
    if not text_prior:
        return shifted_priors(population_prior(items, context), deltas, s)
    # Validated on C1-Q2: for a country text_prior learnt from, its own vector says more about a new
    # question than the model does (moving it cost 0.008); for a country it never saw, the model's
    # departure is all there is, and adding it gained 0.009 (folds 1 and 2 of C1, C1-Q2 questions).
    # On the tests the text prior itself fell below the training prior (README), so this stays opt-in.
    priors, has_vector = learned_priors(items, context)
    return [prior if keep else shifted for prior, shifted, keep in
            zip(priors, shifted_priors(priors, deltas, s), has_vector, strict=True)]


def trained_method(adapter_metadata: dict) -> tuple[str, dict[str, float]]:
    """The method an adapter predicts with as it was trained, and its parameters: ("shift",
    {"s": ...}) for one fitted with `--objective shift` (its letters alone mean little: it learnt
    a departure from the neutral prompt, over a prior), else ("adapter", {})."""
    config = adapter_metadata.get("config", {})
    if config.get("objective") == "shift":
        return "shift", {"s": float(config.get("shift_scale", 1.0))}
    return "adapter", {}


def predict_as_trained(simulator, adapter_metadata: dict | None, items: Sequence[SurveyItem],
                       known: Sequence[SurveyItem] = ()) -> list[np.ndarray]:
    """The simulator's predictions made as its adapter was trained to make them (`trained_method`).

    For a shift adapter the prior of an item is the mean of the *other* groups' real answers to
    its question among `known` (never the item's own group: a country's simulation does not see
    its answers), else the mean of `known` over questions with as many options, else uniform."""
    method, params = trained_method(adapter_metadata or {})
    if method != "shift":
        return simulator.predict(items)
    return shift(items, Context(train=list(known), load_simulator=lambda: simulator), **params)


def neutral_key(item: SurveyItem) -> tuple:
    """What the neutral prompt of an item depends on."""
    return item.survey, item.question, item.options, item.lang


def shifted_priors(priors: Sequence[np.ndarray], deltas: Sequence[np.ndarray], s: float) -> list[np.ndarray]:
    """softmax(log prior + s * delta) per row: the composition of prior_shift and shift."""
    return [softmax(log_shares(prior) + s * delta) for prior, delta in zip(priors, deltas, strict=True)]


@register_method("permuted", "Order-robust scoring: the model (or adapter) scores k cyclic shifts of the options; "
                             "each shift's shares are mapped back to the original order and averaged.", uses="model")
def permuted(items: Sequence[SurveyItem], context: Context, k: int = 4) -> list[Prediction]:
    """A letter's pull (SmolLM2 zero-shot puts "A" first for nearly every question) lands on a
    different option in each shift, so the average spreads it over all of them. Costs k (at most
    the item's option count) times the prompts."""
    if k < 1:
        raise ValueError(f"--param k must be at least 1, got {k}")
    items = list(items)
    shifts = [(i, j) for i, item in enumerate(items) for j in range(min(k, item.n_options))]
    rotated = [rotate_options(items[i], j) for i, j in shifts]
    totals = [np.zeros(item.n_options) for item in items]
    for (i, j), shares in zip(shifts, zero_shot(rotated, context), strict=True):
        totals[i] += np.roll(shares, j)  # rotated option m is original option (m + j) mod n
    return [total / total.sum() for total in totals]


@register_method("calibrated", "The model's shares with a temperature: p ∝ p_model^(1/T); T > 1 flattens an "
                               "over-confident model, and is chosen on validation data (--param T=...).",
                 uses="model")
def calibrated(items: Sequence[SurveyItem], context: Context, T: float = 1.0) -> list[Prediction]:
    if T <= 0:
        raise ValueError(f"--param T must be positive, got {T}")
    return [softmax(log_shares(shares) / T) for shares in zero_shot(items, context)]


@register_method("affine", "The model's letter log-probabilities through an affine map fitted on --train rows: "
                           "p ∝ exp(a * log p_model + b[k][position]), a and b minimising KL(real || p) "
                           "(calibration.py). Fit it on rows the test never sees (e.g. --train wvs:C1-Q2, the "
                           "validation questions, to score C1-Q3); fit_rows caps the rows scored for the fit.",
                 uses="model+train")
def affine(items: Sequence[SurveyItem], context: Context, fit_rows: int = 2000) -> list[Prediction]:
    """A temperature corrects confidence only; the offsets also correct the letter-position bias,
    which is the same for every question with as many options, so it can be learnt from other
    questions' real answers."""
    fit = fitting_rows(items, context.train, fit_rows)
    calibration = fit_affine(zero_shot(fit, context), [it.distribution for it in fit])
    return [calibration.apply(shares) for shares in zero_shot(items, context)]


def fitting_rows(items: Sequence[SurveyItem], train: Sequence[SurveyItem], limit: int) -> list[SurveyItem]:
    """Up to `limit` rows of `train` (a fixed sample), refusing any row that is also scored."""
    if limit < 1:
        raise ValueError(f"--param fit_rows must be at least 1, got {limit}")
    scored = {(it.key, it.group) for it in items}
    overlap = [it for it in train if (it.key, it.group) in scored]
    if overlap:
        raise ValueError(f"--train shares {len(overlap)} rows with the rows scored (e.g. {overlap[0].group}, "
                         f"{overlap[0].key[1]}): a calibration fitted on the rows it scores proves nothing")
    from .evaluation import sample

    return sample(list(train), limit) if len(train) > limit else list(train)


def rotate_options(item: SurveyItem, shift: int) -> SurveyItem:
    """The item with its options (and real shares) moved `shift` places: option `shift` becomes (A)."""
    return replace(item, options=item.options[shift:] + item.options[:shift],
                   distribution=np.roll(item.distribution, -shift))


from . import baselines  # noqa: E402,F401  (registers the model-free baselines)
