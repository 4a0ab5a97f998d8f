"""The treasurer's bank files in Chromium, in Indonesian: the instructed transfer ticked on the list and taken as one
bulk-transfer file (a download, its name carrying the count and total), which sends it to the bank; then another
treasurer uploads the bank's statement and sees what each line did — the match confirmed, an unknown reference
marked as awaiting a decision — and the same statement again changes nothing.

What the test needs in place before a person opens the console (a grant with an instructed tranche) is made
through the HTTP API, as another system would."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from berdaya.bank.statement import mt940
from services.grants.bankfiles import payment_reference
from tests.browser.console import Api, Staff, accessible, go, recommended_proposal, screenshot, submit

pytestmark = pytest.mark.browser

GROUP = "KUBE Mawar 2700"
PEMANGGILAN = "18.01.04.2003"  # Natar: a village of this test's own (the console flow counts Kalianda's money)
TRANCHE_1 = 7_000_000  # 70 % of Rp 10.000.000


def test_the_treasurer_takes_the_bank_file_and_another_reconciles_the_statement(staff: Staff):
    proposal_id = recommended_proposal(staff.system, 2700, village=PEMANGGILAN)
    Api(staff.system, "ministry").call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    Api(staff.system, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    payment_id = Api(staff.system, "treasurer").call(
        "POST", f"/grants/{proposal_id}/tranches/1/disburse")["payment_id"]
    reference = payment_reference(payment_id)

    treasurer = staff.log_in("treasurer")
    go(treasurer, "/console/grants")
    grant = treasurer.locator("article.grant", has_text=GROUP)
    grant.get_by_label("Masuk berkas bank").check()
    accessible(treasurer)
    with treasurer.expect_download() as downloading:
        treasurer.get_by_role("button", name="Unduh berkas transfer massal").click()
    download = downloading.value
    assert download.suggested_filename.endswith(f"-1trx-Rp{TRANCHE_1}.csv")
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[1][1:] == [GROUP, "BRI", str(TRANCHE_1), reference, f"BLPS UEP Tahap 1 {GROUP}"]
    assert rows[-1] == ["TOTAL", "1", str(TRANCHE_1)]
    go(treasurer, "/console/grants")
    expect(treasurer.locator("article.grant", has_text=GROUP).locator("tr", has_text="Tahap 1")).to_contain_text(
        "terkirim ke bank")

    other = staff.log_in("treasurer_2")
    statement = mt940(("D", TRANCHE_1, reference, "BRI2612029001", "TRF KUBE MAWAR"),
                      ("D", 1_500_000, "BLPS000000000000", "BRI2612029002", "TRF LAIN"))

    def upload() -> None:
        go(other, "/console/grants/statement")
        other.set_input_files("#f-statement", files=[{"name": "rekening-koran.sta", "mimeType": "text/plain",
                                                      "buffer": statement}])
        other.select_option("#f-format", "mt940")
        submit(other, "form[action$='/console/grants/statement']")

    upload()
    result = other.locator("section[aria-labelledby=result]")
    expect(result.locator("p[role=status]")).to_contain_text("1 dicatat, 1 menunggu keputusan Anda.")
    expect(result.locator("tr", has_text=reference)).to_contain_text("dikonfirmasi")
    expect(result.locator("tr.overdue", has_text="BLPS000000000000")).to_contain_text("referensi tidak dikenal")
    accessible(other)
    screenshot(other, "bank-statement-reconciled")
    assert staff.system.sql("grants", "SELECT state -> 'tranches' -> '1' ->> 'status' FROM grants "
                                      "WHERE proposal_id = %s", (proposal_id,)) == [("confirmed",)]

    upload()
    expect(result.locator("p[role=status]")).to_contain_text("sudah pernah dicocokkan: tidak ada yang berubah")
    expect(result.locator("tr.overdue")).to_have_count(1)
