"""Fault tests: each test gets a FaultCluster (its own PostgreSQL server, RabbitMQ node and service processes).

A failed test prints the tail of every process's log (the killed ones too) and keeps them in .run/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.cluster import FaultCluster

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture
def cluster(request) -> Iterator[FaultCluster]:
    cluster = FaultCluster(request.node.name[:40].replace("[", "-").replace("]", ""))
    try:
        cluster.start_all()
        yield cluster
    finally:
        failed = request.node.stash.get(_CALL_FAILED, True)
        logs = cluster.logs()
        cluster.close()
        if failed:
            for name, text in logs.items():
                print(f"\n----- .run/{name} -----\n" + "\n".join(text.splitlines()[-30:]))
        else:
            cluster.remove_logs()
