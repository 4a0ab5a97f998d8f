"""GET /api/v1/audit/verify and /audit/report on the real gateway and services: the audit runs in the gateway's
process (a native thread), reading the services' databases with a read-only role; only national auditors and
admins may run it; tampering is reported (200, ``ok: false``), an audit that cannot run or does not finish is a 5xx.
"""

from __future__ import annotations

import csv
import io
import threading
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import requests

from shared.config import SERVICES
from tests.integration.test_gateway import (
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway_of_its_own,
    register_group,
    set_budget,
)
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

WIB = timezone(timedelta(hours=7))
BANK_REFERENCE = "BRI-2026-000777"
REPORT_FILES = {"disbursements.csv", "disbursed_by_district_month.csv", "proposals_by_stage.csv",
                "approval_level_durations.csv", "family_school_completion.csv", "grievances_by_district.csv",
                "report.html"}
AUDIT_ROUTES = ("/api/v1/audit/verify", "/api/v1/audit/report")


@pytest.fixture(scope="module")
def paid() -> Iterator[tuple[GatewaySystem, Staff, str]]:
    """A KUBE whose grant is approved and whose first tranche was paid and confirmed, over HTTP; every consumer
    caught up. The audit only reads, so this module's tests share it (the one that tampers puts the row back)."""
    with gateway_of_its_own() as gateway:
        system = gateway.system
        staff = Staff(gateway)
        set_budget(staff)
        group_id, _ = register_group(staff, 600)
        proposal_id = approved_proposal(staff, group_id)
        payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                     headers={"Idempotency-Key": "audit-tranche-1-0001"})
        grant = f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}"
        staff.treasurer.ok("POST", f"{grant}/sent")
        staff.treasurer_2.ok("POST", f"{grant}/confirm", {"bank_reference": BANK_REFERENCE})
        caught_up(system)
        yield gateway, staff, proposal_id


def caught_up(system: System) -> None:
    """Every consumer has applied all its upstream has logged: the audit cross-checks the services."""
    with system.rpc() as rpc:
        def settled() -> bool:
            status = {service: rpc[service].backbone_status() for service in SERVICES}
            return all((consumer["position"] or 0) >= (status[upstream]["last_position"] or 0)
                       for service in SERVICES for upstream, consumer in status[service]["consumers"].items())
        eventually(settled, timeout=60, message="consumers catch up")


def test_an_auditor_verifies_after_activity(paid):
    gateway, staff, _ = paid
    result = staff.auditor.ok("GET", "/api/v1/audit/verify")
    assert result["ok"] is True and result["problems"] == [], result
    # Chained: the approval, and the payment's instruction, sending and confirmation.
    assert result["events_checked"] > 20 and result["ledger_entries_checked"] == 4
    assert len(result["ledger_head"]) == 64
    up_to_now = staff.auditor.ok("GET", "/api/v1/audit/verify", params={"as_of": datetime.now(WIB).isoformat()})
    # Up to a moment, the history is replayed and cross-checked; today's read models are not compared with it.
    assert up_to_now == {**result, "read_models_compared": False, "mirrors": []}
    assert result["read_models_compared"] and all(mirror["compared"] for mirror in result["mirrors"])


def test_a_read_model_tampered_with_by_a_superuser_is_reported(paid):
    gateway, staff, _ = paid
    grants_db = gateway.system.database_url("grants")
    with psycopg.connect(grants_db, autocommit=True) as conn:
        conn.execute("UPDATE grants SET disbursed_rp = disbursed_rp + 1000000")
    try:
        status, result = staff.auditor.get("/api/v1/audit/verify")
    finally:
        with psycopg.connect(grants_db, autocommit=True) as conn:
            conn.execute("UPDATE grants SET disbursed_rp = disbursed_rp - 1000000")
    assert status == 200 and result["ok"] is False, result  # the verification ran: its answer is the finding
    [problem] = result["problems"]
    assert problem["service"] == "grants" and problem["kind"] == "read_model_differs", problem
    # the grant's row, with what the events say it disbursed (70 % of 14 M) and what the table says
    assert problem["detail"].startswith("grants ") and "'9800000'" in problem["detail"], problem
    assert "'10800000'" in problem["detail"], problem
    assert staff.auditor.ok("GET", "/api/v1/audit/verify")["ok"] is True  # put back: whole again


def test_the_report_is_a_zip_of_the_csv_files_and_the_page(paid):
    gateway, staff, proposal_id = paid
    response = staff.auditor.session.get(gateway.base + "/api/v1/audit/report", timeout=120)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="berdaya-audit-report-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == REPORT_FILES
    [paid_tranche] = csv.DictReader(io.StringIO(archive.read("disbursements.csv").decode("utf-8")))
    assert paid_tranche["proposal_id"] == proposal_id and paid_tranche["bank_reference"] == BANK_REFERENCE
    assert paid_tranche["approved_by"] == "kemensos.pusat" and paid_tranche["tranche"] == "1", paid_tranche
    page = archive.read("report.html").decode("utf-8")
    assert 'href="disbursements.csv"' in page and "data:image/png;base64," in page
    # As of a moment before the programme's first event, nothing was paid.
    before = staff.auditor.session.get(gateway.base + "/api/v1/audit/report",
                                       params={"as_of": "2001-01-01T00:00:00Z"}, timeout=120)
    assert before.status_code == 200, before.text[:500]
    lines = zipfile.ZipFile(io.BytesIO(before.content)).read("disbursements.csv").decode("utf-8").splitlines()
    assert len(lines) == 1 and lines[0].startswith("proposal_id,"), lines  # the header alone


