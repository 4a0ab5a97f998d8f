"""A KUBE's life after funding as the console shows it, in Indonesian (docs/procedures/kube-life.md): the
facilitator records a monitoring visit on the grant's page and sees the group classified berkembang — a visit
counting more active households than the group has is refused next to its field, nothing recorded — and the
operator graduates the group (mandiri) with its reason. What a test needs in place is made through the HTTP API."""

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
    submit,
    today,
    until,
)

pytestmark = pytest.mark.browser

MUARA_PUTIH = "18.01.04.2005"  # Natar: a village of this test's own (other tests' data stays out)


def active_grant(console: ConsoleSystem) -> tuple[str, str]:
    """A seven-household KUBE approved and paid its first tranche (so active): its proposal and group ids."""
    proposal_id = recommended_proposal(console, 4600, village=MUARA_PUTIH)
    ministry = Api(console, "ministry")
    ministry.call("PUT", "/budgets/2026/APBN", {"ceiling_rp": 500_000_000})
    ministry.call("POST", f"/proposals/{proposal_id}/approve", {"amount_rp": 10_000_000, "form": "cash",
                                                                "fiscal_year": 2026, "source": "APBN"})
    treasurer = Api(console, "treasurer")
    payment = treasurer.call("POST", f"/grants/{proposal_id}/tranches/1/disburse")
    treasurer.call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    Api(console, "treasurer_2").call("POST", f"/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                                     {"bank_reference": "BRI-KUBE-LIFE-1"})
    group_id = console.sql("grants", "SELECT group_id::text FROM proposals WHERE proposal_id = %s",
                           (proposal_id,))[0][0]
    until(lambda: console.sql("grants", "SELECT 1 FROM groups WHERE group_id = %s AND status = 'active'",
                              (group_id,)), what="grants learns the group is active")
    return proposal_id, group_id


def stage_of(console: ConsoleSystem, proposal_id: str) -> str | None:
    return console.sql("grants", "SELECT state #>> '{monitoring,stage}' FROM grants WHERE proposal_id = %s",
                       (proposal_id,))[0][0]


def test_a_visit_classifies_the_group_and_the_operator_graduates_it(staff: Staff):
    proposal_id, group_id = active_grant(staff.system)
    facilitator = staff.log_in("facilitator")
    go(facilitator, f"/console/grants/{proposal_id}")
    expect(facilitator.locator("#group-status")).to_have_text("aktif")
    expect(facilitator.locator("#group-stage")).to_have_text("belum dikunjungi")
    facilitator.locator("details", has_text="Catat kunjungan monitoring").locator("summary").click()
    facilitator.fill("#f-visit_date", today())
    facilitator.fill("#f-monthly_revenue_rp", "3.500.000")
    facilitator.fill("#f-members_active", "8")  # the group has seven households
    facilitator.fill("#f-savings_rp", "600.000")
    facilitator.fill("#f-iuran_rp", "70.000")
    submit(facilitator, "form[action$='/visit']")
    expect(facilitator.locator("#error-members_active")).to_contain_text("0 sampai 7")
    accessible(facilitator)
    assert stage_of(staff.system, proposal_id) is None

    facilitator.fill("#f-visit_date", today())
    facilitator.fill("#f-monthly_revenue_rp", "3.500.000")
    facilitator.fill("#f-members_active", "6")
    facilitator.fill("#f-savings_rp", "600.000")
    facilitator.fill("#f-iuran_rp", "70.000")
    submit(facilitator, "form[action$='/visit']")
    assert "Kunjungan monitoring sudah dicatat." in notice(facilitator)
    expect(facilitator.locator("#group-stage")).to_have_text("berkembang")
    assert stage_of(staff.system, proposal_id) == "berkembang"

    operator = staff.log_in("operator")
    go(operator, f"/console/groups/{group_id}")
    operator.locator("details", has_text="Akhiri program kelompok").locator("summary").click()
    operator.select_option("#f-ending", "graduate")
    operator.fill("#f-reason", "usaha mandiri, tabungan kelompok cukup")
    submit(operator, "form[action$='/end']")
    assert "KUBE telah lulus (mandiri)." in notice(operator)
    accessible(operator)
    assert staff.system.sql("registry", "SELECT status FROM groups WHERE group_id = %s", (group_id,)) == [
        ("graduated",)]
