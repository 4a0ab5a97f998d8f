"""The KUBE formation form on the real gateway and services, sent as a browser would: it names households and
representatives by the registry's ids, so that no NIK or KK sits in the page's HTML (issue 16, masking by need) —
and the group it forms is the one the operator ticked."""

from __future__ import annotations

import re

import pytest

from services.gateway.console.i18n import grouped
from tests.integration.test_console_audit_users import CONSOLE, browser, console  # noqa: F401
from tests.integration.test_gateway import GatewaySystem, Staff
from tests.support.households import VILLAGE, household_body

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
