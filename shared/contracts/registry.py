"""Public events of the registry service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import EventData, contract
from shared.edge import Kk, Nik, VillageCode
from shared.vocabulary import BDT_STATUSES, GROUP_KINDS, JOIN_REASONS, LEAVE_REASONS, SEXES

Sex = Literal[SEXES]  # type: ignore[valid-type]
BdtStatus = Literal[BDT_STATUSES]  # type: ignore[valid-type]


class MemberV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    nik: Nik
    name: str
    sex: Sex
    birth_date: date
    relation: str


class GroupMemberV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kk: Kk
    representative_nik: Nik
    representative_name: str


@contract("registry.regions.imported", 1)
class RegionsImportedV1(EventData):
    """An official region list (kode wilayah) was imported: how many codes, and the SHA-256 of the rows."""

    codes: int = Field(ge=0)
    sha256: str
    source: str
    imported_by: str


@contract("registry.household.registered", 1)
class HouseholdRegisteredV1(EventData):
    """A household entered the registry with its members (names travel: training lists participants)."""

    household_id: uuid.UUID
    kk: Kk
    dtks_id: str
    village_code: VillageCode
    decile: int = Field(ge=1, le=10)
    bdt_status: BdtStatus
    members: list[MemberV1]
    registered_by: str


@contract("registry.household.member_added", 1)
class HouseholdMemberAddedV1(EventData):
    """A person joined a household (birth, marriage, moving in)."""

    household_id: uuid.UUID
    kk: Kk
    village_code: VillageCode
    member: MemberV1
    reason: Literal[JOIN_REASONS]  # type: ignore[valid-type]
    by: str


@contract("registry.household.member_removed", 1)
class HouseholdMemberRemovedV1(EventData):
    """A person left a household (death, marriage, moving out); a leaving head names the new head."""

    household_id: uuid.UUID
    kk: Kk
    nik: Nik
    reason: Literal[LEAVE_REASONS]  # type: ignore[valid-type]
    new_head_nik: str | None = None
    by: str


@contract("registry.household.member_corrected", 1)
class HouseholdMemberCorrectedV1(EventData):
    """A member's recorded data was corrected; ``member`` is the member as corrected."""

    household_id: uuid.UUID
    kk: Kk
    member: MemberV1
    corrected_fields: list[str]
    reason: str
    by: str


@contract("registry.household.status_changed", 1)
class HouseholdStatusChangedV1(EventData):
    """The household's BDT status changed (active, graduated, removed: deceased/moved/duplicate)."""

    household_id: uuid.UUID
    kk: Kk
    bdt_status: BdtStatus
    reason: str
    by: str


@contract("registry.household.decile_changed", 1)
class HouseholdDecileChangedV1(EventData):
    """The household's welfare decile (DTSEN ranking) changed."""

    household_id: uuid.UUID
    kk: Kk
    decile: int = Field(ge=1, le=10)
    by: str


@contract("registry.group.formed", 1)
class GroupFormedV1(EventData):
    """A KUBE was formed with its member households and their representatives."""

    group_id: uuid.UUID
    name: str
    village_code: VillageCode
    business_type: str
    kind: Literal[GROUP_KINDS]  # type: ignore[valid-type]
    members: list[GroupMemberV1]
    roles: dict[str, str]
    formed_by: str


class BankAccountV1(BaseModel):
    """The group's own account (rekening KUBE), in its name: the group's, not a person's."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bank: str
    number: str
    holder: str


@contract("registry.group.formed", 2)
class GroupFormedV2(GroupFormedV1):
    """A KUBE was formed with its member households, their representatives and the group's bank account (what the
    treasurer's bulk-transfer file pays into). Version 1 had no bank account."""

    bank_account: BankAccountV1


@contract("registry.group.member_changed", 1)
class GroupMemberChangedV1(EventData):
    """A household joined, left or was replaced in a KUBE; ``members`` is the membership after the change."""

    group_id: uuid.UUID
    removed_kk: str | None = None
    added: GroupMemberV1 | None = None
    members: list[GroupMemberV1]
    roles: dict[str, str]
    reason: str
    by: str


@contract("registry.group.dissolved", 1)
class GroupDissolvedV1(EventData):
    """A KUBE was dissolved; its households are free to join another."""

    group_id: uuid.UUID
    reason: str
    by: str


@contract("registry.group.funded", 1)
class GroupFundedV1(EventData):
    """The group's grant was approved (learnt from grants.proposal.approved): the KUBE is funded."""

    group_id: uuid.UUID
    proposal_id: uuid.UUID
    amount_rp: int = Field(ge=0)
