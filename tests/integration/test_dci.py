"""The DCI social-registry sync search through the real gateway and registry: another system, with a client
credential made by `berdaya users add-client`, searches the households of its region by decile and BDT status page
by page, and gets the registry's ids and selection facts only; a region outside its own, a bad message, another
system's sender id or no credential are refused with the standard's error codes, and a malformed search request is
answered ``rjct`` beside the others. Each search is on the registry's access log.
"""

from __future__ import annotations

import html
import json
import uuid

import pytest
from typer.testing import CliRunner

from berdaya.cli.users import users_app
from tests.integration.test_console_audit_users import CONSOLE, Browser, console  # noqa: F401  (the fixture)
from tests.integration.test_gateway import (  # noqa: F401  (gateway: the fixture)
    OTHER_VILLAGE,
    VILLAGE,
    Client,
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,
    household_body,
    register_group,
    set_budget,
)
from tests.integration.test_grants_training import refusal
from tests.support.households import reader
from tests.support.system import eventually

pytestmark = pytest.mark.integration

SEARCH = "/api/v1/dci/registry/sync/search"
TXN_STATUS = "/api/v1/dci/registry/sync/txn/status"
SUBSCRIBE = "/api/v1/dci/registry/sync/subscribe"
NOTIFY = "/api/v1/dci/registry/sync/notify"
RECORD_FIELDS = {"identifier", "region_code", "poverty_decile", "bdt_status", "member_count", "enrolment_status"}


def credential(gw: GatewaySystem, client_id: str, region: str, *flags: str) -> dict:
    """A client credential as the office makes one (`berdaya users add-client`)."""
    made = CliRunner().invoke(users_app, ["add-client", client_id, "--region", region, *flags],
                              env={"GATEWAY_DATABASE_URL": gw.database_url})
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout.strip().splitlines()[-1])
    assert created["role"] == "dci_client" and len(created["client_secret"]) >= 40
    assert created["client_secret"] not in gw.store.user(client_id)[1]  # hashed at rest
    return created


def dci_client(gw: GatewaySystem, client_id: str, region: str, *flags: str) -> Client:
    """Another system, logged in with its client credential."""
    return Client(gw.base, gw.token(client_id, credential(gw, client_id, region, *flags)["client_secret"]))


def predicate(name: str, operator: str, value) -> dict:
    return {"expression1": {"attribute_name": name, "operator": operator, "attribute_value": value}}


def search_request(*predicates: dict, page_size: int = 10, page_number: int = 1, sort=(), reference_id=None,
                   query_type: str = "predicate", query=None) -> dict:
    return {"reference_id": reference_id or str(uuid.uuid4()), "timestamp": "2026-12-07T10:00:00+07:00",
            "search_criteria": {"version": "1.0.0", "reg_type": "ns:org:RegistryType:Social",
                                "query_type": query_type, "query": list(predicates) if query is None else query,
                                "sort": list(sort),
                                "pagination": {"page_size": page_size, "page_number": page_number}},
            "locale": "id"}


def message(sender_id: str, *requests: dict, version: str = "1.0.0") -> dict:
    return {"signature": "", "header": {
        "version": version, "message_id": str(uuid.uuid4()), "message_ts": "2026-12-07T03:00:00Z", "action": "search",
        "sender_id": sender_id, "receiver_id": "berdaya", "total_count": len(requests), "is_msg_encrypted": False},
        "message": {"transaction_id": str(uuid.uuid4()), "search_request": list(requests)}}


def households(answer: dict, index: int = 0) -> list[dict]:
    return answer["message"]["search_response"][index]["data"]["reg_records"]


