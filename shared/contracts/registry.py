"""Public events of the registry service.

Version 1 carried who people are (NIK, KK, names, birth dates): its fields so marked are ``PERSONAL`` (the catalog
lists them). Version 2, what the registry publishes now, carries the registry's pseudonymous ids of households and
persons and only what a consumer decides with (village, decile, BDT status, a member's sex and relation, a role in
a group): nobody learns from it who a person is. Who is behind an id only the registry answers, to a reader entitled
to it (``shared.reads``).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import PERSONAL, EventData, contract
from shared.edge import Kk, Nik, VillageCode
from shared.vocabulary import (
    BDT_STATUSES,
    GRIEVANCE_CATEGORIES,
    GRIEVANCE_OUTCOMES,
    GROUP_DOCUMENT_KINDS,
    GROUP_KINDS,
    JOIN_REASONS,
    LEAVE_REASONS,
    SEXES,
)

Sex = Literal[SEXES]  # type: ignore[valid-type]
BdtStatus = Literal[BDT_STATUSES]  # type: ignore[valid-type]


class MemberV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    nik: Annotated[Nik, PERSONAL]
    name: Annotated[str, PERSONAL]
    sex: Sex
    birth_date: Annotated[date, PERSONAL]
    relation: str


class GroupMemberV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    kk: Annotated[Kk, PERSONAL]
    representative_nik: Annotated[Nik, PERSONAL]
    representative_name: Annotated[str, PERSONAL]


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
    kk: Annotated[Kk, PERSONAL]
    dtks_id: Annotated[str, PERSONAL]
    village_code: VillageCode
    decile: int = Field(ge=1, le=10)
    bdt_status: BdtStatus
    members: list[MemberV1]
    registered_by: str


@contract("registry.household.member_added", 1)
class HouseholdMemberAddedV1(EventData):
    """A person joined a household (birth, marriage, moving in)."""

    household_id: uuid.UUID
    kk: Annotated[Kk, PERSONAL]
    village_code: VillageCode
    member: MemberV1
    reason: Literal[JOIN_REASONS]  # type: ignore[valid-type]
    by: str


@contract("registry.household.member_removed", 1)
class HouseholdMemberRemovedV1(EventData):
    """A person left a household (death, marriage, moving out); a leaving head names the new head."""

    household_id: uuid.UUID
    kk: Annotated[Kk, PERSONAL]
    nik: Annotated[Nik, PERSONAL]
    reason: Literal[LEAVE_REASONS]  # type: ignore[valid-type]
    new_head_nik: Annotated[str | None, PERSONAL] = None
    by: str


@contract("registry.household.member_corrected", 1)
class HouseholdMemberCorrectedV1(EventData):
    """A member's recorded data was corrected; ``member`` is the member as corrected."""

    household_id: uuid.UUID
    kk: Annotated[Kk, PERSONAL]
    member: MemberV1
    corrected_fields: list[str]
    reason: Annotated[str, PERSONAL]  # about the family: it may name someone
    by: str


@contract("registry.household.status_changed", 1)
class HouseholdStatusChangedV1(EventData):
    """The household's BDT status changed (active, graduated, removed: deceased/moved/duplicate)."""

    household_id: uuid.UUID
    kk: Annotated[Kk, PERSONAL]
    bdt_status: BdtStatus
    reason: Annotated[str, PERSONAL]  # about the family: it may name someone
    by: str


@contract("registry.household.decile_changed", 1)
class HouseholdDecileChangedV1(EventData):
    """The household's welfare decile (DTSEN ranking) changed."""

    household_id: uuid.UUID
    kk: Annotated[Kk, PERSONAL]
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
    roles: Annotated[dict[str, str], PERSONAL]  # role → NIK
    formed_by: str


class BankAccountV1(BaseModel):
    """The group's own account (rekening KUBE), in its name: the group's, not a person's."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    bank: str
    number: str
    holder: str


@contract("registry.group.member_changed", 1)
class GroupMemberChangedV1(EventData):
    """A household joined, left or was replaced in a KUBE; ``members`` is the membership after the change."""

    group_id: uuid.UUID
    removed_kk: Annotated[str | None, PERSONAL] = None
    added: GroupMemberV1 | None = None
    members: list[GroupMemberV1]
    roles: Annotated[dict[str, str], PERSONAL]  # role → NIK
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


@contract("registry.group.activated", 1)
class GroupActivatedV1(EventData):
    """The group's first tranche was paid (learnt from grants' confirmed transfer or accepted handover): the KUBE
    is active, and its monitoring visits are due from that day."""

    group_id: uuid.UUID
    proposal_id: uuid.UUID
    payment_id: str


@contract("registry.group.graduated", 1)
class GroupGraduatedV1(EventData):
    """The KUBE graduated (mandiri): its business stands on its own, the programme's mentoring ends."""

    group_id: uuid.UUID
    reason: str
    by: str


