"""Audit against a real system: the logs refuse change, and tampering by a superuser is found and named."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from berdaya.audit import replay, verify
from services.training.application import TrainingApplication
from services.training.service import TrainingService
from shared.backbone import Backbone
from shared.config import SERVICES
from shared.consumer import handles
from tests.integration.test_dead_letters import deploy
from tests.integration.test_grants_training import (
    MINISTRY,
    approved_proposal,
    pay,
)
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def paid(system: System) -> tuple[System, str]:
    """A system with one approved grant whose first tranche was paid, everything projected."""
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    with system.rpc() as rpc:
        _, _, proposal_id = approved_proposal(rpc, start=900)
        pay(rpc, proposal_id, 1, "audit-tranche-1")
        statuses = {s: rpc[s].backbone_status() for s in SERVICES}
        eventually(lambda: all(
            c["position"] >= rpc[up].backbone_status()["last_position"]
            for s in statuses for up, c in rpc[s].backbone_status()["consumers"].items()))
    return system, proposal_id


def urls(system: System) -> dict[str, str]:
    return {service: system.database_url(service) for service in SERVICES}


@pytest.mark.parametrize("statement", ["UPDATE {t} SET topic = topic", "DELETE FROM {t}", "TRUNCATE {t}"])
@pytest.mark.parametrize("table", ["grants_events", "ledger", "registry_events"])
def test_the_logs_refuse_update_delete_and_truncate_for_the_service_role_and_any_other(paid, statement, table):
    system, _ = paid
    service = "registry" if table.startswith("registry") else "grants"
    before = system.scalar(service, f"SELECT count(*) FROM {table}")
    for url in (system.runtime_url(service), system.database_url(service)):  # the service's role; a superuser
        with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement.format(t=table))
    assert system.scalar(service, f"SELECT count(*) FROM {table}") == before > 0


def test_an_untouched_system_verifies(paid):
    system, _ = paid
    result = verify.verify(urls=urls(system))
    assert result["ok"], result["problems"]
    # Chained: the approval, and the payment's instruction, sending and confirmation.
    assert result["events_checked"] > 7 and result["ledger_entries_checked"] == 4
    # Every read model of another service's facts was rebuilt from that service's log and compared.
    assert {(m["service"], m["table"]) for m in result["mirrors"] if m["compared"]} == {
        ("grants", "family_school_gates"), ("grants", "households"), ("grants", "groups"), ("training", "groups")}


def tamper(system: System, sql: str) -> None:
    """What a database superuser can do: switch the guards off, change history, switch them on again."""
    with psycopg.connect(system.database_url("grants"), autocommit=True) as conn:
        conn.execute("ALTER TABLE grants_events DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE ledger DISABLE TRIGGER USER")
        conn.execute(sql)
        conn.execute("ALTER TABLE grants_events ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE ledger ENABLE TRIGGER USER")


CONFIRMED = "(SELECT originator_id, originator_version FROM grants_events WHERE topic LIKE '%Grant.Confirmed')"


@pytest.mark.parametrize(
    ("sql", "kinds"),
    [
        # Edit the bank reference of a confirmed payment.
        (f"UPDATE grants_events SET state = convert_to(replace(convert_from(state, 'UTF8'), 'BRI-', 'BNI-'), "
         f"'UTF8') WHERE (originator_id, originator_version) IN {CONFIRMED}", {"event_altered"}),
        # Delete the confirmation.
        (f"DELETE FROM grants_events WHERE (originator_id, originator_version) IN {CONFIRMED}",
         {"event_missing"}),
        # Reorder: give the confirmation a position before the instruction.
        (f"UPDATE grants_events SET notification_id = 0 WHERE (originator_id, originator_version) IN {CONFIRMED}",
         {"order_changed", "history_broken"}),
        # Forge: a second confirmation row, outside the chain.
        (f"INSERT INTO grants_events (originator_id, originator_version, topic, state) SELECT originator_id, "
         f"originator_version + 100, topic, state FROM grants_events WHERE (originator_id, originator_version) "
         f"IN {CONFIRMED}", {"event_unchained"}),
        # Rewrite the ledger entry too: the next entry's link gives it away.
        ("UPDATE ledger SET entry_hash = repeat('a', 64) WHERE seq = 2", {"event_altered", "chain_broken"}),
    ],
    ids=["edit", "delete", "reorder", "forge", "ledger_edit"],
)
def test_tampering_by_a_superuser_is_found_and_named(paid, sql, kinds):
    system, _ = paid
    tamper(system, sql)
    result = verify.verify(urls=urls(system))
    assert not result["ok"]
    found = {p["kind"] for p in result["problems"] if p["service"] == "grants"}
    assert kinds <= found, result["problems"]
    if "event_altered" in kinds and "chain_broken" not in kinds:
        confirmed = system.scalar("grants", "SELECT notification_id FROM grants_events WHERE topic LIKE "
                                            "'%Grant.Confirmed'")
        assert any(p["position"] == confirmed for p in result["problems"])


def test_what_a_forged_upstream_event_leaves_behind_is_found(paid):
    """A forged ``training.gate.changed`` that got through (a stolen key, say) opens a gate in grants that training
    never opened, and grants then tracks a training position that training's log never wrote."""
    system, proposal_id = paid
    group_id = system.scalar("grants", "SELECT group_id FROM proposals WHERE proposal_id = %s", (proposal_id,))
    training_last = system.scalar("training", "SELECT max(notification_id) FROM training_events")
    with psycopg.connect(system.database_url("grants"), autocommit=True) as conn:
        conn.execute("INSERT INTO family_school_gates (group_id, open, completed, representatives) "
                     "VALUES (%s, true, 7, 7) ON CONFLICT (group_id) DO UPDATE SET open = true, completed = 7",
                     (group_id,))
        conn.execute("UPDATE grants_tracking SET notification_id = %s WHERE application_name = 'training'",
                     (training_last + 1,))
    result = verify.verify(urls=urls(system))
    problems = {(p["kind"], p["position"]) for p in result["problems"]}
    assert ("tracked_unwritten", training_last + 1) in problems, result["problems"]
    gate = next(p for p in result["problems"] if p["kind"].startswith("mirror_"))
    assert gate["service"] == "grants" and "family_school_gates" in gate["detail"] and str(group_id) in gate["detail"]


