"""End-to-end fixtures: ``e2e`` is a :class:`ProcessSystem` of its own, torn down even when the test fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.process_system import ProcessSystem

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture
def e2e(request) -> Iterator[ProcessSystem]:
    system = ProcessSystem()
    try:
        yield system
    finally:
        try:
            system.close()
        finally:
            system.report(failed=request.node.stash.get(_CALL_FAILED, True))
