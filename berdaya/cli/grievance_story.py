"""The demo's grievance (docs/procedures/grievances.md): a resident of a funded KUBE says the second tranche never
came; the desk records it for her, the head assigns it to a verifier of the regency, who notes what the bank said
and resolves it — and the other services hear of each step by ids, category, village and dates only."""

from __future__ import annotations

OPERATOR = {"user": "operator.kalianda", "role": "operator", "region": "18.01"}
HEAD = {"user": "kadis.lamsel", "role": "head", "region": "18.01"}
VERIFIER = {"user": "verifikator.lamsel", "role": "verifier", "region": "18.01"}
READER = {"actor": OPERATOR, "purpose": "cli.demo.grievance"}


def about_the_group_paid_in_full(rpc, say, story: dict, formed: list) -> dict | None:
    """The demo's grievance: about the group whose grant the story pays in full (None when the story did not run)."""
    if "paid_in_full" not in story:
        return None
    proposal_id, group_id, _ = story["paid_in_full"]
    village_code = next(members[0][0].village_code for formed_id, members in formed if formed_id == group_id)
    return resolve_a_grievance(rpc, say, village_code, group_id, proposal_id)


def resolve_a_grievance(rpc, say, village_code: str, group_id: str | None = None,
                        proposal_id: str | None = None) -> dict:
    """Record, assign, note and resolve one grievance about a KUBE's payment; the grievance as the desk reads it."""
    grievance_id = rpc.registry.record_grievance({
        "actor": OPERATOR, "village_code": village_code, "category": "payment_not_received",
        "description": "Ketua KUBE melapor dana belum masuk ke rekening kelompok",
        "complainant_name": "Ketua KUBE (pelapor)", "group_id": group_id, "proposal_id": proposal_id})
    # The assignee travels signed, as the gateway signs a user of its store.
    rpc.registry.assign_grievance({"actor": HEAD, "grievance_id": grievance_id,
                                   "assignee": rpc.signed({"actor": VERIFIER})["actor"]})
    rpc.registry.note_grievance({"actor": VERIFIER, "grievance_id": grievance_id,
                                 "text": "Bank mengonfirmasi transfer masuk; rekening dicek bersama ketua"})
    rpc.registry.resolve_grievance({"actor": VERIFIER, "grievance_id": grievance_id, "outcome": "not_upheld",
                                    "resolution": "Dana sudah diterima; ketua menandatangani berita acara"})
    grievance = rpc.registry.grievance(READER, grievance_id)
    say(f"grievance {grievance_id[:8]}… (payment not received, {village_code}) recorded by {OPERATOR['user']}, "
        f"assigned by {HEAD['user']} to {grievance['assigned_to']}, resolved {grievance['outcome']} on "
        f"{grievance['resolved_on']} (due {grievance['due_on']})")
    return {key: grievance[key] for key in ("grievance_id", "village_code", "category", "status", "assigned_to",
                                            "outcome", "received_on", "due_on", "resolved_on", "overdue")}
