"""Cross-region reads and writes by guessed ids (issue 15, item 3): a user of another regency (18.02) who guesses
the KK, NIK or id of a Lampung Selatan (18.01) record gets exactly what a record that does not exist gets — the
same 404, body byte for byte and headers (but Date), after the same lookup (a loose timing check: no early
return) — so guessing tells them neither that it exists nor where. A write answered so changes nothing (re-read
by the owner). The console shows both as its one 404 page, Indonesian first. A region the request names itself
(a household registered into another regency's village) is still a 403 naming it: it reveals nothing."""

from __future__ import annotations

import html
import re
import statistics
import time
import uuid

import pytest

from tests.integration.test_console_audit_users import CONSOLE, Browser, console  # noqa: F401  (the fixture)
from tests.integration.test_gateway import (  # noqa: F401  (gateway: the fixture)
    LINES,
    OTHER_VILLAGE,
    Client,
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,
    group_body,
    household_body,
    register_group,
    set_budget,
)
from tests.support.system import eventually

pytestmark = pytest.mark.integration

OTHER = "18.02"  # another regency of Lampung
NOWHERE = 5123  # a household number no test registers: its KK and NIKs have the right shape and region digits


def answer(client: Client, method: str, path: str, body=None, headers=None) -> tuple[int, bytes, dict[str, str]]:
    """Everything a client can see of an answer but its Date."""
    response = client.session.request(method, client.base + path, json=body, headers=headers or {}, timeout=60)
    return response.status_code, response.content, {k: v for k, v in response.headers.items() if k != "Date"}


