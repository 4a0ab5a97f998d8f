"""Whether a test's body failed, for fixtures that keep (and show) the logs of a failed test only."""

from __future__ import annotations

import pytest

CALL_FAILED = pytest.StashKey[bool]()


def call_failed(request: pytest.FixtureRequest) -> bool:
    """True when the test's body failed, or never ran (its set-up failed)."""
    return request.node.stash.get(CALL_FAILED, True)
