"""How the app names questions and groups: readable words for people, stable tokens for links.

SubPOP's groups arrive as the GSS's codes ("POLPARTY: Democrat", see data/loaders.py) and its
questions as GSS mnemonics ("natspac"); Pew's questions have no ids at all, and a position in a
list changes when the data are rebuilt. Nothing here changes the data or the prompts.
"""
from __future__ import annotations

import hashlib

from .prompts import SUBPOP_ATTRIBUTES


def group_label(group: str) -> str:
    """"POLPARTY: Democrat" -> "Political party: Democrat"; a country's name is kept as it is."""
    attribute, separator, value = group.partition(": ")
    label = SUBPOP_ATTRIBUTES.get(attribute.strip())
    return f"{label[0].upper()}{label[1:]}: {value.strip()}" if separator and label else group


def question_label(item, width: int = 150) -> str:
    """What a question list shows: WVS's ids lead ("Q164 How important is God..."); SubPOP's GSS
    mnemonics follow the text ("... (GSS natspac)"); questions without ids show their text."""
    text = item.question[:width]
    if item.question_id and item.survey == "gss":
        return f"{text} (GSS {item.question_id})"
    return f"{item.question_id} {text}" if item.question_id else text


def question_token(item) -> str:
    """A question's name in a link: its id, else a hash of its text ("t3f9a0c12"), which survives
    a rebuild of the data that moves it in the list."""
    if item.question_id:
        return item.question_id
    return "t" + hashlib.sha256(item.question.encode("utf-8")).hexdigest()[:8]
