"""The prompts of Cao et al. (NAACL 2025), their [ctrl] control, and a JSON zero-shot variant.

The paper's prompt, as its code builds it (``custom_dataset.py`` at commit 402ee0b:
``instruction + input + ", ".join(options) + fix_prompt``), for a row of ``sft_wvs_valid.json``:

    How would someone from Andorra answer the following question:\\n\\n
    How important is God in your life? ... \\nHere are the options: \\n
    (A)Not at all important, (B)2, ..., (J)Very important If had to select one of the options, my answer would be (

i.e. the options are joined by ", " on one line (not one per line), and the closing sentence
starts with a space. The model's next token after "(" is read as the answer letter. The
paper appends the same English closing sentence to its Chinese prompts too (one
``fix_prompt`` for every language), so ``template="paper"`` does the same.

Templates:
    "paper": exactly the above, both languages.
    "paper_literal": the paper's training file as published (`custom_dataset.json`), which lists
        no options after "Here are the options:": instruction + question + header + closing.
        For reproducing the paper's own training input (`survey-sim train --paper-literal`);
        it needs no option texts.
    "lines": the same text with one option per line and the closing sentence on its own line,
        in the prompt's language. The Chinese closing ends with an ASCII "(" (not the
        full-width "（") so the answer letter follows "(" exactly as in English and the same
        letter token ids apply.
    "json": the "lines" body followed by a request for a JSON object of percentages per letter
        (for zero-shot generation, read back with ``parse_json_answer``).

Chat models (``chat=True``): the prompt without its closing sentence is the user message of
the tokenizer's chat template (``add_generation_prompt=True``), and the assistant turn begins
with the closing sentence (leading whitespace removed, since the template already ends the
assistant header with a newline), so the model's next token is again the letter after "(".
This mirrors the paper's ``InstructionDataset``, which puts ``fix_prompt`` after the
assistant header. The JSON template leaves the assistant turn empty.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import replace
from random import Random
from typing import Literal, Sequence

import numpy as np

from .data.manifest import answered_by_countries
from .data.schema import LETTERS, MAX_OPTIONS, Lang, SurveyItem

Template = Literal["paper", "paper_literal", "lines", "json"]
TEMPLATES = ("paper", "paper_literal", "lines", "json")

COUNTRY_INSTRUCTION = {
    "en": "How would someone from {country} answer the following question:\n\n",
    "zh": "来自{country}的人会如何回答以下问题：\n\n",
}
GROUP_INSTRUCTION = {
    "en": "How would {group} answer the following question:\n\n",
    "zh": "{group}会如何回答以下问题：\n\n",
}
# The `shift` method's reference: the same question put about no group in particular.
NEUTRAL_GROUP = "(anyone)"
NEUTRAL_INSTRUCTION = {
    "en": "How would someone answer the following question:\n\n",
    "zh": "一个人会如何回答以下问题：\n\n",
}
OPTIONS_HEADER = {"en": " \nHere are the options: \n", "zh": " \n以下是选项：\n"}
PAPER_CLOSING = " If had to select one of the options, my answer would be ("  # sic, the paper's grammar
CLOSING = {
    "en": "If had to select one of the options, my answer would be (",
    "zh": "如果必须选择其中一个选项，我的答案是(",
}
JSON_REQUEST = {
    "en": "Estimate the percentage of these people who would choose each option. Answer only with a "
          "JSON object that maps each option letter ({letters}) to a percentage; the percentages sum to 100.",
    "zh": "请估计这些人中选择每个选项的百分比。只用一个 JSON 对象回答，键为选项字母（{letters}），"
          "值为百分比，总和为 100。",
}

# SubPOP groups arrive as "ATTRIBUTE: value" (see data/loaders.py); these read as descriptions.
SUBPOP_ATTRIBUTES = {
    "CREGION": "region", "EDUCATION": "education", "SEX": "sex", "POLIDEOLOGY": "political ideology",
    "INCOME": "income", "POLPARTY": "political party", "RACE": "race or ethnicity", "RELIG": "religion",
}


def option_letters(k: int) -> list[str]:
    """The first k option letters, A.. (at most 26)."""
    if not 0 <= k <= MAX_OPTIONS:
        raise ValueError(f"{k} options: the prompts label options A..Z, so 0 to {MAX_OPTIONS} options are supported")
    return list(LETTERS[:k])


def country_instruction(country: str, lang: Lang = "en") -> str:
    return COUNTRY_INSTRUCTION[_lang(lang)].format(country=country)


def group_instruction(description: str, lang: Lang = "en") -> str:
    """For groups that are not countries; `description` reads as a subject, e.g. "a Democrat in the United States"."""
    return GROUP_INSTRUCTION[_lang(lang)].format(group=description)


# Natural descriptions of the SubPOP-Eval groups; others fall back to "someone ... whose X is Y".
SUBPOP_DESCRIPTIONS = {
    "CREGION: Northeast": "someone from the Northeast of the United States",
    "CREGION: South": "someone from the South of the United States",
    "EDUCATION: College graduate/some postgrad": "a college graduate in the United States",
    "EDUCATION: Less than high school": "someone in the United States who did not finish high school",
    "INCOME: $100,000 or more": "someone in the United States with a household income of $100,000 or more",
    "INCOME: Less than $30,000": "someone in the United States with a household income of less than $30,000",
    "POLIDEOLOGY: Conservative": "a conservative in the United States",
    "POLIDEOLOGY: Liberal": "a liberal in the United States",
    "POLIDEOLOGY: Moderate": "a political moderate in the United States",
    "POLPARTY: Democrat": "a Democrat in the United States",
    "POLPARTY: Republican": "a Republican in the United States",
    "RACE: Asian": "an Asian American", "RACE: Black": "a Black American",
    "RACE: Hispanic": "a Hispanic American", "RACE: White": "a White American",
    "RELIG: Atheist": "an atheist in the United States", "RELIG: Hindu": "a Hindu in the United States",
    "RELIG: Jewish": "a Jewish person in the United States", "RELIG: Muslim": "a Muslim in the United States",
    "RELIG: Protestant": "a Protestant in the United States",
    "SEX: Female": "a woman in the United States", "SEX: Male": "a man in the United States",
}


def describe_subpop(group: str) -> str:
    """"POLPARTY: Democrat" -> "a Democrat in the United States"; unknown groups read
    "someone in the United States whose {attribute} is {value}"."""
    if group in SUBPOP_DESCRIPTIONS:
        return SUBPOP_DESCRIPTIONS[group]
    attribute, _, value = group.partition(": ")
    label = SUBPOP_ATTRIBUTES.get(attribute.strip().upper(), attribute.strip().lower())
    return f"someone in the United States whose {label} is {value.strip()}" if value else group


def instruction_for(item: SurveyItem, lang: Lang) -> str:
    """Countries get the paper's sentence; subpopulations (SubPOP's GSS groups) a description;
    `neutral_item`s no group at all."""
    if item.group == NEUTRAL_GROUP:
        return NEUTRAL_INSTRUCTION[lang]
    if not answered_by_countries(item.survey):
        return group_instruction(describe_subpop(item.group), lang)
    return country_instruction(item.group, lang)


def build_prompt(
    item: SurveyItem | tuple[str, Sequence[str], str],
    lang: Lang | None = None,
    template: Template = "paper",
    chat: bool = False,
    tokenizer=None,
    group_kind: Literal["country", "description"] = "country",
) -> str:
    """The prompt for one item, or for a (question, options, group) tuple.

    Args:
        item: a SurveyItem (its group decides the instruction, see `instruction_for`) or a
            tuple whose group is a country name, or a description when group_kind="description".
        lang: template language; default the item's own language ("en" for tuples).
        template: "paper", "lines" or "json" (see the module docstring).
        chat: wrap in `tokenizer`'s chat template, the closing sentence opening the assistant turn.
        tokenizer: needed only when chat=True.
        group_kind: how to read a tuple's group; ignored for SurveyItems.
    """
    if template not in TEMPLATES:
        raise ValueError(f"template={template!r}; choose one of {', '.join(TEMPLATES)}")
    if isinstance(item, SurveyItem):
        lang = _lang(lang or item.lang)
        if item.options is None and template != "paper_literal":
            raise ValueError(f"{item.source} row {item.row}: no option texts, so no prompt can list the options")
        question, options, instruction = item.question, item.options or (), instruction_for(item, lang)
    else:
        question, options, group = item
        lang = _lang(lang or "en")
        instruction = (group_instruction if group_kind == "description" else country_instruction)(group, lang)
    labelled = [f"({letter}){text}" for letter, text in zip(option_letters(len(options)), options)]

    head = instruction + question + OPTIONS_HEADER[lang]
    if template == "paper_literal":
        body, closing = head, PAPER_CLOSING
    elif template == "paper":
        body, closing = head + ", ".join(labelled), PAPER_CLOSING
    elif template == "lines":
        body, closing = head + "\n".join(labelled), "\n" + CLOSING[lang]
    else:
        request = JSON_REQUEST[lang].format(letters=", ".join(option_letters(len(options))))
        body, closing = head + "\n".join(labelled) + "\n\n" + request, ""
    if not chat:
        return body + closing
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise ValueError("chat=True needs a tokenizer with a chat template")
    wrapped = tokenizer.apply_chat_template([{"role": "user", "content": body}], tokenize=False,
                                            add_generation_prompt=True)
    return wrapped + closing.lstrip()


def neutral_item(item: SurveyItem) -> SurveyItem:
    """The item asked about nobody in particular ("How would someone answer ..."), same options
    in the same order: the reference the `shift` method measures a group's departure from."""
    return replace(item, group=NEUTRAL_GROUP, iso3=None)


