"""The KUBE's pages on the real gateway and services, sent as a browser would. The formation form names households
and representatives by the registry's ids, so that no NIK or KK sits in the page's HTML (issue 16, masking by
need) — and the group it forms is the one the operator ticked. The group's page lists its own papers and lets the
operator attach one (issue 19): what is refused is said in Indonesian and stores nothing."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from services.gateway.console.i18n import grouped
from tests.integration.test_console_audit_users import CONSOLE, Browser, browser, console, rows_with  # noqa: F401
from tests.integration.test_gateway import GatewaySystem, Staff, register_group
from tests.integration.test_group_documents import Formed, recorded
from tests.support.households import VILLAGE, household_body
from tests.support.scans import a_pdf

pytestmark = pytest.mark.integration

SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")


def test_the_formation_form_holds_no_nik_or_kk_and_forms_the_group_ticked(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    households = [household_body(16_600 + i) for i in range(7)]
    for body in households:
        staff.operator.ok("POST", "/api/v1/households", body)
    operator = browser(console, console.add_user("op.natar", "operator", "18.01"))

    shown = operator.get(f"{CONSOLE}/groups/new?village={VILLAGE}&kind=perempuan")
    assert shown.status_code == 200, shown.text[:500]
    page = shown.text
    assert "Siti Aminah 16600" in page  # the households are listed
    assert SIXTEEN_DIGITS.findall(page) == []
    for body in households:  # a NIK in no form at all; the KK only as the operator reads it
        assert not [m for m in body["members"] if grouped(m["nik"]) in page]
        assert page.count(grouped(body["kk"])) == 2  # its row's label, and its representative's

    picks = re.findall(r'name="pick" value="([^"]+)"', page)
    representative = {household_id: re.search(rf'name="rep\.{household_id}"[^>]*>\s*<option value="([^"]+)"',
                                              page).group(1) for household_id in picks}
    chosen = list(representative.values())
    answer = operator.post(f"{CONSOLE}/groups", {
        "village_code": VILLAGE, "kind": "perempuan", "name": "KUBE Tanpa NIK", "business_type": "jahit",
        "pick": picks, **{f"rep.{household_id}": person for household_id, person in representative.items()},
        "roles.ketua": chosen[0], "roles.sekretaris": chosen[1], "roles.bendahara": chosen[2],
        "bank_account.bank": "BRI", "bank_account.number": "0123-01-000123-50-1",
        "bank_account.holder": "KUBE Tanpa NIK", "sk_kades": "140/12/SK/2026"})
    assert answer.status_code == 303 and "done=group_formed" in answer.headers["Location"], answer.text[:1500]

    members = console.system.sql("registry", "SELECT m.kk, m.representative_nik FROM group_members m "
                                             "JOIN groups g USING (group_id) WHERE g.name = 'KUBE Tanpa NIK'")
    assert sorted(members) == sorted((body["kk"], body["members"][0]["nik"]) for body in households)


def in_indonesian(gateway: GatewaySystem, username: str, page: str) -> Browser:
    """A browser of this user's, switched to Indonesian (the office's default) on ``page``."""
    opened = browser(gateway, username)
    opened.post(f"{CONSOLE}/language", {"language": "id", "next": page})
    return opened


def html_of(response: requests.Response) -> str:
    return html.unescape(response.text)


def upload(opened: Browser, group: str, kind: str, name: str, content: bytes) -> requests.Response:
    """The group page's upload form, sent as a browser sends it (multipart, the file's name and declared type)."""
    return opened.http.post(f"{opened.base}{CONSOLE}/groups/{group}/documents", allow_redirects=False, timeout=120,
                            data={"_csrf": opened.csrf, "_key": uuid.uuid4().hex, "kind": kind},
                            files={"file": (name, content, "application/pdf")})


def test_the_operator_attaches_the_sk_kades_on_the_kube_page_and_downloads_it(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    group, _ = register_group(staff, 16_800, name="KUBE Melati")
    page = f"{CONSOLE}/groups/{group}"
    operator = in_indonesian(console, "op.kalianda", page)
    shown = operator.page(page)
    assert "Belum ada dokumen yang dilampirkan." in shown
    assert '<option value="sk_kades"' in shown and "Berita acara musyawarah desa" in shown  # the form's kinds

    scan = a_pdf("SK Kepala Desa Jondong " + "pembentukan KUBE Melati " * 500)
    attached = upload(operator, group, "sk_kades", "SK Kades Melati.pdf", scan)
    shown = operator.done(attached, "group_document_attached")
    assert "Dokumen dilampirkan: sidik jarinya (SHA-256) tercatat dalam riwayat KUBE." in shown
    sha256 = hashlib.sha256(scan).hexdigest()
    [listed] = staff.operator.ok("GET", f"/api/v1/groups/{group}/documents")
    at = datetime.fromisoformat(listed["attached_at"]).astimezone(ZoneInfo("Asia/Jakarta"))
    size = f"{len(scan) / 1024:.1f}"  # KB, one decimal: a comma in Indonesian, a point in English
    assert rows_with(shown, "SK Kepala Desa pembentukan KUBE (SK Kades)", f"sk_kades-{sha256[:12]}.pdf",
                     f"{size.replace('.', ',')} KB", f"{at:%H.%M} WIB · op.kalianda", f"{sha256[:16]}…"), shown
    link = f"{page}/documents/{sha256}"
    assert f'href="{link}"' in shown

    downloaded = operator.get(link)
    assert downloaded.status_code == 200 and downloaded.content == scan
    assert downloaded.headers["Content-Type"] == "application/pdf"
    assert console.system.sql("registry", "SELECT purpose, read FROM access_log WHERE username = 'op.kalianda' "
                                          "AND read LIKE 'group_document:%'") == [
        ("console.group_document", f"group_document:sk_kades:{sha256}")]

    operator.post(f"{CONSOLE}/language", {"language": "en", "next": page})  # English is a switch away
    assert rows_with(operator.page(page), "Village head's decree forming the KUBE (SK Kades)", f"{size} KB")


def test_a_refused_paper_is_said_in_indonesian_on_the_kube_page_and_nothing_is_stored(
        console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    group, _ = register_group(staff, 16_900, name="KUBE Kamboja")
    page = f"{CONSOLE}/groups/{group}"
    formed = Formed(console, staff, group)
    before = recorded(formed)
    operator = in_indonesian(console, "op.kalianda", page)
    only_pdf_jpeg_png = "Hanya berkas PDF, JPEG atau PNG yang dapat dilampirkan. Isi berkas yang menentukan"
    for name, content, status, sentence in (
            ("sk-kades.pdf", b"MZ\x90\x00" + bytes(300), 400, only_pdf_jpeg_png),  # a program, renamed
            ("notulen.pdf", b"<!DOCTYPE html><html><body>notulen</body></html>", 400, only_pdf_jpeg_png),
            ("sk-kades-besar.pdf", b"%PDF-1.7\n" + bytes(10 * 1024 * 1024), 413, "Berkasnya terlalu besar.")):
        refused = upload(operator, group, "sk_kades", name, content)
        assert refused.status_code == status, (name, refused.status_code)
        assert sentence in html_of(refused), name
        assert 'role="alert"' in refused.text and "Lampirkan dokumen" in html_of(refused)  # on the KUBE's page
    assert recorded(formed) == before

    # A verifier is not offered the form, and one sent anyway is refused by the API's roles.
    verifier = in_indonesian(console, "kabid.lamsel", page)
    assert 'action="/console/groups/' + group + '/documents"' not in verifier.page(page)
    refused = upload(verifier, group, "sk_kades", "sk-kades.pdf", a_pdf("SK Kades"))
    assert refused.status_code == 403 and "Anda tidak berhak melakukan ini." in html_of(refused)
    assert recorded(formed) == before
    assert "Belum ada dokumen yang dilampirkan." in operator.page(page)  # read again: nothing listed
