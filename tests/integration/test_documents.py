"""Evidence on the real gateway and services: each kind attached to what it proves and downloaded as stored, every
download on grants' document access log; an image's metadata stripped (a monitoring photo keeps when and where);
a renamed executable or another region refused with nothing recorded; a stored file altered or deleted in the
database named by the audit's verify.
"""

from __future__ import annotations

import hashlib
import html
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import requests
from PIL import ExifTags, Image

from berdaya.audit import verify
from berdaya.cli import evidence_story
from shared.config import SERVICES
from shared.ids import jakarta_today
from tests.integration.test_console_audit_users import Browser
from tests.integration.test_gateway import (
    Client,
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway_of_its_own,
    register_group,
    set_budget,
)
from tests.support.scans import a_pdf
from tests.support.system import System

pytestmark = pytest.mark.integration


@dataclass
class Delivered:
    """An equipment grant: its delivery accepted, tranche 1's LPJ submitted, a monitoring visit recorded."""

    system: System
    gateway: GatewaySystem
    staff: Staff
    proposal: str
    payment: str


@pytest.fixture(scope="module")
def delivered() -> Iterator[Delivered]:
    with gateway_of_its_own(CONSOLE_SECURE_COOKIES="false") as gateway:  # plain http: cookies sent back
        system = gateway.system
        staff = Staff(gateway)
        set_budget(staff)
        group_id, _ = register_group(staff, 740, name="KUBE Anggrek")
        proposal = approved_proposal(staff, group_id, amount=10_000_000, form="equipment")
        payment = staff.operator.ok("POST", f"/api/v1/grants/{proposal}/tranches/1/deliver", {
            "items": [{"item": "Kambing betina", "quantity": 10, "value_rp": 7_000_000}],
            "handover_date": jakarta_today().isoformat(), "receiver": "Ketua KUBE Anggrek"},
            headers={"Idempotency-Key": "documents-bast-0001"})["payment_id"]
        staff.treasurer.ok("POST", f"/api/v1/grants/{proposal}/payments/{payment}/accept")
        staff.operator.ok("POST", f"/api/v1/grants/{proposal}/tranches/1/lpj", {"lines": [
            {"description": "Pakan kambing", "receipt_number": "NOTA-17", "receipt_date": jakarta_today().isoformat(),
             "amount_rp": 6_900_000}]})
        staff.facilitator.ok("POST", f"/api/v1/grants/{proposal}/visits", {
            "visit_date": jakarta_today().isoformat(), "business_status": "running", "monthly_revenue_rp": 900_000,
            "members_active": 5, "savings_rp": 100_000, "iuran_rp": 20_000})
        yield Delivered(system, gateway, staff, proposal, payment)


def an_image(form: str, colour: str, exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, form, **({"exif": exif.tobytes()} if exif else {}))
    return out.getvalue()


def attach(client: Client, proposal: str, kind: str, content: bytes, **where) -> tuple[int, dict]:
    return client.post(f"/api/v1/proposals/{proposal}/documents", data=content, params={"kind": kind, **where},
                       headers={"Content-Type": "application/octet-stream"})


def download(client: Client, proposal: str, sha256: str):
    return client.session.get(f"{client.base}/api/v1/proposals/{proposal}/documents/{sha256}", timeout=60)


def listed(client: Client, proposal: str) -> list[dict]:
    return client.ok("GET", f"/api/v1/proposals/{proposal}/documents")


def stored_count(system: System) -> tuple[int, int]:
    return (system.scalar("grants", "SELECT count(*) FROM documents"),
            system.scalar("grants", "SELECT count(*) FROM grants_events"))


