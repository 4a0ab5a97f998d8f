"""Test process set-up: eventlet first (as `nameko run` does), before anything imports psycopg or kombu."""

import eventlet

eventlet.monkey_patch()

import pytest  # noqa: E402

from shared.runtime import ensure_green_psycopg  # noqa: E402  (importing shared selects psycopg's green wait)
from tests.support.outcome import CALL_FAILED  # noqa: E402

ensure_green_psycopg()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


# The browser tests run in a pytest process of their own, without eventlet (tests/browser/conftest.py).
collect_ignore = ["browser"]
