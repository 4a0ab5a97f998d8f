"""The DCI notify pushed to a subscriber, and unsubscribe, through the real gateway and registry: a subscriber (an
HTTP server of its own, here on 127.0.0.1, which this test's gateway allows over plain http) gets the household
changes of its region only, once each, in the registry's order, however often it failed first; an unsubscribed
subscription is neither pushed nor pulled and stays on record as ended; another client's code is refused.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from tests.integration.test_dci import NOTIFY, RECORD_FIELDS, SUBSCRIBE, dci_client, notify, subscribe
from tests.integration.test_dci_trust import answer_verifies
from tests.integration.test_gateway import (
    OTHER_VILLAGE,
    VILLAGE,
    Client,
    GatewaySystem,
    Staff,
    gateway_running,
    household_body,
)
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

UNSUBSCRIBE = "/api/v1/dci/registry/sync/unsubscribe"
# This test's gateway only: its subscriber listens on 127.0.0.1 over plain http (the default allows https only);
# two changes to a message, so that several messages show their order; short waits between rounds and attempts.
PUSH_CONFIG = {"DCI_NOTIFY_HTTP_HOSTS": "127.0.0.1", "DCI_PUSH_MAX_EVENTS": "2", "DCI_PUSH_INTERVAL_S": "0.2",
               "DCI_PUSH_ATTEMPTS": "3", "DCI_PUSH_BACKOFF_S": "0.1"}


class Subscriber:
    """Another system's notify endpoint: keeps each message it took, per path; answers 500 to the next
    ``failing`` POSTs first."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []
        self.failing = self.refused = 0
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if subscriber.failing:
                    subscriber.failing -= 1
                    subscriber.refused += 1
                    self.send_response(500)
                else:
                    subscriber.messages.append((self.path, body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, path: str = "/") -> list[tuple[str, str]]:
        """Each change taken at ``path``, in the order taken: (event type, household id)."""
        return [(event["event_type"], event["data"]["reg_records"][0]["identifier"][0]["identifier_value"])
                for taken, message in self.messages if taken == path
                for event in message["message"]["notify_event"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pushing(system: System):
    with gateway_running(system, **PUSH_CONFIG) as gateway:
        yield gateway


@pytest.fixture
def subscriber():
    listening = Subscriber()
    yield listening
    listening.close()


def subscribe_at(sender_id: str, uri: str, region: str = "18.01") -> dict:
    asked = subscribe(sender_id, region)
    asked["header"]["sender_uri"] = uri
    return asked


def unsubscribe(sender_id: str, *codes: str) -> dict:
    asked = notify(sender_id, "-")
    asked["header"].update(action="unsubscribe", total_count=len(codes))
    asked["message"] = {"transaction_id": str(uuid.uuid4()), "timestamp": "2026-12-07T10:00:00+07:00",
                        "subscription_codes": list(codes)}
    return asked


def register(operator: Client, number: int, village: str = VILLAGE) -> tuple[dict, str]:
    """A household registered by an operator of its region: its body and its registry id."""
    body = household_body(number, village=village)
    operator.ok("POST", "/api/v1/households", body)
    return body, operator.ok("GET", f"/api/v1/households/{body['kk']}")["household_id"]


def subscription_rows(gateway: GatewaySystem, client: str) -> list[tuple]:
    """The client's subscriptions as the gateway's database holds them: code, ended at, ended by, position."""
    with psycopg.connect(gateway.database_url) as conn:
        return conn.execute("SELECT subscription_code, ended_at, ended_by, position FROM dci_subscriptions "
                            "WHERE client = %s ORDER BY subscription_code", (client,)).fetchall()



def test_a_subscriber_gets_the_changes_of_its_region_pushed_once_each_in_order(pushing: GatewaySystem,
                                                                               subscriber: Subscriber):
    staff = Staff(pushing)
    register(staff.operator, 800)  # before the subscription: not a change it follows
    client = dci_client(pushing, "bansos.dorong", "18.01")
    # a notify URI is https, or plain http to a host this gateway allows (127.0.0.1 here): others store nothing
    for uri in ("http://localhost:9/notify", "http://10.0.0.1/notify", "ftp://127.0.0.1/notify",
                "https://user:secret@bansos.example.org/notify", "/notify"):
        refused = client.ok("POST", SUBSCRIBE, subscribe_at("bansos.dorong", uri))
        assert [(r["status"], r["status_reason_code"]) for r in refused["message"]["subscribe_response"]] == [
            ("rjct", "rjct.notify_details.invalid")], uri
    assert subscription_rows(pushing, "bansos.dorong") == []
    subscribed = client.ok("POST", SUBSCRIBE, subscribe_at("bansos.dorong", subscriber.uri + "/"))
    answer = subscribed["message"]["subscribe_response"][0]
    assert answer["status"] == "succ", answer
    code = answer["subscription_code"]

    first, first_id = register(staff.operator, 801)
    register(pushing.user_client("operator", "18.02", "op.lain"), 890, OTHER_VILLAGE)  # another region's: never sent
    _, second_id = register(staff.operator, 802)
    staff.operator.ok("POST", f"/api/v1/households/{first['kk']}/status", {"status": "graduated", "reason": "mampu"})
    _, third_id = register(staff.operator, 803)
    wanted = [("registry.household.registered", first_id), ("registry.household.registered", second_id),
              ("registry.household.status_changed", first_id), ("registry.household.registered", third_id)]
    eventually(lambda: len(subscriber.events()) >= len(wanted), message="the subscriber is notified")
    # one more change, and once it arrived, nothing came twice: each change once, in the registry's order
    _, fourth_id = register(staff.operator, 804)
    wanted.append(("registry.household.registered", fourth_id))
    eventually(lambda: len(subscriber.events()) >= len(wanted), message="the last change is pushed")
    assert subscriber.events() == wanted

    for _, message in subscriber.messages:  # the standard's notify, signed, at most two changes each, ids only
        assert answer_verifies(pushing, message)
        header, events = message["header"], message["message"]["notify_event"]
        assert (header["action"], header["sender_id"], header["receiver_id"]) == ("notify", "berdaya", "bansos.dorong")
        assert header["total_count"] == len(events) and 1 <= len(events) <= 2
        assert message["message"]["subscription_code"] == code
        for event in events:
            assert set(event["data"]["reg_records"][0]) == RECORD_FIELDS
    assert first["kk"] not in json.dumps(subscriber.messages)
    assert first["members"][0]["name"] not in json.dumps(subscriber.messages)
    positions = [int(event["reference_id"]) for _, m in subscriber.messages for event in m["message"]["notify_event"]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)

    # the pushed subscription is not pulled as well; each delivery is on the registry's access log
    pulled = client.ok("POST", NOTIFY, notify("bansos.dorong", code))["message"]["notify_response"]
    assert (pulled["status"], pulled["status_reason_code"], pulled.get("notify_events")) == (
        "rjct", "rjct.reference_id.invalid", None)
    reads = staff.auditor.ok("GET", f"/api/v1/people/{first['members'][0]['nik']}/access-log")["reads"]
    assert {(r["username"], r["purpose"]) for r in reads if r["role"] == "dci_client"} == {
        ("bansos.dorong", "api.dci_notify_push")}


def test_a_subscriber_that_fails_gets_every_change_once_when_it_recovers(pushing: GatewaySystem,
                                                                          subscriber: Subscriber):
    staff = Staff(pushing)
    client = dci_client(pushing, "bansos.gagal", "18.01")
    client.ok("POST", SUBSCRIBE, subscribe_at("bansos.gagal", subscriber.uri + "/"))
    subscriber.failing = 2  # fails twice, then takes them: within one round's attempts
    _, first_id = register(staff.operator, 810)
    _, second_id = register(staff.operator, 811)
    wanted = [("registry.household.registered", first_id), ("registry.household.registered", second_id)]
    eventually(lambda: subscriber.events() == wanted, message="the subscriber recovers")
    assert subscriber.refused == 2

    subscriber.failing = 7  # down for longer than a round's three attempts: the next rounds send it again
    third, third_id = register(staff.operator, 812)
    wanted.append(("registry.household.registered", third_id))
    eventually(lambda: len(subscriber.events()) >= len(wanted), message="the subscriber recovers again")
    _, fourth_id = register(staff.operator, 813)
    wanted.append(("registry.household.registered", fourth_id))
    eventually(lambda: len(subscriber.events()) >= len(wanted), message="the next change after the recovery")
    assert subscriber.events() == wanted and subscriber.refused == 9  # none lost, none twice
    # the message held between rounds is sent again as it was: the registry read it (and logged the read) once
    reads = staff.auditor.ok("GET", f"/api/v1/people/{third['members'][0]['nik']}/access-log")["reads"]
    assert [(r["username"], r["purpose"]) for r in reads if r["role"] == "dci_client"] == [
        ("bansos.gagal", "api.dci_notify_push")]


def test_unsubscribe_ends_pushes_and_pulls_and_keeps_the_subscription_as_ended(pushing: GatewaySystem,
                                                                                subscriber: Subscriber):
    staff = Staff(pushing)
    client = dci_client(pushing, "bansos.henti", "18.01")
    other = dci_client(pushing, "bansos.lain", "18.01")
    pulled_code = client.ok("POST", SUBSCRIBE, subscribe("bansos.henti", "18.01"))[
        "message"]["subscribe_response"][0]["subscription_code"]
    pushed_code = client.ok("POST", SUBSCRIBE, subscribe_at("bansos.henti", subscriber.uri + "/ended"))[
        "message"]["subscribe_response"][0]["subscription_code"]

    # another client's codes and an unknown one are refused, and change nothing
    before = subscription_rows(pushing, "bansos.henti")
    refused = other.ok("POST", UNSUBSCRIBE, unsubscribe("bansos.lain", pulled_code, pushed_code, "no-such-code"))
    assert [(s["code"], s["status"], s["status_reason_code"]) for s in
            refused["message"]["subscription_status"]] == [
        (code, "rjct", "rjct.subscription_code.invalid") for code in (pulled_code, pushed_code, "no-such-code")]
    assert (refused["header"]["action"], refused["header"]["status"], refused["message"]["status"]) == (
        "on-unsubscribe", "rjct", "rjct")
    assert subscription_rows(pushing, "bansos.henti") == before
    assert [row[1] for row in before] == [None, None]
    _, first_id = register(staff.operator, 820)
    eventually(lambda: subscriber.events("/ended") == [("registry.household.registered", first_id)],
               message="the subscription is still pushed")

    # its own client ends them: kept, marked ended, with who and when
    ended = client.ok("POST", UNSUBSCRIBE, unsubscribe("bansos.henti", pulled_code, pushed_code))
    assert [(s["code"], s["status"]) for s in ended["message"]["subscription_status"]] == [
        (pulled_code, "succ"), (pushed_code, "succ")]
    assert ended["header"]["completed_count"] == 2 and ended["message"]["status"] == "succ"
    rows = subscription_rows(pushing, "bansos.henti")
    assert sorted(row[0] for row in rows) == sorted([pulled_code, pushed_code])
    assert all(row[1] is not None and row[2] == "bansos.henti" for row in rows)
    again = client.ok("POST", UNSUBSCRIBE, unsubscribe("bansos.henti", pulled_code))
    assert [(s["status"], s["status_reason_code"]) for s in again["message"]["subscription_status"]] == [
        ("rjct", "rjct.event.already_unsubscribed")]
    assert subscription_rows(pushing, "bansos.henti") == rows  # ended once: who and when unchanged

    # neither pulled nor pushed any more: a live subscription made after them gets the next change, they do not
    witness = client.ok("POST", SUBSCRIBE, subscribe_at("bansos.henti", subscriber.uri + "/witness"))
    assert witness["message"]["subscribe_response"][0]["status"] == "succ"
    _, second_id = register(staff.operator, 821)
    eventually(lambda: subscriber.events("/witness") == [("registry.household.registered", second_id)],
               message="the live subscription is pushed")
    assert subscriber.events("/ended") == [("registry.household.registered", first_id)]
    pulled = client.ok("POST", NOTIFY, notify("bansos.henti", pulled_code))["message"]["notify_response"]
    assert (pulled["status"], pulled["status_reason_code"]) == ("rjct", "rjct.reference_id.invalid")
    assert [row[3] for row in subscription_rows(pushing, "bansos.henti") if row[0] in (pulled_code, pushed_code)] \
        == [row[3] for row in rows]  # their positions stayed where they ended