def test_each_kind_is_attached_to_what_it_proves_and_downloaded_as_uploaded(delivered):
    staff, proposal, payment = delivered.staff, delivered.proposal, delivered.payment
    uploads = [  # who attaches, the kind, the file, what it is attached to
        (staff.operator, "signed_proposal", a_pdf("Proposal KUBE Anggrek"), {}),
        (staff.operator, "rab", an_image("PNG", "white"), {}),
        (staff.ministry, "decision_letter", a_pdf("SK penerima"), {}),
        (staff.operator, "bast", a_pdf("BAST kambing"), {"payment_id": payment}),
        (staff.treasurer, "delivery_photo", an_image("JPEG", "green"), {"payment_id": payment}),
        (staff.operator, "receipt", an_image("JPEG", "yellow"), {"tranche": 1}),
        (staff.facilitator, "visit_photo", an_image("PNG", "blue"), {}),
    ]
    for client, kind, content, where in uploads:
        status, answer = attach(client, proposal, kind, content, **where)
        assert status == 201, (kind, answer)
        assert (answer["kind"], answer["sha256"], answer["size"]) == (kind, hashlib.sha256(content).hexdigest(),
                                                                        len(content))
    documents = listed(staff.auditor, proposal)
    assert [(d["kind"], d.get("payment_id"), d.get("tranche")) for d in documents] == [
        ("signed_proposal", None, None), ("rab", None, None), ("decision_letter", None, None),
        ("bast", payment, None), ("delivery_photo", payment, None), ("receipt", None, 1),
        ("visit_photo", None, None)]
    for (_, kind, content, _), document in zip(uploads, documents, strict=True):
        response = download(staff.auditor, proposal, document["sha256"])
        assert response.status_code == 200 and response.content == content, (kind, response.text[:300])
        assert response.headers["Content-Type"] == document["media_type"] == (
            "application/pdf" if content.startswith(b"%PDF") else
            "image/png" if content.startswith(b"\x89PNG") else "image/jpeg")
    # Every download on the access log: who, why (the route), which file.
    with psycopg.connect(delivered.system.database_url("grants")) as conn:
        reads = conn.execute("SELECT role, route, purpose, kind, sha256 FROM document_reads "
                             "WHERE username = 'inspektorat' ORDER BY seq").fetchall()
    assert reads == [
        ("auditor", "api", "api.download_document", d["kind"], d["sha256"]) for d in documents]
    # The hash is in the event that attached the file: on the money ledger.
    assert delivered.system.scalar("grants", "SELECT count(*) FROM ledger WHERE topic LIKE '%DocumentAttached'") == 7


def test_a_photo_loses_its_metadata_but_a_monitoring_photo_keeps_when_and_where(delivered):
    staff, proposal = delivered.staff, delivered.proposal
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Budi Santoso"
    exif[ExifTags.Base.BodySerialNumber] = "CAM-0042"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:12:01 09:30:00"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] = "S"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (5.0, 43.0, 12.0)
    photo = an_image("JPEG", "purple", exif)
    delivery = attach(staff.treasurer, proposal, "delivery_photo", photo, payment_id=delivered.payment)[1]
    visit = attach(staff.facilitator, proposal, "visit_photo", photo)[1]

    def exif_of(document: dict) -> Image.Exif:
        stored = download(staff.operator, proposal, document["sha256"]).content
        assert hashlib.sha256(stored).hexdigest() == document["sha256"] and stored != photo
        return Image.open(io.BytesIO(stored)).getexif()

    stripped = exif_of(delivery)
    assert not dict(stripped) and not stripped.get_ifd(ExifTags.IFD.GPSInfo)
    kept = exif_of(visit)
    assert ExifTags.Base.Artist not in kept and ExifTags.Base.BodySerialNumber not in kept
    assert kept.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] == "2026:12:01 09:30:00"
    assert kept.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "S"


def test_a_renamed_executable_is_refused_and_nothing_recorded(delivered):
    staff, proposal = delivered.staff, delivered.proposal
    before, documents = stored_count(delivered.system), listed(staff.operator, proposal)
    executable = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200  # a Windows program
    status, answer = staff.operator.post(f"/api/v1/proposals/{proposal}/documents", data=executable,
                                         params={"kind": "signed_proposal"},
                                         headers={"Content-Type": "application/octet-stream",
                                                  "Content-Disposition": 'attachment; filename="proposal.pdf"'})
    assert status == 400 and answer["error"]["rule"] == "evidence.type", answer
    assert "PDF, JPEG or PNG" in answer["error"]["message"]
    assert stored_count(delivered.system) == before
    assert listed(staff.operator, proposal) == documents


def test_another_region_may_neither_attach_nor_list_nor_download(delivered):
    proposal = delivered.proposal
    elsewhere = delivered.gateway.user_client("operator", "18.02", "op.lampung-tengah")
    before = stored_count(delivered.system)
    document = listed(delivered.staff.operator, proposal)[0]
    # Answered as a proposal that does not exist (the gateway's lookups tell nothing of another region).
    assert attach(elsewhere, proposal, "rab", a_pdf("RAB lain"))[0] == 404
    assert elsewhere.get(f"/api/v1/proposals/{proposal}/documents")[0] == 404
    assert download(elsewhere, proposal, document["sha256"]).status_code == 404
    assert stored_count(delivered.system) == before
    assert delivered.system.scalar("grants", "SELECT count(*) FROM document_reads WHERE username = "
                                             "'op.lampung-tengah'") == 0