def alike(client: Client, method: str, existing: str, missing: str, body=None, headers=None) -> tuple:
    """The answers to an existing record's path and a missing one's: identical, and a 404."""
    first = answer(client, method, existing, body, headers and {**headers, "Idempotency-Key": uuid.uuid4().hex})
    second = answer(client, method, missing, body, headers and {**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert first == second, f"{method} {existing} answers otherwise than a missing record: {first} / {second}"
    assert first[0] == 404, first
    return first


def recommended_proposal(staff: Staff, group_id: str) -> str:
    draft = {"group_id": group_id, "business_plan": "Usaha jahit", "budget_lines": LINES, "form": "cash"}
    proposal_id = eventually(lambda: created(staff.operator.post("/api/v1/proposals", draft)), timeout=30,
                             message="grants learns of the group")["proposal_id"]
    for role, step in ((staff.operator, "submit"), (staff.verifier, "verify"), (staff.province, "recommend")):
        role.ok("POST", f"/api/v1/proposals/{proposal_id}/{step}")
    return proposal_id


def created(reply: tuple[int, object]):
    status, body = reply
    return body if status == 201 else None


def test_guessed_ids_of_another_region_are_answered_as_missing_ones(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    set_budget(staff)
    group_id, households = register_group(staff, 2100)
    proposal_id = approved_proposal(staff, group_id)  # a grant; training opens a cohort for the group
    waiting_group, _ = register_group(staff, 2200, "KUBE Melati")
    waiting = recommended_proposal(staff, waiting_group)
    kk, nik = households[0]["kk"], households[0]["members"][0]["nik"]
    cohort_id = eventually(lambda: staff.facilitator.ok("GET", "/api/v1/cohorts")["items"], timeout=60)[0]["cohort_id"]
    person = staff.operator.ok("GET", f"/api/v1/people/{nik}")["person_id"]  # training knows the id only
    eventually(lambda: staff.auditor.get(f"/api/v1/participants/{person}")[0] == 200, timeout=60)
    nowhere = household_body(NOWHERE)
    no_kk, no_nik, no_id = nowhere["kk"], nowhere["members"][0]["nik"], str(uuid.uuid4())
    stranger = {role: gateway.user_client(role, OTHER) for role in ("auditor", "operator", "ministry", "treasurer")}

    reads = [(f"/households/{kk}", f"/households/{no_kk}"),
             (f"/households/{kk}/history", f"/households/{no_kk}/history"),
             (f"/people/{nik}", f"/people/{no_nik}"), (f"/participants/{person}", f"/participants/{no_id}"),
             (f"/groups/{group_id}", f"/groups/{no_id}"), (f"/proposals/{proposal_id}", f"/proposals/{no_id}"),
             (f"/grants/{proposal_id}", f"/grants/{no_id}"), (f"/cohorts/{cohort_id}", f"/cohorts/{no_id}")]
    for existing, missing in reads:
        status, body, _ = alike(stranger["auditor"], "GET", f"/api/v1{existing}", f"/api/v1{missing}")
        for secret in (kk, nik, group_id, proposal_id, cohort_id, "18.01"):
            assert secret.encode() not in body, (existing, body)

    before = {path: staff.auditor.ok("GET", path) for path in (
        f"/api/v1/proposals/{waiting}", f"/api/v1/grants/{proposal_id}", f"/api/v1/households/{kk}")}
    approve = {"amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"}
    alike(stranger["ministry"], "POST", f"/api/v1/proposals/{waiting}/approve", f"/api/v1/proposals/{no_id}/approve",
          approve)
    alike(stranger["treasurer"], "POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
          f"/api/v1/grants/{no_id}/tranches/1/disburse", headers={"Idempotency-Key": "set per request"})
    alike(stranger["operator"], "POST", f"/api/v1/households/{kk}/decile", f"/api/v1/households/{no_kk}/decile",
          {"decile": 4})
    draft = {"business_plan": "Usaha jahit", "budget_lines": LINES, "form": "cash"}
    first = answer(stranger["operator"], "POST", "/api/v1/proposals", {**draft, "group_id": group_id})
    assert first == answer(stranger["operator"], "POST", "/api/v1/proposals", {**draft, "group_id": no_id})
    assert first[0] == 404, first
    for path, seen in before.items():
        again = staff.auditor.ok("GET", path)
        assert again == seen, f"a refused write changed {path}"
    assert staff.auditor.ok("GET", "/api/v1/proposals", params={"region": "18"})["total"] == 2  # no third draft

    # A KUBE of another regency whose members are Lampung Selatan households: refused as for unknown KKs, naming
    # only the KK given (the refusal used to say where that household lives).
    foreign = group_body("KUBE Asing", households, village=OTHER_VILLAGE)
    unknown = {**foreign, "members": [{**foreign["members"][0], "kk": no_kk}, *foreign["members"][1:]]}
    status, body, headers = answer(stranger["operator"], "POST", "/api/v1/groups", foreign)
    status_unknown, body_unknown, headers_unknown = answer(stranger["operator"], "POST", "/api/v1/groups", unknown)
    assert (status, body.replace(kk.encode(), b"KK"), headers) == \
        (status_unknown, body_unknown.replace(no_kk.encode(), b"KK"), headers_unknown)
    assert status == 404 and b"18.01" not in body, body

    # A region the request names itself is refused as out of region: it tells nothing about any record.
    status, body, _ = answer(stranger["operator"], "POST", "/api/v1/households", household_body(NOWHERE + 1))
    assert status == 403 and b"out_of_region" in body


def test_a_guessed_id_takes_as_long_as_a_missing_one(gateway: GatewaySystem):  # noqa: F811
    """Same timing class: answered after the same lookup, not by an early return (generous bounds)."""
    staff = Staff(gateway)
    group_id, _ = register_group(staff, 2300)
    stranger = gateway.user_client("auditor", OTHER)
    timings: dict[str, list[float]] = {"existing": [], "missing": []}
    for _ in range(15):
        for kind, path in (("existing", group_id), ("missing", str(uuid.uuid4()))):
            started = time.perf_counter()
            assert answer(stranger, "GET", f"/api/v1/groups/{path}")[0] == 404
            timings[kind].append(time.perf_counter() - started)
    existing, missing = (statistics.median(timings[kind]) for kind in ("existing", "missing"))
    assert existing <= 3 * missing + 0.05, (existing, missing)


def page(browser: Browser, path: str, asked: str) -> tuple[int, str]:
    """A console page as the browser gets it, with the id asked for and the forms' tokens (new on every page)
    taken out."""
    response = browser.get(path)
    text = re.sub(r'name="(_csrf|_key)" value="[^"]+"', "", html.unescape(response.text)).replace(asked, "ASKED")
    return response.status_code, text


def test_the_console_shows_another_regions_record_as_its_missing_page(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    group_id, households = register_group(staff, 2400)
    console.add_user("op.tanggamus", "operator", OTHER)
    browser = Browser(console.base).logged_in("op.tanggamus")
    browser.post(f"{CONSOLE}/language", {"language": "id", "next": f"{CONSOLE}/"})
    kk, no_kk = households[0]["kk"], household_body(NOWHERE)["kk"]
    for existing, missing in ((kk, no_kk), (group_id, str(uuid.uuid4()))):
        kind = "households" if existing == kk else "groups"
        seen = page(browser, f"{CONSOLE}/{kind}/{existing}", existing)
        assert seen == page(browser, f"{CONSOLE}/{kind}/{missing}", missing)
        assert seen[0] == 404 and "Data ini tidak ditemukan" in seen[1], seen
        assert "wilayah lain" not in seen[1] and households[0]["members"][0]["name"] not in seen[1]
