"""Debian's Chromium, driven by Playwright's sync API, against pytest-django's live server.

Install the browser once with `apt-get install chromium`; Playwright's own browser
downloads are never used. Without /usr/bin/chromium every browser test is skipped
with that reason. Set XIAONENG_SCREENSHOT_DIR to keep a screenshot of each step.
"""
import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("XIAONENG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium():
    """One browser per test module.

    Playwright's sync API leaves an event loop marked as running in this thread while it
    is alive, and Django's ORM (the fixtures that build the personas, the database
    flush after each test) refuses to run inside one unless DJANGO_ALLOW_ASYNC_UNSAFE
    is set. The variable is set only while the browser lives, so it never leaks into
    the rest of the session (where `check --deploy` rightly rejects it).
    """
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as env:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()


@pytest.fixture
def page(chromium, live_server, transactional_db):
    """A fresh browser tab (Chinese browser, laptop screen) with its console watched.

    Any console error or uncaught exception fails the test: that is how a violation of
    the Content-Security-Policy (an inline script, a foreign asset) shows up.
    """
    context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 860}
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.problems = problems
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture
def shot(page):
    """`shot("name")` saves a full-page screenshot when XIAONENG_SCREENSHOT_DIR is set."""
    folder = os.environ.get("XIAONENG_SCREENSHOT_DIR")

    def _shot(name: str):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return _shot
