"""Helpers of the browser tests: the app served on a free local port, headless Chromium."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def start_app(env: dict[str, str], timeout: float = 60):
    """`streamlit run app.py` with `env` added to the environment; yields its URL."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    # The server's output goes to a file: an unread pipe fills up (model-loading progress bars,
    # file-watcher warnings) and then blocks the server mid-write.
    log = open(ARTIFACTS / "app_server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
                               "--server.headless", "true", "--server.address", "127.0.0.1",
                               "--server.fileWatcherType", "none"],
                              cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"streamlit did not start within {timeout} s")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@contextlib.contextmanager
def headless_chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    return page


def no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")[:2000]