@pytest.fixture
def registry(gateway: GatewaySystem) -> dict:  # noqa: F811
    """Five households of the village in 18.01 (deciles 1, 1, 2, 3, 4; one of decile 1 graduated) and one of
    18.02; their ids by KK."""
    staff = Staff(gateway)
    other = gateway.user_client("operator", "18.02", "op.other")
    bodies = [household_body(700 + i, decile=d) for i, d in enumerate((1, 1, 2, 3, 4))]
    for body in bodies:
        staff.operator.ok("POST", "/api/v1/households", body)
    staff.operator.ok("POST", f"/api/v1/households/{bodies[1]['kk']}/status",
                      {"status": "graduated", "reason": "mampu"})
    far = household_body(790, village=OTHER_VILLAGE, decile=1)
    other.ok("POST", "/api/v1/households", far)
    ids = {body["kk"]: staff.operator.ok("GET", f"/api/v1/households/{body['kk']}")["household_id"]
           for body in bodies}
    return {"staff": staff, "bodies": bodies, "ids": ids, "far": far}


def test_a_client_searches_its_region_by_decile_and_status_page_by_page(gateway: GatewaySystem,  # noqa: F811
                                                                        registry: dict):
    client = dci_client(gateway, "bansos.lampung", "18.01")
    poorest = (predicate("region_code", "eq", "18.01"), predicate("poverty_decile", "le", 2),
               predicate("bdt_status", "eq", "active"))
    first = client.ok("POST", SEARCH, message("bansos.lampung", search_request(*poorest, page_size=1)))
    second = client.ok("POST", SEARCH, message("bansos.lampung", search_request(*poorest, page_size=1,
                                                                                page_number=2)))
    bodies, ids = registry["bodies"], registry["ids"]
    wanted = {ids[bodies[0]["kk"]], ids[bodies[2]["kk"]]}  # deciles 1 and 2, active (the other decile 1 graduated)
    found = households(first) + households(second)
    assert {r["identifier"][0]["identifier_value"] for r in found} == wanted and len(found) == 2
    assert first["message"]["search_response"][0]["pagination"] == {"page_size": 1, "page_number": 1,
                                                                    "total_count": 2}
    assert first["header"]["status"] == "succ" and first["header"]["receiver_id"] == "bansos.lampung"
    assert first["header"]["action"] == "on-search" and first["header"]["completed_count"] == 1
    for record in found:  # the registry's ids and the selection's facts: no KK, NIK, name or address
        assert set(record) == RECORD_FIELDS
        assert record["region_code"] == VILLAGE and record["member_count"] == 2
    assert not any(body["kk"] in json.dumps(found) or body["members"][0]["name"] in json.dumps(found)
                   for body in bodies)

    # several deciles, sorted poorest last; and two searches in one message
    by_decile = client.ok("POST", SEARCH, message(
        "bansos.lampung",
        search_request(predicate("poverty_decile", "in", [3, 4]), sort=[{"attribute_name": "poverty_decile",
                                                                         "sort_order": "desc"}]),
        search_request(predicate("bdt_status", "eq", "graduated"))))
    assert [r["poverty_decile"] for r in households(by_decile)] == [4, 3]
    assert [r["identifier"][0]["identifier_value"] for r in households(by_decile, 1)] == [ids[bodies[1]["kk"]]]

    # every search is on the registry's access log, under the client's name and the route
    head_nik = bodies[0]["members"][0]["nik"]
    reads = registry["staff"].auditor.ok("GET", f"/api/v1/people/{head_nik}/access-log")["reads"]
    assert [(r["username"], r["role"], r["purpose"]) for r in reads if r["username"] == "bansos.lampung"] == [
        ("bansos.lampung", "dci_client", "api.dci_sync_search")]


def txn_status(sender_id: str, attribute_type: str, value: str, txn_type: str = "search") -> dict:
    asked = message(sender_id)
    asked["header"].update(action="txn-status", total_count=1)
    asked["message"] = {"transaction_id": str(uuid.uuid4()), "txnstatus_request": {
        "reference_id": "status-1", "txn_type": txn_type, "attribute_type": attribute_type, "attribute_value": value}}
    return asked


