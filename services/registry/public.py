"""Registry's public events: each domain event as the public contract other services consume
(``shared.contracts.registry``). RegistryApplication.public_event looks the mapping up here.

A pure field map: since class_version 2 (``shared.versioning``) each domain event carries what its public event
needs (a new member's village, the member as corrected, a group's members after a change), so mapping an event
reads nothing and the relay builds a page of envelopes without replaying a single aggregate.

Published as version 2 (pseudonymous: ids, never NIK, KK, names or birth dates), every stored event alike: the
relay maps the log when it publishes, so history is republished in the new shape. A person or household stored
before the registry assigned random ids (class_version 3) is published by the id derived from their NIK or KK
(``legacy_person_id``, ``legacy_household_id``): docs/privacy.md says what such a log keeps.

Events stored before v2: the upcaster reads them with those fields None, and for them alone (``versioning.carried``)
``_stored_before_v2`` reads the aggregate as the event left it (what every such event cost before v2: one replay each).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

from services.registry.domain import (
    ErasureRequest,
    Group,
    GroupMember,
    Household,
    Member,
    RegionList,
)
from services.registry.grievance import Grievance
from services.registry.updates import BdtFile, HeldChange
from shared import versioning
from shared.contracts import EventData
from shared.contracts import registry as public
from shared.keys import legacy_household_id, legacy_person_id

if TYPE_CHECKING:
    from services.registry.application import RegistryApplication


def _public_member(member: Member) -> public.MemberV2:
    return public.MemberV2(person_id=member.id, sex=member.sex, relation=member.relation)


def _public_group_member(member: GroupMember) -> public.GroupMemberV2:
    return public.GroupMemberV2(household_id=member.household, representative_id=member.representative)


def _public_roles(roles: dict[str, str], members: Sequence[GroupMember]) -> dict[str, uuid.UUID]:
    """Role → the holder's person id (the domain names the holder by NIK; a holder is always a representative)."""
    person_of = {m.representative_nik: m.representative for m in members}
    return {role: person_of.get(nik) or legacy_person_id(nik) for role, nik in roles.items()}


def _stored_before_v2(app: RegistryApplication, e, names: Sequence[str]) -> list[Any]:
    """The legacy path, for events stored before v2: ``names`` as the aggregate held them when the event happened
    (a correction's ``member``: the member as corrected, read from the household after it)."""
    aggregate = app.repository.get(e.originator_id, version=e.originator_version)

    def value(name: str) -> Any:
        if isinstance(e, Household.MemberCorrected) and name == "member":
            return aggregate.member(e.nik)
        return getattr(aggregate, name)

    return [value(name) for name in names]


def _member_added(app: RegistryApplication | None, e) -> EventData:
    (village_code,) = versioning.carried(e, ("village_code",), partial(_stored_before_v2, app, e))
    return public.HouseholdMemberAddedV2(household_id=e.originator_id, village_code=village_code,
                                         member=_public_member(e.member), reason=e.reason, by=e.by)


def _member_removed(app: RegistryApplication | None, e) -> EventData:
    # Before v3 the event named people by NIK only: they were known by the ids derived from it.
    return public.HouseholdMemberRemovedV2(
        household_id=e.originator_id, person_id=e.person_id or legacy_person_id(e.nik), reason=e.reason,
        new_head_id=(e.new_head_id or legacy_person_id(e.new_head_nik)) if e.new_head_nik else None, by=e.by)


def _member_corrected(app: RegistryApplication | None, e) -> EventData:
    (member,) = versioning.carried(e, ("member",), partial(_stored_before_v2, app, e))
    return public.HouseholdMemberCorrectedV2(household_id=e.originator_id, member=_public_member(member),
                                             corrected_fields=sorted(e.changes), by=e.by)


def _group_formed(app: RegistryApplication | None, e) -> EventData:
    return public.GroupFormedV2(
        group_id=e.originator_id, name=e.name, village_code=e.village_code, business_type=e.business_type,
        kind=e.kind, members=[_public_group_member(m) for m in e.members], roles=_public_roles(e.roles, e.members),
        bank_account=public.BankAccountV1(**asdict(e.bank_account)), formed_by=e.formed_by)


def _group_member_changed(app: RegistryApplication | None, e) -> EventData:
    (members,) = versioning.carried(e, ("members",), partial(_stored_before_v2, app, e))
    removed = e.removed_household_id or (legacy_household_id(e.removed_kk) if e.removed_kk else None)
    return public.GroupMemberChangedV2(
        group_id=e.originator_id, removed_household_id=removed,
        added=_public_group_member(e.added) if e.added else None,
        members=[_public_group_member(m) for m in members], roles=_public_roles(e.roles, members), reason=e.reason,
        by=e.by)


