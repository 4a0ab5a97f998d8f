"""After the faults: what the clients were told (the workload's Ledger) against what the stores hold.

``settle`` waits until the system has converged; ``findings`` reads the stores as an auditor would (SQL on each
service's own database, `berdaya audit verify`) and returns the counts the soak prints and the tests assert on.
"""

from __future__ import annotations

from typing import Any

from tests.faults.cluster import FaultCluster
from tests.faults.workload import HOUSEHOLDS_PER_GROUP, STAFF, TRANCHE_1_RP, Ledger, Office
from tests.support.system import eventually

BUDGET_CEILING_RP = 10**13
EVENT_DATA = "SELECT convert_from(state, 'UTF8')::jsonb, originator_id::text FROM grants_events"


def open_office(cluster: FaultCluster) -> Office:
    """What an office does once: the region list, its staff, a budget; then the staff log in."""
    cluster.import_regions()
    for username, (role, region) in STAFF.items():
        cluster.add_user(username, role, region)
    tokens = {username: cluster.token(username) for username in STAFF}
    office = Office(cluster.base, tokens, Ledger())
    office.ministry.command("PUT", "/api/v1/budgets/2026/APBN", {"ceiling_rp": BUDGET_CEILING_RP})
    return office


def settle(cluster: FaultCluster, timeout: float = 180) -> None:
    """Every process up and answering, every relay and consumer at its upstream's head, no halts."""
    cluster.wait_ready(timeout)
    eventually(cluster.caught_up, timeout, message="every consumer caught up with its upstream", interval=1)


def findings(cluster: FaultCluster, ledger: Ledger) -> dict[str, Any]:
    households = {row[0] for row in cluster.sql("registry", "SELECT kk FROM households")}
    groups = dict(cluster.sql("registry", "SELECT group_id::text, status FROM groups"))
    group_names = cluster.sql("registry", "SELECT name, count(*) FROM groups GROUP BY name HAVING count(*) > 1")
    proposals = cluster.sql("grants", "SELECT proposal_id::text, group_id::text, status FROM proposals")
    approved = {row[0] for row in proposals if row[2] == "approved"}
    proposals_per_group = cluster.sql("grants", "SELECT group_id, count(*) FROM proposals "
                                                "WHERE status NOT IN ('rejected', 'cancelled') "
                                                "GROUP BY group_id HAVING count(*) > 1")
    # Payments as the money ledger's events record them (the grants read model keeps only per-tranche totals).
    instructed = cluster.sql("grants", f"{EVENT_DATA} WHERE topic = 'services.grants.domain:Grant.Instructed'")
    payments = {data["payment_id"]: data for data in (row[0] for row in instructed)}
    confirmed = {row[0]["payment_id"] for row in cluster.sql(
        "grants", f"{EVENT_DATA} WHERE topic = 'services.grants.domain:Grant.Confirmed'")}
    per_tranche: dict[tuple, int] = {}
    for grant_id, data in ((row[1], row[0]) for row in instructed):
        per_tranche[(grant_id, data["tranche"])] = per_tranche.get((grant_id, data["tranche"]), 0) + 1
    over_approved = cluster.sql("grants", "SELECT grant_id FROM grants WHERE disbursed_rp > amount_rp")
    enrolled = cluster.sql("training", "SELECT group_id::text, count(*), count(DISTINCT person_id) FROM participants "
                                       "GROUP BY group_id")
    approved_groups = {row[1] for row in proposals if row[2] == "approved"}
    enrolments = {row[0]: row[1:] for row in enrolled}

    lost = {
        "households": sorted(ledger.households - households),
        "groups": sorted(set(ledger.groups) - set(groups)),
        "approvals": sorted(ledger.approved - approved),
        "payments": sorted(p for p in ledger.payments.values() if p not in payments),
        "confirmations": sorted(ledger.confirmed - confirmed),
        # funded, or active once its first tranche is paid
        "group_funded": sorted(g for g in approved_groups if groups.get(g) not in ("funded", "active")),
        "enrolments": sorted(g for g in approved_groups
                             if enrolments.get(g, (0, 0))[1] != HOUSEHOLDS_PER_GROUP),
    }
    duplicated = {
        "group_names": [list(row) for row in group_names],
        "open_proposals_per_group": [list(map(str, row)) for row in proposals_per_group],
        # Payments beyond one per idempotency key acknowledged (every key the clients used was acknowledged,
        # since a client retries a key until it is answered).
        "payments": max(0, len(payments) - len(ledger.payments)),
        "tranches_paid_twice": sorted(f"{grant} tranche {n}" for (grant, n), count in per_tranche.items()
                                      if count > 1),
        "over_approved": [str(row[0]) for row in over_approved],
        "enrolments": sorted(group for group, (count, distinct) in enrolments.items() if count != distinct),
        "wrong_amounts": sorted(p for p, data in payments.items() if data["amount_rp"] != TRANCHE_1_RP),
    }
    verdict = cluster.audit_verify()
    return {
        "commands": ledger.commands,
        "requests": ledger.attempts,
        "units_failed": ledger.failed_units,
        "households": len(households), "groups": len(groups), "approved": len(approved),
        "payments": len(payments),
        "lost": sum(len(items) for items in lost.values()) + len(ledger.lost),
        "duplicated": sum(len(v) if isinstance(v, list) else v for v in duplicated.values()),
        "lost_detail": {**{k: v for k, v in lost.items() if v}, **({"commands": ledger.lost} if ledger.lost else {})},
        "duplicated_detail": {k: v for k, v in duplicated.items() if v},
        "verify_ok": verdict["ok"],
        "verify_problems": verdict["problems"][:20],
        "events_verified": verdict["events_checked"],
        "unavailable_answers": len(ledger.unavailable_s),
        "unavailable_max_s": round(max(ledger.unavailable_s, default=0.0), 2),
        "refused_connections": ledger.refused_connections,
        "hangs": ledger.hangs[:20],
        "server_errors": ledger.server_errors[:20],
    }
