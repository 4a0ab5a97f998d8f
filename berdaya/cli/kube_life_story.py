"""The demo's KUBE after funding (docs/procedures/kube-life.md): the group paid in full is active since its first
tranche; the cohort opened for it when its grant was approved is given its facilitator; the facilitator visits the
group and the visit classifies it — berkembang — with the next visit due a month after the payment."""

from __future__ import annotations

from shared.ids import jakarta_today

# What the facilitator counts at the visit: nine of the ten households still active, savings short of maju's.
VISIT = {"business_status": "running", "monthly_revenue_rp": 4_500_000, "members_active": 9, "savings_rp": 800_000,
         "iuran_rp": 100_000, "notes": "usaha jahit berjalan, pesanan seragam sekolah"}


def assign_facilitator(rpc, say, person_id: str, facilitator: dict, operator: dict) -> str:
    """Name the facilitator of the cohort training opened automatically for the group's representatives."""
    cohort_id = rpc.training.participant(person_id)["enrolments"][0]["cohort_id"]
    rpc.training.assign_facilitator({"actor": operator, "cohort_id": cohort_id,
                                     "facilitator": facilitator["user"]})
    say(f"the Family School cohort opened for the group ({cohort_id[:8]}…) is assigned to {facilitator['user']}")
    return cohort_id


def visit_and_classify(rpc, say, proposal_id: str, group_id: str, facilitator: dict, reader: dict) -> dict:
    """The facilitator's monitoring visit of an active group, and the stage it places the group in."""
    status = rpc.registry.group(reader, group_id)["status"]
    stage = rpc.grants.record_visit({"actor": facilitator, "proposal_id": proposal_id,
                                     "visit_date": jakarta_today().isoformat(), **VISIT})
    monitoring = rpc.grants.grant(proposal_id)["monitoring"]
    say(f"monitoring visit of the {status} KUBE by {facilitator['user']}: 9 of 10 households active, revenue "
        f"Rp {VISIT['monthly_revenue_rp']:,} a month, savings Rp {VISIT['savings_rp']:,}, iuran kesetiakawanan "
        f"sosial paid — classified {stage}; next visit due {monitoring['next_visit_due']}")
    return {"group_status": status, "stage": stage, "next_visit_due": monitoring["next_visit_due"],
            "visit": VISIT}
