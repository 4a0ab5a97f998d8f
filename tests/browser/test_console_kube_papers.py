"""A KUBE's own papers on its page in Chromium, in Indonesian (issue 19): the operator forms the group, attaches
the village head's decree forming it (SK Kades) as a PDF, sees it listed and downloads it as it was uploaded; a
program renamed as a PDF is refused in Indonesian, and after a reload the list is as it was.

The households are registered through the HTTP API, as another system would; the rest is done in the console."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.console import Api, Staff, accessible, form_group, submit
from tests.support.households import household_body
from tests.support.scans import a_pdf

pytestmark = pytest.mark.browser

TANJUNG_SARI = "18.01.04.2008"  # Natar: a village of this test's own (other tests' data stays out)
FORM = "form[action$='/documents']"
SK_KADES = "SK Kepala Desa pembentukan KUBE (SK Kades)"


def test_the_operator_attaches_the_sk_kades_and_a_renamed_program_is_refused(staff: Staff, tmp_path: Path):
    households = [household_body(5300 + i, TANJUNG_SARI) for i in range(7)]
    for body in households:
        Api(staff.system, "operator").call("POST", "/households", body)

    operator = staff.log_in("operator")
    form_group(operator, "KUBE Teratai", households, TANJUNG_SARI)
    expect(operator.locator("h1")).to_contain_text("KUBE Teratai")
    group_page = operator.url.split("?")[0]
    expect(operator.locator("#documents")).to_contain_text("0")

    def open_the_form() -> None:
        if operator.locator("#attach").get_attribute("open") is None:
            operator.locator("#attach summary").click()

    def attach(name: str, content: bytes) -> None:
        open_the_form()
        operator.select_option("#f-kind", "sk_kades")
        operator.set_input_files("#f-file", files=[{"name": name, "mimeType": "application/pdf", "buffer": content}])
        submit(operator, FORM)

    scan = a_pdf("SK Kepala Desa Tanjung Sari tentang pembentukan KUBE Teratai")
    attach("SK Kades KUBE Teratai.pdf", scan)
    expect(operator.locator("[role=status]").first).to_contain_text("Dokumen dilampirkan")
    rows = operator.locator("#documents + div tbody tr")
    expect(rows).to_have_count(1)
    sha256 = hashlib.sha256(scan).hexdigest()
    expect(rows.first).to_contain_text(f"sk_kades-{sha256[:12]}.pdf")
    expect(rows.first).to_contain_text(f"{len(scan)} B")
    expect(rows.first).to_contain_text("WIB · operator.kalianda")
    open_the_form()  # for axe, with the list
    accessible(operator)
    link = operator.get_by_role("link", name=SK_KADES)
    with operator.expect_download() as downloading:
        link.click()
    saved = tmp_path / "sk-kades.pdf"
    downloading.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == sha256

    stored = staff.system.sql("registry", "SELECT count(*) FROM documents")
    attach("SK Kades.pdf", b"MZ\x90\x00" + bytes(300))  # a Windows program, named as a PDF
    expect(operator.locator("[role=alert]").first).to_contain_text("Hanya berkas PDF, JPEG atau PNG")
    operator.goto(group_page)  # read again: the list as it was
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"sk_kades-{sha256[:12]}.pdf")
    assert staff.system.sql("registry", "SELECT count(*) FROM documents") == stored