def test_txn_status_tells_what_a_clients_search_came_to_without_its_records(gateway: GatewaySystem,  # noqa: F811
                                                                            registry: dict):
    client = dci_client(gateway, "bansos.status", "18.01")
    other = dci_client(gateway, "bansos.lain", "18.01")
    sent = message("bansos.status", search_request(predicate("poverty_decile", "le", 2), reference_id="A"),
                   search_request(predicate("name", "eq", "Siti"), reference_id="B"))
    answered = client.ok("POST", SEARCH, sent)
    by_transaction = client.ok("POST", TXN_STATUS, txn_status("bansos.status", "transaction_id",
                                                              sent["message"]["transaction_id"]))
    by_correlation = client.ok("POST", TXN_STATUS, txn_status("bansos.status", "correlation_id",
                                                              answered["message"]["correlation_id"]))
    assert by_transaction["message"]["txnstatus_response"] == by_correlation["message"]["txnstatus_response"]
    status = by_transaction["message"]["txnstatus_response"]["txn_status"]
    assert status["correlation_id"] == answered["message"]["correlation_id"]
    assert [(r["reference_id"], r["status"], r.get("status_reason_code"), (r.get("pagination") or {}).get(
        "total_count")) for r in status["search_response"]] == [
        ("A", "succ", None, 3), ("B", "rjct", "rjct.search_criteria.invalid", None)]
    assert not any("data" in r for r in status["search_response"])  # the records stay in the registry
    assert by_transaction["header"]["action"] == "txn-on-status"

    # another client does not learn of it; an unknown id is the standard's rjct; a bad query is refused
    unknown = other.ok("POST", TXN_STATUS, txn_status("bansos.lain", "transaction_id",
                                                      sent["message"]["transaction_id"]))
    rejected = unknown["message"]["txnstatus_response"]["txn_status"]["search_response"]
    assert [(r["status"], r["status_reason_code"]) for r in rejected] == [("rjct", "rjct.reference_id.invalid")]
    assert unknown["header"]["status"] == "rjct"
    status_code, refused = client.post(TXN_STATUS, txn_status("bansos.status", "reference_id", "A"))
    assert (status_code, refused["error"]["code"], refused["error"]["rule"]) == (
        400, "err.request.bad", "dci.txn_status")


def test_refusals_answer_with_the_standards_codes_and_read_nothing(gateway: GatewaySystem,  # noqa: F811
                                                                   registry: dict):
    client = dci_client(gateway, "bansos.lamsel", "18.01")
    good = search_request(predicate("poverty_decile", "eq", 1))

    def refused(body, who: Client = client, rule: str | None = None) -> tuple[int, str]:
        status, answer = who.post(SEARCH, body)
        assert answer["error"].get("rule") == rule or rule is None, answer
        return status, answer["error"]["code"]

    # another region than the client's: the whole message, before any search runs
    assert refused(message("bansos.lamsel", good, search_request(predicate("region_code", "eq", "18.02"))),
                   rule="region.scope") == (403, "err.request.forbidden")
    # a message that is not the standard's, another version or action, another system's sender id, a wrong count
    assert refused({"header": {"version": "1.0.0"}}) == (400, "err.request.bad")
    assert refused(message("bansos.lamsel", good, version="2.0.0"), rule="dci.version") == (
        400, "err.version.not_supported")
    on_search = message("bansos.lamsel", good)
    on_search["header"]["action"] = "on-search"
    assert refused(on_search, rule="dci.action") == (400, "err.request.bad")
    assert refused(message("bansos.lain", good), rule="dci.sender_id") == (403, "err.sender_id.invalid")
    miscounted = message("bansos.lamsel", good)
    miscounted["header"]["total_count"] = 3
    assert refused(miscounted, rule="dci.total_count") == (400, "err.request.bad")
    # no credential, and a person's role: the route is for other systems only
    assert refused(message("bansos.lamsel", good), Client(gateway.base)) == (401, "err.request.unauthorized")
    assert refused(message("op.kalianda", good), registry["staff"].operator) == (403, "err.request.forbidden")
    # and the client reaches nothing else of the API
    assert client.get("/api/v1/households", params={"village": VILLAGE})[0] == 403

    # nothing of 18.02 was read by the client (the refused search ran no read)
    far_nik = registry["far"]["members"][0]["nik"]
    reads = registry["staff"].auditor.ok("GET", f"/api/v1/people/{far_nik}/access-log")["reads"]
    assert not [r for r in reads if r["role"] == "dci_client"]

    # a malformed search request is rejected alone, beside one that succeeds
    answer = client.ok("POST", SEARCH, message(
        "bansos.lamsel", good,
        search_request(predicate("name", "eq", "Siti")),
        search_request(query_type="expression"),
        search_request(predicate("poverty_decile", "eq", 2), page_size=0),
        search_request(sort=[{"attribute_name": "name", "sort_order": "asc"}]),
        {**good}))  # the same reference_id again
    outcomes = [(r["status"], r.get("status_reason_code")) for r in answer["message"]["search_response"]]
    assert outcomes == [("succ", None), ("rjct", "rjct.search_criteria.invalid"),
                        ("rjct", "rjct.search_criteria.invalid"), ("rjct", "rjct.pagination.invalid"),
                        ("rjct", "rjct.sort.invalid"), ("rjct", "rjct.reference_id.duplicate")]
    assert answer["header"]["completed_count"] == 1 and answer["header"]["total_count"] == 6
    assert len(households(answer)) == 2  # decile 1 in 18.01, whatever its BDT status (18.02: not the client's)


