"""The console's pages of a KUBE's life after funding on the real gateway and services, driven as a browser would
(in English, so the sentences checked are the message ids): the facilitator sees the visit due on the home page,
records a visit on the grant's page and sees the group classified; a visit with more active members than the group
has is refused next to its field, nothing recorded; the operator graduates the group with its reason."""

from __future__ import annotations

import pytest

from shared.ids import jakarta_today
from tests.integration.test_console_audit_users import (  # noqa: F401 (console: the fixture)
    CONSOLE,
    browser,
    console,
)
from tests.integration.test_gateway import GatewaySystem, Staff, approved_proposal, register_group, set_budget
from tests.integration.test_kube_life import pay_first_tranche
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def test_a_visit_is_recorded_and_classified_and_the_group_graduated_in_the_console(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    set_budget(staff)
    group_id, _ = register_group(staff, 5200, "KUBE Kenanga")
    proposal_id = approved_proposal(staff, group_id)
    pay_first_tranche(staff, proposal_id)
    eventually(lambda: staff.operator.ok("GET", f"/api/v1/grants/{proposal_id}")["monitoring"]["group_status"]
               == "active", message="grants learns the group is active")

    facilitator = browser(console, "fasilitator.rina")
    grant_page = f"{CONSOLE}/grants/{proposal_id}"
    page = facilitator.page(grant_page)
    assert "not visited yet" in page and 'id="f-members_active"' in page and 'id="f-iuran_rp"' in page
    visit = {"visit_date": jakarta_today().isoformat(), "business_status": "running",
             "monthly_revenue_rp": "3.500.000", "members_active": "8", "savings_rp": "600.000", "iuran_rp": "70.000"}
    refused = facilitator.post(f"{grant_page}/visit", visit)
    assert refused.status_code == 400 and "Members still active: from 0 to the group's 7 households." in (
        refused.text.replace("&#39;", "'"))
    assert staff.operator.ok("GET", f"/api/v1/grants/{proposal_id}")["visits"] == 0
    page = facilitator.done(facilitator.post(f"{grant_page}/visit", {**visit, "members_active": "6"}),
                            "visit_recorded")
    assert "developing (berkembang)" in page and "members still active 6/7" in page

    operator = browser(console, "op.kalianda")
    group_page = f"{CONSOLE}/groups/{group_id}"
    assert "Graduated (mandiri)" in operator.page(group_page)
    refused = operator.post(f"{group_page}/end", {"ending": "graduate", "reason": ""})
    assert refused.status_code == 400
    assert staff.operator.ok("GET", f"/api/v1/groups/{group_id}")["status"] == "active"
    page = operator.done(operator.post(f"{group_page}/end", {"ending": "graduate",
                                                             "reason": "usaha mandiri, tabungan cukup"}),
                         "group_graduated")
    assert "The KUBE has graduated (mandiri)." in page and "End the group" not in page
    assert staff.operator.ok("GET", f"/api/v1/groups/{group_id}")["status"] == "graduated"
