"""Browser tests: the console in Debian's Chromium (headless), driven by Playwright for Python, against a real
system (tests/browser/serve.py, in a process of its own) — every service and the gateway as `nameko run`
processes on fresh databases and a vhost.

They run in a pytest process of their own, without eventlet (`make test` runs
``pytest --confcutdir=tests/browser tests/browser`` after the rest; tests/conftest.py leaves this folder out).
One system serves the whole session; tests use data of their own in it. Screenshots go to .run/screenshots/: each
role's home page, and each page a failing test had open. The browser is never downloaded: BERDAYA_CHROMIUM
(default /usr/bin/chromium, installed by scripts/ensure-infra.sh) is the one Playwright drives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser.console import SCREENSHOTS, ConsoleSystem, Staff

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BERDAYA_CHROMIUM", "/usr/bin/chromium")
# What a closed network needs: no background connections, no component updates, nothing to sync.
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-default-apps"]
CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def console(request: pytest.FixtureRequest) -> Iterator[ConsoleSystem]:
    server = subprocess.Popen([sys.executable, "-m", "tests.browser.serve"], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    line = server.stdout.readline()
    if not line:
        server.wait(timeout=120)
        pytest.fail(f"the system for the browser tests did not start (exit code {server.returncode})")
    system = ConsoleSystem(**json.loads(line))
    try:
        yield system
    finally:
        failed = request.session.testsfailed > 0
        out, _ = server.communicate("failed\n" if failed else "ok\n", timeout=180)
        if failed:
            print(out[-20_000:])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium (scripts/ensure-infra.sh)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def staff(console: ConsoleSystem, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Staff]:
    """The office's people, each logging in as themselves in a browser of their own; a failed test keeps a
    screenshot of each page it had open."""
    people = Staff(console, browser)
    yield people
    if request.node.stash.get(CALL_FAILED, True):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^a-zA-Z0-9_.-]+", "-", request.node.name)
        for who, page in people.pages.items():
            if not page.is_closed():
                page.screenshot(path=SCREENSHOTS / f"failed-{name}-{who}.png", full_page=True)
    people.close()
