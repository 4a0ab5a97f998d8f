"""Registry's public events: each domain event as the public contract other services consume
(``shared.contracts.registry``). RegistryApplication.public_event looks the mapping up here.

A pure field map: since class_version 2 (``shared.versioning``) each domain event carries what its public event
needs (a member event's KK, a new member's village, the member as corrected, a group's members after a change), so
mapping an event reads nothing and the relay builds a page of envelopes without replaying a single aggregate.

Events stored before v2: the upcaster reads them with those fields None, and for them alone (``versioning.carried``)
``_stored_before_v2`` reads the aggregate as the event left it (what every such event cost before v2: one replay each).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

from services.registry.domain import Group, GroupMember, Household, Member, RegionList
from shared import versioning
from shared.contracts import EventData
from shared.contracts import registry as public

if TYPE_CHECKING:
    from services.registry.application import RegistryApplication


def _public_member(member: Member) -> public.MemberV1:
    return public.MemberV1(nik=member.nik, name=member.name, sex=member.sex, birth_date=member.birth_date,
                           relation=member.relation)


def _public_group_member(member: GroupMember) -> public.GroupMemberV1:
    return public.GroupMemberV1(kk=member.kk, representative_nik=member.representative_nik,
                                representative_name=member.representative_name)


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
    kk, village_code = versioning.carried(e, ("kk", "village_code"), partial(_stored_before_v2, app, e))
    return public.HouseholdMemberAddedV1(household_id=e.originator_id, kk=kk, village_code=village_code,
                                         member=_public_member(e.member), reason=e.reason, by=e.by)


def _member_corrected(app: RegistryApplication | None, e) -> EventData:
    kk, member = versioning.carried(e, ("kk", "member"), partial(_stored_before_v2, app, e))
    return public.HouseholdMemberCorrectedV1(household_id=e.originator_id, kk=kk, member=_public_member(member),
                                             corrected_fields=sorted(e.changes), reason=e.reason, by=e.by)


def _kk(app: RegistryApplication | None, e) -> str:
    return versioning.carried(e, ("kk",), partial(_stored_before_v2, app, e))[0]


def _group_member_changed(app: RegistryApplication | None, e) -> EventData:
    (members,) = versioning.carried(e, ("members",), partial(_stored_before_v2, app, e))
    return public.GroupMemberChangedV1(
        group_id=e.originator_id, removed_kk=e.removed_kk, added=_public_group_member(e.added) if e.added else None,
        members=[_public_group_member(m) for m in members], roles=e.roles, reason=e.reason, by=e.by)


PUBLIC_EVENTS: dict[type, Callable[[RegistryApplication | None, object], EventData]] = {
    RegionList.Imported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                 imported_by=e.imported_by),
    RegionList.Reimported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                   imported_by=e.imported_by),
    Household.Registered: lambda app, e: public.HouseholdRegisteredV1(
        household_id=e.originator_id, kk=e.kk, dtks_id=e.dtks_id, village_code=e.village_code, decile=e.decile,
        bdt_status="active", members=[_public_member(m) for m in e.members], registered_by=e.registered_by),
    Household.MemberAdded: _member_added,
    Household.MemberRemoved: lambda app, e: public.HouseholdMemberRemovedV1(
        household_id=e.originator_id, kk=_kk(app, e), nik=e.nik, reason=e.reason, new_head_nik=e.new_head_nik,
        by=e.by),
    Household.MemberCorrected: _member_corrected,
    Household.StatusChanged: lambda app, e: public.HouseholdStatusChangedV1(
        household_id=e.originator_id, kk=_kk(app, e), bdt_status=e.status, reason=e.reason, by=e.by),
    Household.DecileChanged: lambda app, e: public.HouseholdDecileChangedV1(
        household_id=e.originator_id, kk=_kk(app, e), decile=e.decile, by=e.by),
    Group.Formed: lambda app, e: public.GroupFormedV2(
        group_id=e.originator_id, name=e.name, village_code=e.village_code, business_type=e.business_type,
        kind=e.kind, members=[_public_group_member(m) for m in e.members], roles=e.roles, formed_by=e.formed_by,
        bank_account=public.BankAccountV1(**asdict(e.bank_account))),
    Group.MemberChanged: _group_member_changed,
    Group.Funded: lambda app, e: public.GroupFundedV1(group_id=e.originator_id, proposal_id=e.proposal_id,
                                                      amount_rp=e.amount_rp),
    Group.Dissolved: lambda app, e: public.GroupDissolvedV1(group_id=e.originator_id, reason=e.reason, by=e.by),
}