def control_group(item: SurveyItem, pool: Sequence[str], seed: int = 0) -> str:
    """A random group of `pool` other than the item's, the same for the same (seed, item, pool).

    Seeded per item (crc32, not Python's salted hash) so the choice does not depend on which
    other items are scored alongside it, nor on the process.
    """
    others = sorted(set(pool) - {item.group})
    if not others:
        raise ValueError(f"no control group for {item.group!r}: the pool holds no other group")
    rng = Random(zlib.crc32(f"{seed}|{item.group}|{item.key}".encode()))
    return rng.choice(others)


def control_items(items: Sequence[SurveyItem], seed: int = 0, pool: Sequence[str] | None = None) -> list[SurveyItem]:
    """The paper's [ctrl] setting: each item with another group in it, for its prompt.

    A model that only tracks the question (and not the group) scores the same here as with the
    true group; the gap measures how much it uses the group. `pool` defaults to the items' groups.
    """
    pool = sorted({it.group for it in items}) if pool is None else list(pool)
    return [replace(it, group=control_group(it, pool, seed)) for it in items]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_OBJECT = re.compile(r"\{[^{}]*\}", re.S)
_PAIR = re.compile(r"""["'(]?\b([A-Z])\b["')]?\s*[:=]\s*["']?\s*(-?\d+(?:\.\d+)?)\s*%?""")


