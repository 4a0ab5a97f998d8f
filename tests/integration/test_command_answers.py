"""A command answers with the state it produced (issue 17, item 5): a household command given a reader answers with
the household as the registry's read answers that reader — so the gateway answers a write without reading the
household again. Real PostgreSQL and RabbitMQ; the gateway as the office's operator uses it."""

from __future__ import annotations

import pytest

from tests.integration.test_gateway import gateway_running
from tests.support.households import actor, household_body, reader
from tests.support.system import System

pytestmark = pytest.mark.integration

LOGGED = "SELECT username, purpose, read FROM access_log ORDER BY seq"


def test_a_household_command_answers_with_the_household_it_left_exactly_as_a_get_right_after(system: System):
    with gateway_running(system) as gateway:
        operator = gateway.user_client("operator", "18.01", "op.answers")
        body = household_body(61)
        kk, son = body["kk"], body["members"][1]["nik"]
        operator.ok("POST", "/api/v1/households", body)

        # Through the API: each command's answer is what GET shows right after.
        for path, change in ((f"/households/{kk}/decile", {"decile": 4}),
                             (f"/households/{kk}/status", {"status": "graduated", "reason": "usaha mandiri"}),
                             (f"/households/{kk}/members/{son}/correct",
                              {"changes": {"name": "Budi Santoso"}, "reason": "sesuai KTP"})):
            answer = operator.ok("POST", "/api/v1" + path, change,
                                 headers={"Idempotency-Key": f"answers-{path.rsplit('/', 1)[1]}-1"})
            assert answer == operator.ok("GET", f"/api/v1/households/{kk}"), path
        assert answer["decile"] == 4 and answer["bdt_status"] == "graduated"
        assert [m["name"] for m in answer["members"]] == [body["members"][0]["name"], "Budi Santoso"]

        with system.rpc() as rpc:
            # The registry's own answer to a command given a reader: the household as its read answers that reader,
            # and written into the access log as that read is.
            desk = reader("op.answers", "operator", "18.01", purpose="rpc.tests_answers")
            logged = len(system.sql("registry", LOGGED))
            answered = rpc.registry.change_decile({"kk": kk, "decile": 1, "actor": actor("op.answers")}, desk)
            assert answered["decile"] == 1 and answered == rpc.registry.household(desk, kk)
            assert system.sql("registry", LOGGED)[logged:] == [("op.answers", "rpc.tests_answers", "household")] * 2
            # Without a reader it answers nothing, as before (the CLI and the services' own calls).
            assert rpc.registry.change_decile({"kk": kk, "decile": 2, "actor": actor("op.answers")}) is None

            # A reader the registry cannot verify is refused before the command changes anything.
            unsigned = {"actor": {"user": "op.answers"}, "purpose": "rpc.tests_answers"}
            with pytest.raises(Exception, match="actor"):
                rpc.registry.change_decile({"kk": kk, "decile": 3, "actor": actor("op.answers")}, unsigned)
            assert rpc.registry.household(desk, kk)["decile"] == 2
