"""A KUBE's own papers on the real gateway and registry: the SK Kades and the village meeting's minutes attached
and downloaded as stored, every download on the registry's access log; a renamed executable refused and another
region answered 404 with nothing recorded; a stored paper altered or deleted in the database named by verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from berdaya.audit import verify
from shared.config import SERVICES
from tests.integration.test_documents import an_image
from tests.integration.test_gateway import Client, GatewaySystem, Staff, gateway_of_its_own, register_group
from tests.support.scans import a_pdf

pytestmark = pytest.mark.integration


@dataclass
class Formed:
    gateway: GatewaySystem
    staff: Staff
    group: str


@pytest.fixture(scope="module")
def formed() -> Iterator[Formed]:
    with gateway_of_its_own() as gateway:
        staff = Staff(gateway)
        group_id, _ = register_group(staff, 760, name="KUBE Kenanga")
        yield Formed(gateway, staff, group_id)


def attach(client: Client, group: str, kind: str, content: bytes) -> tuple[int, dict]:
    return client.post(f"/api/v1/groups/{group}/documents", data=content, params={"kind": kind},
                       headers={"Content-Type": "application/octet-stream"})


def download(client: Client, group: str, sha256: str):
    return client.session.get(f"{client.base}/api/v1/groups/{group}/documents/{sha256}", timeout=60)


def recorded(formed: Formed) -> tuple[int, int, list[dict]]:
    """The stored files, the registry's events and what the group lists: what a refusal must leave as it was."""
    system = formed.gateway.system
    return (system.scalar("registry", "SELECT count(*) FROM documents"),
            system.scalar("registry", "SELECT count(*) FROM registry_events"),
            formed.staff.operator.ok("GET", f"/api/v1/groups/{formed.group}/documents"))


def test_the_sk_kades_and_the_meeting_minutes_are_attached_and_downloaded_as_uploaded(formed):
    staff, group = formed.staff, formed.group
    uploads = [("sk_kades", a_pdf("SK Kepala Desa Jondong")), ("meeting_minutes", an_image("PNG", "white"))]
    for kind, content in uploads:
        status, answer = attach(staff.operator, group, kind, content)
        assert status == 201, (kind, answer)
        assert (answer["kind"], answer["sha256"], answer["size"], answer["by"]) == (
            kind, hashlib.sha256(content).hexdigest(), len(content), "op.kalianda")
    # The same file of a kind once.
    status, answer = attach(staff.operator, group, "sk_kades", uploads[0][1])
    assert status == 409 and answer["error"]["rule"] == "evidence.attached", answer
    documents = staff.auditor.ok("GET", f"/api/v1/groups/{group}/documents")
    assert [d["kind"] for d in documents] == ["sk_kades", "meeting_minutes"]
    for (kind, content), document in zip(uploads, documents, strict=True):
        response = download(staff.auditor, group, document["sha256"])
        assert response.status_code == 200 and response.content == content, (kind, response.text[:300])
        assert response.headers["Content-Type"] == document["media_type"]
    # Each download on the registry's access log: who, and which paper (by kind and hash, never a name).
    reads = formed.gateway.system.scalar(
        "registry", "SELECT array_agg(read ORDER BY seq) FROM access_log WHERE username = 'inspektorat' AND read "
                    "LIKE 'group_document:%'")
    assert reads == [f"group_document:{d['kind']}:{d['sha256']}" for d in documents]


def test_a_renamed_executable_is_refused_and_nothing_recorded(formed):
    before = recorded(formed)
    executable = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200  # a Windows program
    status, answer = formed.staff.operator.post(
        f"/api/v1/groups/{formed.group}/documents", data=executable, params={"kind": "sk_kades"},
        headers={"Content-Type": "application/octet-stream",
                 "Content-Disposition": 'attachment; filename="sk-kades.pdf"'})
    assert status == 400 and answer["error"]["rule"] == "evidence.type", answer
    assert recorded(formed) == before


def test_another_region_may_neither_attach_nor_list_nor_download(formed):
    group = formed.group
    elsewhere = formed.gateway.user_client("operator", "18.02", "op.lampung-tengah")
    attach(formed.staff.operator, group, "meeting_minutes", a_pdf("Berita acara musyawarah desa"))
    before = recorded(formed)
    # Answered as a group that does not exist.
    assert attach(elsewhere, group, "meeting_minutes", a_pdf("Berita acara lain"))[0] == 404
    assert elsewhere.get(f"/api/v1/groups/{group}/documents")[0] == 404
    assert download(elsewhere, group, before[2][0]["sha256"]).status_code == 404
    assert recorded(formed) == before
    assert formed.gateway.system.scalar("registry", "SELECT count(*) FROM access_log WHERE username = "
                                                    "'op.lampung-tengah'") == 0


def test_a_stored_paper_altered_or_deleted_in_the_database_is_named_by_verify(formed):
    staff, group, system = formed.staff, formed.group, formed.gateway.system
    urls = {service: system.database_url(service) for service in SERVICES}
    altered = attach(staff.operator, group, "sk_kades", a_pdf("SK Kades perubahan"))[1]["sha256"]
    missing = attach(staff.operator, group, "meeting_minutes", a_pdf("Berita acara kedua"))[1]["sha256"]
    assert verify.verify(urls=urls)["ok"]
    with psycopg.connect(system.database_url("registry"), autocommit=True) as conn:  # a superuser, guards off
        conn.execute("ALTER TABLE documents DISABLE TRIGGER USER")
        conn.execute("UPDATE documents SET content = content || '\\x00'::bytea WHERE sha256 = %s", (altered,))
        conn.execute("DELETE FROM documents WHERE sha256 = %s", (missing,))
        conn.execute("ALTER TABLE documents ENABLE TRIGGER USER")
    problems = {(p["service"], p["kind"], p["detail"].split(" ")[2]) for p in verify.verify(urls=urls)["problems"]}
    assert problems == {("registry", "document_altered", altered), ("registry", "document_missing", missing)}
    response = download(staff.auditor, group, altered)
    assert response.status_code == 409 and response.json()["error"]["rule"] == "evidence.altered"
