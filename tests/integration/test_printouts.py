"""Printouts on the real gateway and services: each paper is a PDF whose text says what it records, whose
verification code anyone checks at GET /verify/{code} (no login) against what berdaya recorded; a forged code, or
a paper whose event was altered in the database since, is refused; guessing codes is throttled.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from berdaya.cli.main import app as cli
from berdaya.cli.papers import print_papers
from shared.ids import jakarta_today
from tests.integration.test_console_audit_users import Browser as ConsoleBrowser
from tests.integration.test_gateway import (
    Client,
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway_of_its_own,
    register_group,
    set_budget,
)
from tests.support.system import eventually

pytestmark = pytest.mark.integration

CODE = re.compile(r"Kode verifikasi: ([LGT][0-9]+-[0-9A-F]{10})")
BANK_REFERENCE = "BRI-2026-000901"


@dataclass
class Paid:
    """A cash grant with tranche 1 paid and its LPJ submitted, an equipment grant with a handover recorded, and a
    completed Family School participant."""

    gateway: GatewaySystem
    staff: Staff
    cash: str  # proposal id
    payment: str
    equipment: str
    delivery: str
    cohort: str
    graduate: str  # person id


@pytest.fixture(scope="module")
def paid() -> Iterator[Paid]:
    with gateway_of_its_own(CONSOLE_SECURE_COOKIES="false") as gateway:  # plain http: cookies sent back
        staff = Staff(gateway)
        set_budget(staff)
        group_id, households = register_group(staff, 700)
        cash = approved_proposal(staff, group_id)
        payment = staff.treasurer.ok("POST", f"/api/v1/grants/{cash}/tranches/1/disburse",
                                     headers={"Idempotency-Key": "print-tranche-1-0001"})["payment_id"]
        staff.treasurer.ok("POST", f"/api/v1/grants/{cash}/payments/{payment}/sent")
        staff.treasurer_2.ok("POST", f"/api/v1/grants/{cash}/payments/{payment}/confirm",
                             {"bank_reference": BANK_REFERENCE})
        staff.operator.ok("POST", f"/api/v1/grants/{cash}/tranches/1/lpj", {"lines": [
            {"description": "Mesin jahit 4 unit", "receipt_number": "INV-0771",
             "receipt_date": jakarta_today().isoformat(), "amount_rp": 9_800_000}]})

        equipment_group, _ = register_group(staff, 720, name="KUBE Melati")
        equipment = approved_proposal(staff, equipment_group, amount=10_000_000, form="equipment")
        delivery = staff.operator.ok("POST", f"/api/v1/grants/{equipment}/tranches/1/deliver", {
            "items": [{"item": "Mesin jahit", "quantity": 2, "value_rp": 5_000_000},
                      {"item": "Mesin obras", "quantity": 1, "value_rp": 2_000_000}],
            "handover_date": jakarta_today().isoformat(), "receiver": "Ibu Ketua KUBE Melati"},
            headers={"Idempotency-Key": "print-bast-1-0001"})["payment_id"]

        representatives = [staff.operator.ok("GET", f"/api/v1/people/{h['members'][0]['nik']}")["person_id"]
                           for h in households]  # training knows them by the registry's ids
        cohort = complete_family_school(staff, representatives)
        graduate = representatives[0]
        yield Paid(gateway, staff, cash, payment, equipment, delivery, cohort, graduate)


def complete_family_school(staff: Staff, representatives: list[str]) -> str:
    """The group's representatives (by person id), enrolled in their village's cohort when it was funded, attend
    every module."""
    def cohort_of_the_group() -> str | None:
        for row in staff.operator.ok("GET", "/api/v1/cohorts", params={"region": "18.01.06.2001"})["items"]:
            found = staff.operator.ok("GET", f"/api/v1/cohorts/{row['cohort_id']}")
            if {p["person_id"] for p in found["participants"]} >= set(representatives):
                return row["cohort_id"]
        return None
    cohort_id = eventually(cohort_of_the_group, timeout=60, message="the group's representatives are enrolled")
    for index, module in enumerate(staff.facilitator.ok("GET", "/api/v1/curriculum")["active"]):
        session = staff.facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions", {
            "module": module, "session_date": (jakarta_today() - timedelta(days=60 - index * 7)).isoformat(),
            "place": "Balai Desa Jondong"})
        staff.facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions/{session['session_id']}/attendance",
                             {"marks": {person_id: "present" for person_id in representatives}})
    return cohort_id


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages)


def printed(client: Client, path: str) -> tuple[str, str]:
    """The paper's text and its verification code."""
    response = client.session.get(client.base + path, timeout=60)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    text = text_of(response.content)
    found = CODE.search(text)
    assert found, text[:2000]
    return text, found[1]


