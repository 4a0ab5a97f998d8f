"""Erasure of a household's personal data (UU 27/2022's right to erasure), maker–checker: an admin of the
household's region asks, with a reason; another admin approves; then, in one transaction, the household's data key
is destroyed (crypto-shredding: every personal field of its stored events, and of its KUBE groups' events, reads
``[dihapus]``), so are the keys of the grievances about it (who complained and every word of them read
``[dihapus]``; the grievance's category, village and dates stay for the counts), its read-model rows are deleted and
``Household.Erased`` (ids only) tells the other services.

Refused while a legal duty to keep the data applies (:data:`HOLDS`, docs/privacy.md): the household is in a KUBE
whose grant is still open — approved, and not every tranche's LPJ accepted (nor the grant cancelled). The registry
knows it from grants' events (``readmodel``'s ``grant_holds``).

What is erased is a household: a person alone in theirs, or any person's whole household when the request says so.
One member of a household that stays cannot be erased alone yet — their fields are sealed with the household's key —
and the request is refused, saying so (docs/privacy.md, "Erasure, and its limits").
"""

from __future__ import annotations

import uuid

from eventsourcing.application import AggregateNotFoundError

from services.registry.commands import ApproveErasure, RequestErasure
from services.registry.domain import ErasureRequest, Household, check_eraser
from services.registry.vault import DESTROY_KEY
from shared.actor import Actor
from shared.errors import NotFound, RuleViolated
from shared.store import ReadModelWrites

HOLDS = {"erasure.grant_open": "its KUBE's grant is open: approved, and not every tranche's LPJ is accepted yet"}
OPEN_GRANTS = """
    SELECT DISTINCT h.group_id::text FROM group_members m JOIN grant_holds h USING (group_id)
    WHERE m.kk = %s AND NOT h.cancelled AND (h.tranches IS NULL OR cardinality(h.accepted) < h.tranches)"""


class RegistryErasure:
    """The erasure commands, mixed into RegistryApplication."""

    def request_erasure(self, command: RequestErasure) -> dict:
        """The maker's request: checked against the holds now (and again at approval); recorded with ids only."""
        actor = command.actor
        household = self._erasable(actor, command.nik, "ask for an erasure")
        person = household.member(command.nik)
        if len(household.members) > 1 and not command.whole_household:
            raise RuleViolated("erasure.household_stays",
                               "this person's household has other members: one member alone cannot be erased yet "
                               "(docs/privacy.md); ask for the whole household's erasure",
                               household_id=str(household.id))
        request = ErasureRequest.request(household_id=household.id, person_id=person.id,
                                         village_code=household.village_code, reason=command.reason,
                                         requested_by=actor.user)
        self.record(request)
        return self.erasure_request(request)

    def approve_erasure(self, command: ApproveErasure) -> dict:
        """The checker's approval: another admin; the holds checked again; then the household erased for good."""
        request = self._load_erasure_request(str(command.request_id))
        check_eraser(command.actor, request.village_code, "approve an erasure")
        household: Household = self.repository.get(request.household_id)
        request.approve(by=command.actor.user)
        self._check_no_hold(household)
        household.erase(request_id=request.id, by=command.actor.user)
        writes = ReadModelWrites()
        writes.add(DESTROY_KEY, (household.id,))  # with the event, or not at all
        writes.add("DELETE FROM individuals WHERE kk = %s", (household.kk,))
        writes.add("DELETE FROM group_members WHERE kk = %s", (household.kk,))
        writes.add("DELETE FROM households WHERE kk = %s", (household.kk,))
        # Its grievances' words (sealed under each grievance's own key) go with it: they name the family.
        grievances = [row["grievance_id"] for row in self.query(
            "SELECT grievance_id FROM grievances WHERE household_id = %s", (household.id,))]
        for grievance_id in grievances:
            writes.add(DESTROY_KEY, (grievance_id,))
        self.record(request, household, writes=writes)
        for key_id in (household.id, *grievances):
            self.vault.forget_destroyed(key_id)
        return self.erasure_request(request)

    def erasure_request(self, request: ErasureRequest) -> dict:
        return {"request_id": str(request.id), "household_id": str(request.household_id),
                "person_id": str(request.person_id), "reason": request.reason,
                "requested_by": request.requested_by, "requested_at": request.created_on.isoformat(),
                "approved_by": request.approved_by,
                "approved_at": request.modified_on.isoformat() if request.approved_by else None}

    def _erasable(self, actor: Actor, nik: str, action: str) -> Household:
        found = self._person(nik)
        if found is None or not actor.covers(found["village_code"]):
            raise NotFound("no person with this NIK in your region", field="nik")  # a NIK is personal: not named
        check_eraser(actor, found["village_code"], action)
        household = self._load_household(found["kk"])
        self._check_no_hold(household)
        return household

    def _check_no_hold(self, household: Household) -> None:
        held = [row["group_id"] for row in self.query(OPEN_GRANTS, (household.kk,))]
        if held:
            raise RuleViolated("erasure.grant_open", f"refused while a legal duty to keep the data applies: "
                               f"{HOLDS['erasure.grant_open']}", group_ids=held)

    def _load_erasure_request(self, request_id: str) -> ErasureRequest:
        try:
            request = self.repository.get(uuid.UUID(request_id))
        except (ValueError, AggregateNotFoundError):
            request = None
        if not isinstance(request, ErasureRequest):
            raise NotFound(f"no erasure request {request_id}", field="request_id", request_id=request_id)
        return request
