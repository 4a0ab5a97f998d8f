"""Grievances (pengaduan) through the gateway, against the real services: recorded at the desk for a resident (or
anonymously, for a misuse report), assigned by the head to a verifier of the region, noted and resolved by that
verifier; refused to another region and to the wrong person, each refusal re-read to prove nothing changed; the
dashboard counts them per kecamatan; the resident and the words stay in the registry, sealed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.ids import jakarta_today
from tests.integration.test_gateway import GatewaySystem, Staff, gateway  # noqa: F401  (gateway: the fixture)
from tests.support.households import VILLAGE, household_body

pytestmark = pytest.mark.integration

COMPLAINT = "Keluarga kami desil 2 tetapi tidak masuk KUBE"
NAME, CONTACT = "Ibu Ratna Sari", "0812 7777 0001"


def grievance_of(client, grievance_id: str) -> dict:
    return client.ok("GET", f"/api/v1/grievances/{grievance_id}")


def test_a_grievance_recorded_assigned_noted_and_resolved_in_its_region_only(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    head = gateway.user_client("head", "18.01", "kadis.lamsel")
    verifier_2 = gateway.user_client("verifier", "18.01", "kasi.lamsel")
    gateway.user_client("verifier", "18.02", "kabid.lamteng")
    other_operator = gateway.user_client("operator", "18.02", "op.lamteng")
    household = household_body(700)
    staff.operator.ok("POST", "/api/v1/households", household)

    body = {"village_code": VILLAGE, "category": "exclusion", "description": COMPLAINT, "complainant_name": NAME,
            "complainant_contact": CONTACT, "household_kk": household["kk"]}
    grievance_id = staff.operator.ok("POST", "/api/v1/grievances", body)["grievance_id"]
    status, refused = staff.operator.post("/api/v1/grievances", {**body, "complainant_name": None})
    assert status == 400 and refused["error"]["rule"] == "grievance.anonymous"
    staff.operator.ok("POST", "/api/v1/grievances", {"village_code": VILLAGE, "category": "misuse",
                                                     "description": "Modal dipakai untuk keperluan pribadi"})

    recorded = grievance_of(staff.operator, grievance_id)
    today = jakarta_today()
    assert (recorded["status"], recorded["complainant_name"], recorded["description"]) == ("recorded", NAME,
                                                                                           COMPLAINT)
    assert recorded["received_on"] == today.isoformat() and not recorded["overdue"]
    assert (jakarta_today().fromisoformat(recorded["due_on"]) - today).days == 14

    # Another regency's staff: not found, not listed, not assigned.
    assert other_operator.get(f"/api/v1/grievances/{grievance_id}")[0] == 404
    assert other_operator.post(f"/api/v1/grievances/{grievance_id}/notes", {"text": "x"})[0] == 404
    assert other_operator.get("/api/v1/grievances", params={"region": "18.01"})[0] == 403
    assert other_operator.ok("GET", "/api/v1/grievances") == []
    # A verifier of another regency is not one to assign it to.
    status, refused = head.post(f"/api/v1/grievances/{grievance_id}/assign", {"assignee": "kabid.lamteng"})
    assert status == 403 and refused["error"]["rule"] == "grievance.assignee"
    assert grievance_of(staff.operator, grievance_id) == recorded

    assigned = head.ok("POST", f"/api/v1/grievances/{grievance_id}/assign", {"assignee": "kabid.lamsel"})
    assert (assigned["status"], assigned["assigned_to"]) == ("assigned", "kabid.lamsel")
    noted = staff.verifier.ok("POST", f"/api/v1/grievances/{grievance_id}/notes",
                              {"text": "Kunjungan rumah: desil sesuai DTSEN"})
    assert [n["text"] for n in noted["notes"]] == ["Kunjungan rumah: desil sesuai DTSEN"]
    mine = staff.verifier.ok("GET", "/api/v1/grievances", params={"assigned_to": "kabid.lamsel"})
    assert [g["grievance_id"] for g in mine] == [grievance_id]

    # Only the verifier it is assigned to resolves it.
    resolution = {"outcome": "upheld", "resolution": "Diusulkan masuk KUBE berikutnya"}
    assert staff.operator.post(f"/api/v1/grievances/{grievance_id}/resolve", resolution)[0] == 403
    status, refused = verifier_2.post(f"/api/v1/grievances/{grievance_id}/resolve", resolution)
    assert status == 403 and refused["error"]["rule"] == "grievance.not_assigned"
    assert grievance_of(staff.operator, grievance_id) == noted
    resolved = staff.verifier.ok("POST", f"/api/v1/grievances/{grievance_id}/resolve", resolution)
    assert (resolved["status"], resolved["outcome"], resolved["resolved_on"]) == ("resolved", "upheld",
                                                                                 today.isoformat())
    assert staff.verifier.post(f"/api/v1/grievances/{grievance_id}/notes", {"text": "lagi"})[0] == 409

    # A letter received 20 days ago, typed in today: overdue from the start (due 14 days after it came), on the
    # overdue list; then counted per kecamatan on the dashboard.
    letter = staff.operator.ok("POST", "/api/v1/grievances", {
        "village_code": VILLAGE, "category": "inclusion", "description": "Keluarga tetangga tidak miskin",
        "complainant_name": "Pak Amir", "received_on": (today - timedelta(days=20)).isoformat()})["grievance_id"]
    overdue = staff.operator.ok("GET", "/api/v1/grievances", params={"overdue": "true"})
    assert [(g["grievance_id"], g["overdue"], g["due_on"]) for g in overdue] == [
        (letter, True, (today - timedelta(days=6)).isoformat())]
    (kalianda,) = [row for row in head.ok("GET", "/api/v1/dashboard")["rows"] if row["code"] == "18.01.06"]
    assert {k: kalianda[k] for k in ("grievances", "grievances_open", "grievances_overdue", "grievances_resolved",
                                     "grievance_days_to_resolve")} == {
        "grievances": 3, "grievances_open": 2, "grievances_overdue": 1, "grievances_resolved": 1,
        "grievance_days_to_resolve": 0.0}

    # The resident and the words are in the registry only, sealed; the public events carry ids, codes and dates.
    states = "\n".join(bytes(row[0]).decode() for row in gateway.system.sql("registry",
                                                                            "SELECT state FROM registry_events"))
    with gateway.system.rpc() as rpc:
        published = json.dumps([e for e in rpc.registry.events_after(0, 5000) if "grievance" in e["type"]])
    assert published.count("registry.grievance.") >= 5
    for secret in (NAME, CONTACT, COMPLAINT, "Pak Amir", "tidak miskin", "Kunjungan rumah", "Diusulkan masuk",
                   household["kk"]):
        assert secret not in states and secret not in published, secret
