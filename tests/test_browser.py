"""The app in a real browser: headless Chromium (Debian's package) driven by playwright.

One `streamlit run app.py` on a free port (the `app_url` fixture in conftest.py, with temporary
models, results and uploads folders) serves every test; each opens a page, waits for its content,
and saves a screenshot under test-artifacts/ (look at them after a change to a page).
"""
import pytest

from app_server import ARTIFACTS, CHROMIUM, no_exception, open_page
from tiny import save_tiny_model

pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")]


def test_compare_page_draws_two_countries_and_two_simulators(browser, app_url):
    page = open_page(browser, app_url)
    # the shipped adapter (adapters/) is the default simulator, zero-shot beside it: for each of two
    # countries a real bar and two simulated ones, the scores of both, and how much each varies
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .legendtext').length == 6", timeout=120_000)
    no_exception(page)
    body = page.inner_text("body")
    assert "never sees the country's own answers" in body and "probabilities of the option letters" in body
    assert body.count("of the real variation") == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)
    page.get_by_text("real answers only").click()  # the first simulator off: zero-shot stays beside the real bars
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .legendtext').length == 4", timeout=120_000)
    no_exception(page)
    assert "never sees the country's own answers" not in page.inner_text("body")


def test_robustness_page_shows_the_default_simulators_reports(browser, app_url):
    page = open_page(browser, f"{app_url}/robustness")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    no_exception(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "robustness.png"), full_page=True)
    body = page.inner_text("body")
    assert "shift:smollm2-135m-shift on wvs:C1-Q2" in body and "zero_shot (smollm2-135m) on wvs:C1-Q2" in body
    assert "zero_shot (smollm2-135m) on wvs:C1-Q2:questions20 (shipped) (20 questions" in body  # collapsed: said


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
    # every one of the 46 C1 countries of the default question, Singapore and Andorra included
    assert page.locator(".js-plotly-plot").first.locator(".choroplethlocation").count() == 46
    assert "Not drawn" not in page.inner_text("body")


def test_leaderboard_shows_the_table(browser, app_url):
    page = open_page(browser, f"{app_url}/leaderboard")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot .bars path", timeout=60_000)
    no_exception(page)
    legend = page.locator(".js-plotly-plot").first.locator(".legendtext").all_text_contents()
    assert legend == ["uniform", "zero_shot (smollm2-135m)", "adapter:mine"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=True)


def upload(page, name: str, data: bytes) -> None:
    page.get_by_role("tab", name="Upload your own survey").click()
    uploader = page.locator("[data-testid='stFileUploader']")
    uploader.locator("input[type='file']").set_input_files({"name": name, "mimeType": "text/plain", "buffer": data})
    uploader.locator("[data-testid='stFileChipDeleteBtn']").wait_for(timeout=30_000)  # the file reached the server
    page.get_by_role("button", name="Check and store").click()


def test_data_page_accepts_a_valid_upload_and_names_the_bad_row(browser, app_url):
    page = open_page(browser, f"{app_url}/data")
    page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
    try:
        upload(page, "my_rows.csv", b"question,group,option,share\nHappy?,France,Yes,70\nHappy?,France,No,30\n")
        page.get_by_text("my_rows.csv is valid and stored").wait_for(timeout=30_000)
        no_exception(page)
        page.get_by_role("tab", name="Data sets").click()
        # browsed: the upload's rows (the grid draws on a canvas; its cells are in the page, hidden)
        page.get_by_text("Yes 70% | No 30%").first.wait_for(state="attached", timeout=30_000)
        upload(page, "bad.jsonl", b'{"question": "Q", "options": ["a", "b"], "group": "X", "shares": [0.5]}')
        page.locator("[data-testid='stAlertContentError']",
                     has_text="line 1: field 'shares': has 1 values for 2 options").wait_for(timeout=30_000)
        no_exception(page)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "data_upload.png"), full_page=True)


def test_fine_tune_job_started_in_the_browser_reaches_done(browser, app_url, app_env):
    tiny = save_tiny_model(app_env["SURVEY_SIM_MODELS"] / "base" / "tiny")  # the form lists models/base/ folders
    page = open_page(browser, f"{app_url}/fine_tune")
    page.get_by_label("Adapter name", exact=True).fill("tiny-browser")
    page.get_by_label("Base model", exact=True).click()
    page.get_by_role("option", name=str(tiny)).click()
    page.get_by_label("Max steps", exact=True).fill("2")
    page.get_by_text("Validation", exact=True).click()  # a folded section of the form
    page.get_by_label("Validation items (0: all)", exact=True).fill("8")
    page.get_by_label("Batch size", exact=True).fill("4")
    page.get_by_role("button", name="Start fine-tuning").click()
    page.get_by_text("Job 1 (tiny-browser) submitted").first.wait_for(timeout=30_000)  # a toast, gone later
    try:
        page.get_by_text("Latest: job 1 (tiny-browser) done").wait_for(timeout=300_000)  # a busy 2-core machine
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "fine_tune.png"), full_page=True)
    no_exception(page)
    assert "submitted" not in page.inner_text("body")  # no "started" message left behind once the run is done
    page.get_by_role("button", name="Evaluate tiny-browser").wait_for(timeout=30_000)  # scores to the Leaderboard
    assert (app_env["SURVEY_SIM_MODELS"] / "adapters" / "tiny-browser" / "adapter_model.safetensors").is_file()
    page.reload()  # the run is remembered by the server, not the browser tab
    page.get_by_text("Latest: job 1 (tiny-browser) done").wait_for(timeout=30_000)


def test_ask_the_world_maps_a_typed_question(browser, app_url):
    page = open_page(browser, f"{app_url}/ask_the_world")
    page.get_by_label("Question", exact=True).fill("Should schools teach children to cook?")
    page.get_by_label("Answer options, one per line", exact=True).fill("Yes, every year\nYes, for a year\nNo")
    page.get_by_role("button", name="Ask every country").click()
    try:
        page.get_by_text("104 countries simulated").wait_for(timeout=180_000)
        page.wait_for_selector(".js-plotly-plot .choroplethlocation", state="attached", timeout=60_000)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ask_the_world.png"), full_page=True)
    no_exception(page)
    assert "simulation" in page.inner_text("body") and "Between-country variation" in page.inner_text("body")
    assert page.locator(".js-plotly-plot .choroplethlocation").count() >= 90
