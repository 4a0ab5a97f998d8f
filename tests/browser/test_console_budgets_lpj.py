"""Budgets belong to whoever pays, and an LPJ is reconciled with its tranche — as the console shows them, in
Indonesian: the regency's head of office sets the regency's ceiling and approves a proposal its district verified,
on the regent's decree (refused without its number, and nothing changed); an LPJ whose receipts exceed the tranche
shows the difference and can only be returned; a balance left unspent is settled by the refund the treasurer
records. What a test needs in place is made through the HTTP API, as another system would."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.console import (
    Api,
    ConsoleSystem,
    Staff,
    accessible,
    go,
    notice,
    recommended_proposal,
    refusal,
    submit,
    today,
    verified_proposal,
)

pytestmark = pytest.mark.browser

SIDOSARI = "18.01.04.2002"  # Natar: a village of these tests' own (other tests' data stays out)
REGENCY_YEAR = 2029  # a year no other test sets a regency ceiling for


def proposal_row(console: ConsoleSystem, proposal_id: str) -> tuple:
    return console.sql("grants", "SELECT status, source FROM proposals WHERE proposal_id = %s", (proposal_id,))[0]


def regency_budget(console: ConsoleSystem) -> list[tuple]:
    return console.sql("grants", "SELECT ceiling_rp, committed_rp FROM budgets WHERE fiscal_year = %s AND "
                                 "source = 'APBD-kabupaten' AND region = '18.01'", (REGENCY_YEAR,))


def test_the_regency_head_sets_its_ceiling_and_approves_a_verified_proposal_on_the_regents_decree(staff: Staff):
    proposal_id = verified_proposal(staff.system, 4000, village=SIDOSARI)
    head = staff.log_in("head")
    go(head, "/console/budgets")
    expect(head.locator("#f-region")).to_have_value("18.01")  # the regency's own budget
    head.fill("#f-fiscal_year", str(REGENCY_YEAR))
    head.select_option("#f-source", "APBD-kabupaten")
    head.fill("#f-ceiling_rp", "30.000.000")
    submit(head, "form[action$='/console/budgets']")
    assert "Pagu anggaran sudah ditetapkan." in notice(head)
    expect(head.locator("table")).to_contain_text("APBD-kabupaten")
    assert regency_budget(staff.system) == [(30_000_000, 0)]

    go(head, f"/console/proposals/{proposal_id}")
    expect(head.locator("form[action$='/approve'] #f-source option")).to_have_count(1)  # only its own money
    head.fill("#f-amount_rp", "10.000.000")
    head.fill("#f-fiscal_year", str(REGENCY_YEAR))
    submit(head, "form[action$='/approve']")
    assert "SK Bupati" in refusal(head)
    accessible(head)
    assert proposal_row(staff.system, proposal_id) == ("verified", None)
    assert regency_budget(staff.system) == [(30_000_000, 0)]

    head.fill("#f-amount_rp", "10.000.000")
    head.fill("#f-fiscal_year", str(REGENCY_YEAR))
    head.fill("#f-decree_number", "400.9/123/IV.02/2029")
    submit(head, "form[action$='/approve']")
    assert "Usulan sudah disetujui." in notice(head)
    assert proposal_row(staff.system, proposal_id) == ("approved", "APBD-kabupaten")
    assert regency_budget(staff.system) == [(30_000_000, 10_000_000)]


def test_the_ministry_is_not_offered_to_approve_what_the_province_has_not_recommended(staff: Staff):
    proposal_id = verified_proposal(staff.system, 4100, village=SIDOSARI)
    ministry = staff.log_in("ministry")
    go(ministry, f"/console/proposals/{proposal_id}")
    expect(ministry.locator("form[action$='/approve']")).to_have_count(0)


def lpj_state(console: ConsoleSystem, proposal_id: str) -> str | None:
    return console.sql("grants", "SELECT state -> 'tranches' -> '1' ->> 'lpj' FROM grants WHERE proposal_id = %s",
                       (proposal_id,))[0][0]


def test_an_lpj_above_its_tranche_is_returned_and_a_balance_is_settled_by_its_refund(staff: Staff):
    proposal_id = recommended_proposal(staff.system, 4200, village=SIDOSARI)
    Api(staff.system, "ministry").call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    Api(staff.system, "ministry").call("POST", f"/proposals/{proposal_id}/approve", {
        "amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})  # tranche 1: 7,000,000
    treasurer = Api(staff.system, "treasurer")
    payment = treasurer.call("POST", f"/grants/{proposal_id}/tranches/1/disburse")
    treasurer.call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    Api(staff.system, "treasurer_2").call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                                          {"bank_reference": "BRI-LPJ-1"})
    operator = Api(staff.system, "operator")

    def lpj(amount: int) -> None:
        operator.call("POST", f"/grants/{proposal_id}/tranches/1/lpj", {"lines": [{
            "description": "Mesin jahit", "receipt_number": f"KW-{amount}", "receipt_date": today(),
            "amount_rp": amount}]})

    lpj(7_500_000)
    reviewer = staff.log_in("operator_2")
    go(reviewer, f"/console/grants/{proposal_id}")
    review = reviewer.locator("form[action$='/lpj_review']")
    expect(review).to_contain_text("Melebihi tahap sebesar")
    expect(review).to_contain_text("Rp 500.000")
    expect(review.locator("#f-decision option")).to_have_count(1)  # only "return for revision"
    accessible(reviewer)
    reviewer.fill("form[action$='/lpj_review'] #f-reason", "kuitansi melebihi tahap 1")
    submit(reviewer, "form[action$='/lpj_review']")
    assert "Hasil pemeriksaan LPJ sudah dicatat." in notice(reviewer)
    assert lpj_state(staff.system, proposal_id) == "returned"

    lpj(6_800_000)
    go(reviewer, f"/console/grants/{proposal_id}")
    review = reviewer.locator("form[action$='/lpj_review']")
    expect(review).to_contain_text("Sisa dana")
    expect(review).to_contain_text("Rp 200.000")
    submit(reviewer, "form[action$='/lpj_review']")  # accepted as it is: the balance neither returned nor explained
    assert "belum dipertanggungjawabkan" in refusal(reviewer)
    assert lpj_state(staff.system, proposal_id) == "submitted"

    cashier = staff.log_in("treasurer")
    go(cashier, f"/console/grants/{proposal_id}")
    cashier.locator("details", has_text="Catat pengembalian dana").locator("summary").click()
    cashier.fill("form[action$='/refund'] #f-amount_rp", "200.000")
    cashier.fill("form[action$='/refund'] #f-reference", "STS-2026-0042")
    cashier.fill("form[action$='/refund'] #f-reason", "sisa dana tahap 1 dikembalikan")
    submit(cashier, "form[action$='/refund']")
    assert "Pengembalian dana sudah dicatat." in notice(cashier)

    go(reviewer, f"/console/grants/{proposal_id}")
    reviewer.fill("#f-refund_reference", "STS-2026-0042")
    submit(reviewer, "form[action$='/lpj_review']")
    assert "Hasil pemeriksaan LPJ sudah dicatat." in notice(reviewer)
    assert lpj_state(staff.system, proposal_id) == "accepted"
    expect(reviewer.locator("table").first).to_contain_text("sisa dana dikembalikan (STS-2026-0042)")
