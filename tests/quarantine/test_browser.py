"""The console in headless Chromium (Debian's chromium and chromium-driver; nothing is
downloaded): log in, release a held file with one click, then a real pip install works.
With PIPGATE_UPDATE_SCREENSHOT=1 it also refreshes the README's docs/console.png."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fresh_release import FRESH_VERSION
from tests.support.installers import run_pip
from tests.support.proxies import ADMIN
from tests.support.proxies import RunningProxy as Proxy

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
#: The README's screenshot; refreshed only when PIPGATE_UPDATE_SCREENSHOT=1, so a test run
#: never changes a tracked file.
README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver",
    ),
]


@pytest.fixture
def browser() -> Iterator[object]:
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never download a driver
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="pipgate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1500,760",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_log_in_release_with_one_click_then_pip_installs(
    browser: object, proxy: Proxy, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser  # type: ignore[assignment]
    requirement = f"demo-pkg=={FRESH_VERSION}"
    assert (
        run_pip(proxy.index_url, "--no-deps", requirement, target=tmp_path / "before").returncode
        != 0
    )
    httpx.get(f"{proxy.index_url}demo-yanked/")  # more traffic for the charts

    driver.get(f"{proxy.url}/-/ui/")
    assert "/-/ui/login" in driver.current_url
    driver.find_element(By.ID, "token").send_keys(ADMIN)
    driver.find_element(By.CSS_SELECTOR, ".login button[type=submit]").click()
    # A click returns before the next page has loaded: wait for it (bounded).
    queue_rows = (By.CSS_SELECTOR, "table.queue tbody tr[id^=entry-]")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(*queue_rows))
    (row,) = driver.find_elements(*queue_rows)  # the held version, its wheel and sdist inside
    assert "2 files" in row.text, driver.page_source
    # The console's Content-Security-Policy lets its stylesheet in (and nothing breaks).
    header = driver.find_element(By.CSS_SELECTOR, "header")
    assert header.value_of_css_property("background-color") == "rgba(20, 32, 46, 1)"
    screenshot = (
        README_SCREENSHOT
        if os.environ.get("PIPGATE_UPDATE_SCREENSHOT") == "1"
        else tmp_path / "console.png"
    )
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000

    row.find_element(By.NAME, "reason").send_keys("reviewed upstream diff")
    row.find_element(By.CSS_SELECTOR, "button.release").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".notice"))
    notice = driver.find_element(By.CSS_SELECTOR, ".notice").text
    assert notice.startswith(f"released demo-pkg {FRESH_VERSION}"), notice

    installed = run_pip(proxy.index_url, "--no-deps", requirement, target=tmp_path / "after")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    driver.get(f"{proxy.url}/-/ui/stats")  # the inline SVG charts
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart polyline")
    blocked = [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
    assert blocked == [], blocked
