"""Browser tests against the real demo server (granian + worker) in Debian's Chromium.

Run with `make e2e`. The session starts one server on a throwaway SQLite database
loaded with the demo city; each test gets a fresh browser context (no cookies).
Screenshots of key pages, and of every failing page, land in e2e/artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from server import DemoServer

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("YIWANG_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item so fixtures can tell a failed test at teardown."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def server() -> Iterator[DemoServer]:
    for old in ARTIFACTS.glob("*.*"):  # screenshots and logs of an earlier run would mislead
        if old.suffix in {".png", ".html", ".log"}:
            old.unlink()
    demo = DemoServer()
    try:
        demo.prepare()
        demo.start()
        yield demo
    finally:
        demo.stop()
        demo.save_logs(ARTIFACTS)
        demo.remove()


@pytest.fixture(scope="session")
def base_url(server: DemoServer) -> str:
    return server.base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk (see .ci/run)")
    with sync_playwright() as pw:
        # Debian's Chromium, never `playwright install` (it downloads a browser: no network here).
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")[:120]


@pytest.fixture
def browser_errors() -> list[str]:
    """JavaScript exceptions and CSP violations seen by the page (CSP forbids inline code)."""
    return []


@pytest.fixture
def new_page(
    browser: Browser, base_url: str, request: pytest.FixtureRequest, browser_errors: list[str]
) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts; pass viewport=... for a phone; all are shot on failure."""
    opened: list[Page] = []

    def open_page(**context_args) -> Page:
        context_args.setdefault("viewport", {"width": 1280, "height": 900})
        context_args.setdefault("locale", "zh-CN")
        context = browser.new_context(base_url=base_url, **context_args)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and "Content Security Policy" in msg.text:
                browser_errors.append(f"CSP: {msg.text} ({page.url})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: browser_errors.append(f"JS: {exc} ({page.url})"))
        opened.append(page)
        return page

    yield open_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, page in enumerate(opened):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = f"FAILED-{_slug(request.node.name)}-{index}"
            try:
                page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(page.content())
            except Exception as exc:  # the page may have crashed; keep the original failure
                print(f"could not save {name}: {exc}")
            print(f"failing page {index}: {page.url} -> e2e/artifacts/{name}.png")
        page.context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def shot() -> Callable[[Page, str], None]:
    """Save a full-page screenshot of a key page to e2e/artifacts/<name>.png."""

    def save(page: Page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{_slug(name)}.png", full_page=True)

    return save