def by_identifier(id_type: str, value: str) -> dict:
    """The standard's idtype-value search request: a household by a member's NIK or by its KK."""
    return search_request(query_type="idtype-value", query={"type": id_type, "value": value})


def test_an_entitled_client_finds_a_household_by_nik_or_kk_in_its_region_only(gateway: GatewaySystem,  # noqa: F811
                                                                              registry: dict):
    entitled = dci_client(gateway, "bansos.nik", "18.01", "--identifier-search")
    bodies, ids, far = registry["bodies"], registry["ids"], registry["far"]
    member_nik = bodies[2]["members"][1]["nik"]
    answer = entitled.ok("POST", SEARCH, message(
        "bansos.nik", by_identifier("KK", bodies[0]["kk"]), by_identifier("NIK", member_nik),
        by_identifier("KK", far["kk"]), by_identifier("NIK", far["members"][0]["nik"]),
        by_identifier("NIK", "1801010101010999"), by_identifier("NPWP", bodies[0]["kk"])))
    found = [[r["identifier"][0]["identifier_value"] for r in response.get("data", {}).get("reg_records", [])]
             for response in answer["message"]["search_response"]]
    # its region's household by KK and by a member's NIK; one of 18.02 as an unknown one: not found
    assert found == [[ids[bodies[0]["kk"]]], [ids[bodies[2]["kk"]]], [], [], [], []]
    assert [r["status"] for r in answer["message"]["search_response"]] == ["succ"] * 5 + ["rjct"]
    assert set(households(answer)[0]) == RECORD_FIELDS and households(answer)[0]["poverty_decile"] == 1
    shown = json.dumps(answer)  # the minimum: no KK, NIK or name back, not even the one asked
    assert not any(secret in shown for secret in (bodies[0]["kk"], member_nik, bodies[0]["members"][0]["name"]))

    # each search by identifier is on the access log of the person it found, with the client as reader
    reads = registry["staff"].auditor.ok("GET", f"/api/v1/people/{member_nik}/access-log")["reads"]
    assert [(r["username"], r["role"], r["purpose"], r["read"]) for r in reads if r["role"] == "dci_client"] == [
        ("bansos.nik", "dci_client", "api.dci_sync_search", "household_identified")]


def test_a_client_not_entitled_to_identifier_search_is_refused_and_reads_nothing(
        gateway: GatewaySystem, registry: dict):  # noqa: F811
    client = dci_client(gateway, "bansos.umum", "18.01")
    head_nik = registry["bodies"][0]["members"][0]["nik"]
    status, refused = client.post(SEARCH, message("bansos.umum", search_request(predicate("poverty_decile", "eq", 1)),
                                                  by_identifier("NIK", head_nik)))
    assert (status, refused["error"]["code"], refused["error"]["rule"]) == (
        403, "err.request.unauthorized", "dci.identifier_search")
    assert head_nik not in json.dumps(refused)
    reads = registry["staff"].auditor.ok("GET", f"/api/v1/people/{head_nik}/access-log")["reads"]
    assert not [r for r in reads if r["username"] == "bansos.umum"]  # the message's other search did not run