def checked(gateway: GatewaySystem, code: str) -> dict:
    status, answer = Client(gateway.base).get(f"/verify/{code}")  # anyone: no token
    assert status == 200, answer
    return answer


def test_each_printout_says_what_it_records_and_its_code_checks_out(paid: Paid):
    staff, cash, equipment = paid.staff, paid.cash, paid.equipment
    papers = {  # path → (who prints it, what its text says, what the check answers)
        f"/api/v1/proposals/{cash}/printouts/letter": (
            staff.verifier, ["Perihal : Usulan Bantuan Usaha Ekonomi Produktif KUBE Mawar", "Rp 16.500.000",
                             "Mesin jahit", "Kepada Yth. Kepala Dinas Sosial Provinsi", "DINAS SOSIAL"],
            {"event": "Proposal.Verified", "group": "KUBE Mawar", "amount_rp": 16_500_000, "status": "approved"}),
        f"/api/v1/proposals/{cash}/printouts/decision-annex": (
            staff.operator, ["LAMPIRAN KEPUTUSAN PENERIMA BANTUAN KUBE", "Rp 14.000.000", "Siti Aminah 700",
                             "Siti Aminah 706", "Ketua"],
            {"event": "Proposal.Approved", "group": "KUBE Mawar", "amount_rp": 14_000_000}),
        f"/api/v1/grants/{cash}/payments/{paid.payment}/printouts/receipt": (
            staff.treasurer, ["KUITANSI", "Rp 9.800.000", "sembilan juta delapan ratus ribu rupiah", BANK_REFERENCE,
                              "Ketua KUBE Mawar", "Siti Aminah 700"],
            {"event": "Grant.Confirmed", "group": "KUBE Mawar", "amount_rp": 9_800_000, "tranche": 1,
             "status": "confirmed"}),
        f"/api/v1/grants/{cash}/payments/{paid.payment}/printouts/provenance": (
            staff.auditor, ["LEMBAR ASAL-USUL PENCAIRAN DANA", "kabid.lamsel", "kemensos.pusat",
                            "bendahara.lamsel", "bendahara2.lamsel", BANK_REFERENCE],
            {"event": "Grant.Confirmed", "amount_rp": 9_800_000}),
        f"/api/v1/grants/{cash}/tranches/1/printouts/lpj": (
            staff.operator, ["LAPORAN PERTANGGUNGJAWABAN (LPJ)", "Mesin jahit 4 unit", "INV-0771", "Rp 9.800.000"],
            {"event": "Grant.Confirmed", "tranche": 1}),
        f"/api/v1/grants/{equipment}/payments/{paid.delivery}/printouts/bast": (
            staff.operator_2, ["BERITA ACARA SERAH TERIMA BARANG (BAST)", "Ibu Ketua KUBE Melati", "Mesin obras",
                               "Rp 7.000.000", "Kepala Desa"],
            {"event": "Grant.DeliveryRecorded", "group": "KUBE Melati", "amount_rp": 7_000_000,
             "status": "recorded"}),
        f"/api/v1/cohorts/{paid.cohort}/participants/{paid.graduate}/printouts/certificate": (
            staff.facilitator, ["SERTIFIKAT", "Siti Aminah 700", "Sekolah Keluarga"],
            {"event": "Cohort.Completed", "status": "completed"}),
    }
    codes = set()
    for path, (client, says, essentials) in papers.items():
        text, code = printed(client, path)
        missing = [words for words in says if words not in text]
        assert not missing, (path, missing, text[:1500])
        assert not re.search(r"\d{16}", text), (path, "a NIK or KK in full on paper")
        assert "Halaman 1 dari 1" in text, (path, "one sheet")
        answer = checked(paid.gateway, code)
        assert answer["matches"] is True and answer["code"] == code
        assert {key: answer.get(key) for key in essentials} == essentials, (path, answer)
        assert answer["village_code"] == "18.01.06.2001" and date.fromisoformat(answer["date"]) <= jakarta_today()
        # nothing personal in the answer: no NIK, KK or name
        assert not re.search(r"\d{16}", str(answer)) and "Siti" not in str(answer) and "Ibu" not in str(answer)
        codes.add(code)
    assert {code[0] for code in codes} == {"L", "G", "T"}  # money on the ledger; the letter and certificate in logs


