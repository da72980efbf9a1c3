"""The fault-injection suite (issue #15): bad input to every command and form, hostile names and
paths, kill -9 at each stage of a job, corruption of every file the project writes, and
concurrent writers of every shared file. Each case asserts its outcome: a clear error (exit 2
or 3, one line naming the file, row, field or flag), the old data intact, or the damage
recomputed; never a traceback or a lost row.

Every test in this folder is marked `fault`, as are the fault cases that live beside the code
they test elsewhere in tests/; `make test-faults` runs them all (`make test` runs them too).
"""
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.fault)
