"""The admin's erasure page (issue 16 item 3), maker–checker: one admin asks for the erasure of a household by a
NIK typed, with a reason; the request waits in the region's list (ids, who asked, when, why — no name); the same
admin cannot approve it, a second admin does; afterwards the household's page shows nothing of the family."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.gateway.console.i18n import grouped
from tests.browser.console import Api, Staff, accessible, go, notice, refusal, submit
from tests.browser.staff import STAFF
from tests.support.households import household_body

pytestmark = pytest.mark.browser

NEGARA_RATU = "18.01.04.2006"  # Natar: a village of this test's own
REASON = "Permintaan subjek data: keluarga pindah ke luar negeri"


def test_one_admin_asks_the_same_cannot_approve_another_does_and_the_household_is_gone(staff: Staff):
    body = household_body(16_700, NEGARA_RATU)
    household_id = Api(staff.system, "operator").call("POST", "/households", body)["household_id"]
    head = body["members"][0]

    admin = staff.log_in("admin")
    admin.get_by_role("link", name="Penghapusan data").click()
    expect(admin.locator("h1")).to_have_text("Penghapusan data pribadi")
    admin.fill("#f-nik", head["nik"])
    admin.fill("#f-reason", REASON)
    admin.check("#f-whole_household")
    submit(admin, "form[action$='/console/erasures']")
    assert "Penghapusan sudah diminta" in notice(admin)
    row = admin.locator("section[aria-labelledby=pending-title] tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(STAFF["admin"][0])
    expect(row).to_contain_text(REASON)
    shown = admin.content()
    assert not [value for value in (head["nik"], grouped(head["nik"]), body["kk"], head["name"]) if value in shown]
    accessible(admin)

    # The asker's own approval: refused in Indonesian, and nothing erased.
    with admin.expect_navigation():
        row.get_by_role("button", name="Setujui penghapusan").click()
    assert "administrator lain yang harus menyetujuinya" in refusal(admin)
    assert staff.system.sql("registry", "SELECT count(*) FROM individuals WHERE kk = %s", (body["kk"],)) == [(2,)]
    go(admin, "/console/erasures")
    expect(admin.locator("section[aria-labelledby=pending-title] tbody tr")).to_have_count(1)

    checker = staff.log_in("admin_2")
    go(checker, "/console/erasures")
    pending = checker.locator("section[aria-labelledby=pending-title] tbody tr", has_text=REASON)
    with checker.expect_navigation():
        pending.get_by_role("button", name="Setujui penghapusan").click()
    assert "Data pribadi keluarga ini sudah dihapus" in notice(checker)
    expect(checker.locator("section[aria-labelledby=pending-title] tbody tr")).to_have_count(0)
    assert staff.system.sql("registry", "SELECT count(*) FROM individuals WHERE kk = %s", (body["kk"],)) == [(0,)]

    operator = staff.log_in("operator")
    go(operator, f"/console/households/{household_id}")
    expect(operator.locator("h1 .id")).to_have_text("[dihapus]")
    expect(operator.locator("main table tbody tr")).to_have_count(0)  # no member left
    expect(operator.locator("main")).to_contain_text("Data pribadi dihapus · ")  # its history says so
    page = operator.content()
    assert not [value for value in (head["name"], body["members"][1]["name"], grouped(body["kk"])) if value in page]
