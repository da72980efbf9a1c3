import json
import os
from pathlib import Path

import pytest

SHARED_SURVEYS = Path(__file__).resolve().parents[2] / "shared" / "surveys"


@pytest.fixture(scope="session")
def survey_root() -> Path:
    """The real survey files (../shared/surveys or $SURVEY_SIM_DATA); skips where absent."""
    root = Path(os.environ.get("SURVEY_SIM_DATA", SHARED_SURVEYS))
    if not root.is_dir():
        pytest.skip(f"real survey data not found at {root}")
    return root


@pytest.fixture
def write_json(tmp_path):
    def write(rows, name="rows.json", jsonl=False):
        path = tmp_path / name
        if jsonl:
            path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
        else:
            path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        return path

    return write
