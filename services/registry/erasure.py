"""Erasure of personal data (UU 27/2022's right to erasure), maker–checker: an admin of the household's region
asks, with a reason; another admin approves; then, in one transaction, the data key is destroyed (crypto-shredding:
every personal field it sealed, in the household's events and its KUBE groups', reads ``[dihapus]``), the read-model
rows go and an event with ids only tells the other services.

What is erased is one person, their household staying — their own key destroyed, ``Household.PersonErased`` — or a
whole household — its key and every member's, ``Household.Erased`` — when the person is alone in it or the request
says so. One member alone is refused when they head the household (it would have none), and when the household's
key was made before per-person keys (it still seals its members' fields: ``erasure.household_key``). A whole
household's grievances go with it: their keys are destroyed too (who complained and every word of them read
``[dihapus]``; the grievance's category, village and dates stay for the counts).

Refused while a legal duty to keep the data applies (:data:`HOLDS`, docs/privacy.md): the household is in a KUBE
whose grant is still open — approved, and not every tranche's LPJ accepted (nor the grant cancelled). The registry
knows it from grants' events (``readmodel``'s ``grant_holds``).
"""

from __future__ import annotations

import uuid

from eventsourcing.application import AggregateNotFoundError

from services.registry.commands import ApproveErasure, RequestErasure
from services.registry.domain import ErasureRequest, Household, Member, check_erasable_alone, check_eraser
from services.registry.sealing import ERASED
from services.registry.vault import DESTROY_KEY
from shared.actor import Actor, check_region, check_role
from shared.errors import NotFound, RuleViolated
from shared.reads import ReadBy
from shared.store import ReadModelWrites, in_region

HOLDS = {"erasure.grant_open": "its KUBE's grant is open: approved, and not every tranche's LPJ is accepted yet"}
REQUEST_READERS = ("admin", "auditor")  # the list of requests awaiting approval: the auditor reads every list
KEY_SHARED_WITH_MEMBERS = "SELECT shared_with_members FROM household_keys WHERE household_id = %s"
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
        person_only = len(household.members) > 1 and not command.whole_household
        if person_only:
            self._check_erasable_alone(household, person)
        request = ErasureRequest.request(household_id=household.id, person_id=person.id,
                                         village_code=household.village_code, reason=command.reason,
                                         requested_by=actor.user, person_only=person_only)
        writes = ReadModelWrites()
        writes.insert("erasure_requests", {
            "request_id": request.id, "household_id": request.household_id, "village_code": request.village_code,
            "reason": request.reason, "requested_by": request.requested_by, "requested_at": request.created_on})
        self.record(request, writes=writes)
        return self.erasure_request(request)

    def approve_erasure(self, command: ApproveErasure) -> dict:
        """The checker's approval: another admin; the holds checked again; then the person or household erased."""
        request = self._load_erasure_request(str(command.request_id))
        check_eraser(command.actor, request.village_code, "approve an erasure")
        household: Household = self.repository.get(request.household_id)
        request.approve(by=command.actor.user)
        self._check_no_hold(household)
        writes = ReadModelWrites()
        if request.person_only:
            destroyed = self._erase_person(household, request, command.actor.user, writes)
        else:
            destroyed = self._erase_household(household, request, command.actor.user, writes)
        writes.add("UPDATE erasure_requests SET approved_by = %s WHERE request_id = %s", (request.approved_by,
                                                                                         request.id))
        self.record(request, household, writes=writes)
        for holder in destroyed:
            self.vault.forget_destroyed(holder)
        return self.erasure_request(request)

    def _erase_household(self, household: Household, request: ErasureRequest, by: str,
                         writes: ReadModelWrites) -> list[uuid.UUID]:
        """The household's key, its members' and its grievances' (their words name the family): the holders whose
        keys go."""
        grievances = [row["grievance_id"] for row in self.query(
            "SELECT grievance_id FROM grievances WHERE household_id = %s", (household.id,))]
        holders = [household.id, *(m.id for m in household.members), *grievances]
        household.erase(request_id=request.id, by=by)
        for holder in holders:  # with the event, or not at all
            writes.add(DESTROY_KEY, (holder,))
        writes.add("DELETE FROM individuals WHERE kk = %s", (household.kk,))
        writes.add("DELETE FROM group_members WHERE kk = %s", (household.kk,))
        writes.add("DELETE FROM households WHERE kk = %s", (household.kk,))
        return holders

    def _erase_person(self, household: Household, request: ErasureRequest, by: str,
                      writes: ReadModelWrites) -> list[uuid.UUID]:
        person = next((m for m in household.members if m.id == request.person_id), None)
        household.erase_person(person_id=request.person_id, request_id=request.id, by=by)
        writes.add(DESTROY_KEY, (request.person_id,))  # with the event, or not at all
        writes.add("DELETE FROM individuals WHERE person_id = %s", (request.person_id,))
        # The registration's fingerprint hashed their data too: an import of the same row now reads as changed.
        writes.add("UPDATE households SET member_count = %s, fingerprint = '' WHERE kk = %s",
                   (len(household.members), household.kk))
        # Their household stays in its KUBE; the group's events name its representative as erased now.
        writes.add("UPDATE group_members SET representative_nik = %s WHERE representative_nik = %s",
                   (ERASED, person.nik))
        return [request.person_id]

    def _check_erasable_alone(self, household: Household, person: Member) -> None:
        check_erasable_alone(household, person)
        shared = self.query(KEY_SHARED_WITH_MEMBERS, (household.id,))
        if shared and shared[0]["shared_with_members"]:
            raise RuleViolated("erasure.household_key", "this household was registered before each member had a key "
                               "of their own: its members can only be erased with the whole household "
                               "(docs/privacy.md)", household_id=str(household.id))

    def pending_erasures(self, reader: ReadBy, region: str | None) -> list[dict]:
        """The requests of the region that await a second admin, oldest first: ids, who asked, when and why."""
        region = region if region is not None else reader.actor.region
        check_role(reader.actor, REQUEST_READERS, "read the erasure requests")
        check_region(reader.actor, region, "read the erasure requests")
        where, params = in_region("village_code", region)
        return [{**row, "requested_at": row["requested_at"].isoformat()} for row in self.query(
            "SELECT request_id::text, household_id::text, village_code, reason, requested_by, requested_at "
            f"FROM erasure_requests WHERE approved_by IS NULL AND {where} ORDER BY requested_at", params)]

    def erasure_request(self, request: ErasureRequest) -> dict:
        return {"request_id": str(request.id), "household_id": str(request.household_id),
                "person_id": str(request.person_id), "person_only": request.person_only, "reason": request.reason,
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