@contract("registry.group.document_attached", 1)
class GroupDocumentAttachedV1(EventData):
    """One of the KUBE's own papers (the SK Kades forming it, the village meeting's minutes) was attached: the
    SHA-256 of the file the registry stores. The file, which names people, never leaves the registry."""

    group_id: uuid.UUID
    kind: Literal[GROUP_DOCUMENT_KINDS]  # type: ignore[valid-type]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=1)
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]


# --- version 2: pseudonymous ----------------------------------------------------------------------------------


class MemberV2(BaseModel):
    """A member as a consumer needs them: by the registry's id, with the sex and relation a rule may read."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    person_id: uuid.UUID
    sex: Sex
    relation: str


class GroupMemberV2(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    household_id: uuid.UUID
    representative_id: uuid.UUID = Field(description="the person id of the household's representative")


@contract("registry.household.registered", 2)
class HouseholdRegisteredV2(EventData):
    """A household entered the registry with its members, by their ids."""

    household_id: uuid.UUID
    village_code: VillageCode
    decile: int = Field(ge=1, le=10)
    bdt_status: BdtStatus
    members: list[MemberV2]
    registered_by: str


@contract("registry.household.member_added", 2)
class HouseholdMemberAddedV2(EventData):
    """A person joined a household (birth, marriage, moving in)."""

    household_id: uuid.UUID
    village_code: VillageCode
    member: MemberV2
    reason: Literal[JOIN_REASONS]  # type: ignore[valid-type]
    by: str


@contract("registry.household.member_removed", 2)
class HouseholdMemberRemovedV2(EventData):
    """A person left a household (death, marriage, moving out); a leaving head names the new head."""

    household_id: uuid.UUID
    person_id: uuid.UUID
    reason: Literal[LEAVE_REASONS]  # type: ignore[valid-type]
    new_head_id: uuid.UUID | None = None
    by: str


@contract("registry.household.member_corrected", 2)
class HouseholdMemberCorrectedV2(EventData):
    """A member's recorded data was corrected: which fields (not their values); ``member`` as corrected."""

    household_id: uuid.UUID
    member: MemberV2
    corrected_fields: list[str]
    by: str


@contract("registry.household.status_changed", 2)
class HouseholdStatusChangedV2(EventData):
    """The household's BDT status changed (active, graduated, removed: deceased/moved/duplicate)."""

    household_id: uuid.UUID
    bdt_status: BdtStatus
    by: str


@contract("registry.household.decile_changed", 2)
class HouseholdDecileChangedV2(EventData):
    """The household's welfare decile (DTSEN ranking) changed."""

    household_id: uuid.UUID
    decile: int = Field(ge=1, le=10)
    by: str


@contract("registry.household.moved", 1)
class HouseholdMovedV1(EventData):
    """The household lives elsewhere now: its village (the address stays in the registry)."""

    household_id: uuid.UUID
    village_code: VillageCode
    by: str


# --- DTSEN/DTKS updates: a newer file applied; what touches money held for a person ------------------------


@contract("registry.bdt.file_received", 1)
class BdtFileReceivedV1(EventData):
    """A newer DTSEN/DTKS file was first applied: its name, date and SHA-256 (what its changes are attributed to)."""

    file_id: uuid.UUID
    source: str = Field(description="the file's name")
    file_date: date
    sha256: str


@contract("registry.bdt.file_applied", 1)
class BdtFileAppliedV1(EventData):
    """A batch of the file's changes was applied: the households changed (by id) and the changes held for review,
    with the kinds of change (member_added, decile_changed, …) — which members or values, the household's own
    events say."""

    file_id: uuid.UUID
    changes: dict[uuid.UUID, list[str]]
    held: dict[uuid.UUID, list[str]]
    by: str


@contract("registry.bdt.change_held", 1)
class BdtChangeHeldV1(EventData):
    """A file's change that touches money (a KUBE member household removed, above the decile limit, its
    representative gone) waits for a person to confirm or reject it."""

    change_id: uuid.UUID
    household_id: uuid.UUID
    kind: str
    rule: str
    file_id: uuid.UUID
    by: str