def test_only_national_auditors_and_admins_may_audit(paid):
    gateway, _, _ = paid
    refused = {("operator", "18.01"): "forbidden", ("ministry", ""): "forbidden", ("treasurer", ""): "forbidden",
               ("auditor", "18.01"): "out_of_region", ("admin", "18"): "out_of_region"}
    for (role, region), code in refused.items():
        client = gateway.user_client(role, region)
        for path in AUDIT_ROUTES:
            status, answer = client.get(path)
            assert (status, answer["error"]["code"]) == (403, code), (role, region, path, answer)
    assert gateway.user_client("admin", "").ok("GET", "/api/v1/audit/verify")["ok"] is True


@pytest.mark.parametrize("as_of", ["2026-06-30", "2026-06-30T23:59:59", "yesterday", "1782838799",
                                   "2026-02-30T00:00:00+07:00", "1999-12-31T23:59:59Z", ""])
def test_a_bad_as_of_is_a_400_naming_the_field(paid, as_of):
    _, staff, _ = paid
    for path in AUDIT_ROUTES:
        status, answer = staff.auditor.get(path, params={"as_of": as_of})
        assert status == 400 and answer["error"]["field"] == "as_of", (path, as_of, answer)
        assert answer["error"]["message"].startswith("as_of: "), answer


def test_one_audit_at_a_time_per_gateway(paid):
    gateway, staff, _ = paid
    start, answers = threading.Barrier(2), []

    def audit() -> None:
        start.wait()
        answers.append(requests.get(gateway.base + "/api/v1/audit/verify", headers=staff.auditor.session.headers,
                                    timeout=120))

    threads = [threading.Thread(target=audit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    busy, done = sorted(answers, key=lambda response: response.status_code, reverse=True)
    assert done.status_code == 200 and done.json()["ok"] is True
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30", busy.text
    assert "another audit is running" in busy.json()["error"]["message"]


def test_an_audit_that_cannot_reach_a_database_is_a_502_saying_why(system: System):
    gateway = GatewaySystem(system, AUDIT_DATABASE_URLS={
        **{service: system.database_url(service) for service in SERVICES},
        "registry": f"postgresql://postgres@127.0.0.1:5432/{system.tag}_nowhere"}).start()
    try:
        auditor = gateway.user_client("auditor", "")
        status, answer = auditor.get("/api/v1/audit/verify")
        assert (status, answer["error"]["code"]) == (502, "upstream_error"), answer
        assert answer["error"]["message"].startswith("the verification could not run: OperationalError")
        assert f'database "{system.tag}_nowhere" does not exist' in answer["error"]["message"], answer
    finally:
        gateway.close()


def test_an_audit_past_its_time_out_is_a_503_keeps_its_slot_until_it_ends_then_frees_it(system: System):
    # The registry's log is locked by another transaction: the audit's first read waits behind it.
    registry = system.database_url("registry")
    with psycopg.connect(registry, autocommit=True) as setup:
        setup.execute("CREATE TABLE registry_events (notification_id bigint, originator_id uuid, "
                      "originator_version bigint, topic text, state bytea)")
    locker = psycopg.connect(registry)
    locker.execute("LOCK TABLE registry_events IN ACCESS EXCLUSIVE MODE")
    gateway = GatewaySystem(system, AUDIT_TIMEOUT_S=1).start()
    try:
        auditor = gateway.user_client("auditor", "")
        response = auditor.session.get(gateway.base + "/api/v1/audit/verify", timeout=60)
        assert response.status_code == 503 and response.headers["Retry-After"] == "60", response.text
        assert response.json()["error"]["message"] == ("the verification did not finish within 1 s; it goes on in "
                                                       "the background: try again later")
        # It goes on, holding the slot (one replay at a time per gateway): another is refused as busy.
        busy = auditor.session.get(gateway.base + "/api/v1/audit/verify", timeout=60)
        assert busy.status_code == 503 and "another audit is running" in busy.json()["error"]["message"]
        locker.rollback()  # the first run reads on, and ends (the other services' logs do not exist here: 502)

        def not_busy():
            answer = auditor.session.get(gateway.base + "/api/v1/audit/verify", timeout=60)
            return None if "another audit is running" in answer.text else [answer]  # a 5xx Response is falsy

        [answers] = eventually(not_busy, message="the first audit never ended")
        assert answers.status_code == 502 and "UndefinedTable" in answers.json()["error"]["message"], answers.text
    finally:
        locker.close()
        gateway.close()


def test_the_openapi_document_describes_the_report_as_a_zip(paid):
    gateway, _, _ = paid
    spec = requests.get(gateway.base + "/openapi.json", timeout=30).json()
    report = spec["paths"]["/api/v1/audit/report"]["get"]
    assert list(report["responses"]["200"]["content"]) == ["application/zip"]
    assert report["responses"]["403"]["content"]["application/json"]
    assert [p["name"] for p in report["parameters"]] == ["as_of"]
    assert report["description"] == "Roles: admin, auditor. Region: national."
