"""The console's budget and LPJ pages on the real gateway and services, driven as a browser would (forms, cookies,
redirects; in English, so the sentences checked are the message ids): the regency's head sets the regency's ceiling
and approves a verified proposal on the regent's decree — refused without its number, nothing changed; a reviewer
sees an LPJ's receipts against its tranche, can only return one above it, and accepts a balance once its refund is
recorded. (tests/browser/test_console_budgets_lpj.py walks the same paths in Chromium, in Indonesian.)"""

from __future__ import annotations

import pytest

from tests.integration.test_console_audit_users import (  # noqa: F401 (console: the fixture)
    CONSOLE,
    browser,
    console,
    rows,
    rows_with,
)
from tests.integration.test_gateway import GatewaySystem, Staff, _created, register_group
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def verified(staff: Staff, group_id: str) -> str:
    draft = {"group_id": group_id, "business_plan": "Usaha jahit seragam sekolah",
             "budget_lines": [{"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": 2_500_000}],
             "form": "cash"}
    proposal_id = eventually(lambda: _created(staff.operator.post("/api/v1/proposals", draft)), timeout=30,
                             message="grants learns of the group")["proposal_id"]
    staff.operator.ok("POST", f"/api/v1/proposals/{proposal_id}/submit")
    staff.verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/verify")
    return proposal_id


def test_the_regency_head_sets_its_ceiling_and_approves_on_the_regents_decree(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    head = browser(console, console.add_user("kadis.lamsel", "head", "18.01"))
    page = head.page(f"{CONSOLE}/budgets")
    assert 'id="f-region" name="region" type="text" value="18.01"' in page
    assert '<option value="APBD-kabupaten"' in page and '<option value="APBN"' not in page
    head.done(head.post(f"{CONSOLE}/budgets", {"fiscal_year": "2026", "source": "APBD-kabupaten",
                                               "region": "18.01", "ceiling_rp": "30.000.000"}), "ceiling_set")
    budgets = head.page(f"{CONSOLE}/budgets")
    assert rows_with(budgets, "APBD-kabupaten", "Rp 30,000,000"), rows(budgets)

    group_id, _ = register_group(staff, 5000)
    proposal_id = verified(staff, group_id)
    page = head.page(f"{CONSOLE}/proposals/{proposal_id}")
    assert f'action="{CONSOLE}/proposals/{proposal_id}/approve"' in page and 'id="f-decree_number"' in page
    approval = {"amount_rp": "10.000.000", "form": "cash", "fiscal_year": "2026", "source": "APBD-kabupaten"}
    refused = head.post(f"{CONSOLE}/proposals/{proposal_id}/approve", approval)
    assert refused.status_code == 400 and "approved on the regent&#39;s decree: give its number" in refused.text
    assert staff.operator.ok("GET", f"/api/v1/proposals/{proposal_id}")["status"] == "verified"
    head.done(head.post(f"{CONSOLE}/proposals/{proposal_id}/approve",
                        {**approval, "decree_number": "400.9/123/IV.02/2026"}), "approved")
    assert staff.operator.ok("GET", f"/api/v1/proposals/{proposal_id}")["approval"]["decree_number"] == (
        "400.9/123/IV.02/2026")
    # The ministry is not offered to approve a proposal the province has not recommended.
    other_id = verified(staff, register_group(staff, 5010, "KUBE Melati")[0])
    ministry = browser(console, "kemensos.pusat")
    assert "/approve" not in ministry.page(f"{CONSOLE}/proposals/{other_id}")


def test_an_lpj_is_reviewed_against_its_tranche(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    staff.ministry.ok("PUT", "/api/v1/budgets/2026/APBN", {"ceiling_rp": 100_000_000})
    group_id, _ = register_group(staff, 5100)
    proposal_id = verified(staff, group_id)
    staff.province.ok("POST", f"/api/v1/proposals/{proposal_id}/recommend")
    staff.ministry.ok("POST", f"/api/v1/proposals/{proposal_id}/approve",
                      {"amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                 headers={"Idempotency-Key": "console-lpj-tranche-1"})
    staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    staff.treasurer_2.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                         {"bank_reference": "BRI-LPJ-1"})

    def lpj(amount: int) -> None:
        staff.operator.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/lpj", {"lines": [{
            "description": "Mesin jahit", "receipt_number": f"KW-{amount}", "receipt_date": "2026-01-05",
            "amount_rp": amount}]})

    lpj(7_500_000)  # tranche 1: Rp 7,000,000
    reviewer = browser(console, "op2.kalianda")
    grant_page = f"{CONSOLE}/grants/{proposal_id}"
    page = reviewer.page(grant_page)
    assert "Above the tranche by" in page and "Rp 500,000" in page
    assert '<option value="accept"' not in page
    refused = reviewer.post(f"{grant_page}/lpj_review", {"tranche": "1", "decision": "accept"})
    assert refused.status_code == 409 and "The receipts total Rp 7,500,000, Rp 500,000 more than" in refused.text
    reviewer.done(reviewer.post(f"{grant_page}/lpj_review", {"tranche": "1", "decision": "return",
                                                             "reason": "kuitansi melebihi tahap 1"}), "lpj_reviewed")

    lpj(6_800_000)
    page = reviewer.page(grant_page)
    assert "Unspent balance" in page and "Rp 200,000" in page
    refused = reviewer.post(f"{grant_page}/lpj_review", {"tranche": "1", "decision": "accept"})
    assert refused.status_code == 409 and "Rp 200,000 of the tranche is not accounted for" in refused.text
    assert staff.operator.ok("GET", f"/api/v1/grants/{proposal_id}")["tranches"][0]["lpj"] == "submitted"
    cashier = browser(console, "bendahara.lamsel")
    cashier.done(cashier.post(f"{grant_page}/refund", {"amount_rp": "200.000", "reference": "STS-2026-0042",
                                                       "reason": "sisa dana tahap 1"}), "refund_recorded")
    page = reviewer.done(reviewer.post(f"{grant_page}/lpj_review", {
        "tranche": "1", "decision": "accept", "refund_reference": "STS-2026-0042"}), "lpj_reviewed")
    assert rows_with(page, "Tranche 1", "balance returned (STS-2026-0042)")