PUBLIC_EVENTS: dict[type, Callable[[RegistryApplication | None, object], EventData]] = {
    RegionList.Imported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                 imported_by=e.imported_by),
    RegionList.Reimported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                   imported_by=e.imported_by),
    Household.Registered: lambda app, e: public.HouseholdRegisteredV2(
        household_id=e.originator_id, village_code=e.village_code, decile=e.decile, bdt_status="active",
        members=[_public_member(m) for m in e.members], registered_by=e.registered_by),
    Household.MemberAdded: _member_added,
    Household.MemberRemoved: _member_removed,
    Household.MemberCorrected: _member_corrected,
    Household.StatusChanged: lambda app, e: public.HouseholdStatusChangedV2(
        household_id=e.originator_id, bdt_status=e.status, by=e.by),
    Household.DecileChanged: lambda app, e: public.HouseholdDecileChangedV2(
        household_id=e.originator_id, decile=e.decile, by=e.by),
    Household.Moved: lambda app, e: public.HouseholdMovedV1(household_id=e.originator_id,
                                                           village_code=e.village_code, by=e.by),
    BdtFile.Received: lambda app, e: public.BdtFileReceivedV1(file_id=e.originator_id, source=e.name,
                                                              file_date=e.file_date, sha256=e.sha256),
    BdtFile.Applied: lambda app, e: public.BdtFileAppliedV1(file_id=e.originator_id, changes=e.changes,
                                                            held=e.held, by=e.by),
    HeldChange.Held: lambda app, e: public.BdtChangeHeldV1(
        change_id=e.originator_id, household_id=e.household_id, kind=e.kind, rule=e.rule,
        file_id=BdtFile.create_id(e.sha256), by=e.by),
    HeldChange.Decided: lambda app, e: public.BdtChangeDecidedV1(
        change_id=e.originator_id, household_id=e.household_id, decision=e.decision, by=e.by),
    Group.Formed: _group_formed,
    Group.MemberChanged: _group_member_changed,
    Group.Funded: lambda app, e: public.GroupFundedV1(group_id=e.originator_id, proposal_id=e.proposal_id,
                                                      amount_rp=e.amount_rp),
    Group.Dissolved: lambda app, e: public.GroupDissolvedV1(group_id=e.originator_id, reason=e.reason, by=e.by),
    Group.Activated: lambda app, e: public.GroupActivatedV1(group_id=e.originator_id, proposal_id=e.proposal_id,
                                                            payment_id=e.payment_id),
    Group.Graduated: lambda app, e: public.GroupGraduatedV1(group_id=e.originator_id, reason=e.reason, by=e.by),
    Group.DocumentAttached: lambda app, e: public.GroupDocumentAttachedV1(
        group_id=e.originator_id, kind=e.kind, sha256=e.sha256, size=e.size, media_type=e.media_type),
    Household.Erased: lambda app, e: public.HouseholdErasedV1(household_id=e.originator_id, person_ids=e.person_ids,
                                                              request_id=e.request_id, by=e.by),
    Household.PersonErased: lambda app, e: public.PersonErasedV1(household_id=e.originator_id, person_id=e.person_id,
                                                                 request_id=e.request_id, by=e.by),
    ErasureRequest.Requested: lambda app, e: public.ErasureRequestedV1(
        request_id=e.originator_id, household_id=e.household_id, requested_by=e.requested_by),
    ErasureRequest.Approved: lambda app, e: public.ErasureApprovedV1(
        request_id=e.originator_id, household_id=e.household_id, approved_by=e.by),
    Grievance.Recorded: lambda app, e: public.GrievanceRecordedV1(
        grievance_id=e.originator_id, village_code=e.village_code, category=e.category,
        anonymous=e.complainant_name is None, group_id=e.group_id, proposal_id=e.proposal_id,
        received_on=e.received_on, due_on=e.due_on, by=e.recorded_by),
    Grievance.Assigned: lambda app, e: public.GrievanceAssignedV1(
        grievance_id=e.originator_id, village_code=e.village_code, assigned_to=e.to, by=e.by),
    Grievance.Noted: lambda app, e: public.GrievanceNotedV1(
        grievance_id=e.originator_id, village_code=e.village_code, noted_on=e.on, by=e.by),
    Grievance.Resolved: lambda app, e: public.GrievanceResolvedV1(
        grievance_id=e.originator_id, village_code=e.village_code, outcome=e.outcome, received_on=e.received_on,
        resolved_on=e.on, days_to_resolve=(e.on - e.received_on).days, overdue=e.on > e.due_on, by=e.by),
}


def reads_no_sealed_value(event: object) -> bool:
    """Whether ``event``'s public contract is mapped from plain values alone, so that the relay may leave its sealed
    fields closed: a registration whose members all carry their random ids (class_version 3 on) publishes ids,
    codes, sex and relation; one stored before names its members by the ids derived from their NIKs."""
    return isinstance(event, Household.Registered) and all(member.person_id is not None for member in event.members)