def test_each_record_says_what_the_household_already_receives_from_kube(gateway: GatewaySystem):  # noqa: F811
    """The double-aid check through DCI: each record's enrolment status, as the household's benefits say it."""
    staff = Staff(gateway)
    set_budget(staff)
    funded_group, funded = register_group(staff, 7500, "KUBE Mawar")
    approved_proposal(staff, funded_group)
    applying_group, applying = register_group(staff, 7600, "KUBE Melati")
    draft = {"group_id": applying_group, "business_plan": "Warung sembako", "form": "cash", "budget_lines": [
        {"item": "Etalase", "quantity": 1, "unit": "unit", "unit_price_rp": 3_000_000}]}
    eventually(lambda: staff.operator.post("/api/v1/proposals", draft)[0] == 201, timeout=30,
               message="grants learns of the group")
    _, members = register_group(staff, 7800, "KUBE Anggrek")
    outsider = household_body(7900)
    staff.operator.ok("POST", "/api/v1/households", outsider)
    client = dci_client(gateway, "bansos.ganda", "18.01", "--identifier-search")
    wanted = {"receiving": funded[0]["kk"], "applying": applying[0]["kk"], "member": members[0]["kk"],
              "none": outsider["kk"]}

    def enrolments() -> list[str]:
        answer = client.ok("POST", SEARCH, message("bansos.ganda",
                                                   *(by_identifier("KK", kk) for kk in wanted.values())))
        return [households(answer, i)[0]["enrolment_status"] for i in range(len(wanted))]

    eventually(lambda: enrolments() == list(wanted), timeout=30, message="grants learns of the last group")
    for status, kk in wanted.items():  # the same as the household's benefits say
        assert staff.operator.ok("GET", f"/api/v1/households/{kk}/benefits")["enrolment"] == status
    # and on a page of a predicate search, every record carries it
    page = client.ok("POST", SEARCH, message("bansos.ganda", search_request(predicate("region_code", "eq", "18.01"),
                                                                            page_size=500)))
    statuses = [record["enrolment_status"] for record in households(page)]
    assert len(statuses) == 22 and sorted(set(statuses)) == ["applying", "member", "none", "receiving"]


def subscribe(sender_id: str, *regions: str) -> dict:
    asked = message(sender_id)
    asked["header"].update(action="subscribe", total_count=len(regions))
    asked["message"] = {"transaction_id": str(uuid.uuid4()), "subscribe_request": [
        {"reference_id": f"sub-{region}", "timestamp": "2026-12-07T10:00:00+07:00", "subscribe_criteria": {
            "reg_type": "ns:org:RegistryType:Social", "filter": [predicate("region_code", "eq", region)]}}
        for region in regions]}
    return asked


def notify(sender_id: str, code: str) -> dict:
    asked = message(sender_id)
    asked["header"].update(action="notify", total_count=1)
    asked["message"] = {"transaction_id": str(uuid.uuid4()),
                        "notify_request": {"reference_id": "pull-1", "subscription_code": code}}
    return asked


