"""Evidence on a grant's page in Chromium, in Indonesian: the operator attaches the signed BAST of an equipment
delivery; a program renamed as a PDF is refused in Indonesian and nothing is recorded; the scan is listed and
downloads as it was uploaded.

What the test needs in place before a person opens the console (an equipment grant with its delivery recorded) is
made through the HTTP API, as another system would."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from shared.ids import jakarta_today
from tests.browser.console import Api, Staff, accessible, go, recommended_proposal, submit
from tests.support.scans import a_pdf

pytestmark = pytest.mark.browser

MERAK_BATIN = "18.01.04.2007"  # Natar: a village of this test's own (other tests' data stays out)
FORM = "form[action$='/documents']"


def test_the_operator_attaches_the_signed_bast_and_a_renamed_program_is_refused(staff: Staff, tmp_path: Path):
    proposal_id = recommended_proposal(staff.system, 2800, village=MERAK_BATIN)
    Api(staff.system, "ministry").call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    Api(staff.system, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "equipment", "fiscal_year": 2026, "source": "APBN"})
    Api(staff.system, "operator").call("POST", f"/grants/{proposal_id}/tranches/1/deliver", {
        "items": [{"item": "Mesin jahit", "quantity": 2, "value_rp": 7_000_000}],
        "handover_date": jakarta_today().isoformat(), "receiver": "Ketua KUBE Mawar 2800"})

    operator = staff.log_in("operator")
    go(operator, f"/console/grants/{proposal_id}")
    expect(operator.locator("#documents")).to_contain_text("0")

    def attach(name: str, content: bytes) -> None:
        operator.locator("#attach summary").click()
        operator.select_option("#f-kind", "bast")
        operator.select_option("#f-document-payment", index=1)  # the delivery: the one handover of the grant
        operator.set_input_files("#f-file", files=[{"name": name, "mimeType": "application/pdf", "buffer": content}])
        submit(operator, FORM)

    attach("bast.pdf", b"MZ\x90\x00" + bytes(300))  # a Windows program, named as a PDF
    expect(operator.locator("[role=alert]").first).to_contain_text("Hanya berkas PDF, JPEG atau PNG")
    assert staff.system.sql("grants", "SELECT count(*) FROM documents") == [(0,)]

    go(operator, f"/console/grants/{proposal_id}")
    scan = a_pdf("BAST serah terima mesin jahit")
    attach("bast-ditandatangani.pdf", scan)
    expect(operator.locator("[role=status]").first).to_contain_text("Dokumen dilampirkan")
    link = operator.get_by_role("link", name="Berita acara serah terima (BAST) yang ditandatangani")
    expect(link).to_have_count(1)
    accessible(operator)
    with operator.expect_download() as downloading:
        link.click()
    saved = tmp_path / "bast.pdf"
    downloading.value.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(scan).hexdigest()
