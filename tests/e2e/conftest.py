"""End-to-end fixtures: ``e2e`` is a :class:`ProcessSystem` of its own, torn down even when the test fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.process_system import ProcessSystem
from tests.support.outcome import call_failed


@pytest.fixture
def e2e(request) -> Iterator[ProcessSystem]:
    system = ProcessSystem()
    try:
        yield system
    finally:
        try:
            system.close()
        finally:
            system.report(failed=call_failed(request))