def test_the_certificate_code_shows_its_number_not_its_holder(paid: Paid):
    _, code = printed(paid.staff.facilitator,
                      f"/api/v1/cohorts/{paid.cohort}/participants/{paid.graduate}/printouts/certificate")
    answer = checked(paid.gateway, code)
    cohort = paid.staff.operator.ok("GET", f"/api/v1/cohorts/{paid.cohort}")
    [held] = [p["certificate"] for p in cohort["participants"] if p["person_id"] == paid.graduate]
    assert code.startswith("T") and answer["certificate"] == held and answer["group"] == cohort["name"], answer
    assert "nik" not in answer and paid.graduate not in str(answer)


def test_the_qr_code_leads_anyone_to_the_consoles_page_of_the_code(paid: Paid):
    text, code = printed(paid.staff.treasurer,
                         f"/api/v1/grants/{paid.cash}/payments/{paid.payment}/printouts/receipt")
    assert f"http://127.0.0.1:8080/console/verify/{code}" in text.replace(" ", "")  # PUBLIC_URL's default
    anyone = ConsoleBrowser(paid.gateway.base)  # not logged in, in Indonesian
    page = anyone.page(f"/console/verify/{code}")
    assert "Dokumen ini sesuai dengan catatan berdaya" in page and "Rp 9.800.000" in page and "KUBE Mawar" in page
    assert "Dikonfirmasi bank" in page  # what the code stands on: the bank's confirmation
    refused = anyone.page(f"/console/verify/{code[:-1]}{'0' if code[-1] != '0' else '1'}", status=404)
    assert "Tidak ada dokumen dengan kode verifikasi ini" in refused


def test_a_forged_code_is_refused_and_the_genuine_one_still_checks_out(paid: Paid):
    _, code = printed(paid.staff.treasurer, f"/api/v1/grants/{paid.cash}/payments/{paid.payment}/printouts/receipt")
    forged = code[:-1] + ("0" if code[-1] != "0" else "1")  # one hex digit changed
    anonymous = Client(paid.gateway.base)
    for wrong in (forged, f"L99999-{code.split('-')[1]}", code.replace("L", "G", 1)):
        status, answer = anonymous.get(f"/verify/{wrong}")
        assert status == 404 and answer["error"]["rule"] == "document.unknown", (wrong, answer)
    status, answer = anonymous.get("/verify/not-a-code")
    assert status == 400 and answer["error"]["rule"] == "document.code_format", answer
    assert checked(paid.gateway, code)["matches"] is True  # refusing changed nothing
    assert checked(paid.gateway, code.lower())["code"] == code  # typed in lower case: the same code


def test_a_paper_whose_event_was_altered_in_the_database_is_refused(paid: Paid):
    """A superuser edits the confirmed payment's stored event (the bank reference): the receipt's code, printed
    before, no longer matches what is stored — until the row is put back."""
    _, code = printed(paid.staff.treasurer, f"/api/v1/grants/{paid.cash}/payments/{paid.payment}/printouts/receipt")
    grants_db = paid.gateway.system.database_url("grants")
    altered = "convert_to(replace(convert_from(state, 'UTF8'), %s, %s), 'UTF8')"
    with psycopg.connect(grants_db, autocommit=True) as conn:
        conn.execute("ALTER TABLE grants_events DISABLE TRIGGER USER")  # the append-only guard, as a superuser may
        conn.execute(f"UPDATE grants_events SET state = {altered} WHERE topic LIKE %s",
                     (BANK_REFERENCE, "BRI-2026-000999", "%Grant.Confirmed"))
    try:
        status, answer = Client(paid.gateway.base).get(f"/verify/{code}")
    finally:
        with psycopg.connect(grants_db, autocommit=True) as conn:
            conn.execute(f"UPDATE grants_events SET state = {altered} WHERE topic LIKE %s",
                         ("BRI-2026-000999", BANK_REFERENCE, "%Grant.Confirmed"))
            conn.execute("ALTER TABLE grants_events ENABLE TRIGGER USER")
    assert status == 404 and answer["error"]["rule"] == "document.unknown", answer
    assert checked(paid.gateway, code)["matches"] is True  # put back: the paper matches again


