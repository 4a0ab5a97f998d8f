"""Registry's public events: each domain event as the public contract other services consume
(``shared.contracts.registry``). RegistryApplication.public_event looks the mapping up here.

An event that does not carry what its contract needs (a member event's KK, a group's members after a change) is
completed from the aggregate as that event left it, read back from the store at the event's version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from services.registry.domain import Group, GroupMember, Household, Member, RegionList
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


def _household_at(app: RegistryApplication, domain_event) -> Household:
    """The household as this event left it (its KK and village travel with every household event)."""
    return app.repository.get(domain_event.originator_id, version=domain_event.originator_version)


def _group_at(app: RegistryApplication, domain_event) -> Group:
    return app.repository.get(domain_event.originator_id, version=domain_event.originator_version)


def _member_corrected(app: RegistryApplication, e) -> EventData:
    household = _household_at(app, e)
    return public.HouseholdMemberCorrectedV1(household_id=e.originator_id, kk=household.kk,
                                             member=_public_member(household.member(e.nik)),
                                             corrected_fields=sorted(e.changes), reason=e.reason, by=e.by)


PUBLIC_EVENTS: dict[type, Callable[[RegistryApplication, object], EventData]] = {
    RegionList.Imported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                 imported_by=e.imported_by),
    RegionList.Reimported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                   imported_by=e.imported_by),
    Household.Registered: lambda app, e: public.HouseholdRegisteredV1(
        household_id=e.originator_id, kk=e.kk, dtks_id=e.dtks_id, village_code=e.village_code, decile=e.decile,
        bdt_status="active", members=[_public_member(m) for m in e.members], registered_by=e.registered_by),
    Household.MemberAdded: lambda app, e: public.HouseholdMemberAddedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, village_code=_household_at(app, e).village_code,
        member=_public_member(e.member), reason=e.reason, by=e.by),
    Household.MemberRemoved: lambda app, e: public.HouseholdMemberRemovedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, nik=e.nik, reason=e.reason,
        new_head_nik=e.new_head_nik, by=e.by),
    Household.MemberCorrected: _member_corrected,
    Household.StatusChanged: lambda app, e: public.HouseholdStatusChangedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, bdt_status=e.status, reason=e.reason, by=e.by),
    Household.DecileChanged: lambda app, e: public.HouseholdDecileChangedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, decile=e.decile, by=e.by),
    Group.Formed: lambda app, e: public.GroupFormedV1(
        group_id=e.originator_id, name=e.name, village_code=e.village_code, business_type=e.business_type,
        kind=e.kind, members=[_public_group_member(m) for m in e.members], roles=e.roles, formed_by=e.formed_by),
    Group.MemberChanged: lambda app, e: public.GroupMemberChangedV1(
        group_id=e.originator_id, removed_kk=e.removed_kk,
        added=_public_group_member(e.added) if e.added else None,
        members=[_public_group_member(m) for m in _group_at(app, e).members], roles=e.roles, reason=e.reason,
        by=e.by),
    Group.Funded: lambda app, e: public.GroupFundedV1(group_id=e.originator_id, proposal_id=e.proposal_id,
                                                      amount_rp=e.amount_rp),
    Group.Dissolved: lambda app, e: public.GroupDissolvedV1(group_id=e.originator_id, reason=e.reason, by=e.by),
}