def test_a_subscriber_pulls_the_household_changes_of_its_region_as_ids_only(gateway: GatewaySystem,  # noqa: F811
                                                                            registry: dict):
    client = dci_client(gateway, "bansos.ikut", "18.01")
    status, refused = client.post(SUBSCRIBE, subscribe("bansos.ikut", "18.01", "18.02"))
    assert (status, refused["error"]["code"], refused["error"]["rule"]) == (403, "err.request.forbidden",
                                                                           "region.scope")
    subscribed = client.ok("POST", SUBSCRIBE, subscribe("bansos.ikut", "18.01"))
    assert subscribed["header"]["action"] == "on-subscribe"
    code = subscribed["message"]["subscribe_response"][0]["subscription_code"]

    def pulled() -> list[tuple[str, str, str]]:
        events = client.ok("POST", NOTIFY, notify("bansos.ikut", code))["message"]["notify_response"]
        assert events["status"] == "succ"
        for event in events["notify_events"]:
            assert set(event["reg_record"]) == RECORD_FIELDS
        return [(e["event_type"], e["reg_record"]["identifier"][0]["identifier_value"],
                 e["reg_record"]["bdt_status"]) for e in events["notify_events"]]

    assert pulled() == []  # from the subscription on: the households registered before are not changes
    staff, bodies, ids = registry["staff"], registry["bodies"], registry["ids"]
    newcomer = household_body(760)
    staff.operator.ok("POST", "/api/v1/households", newcomer)
    newcomer_id = staff.operator.ok("GET", f"/api/v1/households/{newcomer['kk']}")["household_id"]
    staff.operator.ok("POST", f"/api/v1/households/{bodies[3]['kk']}/status", {"status": "graduated",
                                                                              "reason": "mampu"})
    gateway.user_client("operator", "18.02", "op.lain").ok("POST", "/api/v1/households",
                                                           household_body(791, village=OTHER_VILLAGE))
    assert pulled() == [("registry.household.registered", newcomer_id, "active"),
                        ("registry.household.status_changed", ids[bodies[3]["kk"]], "graduated")]
    assert pulled() == []  # each change once: the next pull starts after the last

    # another client does not know the subscription; the reads are on the access log
    other = dci_client(gateway, "bansos.lain", "18.01")
    unknown = other.ok("POST", NOTIFY, notify("bansos.lain", code))["message"]["notify_response"]
    assert (unknown["status"], unknown["status_reason_code"]) == ("rjct", "rjct.reference_id.invalid")
    reads = staff.auditor.ok("GET", f"/api/v1/people/{newcomer['members'][0]['nik']}/access-log")["reads"]
    assert [(r["username"], r["purpose"]) for r in reads if r["role"] == "dci_client"] == [
        ("bansos.ikut", "api.dci_sync_notify")]


def test_the_registry_sorts_by_its_own_columns_only(gateway: GatewaySystem, registry: dict):  # noqa: F811
    """The registry's read checks the sort itself, whoever calls it: nothing of a caller's text reaches its SQL."""
    client = reader("bansos.rpc", role="dci_client", region="18.01")
    with gateway.system.rpc() as rpc:
        error = refusal(lambda: rpc.registry.households_where(client, "18.01", [1, 2], ["active"],
                                                              [["decile; DROP TABLE households", "asc"]]))
        assert (error.rule, error.details["field"]) == ("dci.sort", "sort")
        listed = rpc.registry.households_where(client, "18.01", [1, 2], ["active"], [["decile", "desc"]])
    assert [row["decile"] for row in listed["items"]] == [2, 1]


def test_the_registry_finds_a_household_by_nik_or_kk_only(gateway: GatewaySystem, registry: dict):  # noqa: F811
    """The registry's read checks the identifier itself, whoever calls it, and never names it back."""
    client = reader("bansos.rpc", role="dci_client", region="18.01")
    kk = registry["bodies"][0]["kk"]
    with gateway.system.rpc() as rpc:
        error = refusal(lambda: rpc.registry.household_identified(client, "NPWP", kk))
        assert (error.rule, error.details["field"]) == ("dci.identifier", "identifier") and kk not in str(error)
        found = rpc.registry.household_identified(client, "KK", kk)
    assert [row["household_id"] for row in found] == [registry["ids"][kk]]


def test_a_client_credential_opens_no_console_session(console: GatewaySystem):  # noqa: F811
    secret = credential(console, "bansos.konsol", "18.01")["client_secret"]
    opened = Browser(console.base)
    answer = opened.login("bansos.konsol", secret)
    assert answer.status_code == 403, (answer.status_code, answer.text[:300])
    assert "This account belongs to another system: it has no console." in html.unescape(answer.text)
    home = opened.get(f"{CONSOLE}/")
    assert home.status_code == 303 and "/login" in home.headers["Location"]  # no session was opened
