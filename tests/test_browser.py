"""The app in a real browser: headless Chromium (Debian's package) driven by playwright.

Starts `streamlit run app.py` on a free port, opens each page, waits for its content, and
saves a screenshot under test-artifacts/ (look at them after a change to a page).
"""
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(survey_root):
    port = free_port()
    env = {**os.environ, "SURVEY_SIM_DATA": str(survey_root)}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                               "--server.headless", "true", "--server.address", "127.0.0.1"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("streamlit did not start within 60 s")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    return page


def no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]


def test_compare_page_draws_two_countries(browser, app_url):
    page = open_page(browser, app_url)
    page.wait_for_selector(".js-plotly-plot .bars path", timeout=60_000)
    no_exception(page)
    legend = page.locator(".js-plotly-plot .legendtext").all_inner_texts()
    assert len(legend) == 2
    page.get_by_text("zero-shot (smollm2-135m)").click()  # simulate: real and simulated bars, scores table
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .legendtext').length == 4", timeout=60_000)
    no_exception(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)


def test_data_page_shows_the_report(browser, app_url):
    page = open_page(browser, f"{app_url}/data")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    no_exception(page)
    assert "Splits" in page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "data.png"), full_page=True)


def test_world_map_draws_countries_offline(browser, app_url):
    page = open_page(browser, f"{app_url}/world_map")
    try:
        page.wait_for_selector(".js-plotly-plot .choroplethlocation", state="attached", timeout=90_000)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "world_map.png"), full_page=True)
    no_exception(page)
    assert page.locator(".js-plotly-plot .choroplethlocation").count() >= 40  # the 46 C1 countries of Q164
