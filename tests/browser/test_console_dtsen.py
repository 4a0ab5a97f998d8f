"""The review queue of a DTSEN update, as the operator works it: a newer file raised two KUBE households above the
decile limit; the operator confirms one (the household's page shows the new decile) and rejects the other (its
decile stays). The households, the group and both files are put in place through the HTTP API, as the office's
other systems would; they live in Kesugihan, a village of this test alone."""

from __future__ import annotations

import copy
import re

import pytest
from playwright.sync_api import expect

from tests.browser.console import Api, Staff, accessible, go, notice, screenshot
from tests.support.households import bdt_text, group_body, household_body

pytestmark = pytest.mark.browser

KESUGIHAN = "18.01.06.2010"


def test_the_operator_confirms_one_held_change_and_rejects_the_other(staff: Staff):
    api = Api(staff.system, "operator")
    households = [household_body(n, KESUGIHAN) for n in range(9600, 9607)]
    api.upload_bdt(bdt_text(households))
    api.call("POST", "/groups", group_body("KUBE Kesugihan", households, KESUGIHAN))
    newer = copy.deepcopy(households)
    newer[0]["decile"], newer[1]["decile"] = 6, 7
    assert api.upload_bdt(bdt_text(newer))["held_for_review"] == 2

    operator = staff.log_in("operator")
    go(operator, "/console/imports/held")
    expect(operator.locator("h1")).to_contain_text("Perubahan DTSEN untuk ditinjau")
    raised = operator.locator("tr", has_text="desil 2 → 6")
    richer = operator.locator("tr", has_text="desil 2 → 7")
    expect(raised).to_contain_text("KUBE Kesugihan")
    expect(raised).to_contain_text("di atas batas desil keluarga anggota KUBE")
    accessible(operator)
    screenshot(operator, "dtsen-review")

    with operator.expect_navigation():
        raised.get_by_role("button", name=re.compile("^Konfirmasi")).click()
    assert "dikonfirmasi dan diterapkan" in notice(operator)
    expect(operator.locator("tr", has_text="desil 2 → 6")).to_have_count(0)
    with operator.expect_navigation():
        richer.get_by_role("button", name=re.compile("^Tolak")).click()
    assert "ditolak" in notice(operator)
    expect(operator.locator("p.empty")).to_be_visible()

    decile = dict(staff.system.sql("registry", "SELECT kk, decile FROM households WHERE kk = ANY(%s)",
                                   ([newer[0]["kk"], newer[1]["kk"]],)))
    assert decile == {newer[0]["kk"]: 6, newer[1]["kk"]: 2}  # re-read: the rejected change changed nothing