def test_the_console_attaches_a_scan_from_the_grant_page_and_refuses_a_program_in_indonesian(delivered):
    proposal, system = delivered.proposal, delivered.system
    browser = Browser(delivered.gateway.base).logged_in("op.kalianda")
    browser.post("/console/language", {"language": "id", "next": f"/console/grants/{proposal}"})
    page = f"/console/grants/{proposal}"
    before, documents = stored_count(system), listed(delivered.staff.operator, proposal)

    def upload(name: str, content: bytes) -> requests.Response:
        return browser.http.post(f"{browser.base}{page}/documents", allow_redirects=False, timeout=60, data={
            "_csrf": browser.csrf, "_key": uuid.uuid4().hex, "kind": "bast", "payment_id": delivered.payment},
            files={"file": (name, content, "application/pdf")})

    refused = upload("bast.pdf", b"MZ\x90\x00" + bytes(300))
    assert refused.status_code == 400
    assert "Hanya berkas PDF, JPEG atau PNG yang dapat dilampirkan" in html.unescape(refused.text)
    assert stored_count(system) == before and listed(delivered.staff.operator, proposal) == documents

    scan = an_image("PNG", "gray")
    attached = upload("bast-scan.png", scan)
    assert attached.status_code == 303 and "done=document_attached" in attached.headers["Location"]
    shown = browser.page(page)
    assert "Dokumen dilampirkan: sidik jarinya (SHA-256) tercatat di buku besar." in browser.page(
        attached.headers["Location"])
    link = f"{page}/documents/{hashlib.sha256(scan).hexdigest()}"
    assert f'href="{link}"' in shown and "Berita acara serah terima (BAST) yang ditandatangani" in shown
    downloaded = browser.get(link)
    assert downloaded.status_code == 200 and downloaded.content == scan
    assert downloaded.headers["Content-Type"] == "image/png"
    assert system.scalar("grants", "SELECT route FROM document_reads WHERE username = 'op.kalianda' "
                                   "ORDER BY seq DESC LIMIT 1") == "console"


def test_the_demo_attaches_a_bast_scan_to_the_equipment_delivery_and_verify_checks_it(delivered):
    said = []
    with delivered.system.rpc() as rpc:
        attached = evidence_story.attach_bast_scan(rpc, said.append, delivered.proposal,
                                                   {"user": "op.lamsel", "role": "operator", "region": "18.01"})
    assert attached["kind"] == "bast" and attached["payment_id"] == delivered.payment
    assert attached["media_type"] == "image/png" and attached["downloaded_intact"], said
    scan = download(delivered.staff.auditor, delivered.proposal, attached["sha256"]).content
    assert scan == evidence_story.bast_scan() and hashlib.sha256(scan).hexdigest() == attached["sha256"]
    result = verify.verify(urls={service: delivered.system.database_url(service) for service in SERVICES})
    assert result["ok"], result["problems"]
    assert result["documents_checked"] == len(listed(delivered.staff.operator, delivered.proposal)) == 11


def test_a_stored_file_altered_or_deleted_in_the_database_is_named_by_verify(delivered):
    staff, proposal, system = delivered.staff, delivered.proposal, delivered.system
    urls = {service: system.database_url(service) for service in SERVICES}
    altered = attach(staff.operator, proposal, "receipt", a_pdf("Nota 18"), tranche=1)[1]["sha256"]
    missing = attach(staff.operator, proposal, "receipt", a_pdf("Nota 19"), tranche=1)[1]["sha256"]
    result = verify.verify(urls=urls)
    assert result["ok"] and result["documents_checked"] == 13, result["problems"]
    with psycopg.connect(system.database_url("grants"), autocommit=True) as conn:  # a superuser, guards off
        conn.execute("ALTER TABLE documents DISABLE TRIGGER USER")
        conn.execute("UPDATE documents SET content = content || '\\x00'::bytea WHERE sha256 = %s", (altered,))
        conn.execute("DELETE FROM documents WHERE sha256 = %s", (missing,))
        conn.execute("ALTER TABLE documents ENABLE TRIGGER USER")
    problems = {(p["kind"], p["detail"].split(" ")[2]) for p in verify.verify(urls=urls)["problems"]}
    assert problems == {("document_altered", altered), ("document_missing", missing)}
    # Nor is an altered file handed out as the evidence it no longer is.
    response = download(staff.auditor, proposal, altered)
    assert response.status_code == 409 and response.json()["error"]["rule"] == "evidence.altered"
