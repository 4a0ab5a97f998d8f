"""The console's review queue of DTSEN updates, on the real gateway and services: a newer file uploaded through the
API raises two KUBE households above the decile limit; the operator confirms one (its decile changes) and rejects
the other (it stays as it was)."""

from __future__ import annotations

import copy

import pytest

from tests.integration.test_console_audit_users import CONSOLE, browser, console, rows_with  # noqa: F401
from tests.integration.test_gateway import GatewaySystem
from tests.support.households import bdt_text, group_body, household_body

pytestmark = pytest.mark.integration


def import_file(client, text: str) -> dict:
    return client.ok("POST", "/api/v1/imports/bdt", data=text.encode(), headers={"Content-Type": "text/csv"},
                     timeout=300)


def test_the_operator_confirms_one_held_change_and_rejects_another(console: GatewaySystem):  # noqa: F811
    operator = console.user_client("operator", "18.01", "op.dtsen")
    households = [household_body(n) for n in range(340, 347)]
    assert import_file(operator, bdt_text(households))["households_imported"] == 7
    operator.ok("POST", "/api/v1/groups", group_body("KUBE Anggrek", households))
    newer = copy.deepcopy(households)
    newer[0]["decile"], newer[1]["decile"] = 6, 7
    report = import_file(operator, bdt_text(newer))
    assert (report["households_changed"], report["changes"], report["held_for_review"]) == (2, {}, 2)

    page = browser(console, "op.dtsen")
    text = page.page(f"{CONSOLE}/imports/held")
    raised, richer = (next(c for c in operator.ok("GET", "/api/v1/imports/bdt/held") if c["kk"] == h["kk"])
                      for h in newer[:2])
    assert rows_with(text, "decile 2 → 6", "KUBE Anggrek") and rows_with(text, "decile 2 → 7", "KUBE Anggrek")

    after = page.done(page.post(f"{CONSOLE}/imports/held/{raised['change_id']}/confirm"), "held_confirmed")
    assert "The change is confirmed and applied to the household." in after
    assert not rows_with(after, "decile 2 → 6") and rows_with(after, "decile 2 → 7")
    after = page.done(page.post(f"{CONSOLE}/imports/held/{richer['change_id']}/reject"), "held_rejected")
    assert "Nothing is waiting." in after

    decile = {kk: operator.ok("GET", f"/api/v1/households/{kk}")["decile"] for kk in (raised["kk"], richer["kk"])}
    assert decile == {raised["kk"]: 6, richer["kk"]: 2}  # re-read: the rejected change changed nothing
    again = page.post(f"{CONSOLE}/imports/held/{richer['change_id']}/confirm")
    assert again.status_code == 409 and "This change was decided already." in again.text
    assert operator.ok("GET", f"/api/v1/households/{richer['kk']}")["decile"] == 2
