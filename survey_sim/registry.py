"""A read-only name -> object mapping, shared by data formats, metrics, methods, backends and losses.

Registering a name twice is an error; looking up an unknown name (`REGISTRY[name]`) raises a
KeyError that lists the known names and suggests the closest ("did you mean ...").
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(KeyError):
    """A name that is not registered: a user's mistake (the CLI's exit code 2), not a bug."""

    def __str__(self) -> str:  # the message, not KeyError's repr of it
        return str(self.args[0]) if self.args else ""


class Registry(Mapping[str, T], Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, value: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} registered twice")
        self._entries[name] = value
        return value

    def register(self, name: str):
        """Decorator: `@REGISTRY.register("name")` stores the decorated object under `name`."""
        def add(value: T) -> T:
            return self.add(name, value)

        return add

    def __getitem__(self, name: str) -> T:
        if name not in self._entries:
            close = difflib.get_close_matches(str(name), list(self._entries), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownName(f"unknown {self.kind} {name!r}; available: {', '.join(sorted(self._entries))}.{hint}")
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:  # registration order
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"
