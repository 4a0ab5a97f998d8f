"""Fault tests: each test gets a FaultCluster (its own PostgreSQL server, RabbitMQ node and service processes).

A failed test prints the tail of every process's log (the killed ones too) and keeps them in .run/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.cluster import FaultCluster
from tests.support.outcome import call_failed


@pytest.fixture
def cluster(request) -> Iterator[FaultCluster]:
    cluster = FaultCluster(request.node.name[:40].replace("[", "-").replace("]", ""))
    try:
        cluster.start_all()
        yield cluster
    finally:
        failed = call_failed(request)
        logs = cluster.logs()
        cluster.close()
        if failed:
            for name, text in logs.items():
                print(f"\n----- .run/{name} -----\n" + "\n".join(text.splitlines()[-30:]))
        else:
            cluster.remove_logs()
