"""The demo's DTSEN update step (berdaya/cli/dtsen_story.py), run on a small registry as `make demo` runs it."""

from __future__ import annotations

import pytest

from berdaya.cli import dtsen_story
from berdaya.cli.bdt_import import import_bdt
from berdaya.cli.remote import cli_actor
from services.registry.bdt import read_bdt
from shared.regions import builtin_lampung_selatan
from tests.integration.test_dtsen_updates import registry, write  # noqa: F401
from tests.support.households import actor, group_body, household_body

pytestmark = pytest.mark.integration


def test_a_dtsen_update_holds_a_kube_households_decile_and_removes_a_household_at_once(registry, tmp_path):  # noqa: F811
    importer = cli_actor("operator.lamsel", "18.01", signer=registry.actor_signer())
    households = [household_body(n) for n in range(360, 368)]
    path = write(tmp_path / "dtsen-2026-08.csv", households)
    import_bdt(path, registry.amqp_uri, importer)
    records = list(read_bdt(path, builtin_lampung_selatan()).households)
    operator = actor("operator.lamsel")
    with registry.rpc() as rpc:
        rpc.registry.form_group({**group_body("KUBE Dahlia", households[:7]), "actor": operator})
        lines = []
        told = dtsen_story.dtsen_update(rpc, registry.amqp_uri, importer, operator, lines.append,
                                        tmp_path / "dtsen-2026-11.csv", records, records[0], records[7])
    assert told == {"households_changed": 2, "changes": {"status_changed": 1}, "held_for_review": 1,
                    "held": [("decile_changed", "kube.decile")], "confirmed_decile": dtsen_story.RAISED_DECILE,
                    "removed_status": "removed", "rerun_changed": 0}
    assert any("held for review: decile_changed" in line for line in lines), lines