def test_berdaya_audit_check_document_answers_as_the_route_does(paid: Paid):
    _, code = printed(paid.staff.auditor, f"/api/v1/grants/{paid.cash}/payments/{paid.payment}/printouts/provenance")
    environment = {"AMQP_URI": paid.gateway.system.amqp_uri}
    result = CliRunner().invoke(cli, ["audit", "check-document", code, "--json"], env=environment)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == checked(paid.gateway, code)
    shown = CliRunner().invoke(cli, ["audit", "check-document", code.lower()], env=environment)
    said = " ".join(shown.stdout.split())  # as one line: the terminal's width wraps it
    assert shown.exit_code == 0 and "matches what berdaya recorded" in said and "Rp 9.800.000" in said, said
    forged = CliRunner().invoke(cli, ["audit", "check-document", code[:-1] + ("0" if code[-1] != "0" else "1")],
                                env=environment)
    assert forged.exit_code == 2 and "no document has the code" in " ".join(forged.stderr.split()), forged.output


def test_the_demo_prints_a_receipt_and_a_certificate_whose_codes_match(paid: Paid, tmp_path):
    """What `make demo` calls (berdaya/cli/demo.py), for a group paid and a representative who completed."""
    with paid.gateway.system.rpc() as rpc:
        printed = print_papers(rpc, tmp_path / "printouts", paid.cash, paid.graduate,
                               {"user": "op.demo", "role": "operator", "region": "18.01"})
    receipt, certificate = printed
    assert receipt["path"].name.startswith("kuitansi-L") and certificate["path"].name.startswith("sertifikat-T")
    assert "KUITANSI" in text_of(receipt["path"].read_bytes()) and receipt["check"]["amount_rp"] == 9_800_000
    assert "Siti Aminah 700" in text_of(certificate["path"].read_bytes())
    assert all(paper["check"]["matches"] and paper["code"] in paper["path"].name for paper in printed)
    assert checked(paid.gateway, certificate["code"]) == certificate["check"]


def test_the_console_pages_link_each_paper_where_it_belongs(paid: Paid):
    """The Print links of the grant, proposal and cohort pages, followed in a logged-in console session."""
    pages = {  # who, the page, the papers linked from it
        "bendahara.lamsel": (f"/console/grants/{paid.cash}", ["print/receipt", "print/provenance", "print/lpj"]),
        "op.kalianda": (f"/console/grants/{paid.equipment}", ["print/bast"]),
        "kabid.lamsel": (f"/console/proposals/{paid.cash}", ["print/letter", "print/decision-annex"]),
        "fasilitator.rina": (f"/console/cohorts/{paid.cohort}", ["print/certificate"]),
    }
    for username, (address, papers) in pages.items():
        browser = ConsoleBrowser(paid.gateway.base).logged_in(username)
        links = re.findall(r'href="(/console/[^"]+/print/[^"]+)"', browser.page(address))
        assert sorted({"/".join(link.split("/")[-2:]) for link in links}) == \
            sorted(papers), (address, links)
        for link in links:
            response = browser.get(link)
            assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf", link
            assert CODE.search(text_of(response.content)), link
    auditor = ConsoleBrowser(paid.gateway.base).logged_in("inspektorat")
    assert "/print/provenance" in auditor.page(f"/console/grants/{paid.cash}")
    operator = ConsoleBrowser(paid.gateway.base).logged_in("op.kalianda")
    assert "/print/provenance" not in operator.page(f"/console/grants/{paid.cash}")  # the auditor's and treasurer's


def test_nothing_is_printed_before_it_happened(paid: Paid):
    staff = paid.staff
    status, answer = staff.operator.get(f"/api/v1/grants/{paid.cash}/tranches/2/printouts/lpj")
    assert status == 409 and answer["error"]["rule"] == "document.not_yet", answer
    status, answer = staff.operator.get(f"/api/v1/grants/{paid.equipment}/payments/{paid.delivery}/printouts/receipt")
    assert status == 404 and answer["error"]["rule"] == "document.not_yet", answer  # handed over, not yet accepted
    status, answer = staff.operator.get(f"/api/v1/grants/{paid.cash}/payments/{uuid.uuid4()}/printouts/receipt")
    assert status == 404 and answer["error"]["code"] == "not_found", answer


def test_guessing_codes_is_throttled_by_address(paid: Paid):
    """Run last in this module: the gateway's address block then holds for this client."""
    _, code = printed(paid.staff.treasurer, f"/api/v1/grants/{paid.cash}/payments/{paid.payment}/printouts/receipt")
    anonymous = Client(paid.gateway.base)
    statuses = [anonymous.get(f"/verify/L{position}-0123456789")[0] for position in range(1, 22)]
    assert 429 in statuses and set(statuses) <= {404, 429}, statuses
    status, answer = anonymous.get(f"/verify/{code}")
    assert status == 429 and answer["error"]["rule"] == "document.throttled", answer  # refused before any check
    assert int(answer["error"]["details"]["retry_after_s"]) >= 1