@contract("registry.bdt.change_decided", 1)
class BdtChangeDecidedV1(EventData):
    """A held change was confirmed (the household's own event follows in the same transaction) or rejected."""

    change_id: uuid.UUID
    household_id: uuid.UUID
    decision: Literal["confirmed", "rejected"]
    by: str


@contract("registry.group.formed", 2)
class GroupFormedV2(EventData):
    """A KUBE was formed with its member households and their representatives, by their ids, and the group's bank
    account (what the treasurer's bulk-transfer file pays into; version 1 had none)."""

    group_id: uuid.UUID
    name: str = Field(description="the KUBE's own name")
    village_code: VillageCode
    business_type: str
    kind: Literal[GROUP_KINDS]  # type: ignore[valid-type]
    members: list[GroupMemberV2]
    roles: dict[str, uuid.UUID] = Field(description="role → the person id of the representative holding it")
    bank_account: BankAccountV1
    formed_by: str


@contract("registry.group.member_changed", 2)
class GroupMemberChangedV2(EventData):
    """A household joined, left or was replaced in a KUBE; ``members`` is the membership after the change."""

    group_id: uuid.UUID
    removed_household_id: uuid.UUID | None = None
    added: GroupMemberV2 | None = None
    members: list[GroupMemberV2]
    roles: dict[str, uuid.UUID]
    reason: str
    by: str


# --- erasure (UU 27/2022): ids only; the reason stays in the registry ----------------------------------------


@contract("registry.erasure.requested", 1)
class ErasureRequestedV1(EventData):
    """An admin asked for a household's personal data to be erased; another admin must approve it."""

    request_id: uuid.UUID
    household_id: uuid.UUID
    requested_by: str


@contract("registry.erasure.approved", 1)
class ErasureApprovedV1(EventData):
    """A second admin approved an erasure request (registry.household.erased, or registry.person.erased when one
    member is erased while the household stays, follows in the same transaction)."""

    request_id: uuid.UUID
    household_id: uuid.UUID
    approved_by: str


@contract("registry.household.erased", 1)
class HouseholdErasedV1(EventData):
    """A household's personal data was erased in the registry (its key destroyed): whatever a consumer shows about
    these ids, the registry no longer answers who they were. The pseudonymous money trail stays."""

    household_id: uuid.UUID
    person_ids: list[uuid.UUID] = Field(description="its members' ids at the erasure")
    request_id: uuid.UUID
    by: str


@contract("registry.person.erased", 1)
class PersonErasedV1(EventData):
    """One member's personal data was erased in the registry (their own key destroyed) while their household stays:
    they are no longer its member, and the registry no longer answers who this id was. The pseudonymous money trail
    stays."""

    household_id: uuid.UUID
    person_id: uuid.UUID
    request_id: uuid.UUID
    by: str


# --- grievances (pengaduan): ids, the category, the village and dates; who complained and every word of it stay in
# the registry, sealed (docs/privacy.md). The household a grievance is about is not published either: that a family
# was complained about is the registry's to tell, to a reader entitled to it. ------------------------------------

GrievanceCategory = Literal[GRIEVANCE_CATEGORIES]  # type: ignore[valid-type]


@contract("registry.grievance.recorded", 1)
class GrievanceRecordedV1(EventData):
    """An operator recorded a grievance (on behalf of a resident, or an anonymous misuse report), due by a date."""

    grievance_id: uuid.UUID
    village_code: VillageCode
    category: GrievanceCategory
    anonymous: bool
    group_id: uuid.UUID | None = Field(description="the KUBE group it is about, where known")
    proposal_id: uuid.UUID | None = Field(description="the proposal or grant it is about, where known")
    received_on: date
    due_on: date
    by: str


@contract("registry.grievance.assigned", 1)
class GrievanceAssignedV1(EventData):
    """A grievance was assigned to a verifier of its region."""

    grievance_id: uuid.UUID
    village_code: VillageCode
    assigned_to: str
    by: str


@contract("registry.grievance.noted", 1)
class GrievanceNotedV1(EventData):
    """Someone noted on a grievance (the note's text stays in the registry)."""

    grievance_id: uuid.UUID
    village_code: VillageCode
    noted_on: date
    by: str


@contract("registry.grievance.resolved", 1)
class GrievanceResolvedV1(EventData):
    """A grievance was resolved with an outcome (what was done stays in the registry)."""

    grievance_id: uuid.UUID
    village_code: VillageCode
    outcome: Literal[GRIEVANCE_OUTCOMES]  # type: ignore[valid-type]
    received_on: date
    resolved_on: date
    days_to_resolve: int
    overdue: bool = Field(description="resolved after its due date")
    by: str