def test_a_read_model_edited_behind_the_services_back_is_found(paid):
    system, proposal_id = paid
    with psycopg.connect(system.database_url("grants"), autocommit=True) as conn:
        conn.execute("UPDATE grants SET disbursed_rp = disbursed_rp + 1000000")
    result = verify.verify(urls=urls(system))
    assert [p["kind"] for p in result["problems"]] == ["read_model_differs"]
    assert "grants" in result["problems"][0]["detail"]


def test_replay_as_of_shows_the_past(paid):
    system, proposal_id = paid
    now = datetime.now(UTC)
    with system.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": MINISTRY, "fiscal_year": 2026, "source": "APBN",
                                       "ceiling_rp": 150_000_000})
    past = replay.state_as_of(now, urls=urls(system))
    present = replay.state_as_of(datetime.now(UTC), urls=urls(system))
    assert [b["ceiling_rp"] for b in past["budgets"]] == [100_000_000]
    assert [b["ceiling_rp"] for b in present["budgets"]] == [150_000_000]
    assert past["proposals"][0]["disbursed_rp"] == 9_800_000 and past["proposals"][0]["status"] == "approved"
    before_everything = replay.state_as_of(datetime(2000, 1, 1, tzinfo=UTC), urls=urls(system))
    assert before_everything["budgets"] == [] and before_everything["groups"] == []
    # Verifying that past moment replays and cross-checks its history without comparing it with today's tables.
    then = verify.verify(now, urls=urls(system))
    assert then["ok"] and not then["read_models_compared"], then["problems"]
    assert verify.verify(urls=urls(system))["read_models_compared"]


def test_the_ledger_head_is_sealed_as_a_public_event(paid):
    system, _ = paid
    with system.rpc() as rpc:
        sealed = rpc.grants.seal_ledger("inspektorat")
        assert sealed == {"seq": 4, "hash": verify.ledger_head(urls(system))["hash"]}
        published = [e for e in rpc.grants.events_after(0, 1000) if e["type"] == "grants.ledger.sealed"]
    assert published[-1]["data"] == {"seq": 4, "head_hash": sealed["hash"], "by": "inspektorat"}


class TrainingBeforeTheFix(TrainingApplication):
    """A training build whose automatic enrolment on an approval crashes (a bug)."""

    @handles("grants.proposal.approved")
    def on_proposal_approved(self, data, envelope, unit) -> None:
        raise KeyError("facilitator")


class TrainingServiceBeforeTheFix(TrainingService):
    app = Backbone(TrainingBeforeTheFix)


def test_an_approval_that_training_skipped_is_named_by_the_cross_check(system):
    system.start("registry")
    system.start("grants")
    deploy(system, TrainingServiceBeforeTheFix)
    system.import_regions()
    with system.rpc() as rpc:
        _, _, proposal_id = approved_proposal(rpc, start=900)
        halt = eventually(lambda: rpc.training.backbone_status()["consumers"]["grants"]["halt"])
        # The operator skips instead of deploying a fix: the representatives are never enrolled.
        rpc.training.skip_upstream_event({"upstream": "grants", "position": halt["position"],
                                          "actor": {"user": "ops.lamsel", "role": "admin", "region": ""},
                                          "reason": "enrolment crashes; facilitators enrol them by hand"})
        grants_last = rpc.grants.backbone_status()["last_position"]
        eventually(lambda: rpc.training.backbone_status()["consumers"]["grants"]["position"] == grants_last)
    result = verify.verify(urls=urls(system))
    assert [(p["service"], p["kind"]) for p in result["problems"]] == [("training", "approval_skipped")]
    assert proposal_id in result["problems"][0]["detail"] and "ops.lamsel" in result["problems"][0]["detail"]
    assert [(s["service"], s["upstream"], s["position"], s["event_type"]) for s in result["skipped"]] == [
        ("training", "grants", halt["position"], "grants.proposal.approved")]
