import json
import os
import tempfile
from pathlib import Path

import pytest

SHARED_SURVEYS = Path(__file__).resolve().parents[2] / "shared" / "surveys"


def pytest_configure(config):
    # What the code under test writes (adapters, jobs, caches, results) goes to a temporary
    # folder, never the checkout's models/. Set before survey_sim is imported.
    scratch = Path(tempfile.mkdtemp(prefix="survey-sim-tests-"))
    os.environ.setdefault("SURVEY_SIM_MODELS", str(scratch / "models"))
    os.environ.setdefault("SURVEY_SIM_RESULTS", str(scratch / "results.sqlite"))
    # The app's start-up warm-up loads the real model in a thread; app tests load what they use.
    os.environ.setdefault("SURVEY_SIM_NO_WARMUP", "1")


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


@pytest.fixture(scope="session")
def app_env(survey_root, tmp_path_factory) -> dict:
    """What the browser tests' app server reads: the real surveys, and temporary folders for what
    it writes (adapters, jobs, caches), a small results store and uploads, so no local file counts."""
    from small_results import write_small_store

    stores = tmp_path_factory.mktemp("app")
    return {"SURVEY_SIM_DATA": survey_root, "SURVEY_SIM_MODELS": stores / "models",
            "SURVEY_SIM_RESULTS": write_small_store(stores / "results.sqlite"),
            "SURVEY_SIM_UPLOADS": stores / "uploads"}


@pytest.fixture(scope="session")
def app_url(app_env):
    from app_server import start_app

    with start_app({key: str(value) for key, value in app_env.items()}) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from app_server import headless_chromium

    with headless_chromium() as chromium:
        yield chromium