def parse_json_answer(text: str, k: int) -> np.ndarray | None:
    """The distribution over k options in a model's JSON answer, or None if there is none.

    Tolerates text around the object, code fences, percent signs ("40%"), fractions instead of
    percentages (everything is renormalised) and missing letters (share 0). Letters beyond the
    k options are ignored. None when no letter of the first k has a value, a value is negative,
    or all values are 0.
    """
    letters = option_letters(k)
    blocks = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for block in blocks:
        for candidate in _OBJECT.findall(block) or [block]:
            shares = _letter_shares(candidate, letters)
            if shares is not None:
                total = shares.sum()
                if (shares < 0).any() or not np.isfinite(total) or total <= 0:
                    return None
                return shares / total
    return None


def _letter_shares(candidate: str, letters: list[str]) -> np.ndarray | None:
    """Values by letter: strict JSON first, then "A": 40% style pairs that JSON rejects."""
    try:
        obj = json.loads(candidate)
        pairs = [(str(key), value) for key, value in obj.items()] if isinstance(obj, dict) else []
    except (json.JSONDecodeError, ValueError):
        pairs = _PAIR.findall(candidate)
    found = {}
    for key, value in pairs:
        key = key.strip().strip("()").upper()
        if key in letters:
            try:
                found[key] = float(str(value).strip().rstrip("%"))
            except ValueError:
                return None
    if not found:
        return None
    return np.array([found.get(letter, 0.0) for letter in letters], dtype=float)


def _lang(lang: str) -> str:
    if lang not in COUNTRY_INSTRUCTION:
        raise ValueError(f"lang={lang!r}; prompts exist for {', '.join(COUNTRY_INSTRUCTION)}")
    return lang
