"""Who read a person's data, and why (issue 16, items 5 and 4): every read of personal data the registry answers —
through the API, the console, the CLI or a bare RPC — names a verified reader and a purpose and is written into
the registry's access log, which holds ids only; a person's export gathers what registry, grants and training hold,
and is itself logged. Real PostgreSQL and RabbitMQ; the gateway and the CLI as users run them."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from typer.testing import CliRunner

from berdaya.cli.main import app as cli
from tests.integration.test_console_audit_users import CONSOLE, browser
from tests.integration.test_gateway import GatewaySystem, gateway_running
from tests.integration.test_grants_training import VILLAGE, draft, funded_ready_group, refusal
from tests.support.households import actor, group_body, household_body, person_id, reader
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

LOGGED = "SELECT username, role, region, purpose, route, read, returned FROM access_log ORDER BY seq"


@pytest.fixture
def console(system: System):
    with gateway_running(system, CONSOLE_SECURE_COOKIES="false") as gateway:  # plain http: cookies sent back
        yield gateway


def registered_values(households: list[dict]) -> list[str]:
    """Every KK, NIK and name the scenario registered."""
    return [value for h in households for value in (h["kk"], *(m[f] for m in h["members"] for f in ("nik", "name")))]


def test_every_personal_read_of_the_desk_is_logged_with_ids_only(console: GatewaySystem):
    system = console.system
    operator = console.user_client("operator", "18.01", "op.kalianda")
    households = [household_body(number) for number in range(1, 8)]
    for body in households:
        operator.ok("POST", "/api/v1/households", body)
    first = households[0]
    head = first["members"][0]

    household = operator.ok("GET", f"/api/v1/households/{first['kk']}")  # looked up by KK
    found = operator.ok("GET", "/api/v1/people", params={"q": "Siti Aminah 3"})  # found by name
    operator.ok("GET", f"/api/v1/people/{head['nik']}")  # the person opened
    operator.ok("GET", "/api/v1/groups/candidates", params={"village": VILLAGE})
    group_id = operator.ok("POST", "/api/v1/groups", group_body("KUBE Mawar", households))["group_id"]
    operator.ok("GET", f"/api/v1/groups/{group_id}")
    desk = browser(console, "op.kalianda").page(f"{CONSOLE}/people?q=Budi")  # the console's search
    assert "Budi 7" in desk

    assert system.sql("registry", LOGGED) == [
        ("op.kalianda", "operator", "18.01", "api.get_household", "api", "household", 1),
        ("op.kalianda", "operator", "18.01", "api.find_people", "api", "find_people", found["total"]),
        ("op.kalianda", "operator", "18.01", "api.get_person", "api", "person", 1),
        ("op.kalianda", "operator", "18.01", "api.group_candidates", "api", "group_candidates", 7),
        ("op.kalianda", "operator", "18.01", "api.get_group", "api", "group", 1),
        ("op.kalianda", "operator", "18.01", "console.people", "console", "find_people", 7),
    ]
    # what was read, by id: the household looked up; the search's every household shown
    assert system.sql("registry", "SELECT households::text[] FROM access_log ORDER BY seq LIMIT 1")[0][0] == [
        household["household_id"]]
    shown = {person["household_id"] for person in found["items"]}
    assert set(system.scalar("registry", "SELECT households::text[] FROM access_log WHERE seq = "
                                         "(SELECT min(seq) + 1 FROM access_log)")) == shown
    # ids only: no KK, NIK or name of anyone registered, in any column
    logged = "\n".join(row[0] for row in system.sql("registry", "SELECT access_log::text FROM access_log"))
    assert [value for value in registered_values(households) if value in logged] == []
    for rewrite in ("DELETE FROM access_log", "UPDATE access_log SET username = 'nobody'", "TRUNCATE access_log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # append-only, like the event log
            system.sql("registry", rewrite)
    assert len(system.sql("registry", LOGGED)) == 6

    # the person's access log: for an auditor, not for the operator who read
    auditor = console.user_client("auditor", "", "inspektorat")
    answer = auditor.ok("GET", f"/api/v1/people/{head['nik']}/access-log")
    assert [(r["username"], r["purpose"]) for r in answer["reads"]] == [
        ("op.kalianda", "api.get_household"), ("op.kalianda", "api.get_person"),
        ("op.kalianda", "api.group_candidates"), ("op.kalianda", "api.get_group"),
        ("op.kalianda", "console.people")]  # "Siti Aminah 3" showed another household
    assert all(r["read_at"].endswith("+00:00") for r in answer["reads"])
    before = system.scalar("registry", "SELECT count(*) FROM access_log")
    status, refused = operator.get(f"/api/v1/people/{head['nik']}/access-log")
    assert (status, refused["error"]["code"]) == (403, "forbidden")
    assert system.scalar("registry", "SELECT count(*) FROM access_log") == before


def test_a_read_without_a_signed_actor_is_refused_and_logs_nothing(console: GatewaySystem):
    system = console.system
    body = household_body(1)
    with system.rpc() as rpc:
        rpc.registry.register_household({**body, "actor": actor("op.kalianda")})
    with ClusterRpcProxy({"AMQP_URI": system.amqp_uri}, timeout=30) as raw:  # anyone on the broker
        for made_up in ({"user": "x", "role": "auditor", "region": ""}, None):
            error = refusal(lambda made_up=made_up: raw.registry.household(
                {"actor": made_up, "purpose": "rpc.tests"}, body["kk"]))
            assert (error.rule, error.details["field"]) == ("actor.unverified", "actor")
    assert system.scalar("registry", "SELECT count(*) FROM access_log") == 0


def test_a_household_of_another_region_is_answered_as_missing_and_not_logged(console: GatewaySystem):
    system = console.system
    body = household_body(1)
    with system.rpc() as rpc:
        rpc.registry.register_household({**body, "actor": actor("op.kalianda")})
        lamteng = reader("op.lamteng", "operator", "18.02")
        assert rpc.registry.household(lamteng, body["kk"]) is None
        assert rpc.registry.person(lamteng, body["members"][0]["nik"]) is None
        assert refusal(lambda: rpc.registry.find_people(lamteng, body["kk"], "18.01")).rule == "region.scope"
        assert rpc.registry.find_people(lamteng, body["kk"])["total"] == 0  # its own region: nobody
    assert system.sql("registry", LOGGED) == [("op.lamteng", "operator", "18.02", "rpc.tests", "rpc", "find_people",
                                               0)]


def run_cli(system: System, *args: str):
    """`berdaya …` as an operator of this system runs it (its broker, the operators' actor key)."""
    environment = {"AMQP_URI": system.amqp_uri, "ACTOR_SIGNING_KEY": system.actor_keys["OPERATOR_ACTOR_SIGNING_KEY"]}
    return CliRunner().invoke(cli, list(args), env=environment)


def said(result) -> str:
    return " ".join(result.stderr.split())  # as one line: the terminal's width wraps it


def test_people_export_gathers_all_three_services_and_is_logged(console: GatewaySystem):
    system = console.system
    with system.rpc() as rpc:
        group_id, members = funded_ready_group(rpc, start=300)
        proposal_id = draft(rpc, group_id)
        person = members[0]["representative_nik"]
        enrolled = person_id(rpc, person)  # training knows the registry's id only
        eventually(lambda: rpc.training.individual(enrolled))
        cohort_id = rpc.training.open_cohort({"village_code": VILLAGE, "facilitator": "fasilitator.rina",
                                              "actor": actor("kasi.pemberdayaan")})
        rpc.training.enrol({"cohort_id": cohort_id, "person_id": enrolled, "actor": actor("kasi")})
        rpc.registry.person(reader("op.kalianda", purpose="rpc.tests"), person)

    refused = run_cli(system, "people", "export", person, "--by", "op.kalianda", "--role", "operator")
    assert refused.exit_code == 2 and "may not export" in said(refused)
    answer = run_cli(system, "people", "export", person, "--json", "--by", "inspektorat")
    assert answer.exit_code == 0, answer.stderr
    exported = json.loads(answer.stdout)
    registry = exported["registry"]
    assert registry["person"]["nik"] == person and registry["household"]["kk"] == members[0]["kk"]
    assert [m["nik"] for h in registry["history"] for m in h["details"].get("members", [])] == [person]
    assert [(g["group_id"], g["roles"]) for g in registry["groups"]] == [(group_id, ["ketua"])]
    assert [(p["proposal_id"], p["status"], p["requested_rp"]) for p in exported["grants"][group_id]] == [
        (proposal_id, "draft", 16_500_000)]
    assert [e["cohort_id"] for e in exported["training"]["enrolments"]] == [cohort_id]
    assert [(r["username"], r["purpose"]) for r in registry["reads"]][-1] == ("op.kalianda", "rpc.tests")

    assert system.sql("registry", LOGGED)[-1] == ("inspektorat", "auditor", "", "cli.people.export", "cli",
                                                  "person_export", 1)
    before = system.scalar("registry", "SELECT count(*) FROM access_log")
    refused = run_cli(system, "people", "access-log", person, "--by", "op.kalianda", "--role", "operator")
    assert refused.exit_code == 2 and "may not read who accessed" in said(refused)
    assert system.scalar("registry", "SELECT count(*) FROM access_log") == before
    listed = json.loads(run_cli(system, "people", "access-log", person, "--json").stdout)
    assert [(r["username"], r["purpose"], r["route"]) for r in listed["reads"]][-1] == (
        "inspektorat", "cli.people.export", "cli")


def test_the_consoles_household_links_and_forms_carry_ids_never_a_kk_or_nik(console: GatewaySystem):
    """Issue 16, item 1: a link to a household and the household page's forms name it and its members by their ids
    (a KK or NIK in an address ends up in proxies' and browsers' histories); a member's removal through the page
    reaches the registry by id alone."""
    operator = console.user_client("operator", "18.01", "op.kalianda")
    body = household_body(40)
    household_id = operator.ok("POST", "/api/v1/households", body)["household_id"]
    son = next(m for m in operator.ok("GET", f"/api/v1/households/{household_id}")["members"]
               if m["nik"] == body["members"][1]["nik"])
    desk = browser(console, "op.kalianda")
    found = desk.page(f"{CONSOLE}/people?q={body['members'][0]['name']}")
    assert f'href="{CONSOLE}/households/{household_id}"' in found

    page = desk.page(f"{CONSOLE}/households/{household_id}")
    addresses_and_hidden = re.findall(r'(?:href|action)="([^"]*)"|type="hidden" name="[^"]*" value="([^"]*)"', page)
    carried = " ".join(value for pair in addresses_and_hidden for value in pair)
    assert [value for value in (body["kk"], *(m["nik"] for m in body["members"])) if value in carried] == []
    assert f'<option value="{son["person_id"]}"' in page  # a member is chosen by id

    desk.done(desk.post(f"{CONSOLE}/households/{household_id}/remove",
                        {"person_id": son["person_id"], "reason": "moved_out"}), "household_changed")
    members = operator.ok("GET", f"/api/v1/households/{household_id}")["members"]
    assert [m["nik"] for m in members] == [body["members"][0]["nik"]]
