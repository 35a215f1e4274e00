"""A real server and a real browser: the Flask app served by werkzeug on 127.0.0.1 (a free port,
in a thread, on the test database and clock), driven by Debian's chromium through chromedriver.

Screenshots of every step go to a folder printed at the start (ONEWINDOW_SCREENSHOTS to choose
it). Without chromium the tests are skipped locally; with ONEWINDOW_BROWSER_TESTS=required (CI)
a missing browser is a failure.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def server(runtime):
    app = create_app({"TESTING": False}, runtime=runtime)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="console-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory, pytestconfig) -> Path:
    folder = Path(os.environ.get("ONEWINDOW_SCREENSHOTS") or tmp_path_factory.mktemp("console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"browser screenshots: {folder}")
    return folder


@pytest.fixture
def chrome(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        message = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver fonts-noto-cjk)"
        if os.environ.get("ONEWINDOW_BROWSER_TESTS") == "required":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1800", "--lang=zh-CN", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    log = tmp_path / "chromedriver.log"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(log)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def shipped(runtime):
    """The shipped processes deployed."""
    from engine.domain.access import SYSTEM
    from engine.services.definitions import deploy_directory
    from engine.config import REPO_ROOT
    deploy_directory(runtime.unit_of_work, SYSTEM, REPO_ROOT / "processes")
