"""A name -> object registry, shared by data formats, metrics, baselines and losses.

Registering a name twice is an error; asking for an unknown name lists the known ones and
suggests the closest ("did you mean ...").
"""
from __future__ import annotations

import difflib
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(dict, Generic[T]):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def add(self, name: str, value: T) -> T:
        if name in self:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self[name] = value
        return value

    def register(self, name: str):
        """Decorator: `@REGISTRY.register("name")` stores the decorated object under `name`."""
        def add(value: T) -> T:
            return self.add(name, value)

        return add

    def get(self, name: str) -> T:  # noqa: D102  (dict.get without a default raises instead)
        if name not in self:
            close = difflib.get_close_matches(name, list(self), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"unknown {self.kind} {name!r}; available: {', '.join(sorted(self))}.{hint}")
        return self[name]
