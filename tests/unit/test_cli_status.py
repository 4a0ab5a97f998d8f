"""`berdaya status` sets each consumer's position against its upstream's log."""

from berdaya.cli.main import with_consumer_states


def consumer(position: int, halt: dict | None = None) -> dict:
    return {"position": position, "halt": halt}


def test_each_consumer_is_caught_up_behind_halted_or_unknown_against_its_upstreams_log():
    statuses = {
        "registry": {"last_position": 120, "consumers": {}},
        "grants": {"last_position": 40, "consumers": {"registry": consumer(120), "training": consumer(3)}},
        "training": {"last_position": 9, "consumers": {"registry": consumer(100),
                                                       "grants": consumer(31, halt={"position": 32})}},
    }
    shown = with_consumer_states(statuses)
    assert shown["grants"]["consumers"]["registry"] == {"position": 120, "halt": None, "upstream_position": 120,
                                                        "state": "caught up"}
    assert shown["grants"]["consumers"]["training"]["state"] == "behind by 6 positions"
    assert shown["training"]["consumers"]["registry"]["state"] == "behind by 20 positions"
    assert shown["training"]["consumers"]["grants"]["state"] == "halted"


def test_a_consumer_whose_upstream_did_not_answer_is_shown_as_unknown():
    statuses = {"grants": {"error": "RpcTimeout: 5"},
                "training": {"last_position": 9, "consumers": {"grants": consumer(31)}}}
    consumer_state = with_consumer_states(statuses)["training"]["consumers"]["grants"]
    assert consumer_state["upstream_position"] is None
    assert consumer_state["state"] == "unknown: grants did not answer"
