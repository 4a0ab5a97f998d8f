"""RPC requests are at-most-once (shared/rpc.py): one taken by a replica that dies is gone, not run again.

A caller of an idempotent method therefore sends it again when no answer comes (``call_until_answered``), and
another replica answers. A small service of the test's own stands in for "a method that is running when its
replica is killed", so that the kill lands at a known moment; the broker and nameko are real.
"""

from __future__ import annotations

from functools import partial

import eventlet
import pytest
from nameko.containers import ServiceContainer
from nameko.exceptions import RpcTimeout

from shared.rpc import call_until_answered, rpc
from tests.support.system import eventually

RUNS: list[str] = []


class SlowOnce:
    name = "slow_once"

    @rpc
    def register(self, key: str) -> str:
        RUNS.append(key)
        if len(RUNS) == 1:
            eventlet.sleep(60)  # its replica is killed while it holds this request
        return f"registered {key}"


def test_a_request_lost_with_a_killed_replica_is_not_run_again_and_the_callers_resend_is_answered(system):
    RUNS.clear()
    first = ServiceContainer(SlowOnce, {"AMQP_URI": system.amqp_uri})
    first.start()
    resends: list[int] = []
    with system.rpc(timeout=3) as cluster:
        answer = eventlet.spawn(call_until_answered, partial(cluster.slow_once.register, "KK-1"),
                                on_lost=resends.append)
        eventually(lambda: RUNS == ["KK-1"], message="the first replica took the request")
        first.kill()
        second = ServiceContainer(SlowOnce, {"AMQP_URI": system.amqp_uri})
        second.start()
        try:
            assert answer.wait() == "registered KK-1"
            eventlet.sleep(1)  # a redelivery of the lost request would show up here
        finally:
            second.stop()
    assert resends == [1]
    assert RUNS == ["KK-1", "KK-1"]  # the killed run and the resend: the lost request was never delivered again


def test_a_call_nobody_answers_ends_in_the_time_out_after_its_attempts(system):
    replica = ServiceContainer(SlowOnce, {"AMQP_URI": system.amqp_uri})
    replica.start()
    replica.stop()  # its queue stays; nobody consumes it
    resends: list[int] = []
    with system.rpc(timeout=1) as cluster, pytest.raises(RpcTimeout):
        call_until_answered(partial(cluster.slow_once.register, "KK-2"), attempts=2, on_lost=resends.append)
    assert resends == [1]
