"""A newer DTSEN file re-imported: its differences applied as the registry's own events, what touches money held
for a person (confirmed: applied; rejected: nothing changes), and the same file again changes nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError

from berdaya.cli.bdt_import import import_bdt
from berdaya.cli.remote import cli_actor
from services.registry.bdt import BdtLayout
from shared.errors import from_remote
from tests.support.households import STATUS_COLUMN, VILLAGE, actor, bdt_text, group_body, household_body, reader
from tests.support.system import System

pytestmark = pytest.mark.integration

LAYOUT = {"layout": BdtLayout(status_column=STATUS_COLUMN)}  # the office's export has a status column
IN_KUBE, OUTSIDE = range(300, 307), 307  # seven households form a KUBE; one does not


def write(path: Path, households: list[dict], statuses: dict[str, str] | None = None) -> Path:
    path.write_text(bdt_text(households, statuses), encoding="utf-8")
    return path


def refusal(call) -> object:
    with pytest.raises(RemoteError) as raised:
        call()
    error = from_remote(raised.value.exc_type, raised.value.value)
    assert error is not None, raised.value
    return error


@pytest.fixture
def registry(system: System) -> System:
    system.start("registry")
    system.import_regions()
    return system


def test_a_newer_file_applies_its_changes_holds_what_touches_money_and_is_idempotent(registry, tmp_path):
    options = LAYOUT
    importer = cli_actor("operator.lamsel", "18.01", signer=registry.actor_signer())
    households = [household_body(n) for n in (*IN_KUBE, OUTSIDE)]
    first = import_bdt(write(tmp_path / "dtsen-2026-08.csv", households, {}), registry.amqp_uri, importer,
                       **options)
    assert first.households_imported == 8 and first.households_changed == 0
    with registry.rpc() as rpc:
        rpc.registry.form_group({**group_body("KUBE Mawar", households[:7]), "actor": actor("operator.lamsel")})

    newer = copy.deepcopy(households)
    decile_up, graduated, son_gone, renamed, born, outside = newer[0], newer[1], newer[2], newer[3], newer[4], newer[7]
    decile_up["decile"] = 6  # above the limit, in a KUBE: held
    del son_gone["members"][1]  # not the representative: applied
    renamed["members"][1]["name"] = "Budi Santoso"  # applied
    baby = {**born["members"][1], "nik": born["members"][1]["nik"][:-4] + "0777", "name": "Putra",
            "sex": "L", "relation": "Anak"}
    born["members"].append(baby)  # applied
    path = write(tmp_path / "dtsen-2026-11.csv", newer,
                 {graduated["kk"]: "graduasi", outside["kk"]: "meninggal"})  # graduated in a KUBE: held
    report = import_bdt(path, registry.amqp_uri, importer, **options)
    assert report.as_dict() | {"rejected_rows": None} == {
        "households_imported": 0, "individuals_imported": 0, "households_rejected": 0, "rejected_rows": None,
        "unchanged": 2, "households_changed": 6,
        "changes": {"member_added": 1, "member_corrected": 1, "member_removed": 1, "status_changed": 1},
        "held_for_review": 2}, report.rejected_rows

    with registry.rpc() as rpc:
        def household(kk: str) -> dict:
            return rpc.registry.household(reader(), kk)

        assert household(outside["kk"])["bdt_status"] == "removed"
        assert len(household(son_gone["kk"])["members"]) == 1
        assert "Putra" in [m["name"] for m in household(born["kk"])["members"]]
        assert "Budi Santoso" in [m["name"] for m in household(renamed["kk"])["members"]]
        assert household(decile_up["kk"])["decile"] == 2 and household(graduated["kk"])["bdt_status"] == "active"
        queue = rpc.registry.held_changes(reader(region="18.01"))
        assert {(c["kk"], c["kind"], c["rule"]) for c in queue} == {
            (decile_up["kk"], "decile_changed", "kube.decile"), (graduated["kk"], "status_changed", "kube.bdt_active")}
        assert {c["file_name"] for c in queue} == {"dtsen-2026-11.csv"}
        # The changes' attribution: the status change's reason names the file (its history, read by the registry).
        history = rpc.registry.household_history(reader(), outside["kk"])
        assert "dtsen-2026-11.csv" in str(history[-1]) and "deceased" in str(history[-1])

        # Personal fields of the new events are sealed: neither the newcomer's nor the leaver's NIK is in the log.
        states = b"\n".join(bytes(state) for (state,) in registry.sql("registry", "SELECT state FROM registry_events"))
        assert baby["nik"].encode() not in states and households[2]["members"][1]["nik"].encode() not in states
        assert b"Putra" not in states and b"Budi Santoso" not in states

        events = registry.scalar("registry", "SELECT count(*) FROM registry_events")
        again = import_bdt(path, registry.amqp_uri, importer, **options)
        assert (again.households_changed, dict(again.changes), again.held_for_review, again.unchanged) == (0, {}, 0, 8)
        assert registry.scalar("registry", "SELECT count(*) FROM registry_events") == events

        held = {c["kind"]: c["change_id"] for c in queue}
        operator = actor("operator.lamsel")
        rpc.registry.decide_held_change({"change_id": held["decile_changed"], "decision": "confirmed",
                                         "actor": operator})
        assert household(decile_up["kk"])["decile"] == 6
        rpc.registry.decide_held_change({"change_id": held["status_changed"], "decision": "rejected",
                                         "actor": operator})
        assert household(graduated["kk"])["bdt_status"] == "active"  # re-read: the rejection changed nothing
        assert rpc.registry.held_changes(reader(region="18.01")) == []
        # One event per decision (and the confirmed decile change): nothing else.
        assert registry.scalar("registry", "SELECT count(*) FROM registry_events") == events + 3


def test_a_file_that_says_what_the_desk_recorded_already_changes_nothing(registry, tmp_path):
    importer = cli_actor("operator.lamsel", "18.01", signer=registry.actor_signer())
    households = [household_body(n, VILLAGE) for n in range(330, 332)]
    import_bdt(write(tmp_path / "a.csv", households), registry.amqp_uri, importer)
    with registry.rpc() as rpc:
        rpc.registry.change_decile({"kk": households[0]["kk"], "decile": 3, "actor": actor("operator.lamsel")})
    events = registry.scalar("registry", "SELECT count(*) FROM registry_events")
    households[0]["decile"] = 3
    for _ in range(2):  # the second time, the registration's fingerprint is the file's
        report = import_bdt(write(tmp_path / "b.csv", households), registry.amqp_uri, importer)
        assert (report.households_changed, report.unchanged, report.households_rejected) == (0, 2, 0)
    assert registry.scalar("registry", "SELECT count(*) FROM registry_events") == events


def test_a_held_change_is_decided_once_by_an_operator_of_its_region(registry, tmp_path):
    importer = cli_actor("operator.lamsel", "18.01", signer=registry.actor_signer())
    households = [household_body(n, VILLAGE) for n in range(320, 327)]
    import_bdt(write(tmp_path / "a.csv", households), registry.amqp_uri, importer)
    with registry.rpc() as rpc:
        rpc.registry.form_group({**group_body("KUBE Melati", households), "actor": actor("operator.lamsel")})
        households[0]["decile"] = 9
        import_bdt(write(tmp_path / "b.csv", households), registry.amqp_uri, importer)
        (change,) = rpc.registry.held_changes(reader(region="18.01"))
        outsider = actor("operator.lamteng", region="18.02")
        assert refusal(lambda: rpc.registry.decide_held_change(
            {"change_id": change["change_id"], "decision": "confirmed", "actor": outsider})).rule == "region.scope"
        assert rpc.registry.household(reader(), households[0]["kk"])["decile"] == 2  # re-read: unchanged
        decide = {"change_id": change["change_id"], "decision": "rejected", "actor": actor("operator.lamsel")}
        rpc.registry.decide_held_change(decide)
        assert refusal(lambda: rpc.registry.decide_held_change(
            {**decide, "decision": "confirmed"})).rule == "bdt.review_decided"
        assert rpc.registry.household(reader(), households[0]["kk"])["decile"] == 2
