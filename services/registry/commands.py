"""Registry commands as they arrive at the edge (RPC or HTTP), checked for shape before the domain sees them.

Shape only: whether a NIK's regency exists or a village code is real is checked against the region table by the
application (shared.ids), and programme rules by the domain.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from services.registry.domain import CORRECTABLE_FIELDS
from services.registry.updates import REMOVAL_REASONS, REVIEW_DECISIONS
from shared.actor_assertion import SignedActor
from shared.edge import Command, HouseholdKey, Kk, Nik, RegionCode, Uuid, VillageCode
from shared.vocabulary import (
    BDT_STATUSES,
    BUSINESS_TYPES,
    GRIEVANCE_CATEGORIES,
    GRIEVANCE_OUTCOMES,
    GROUP_DOCUMENT_KINDS,
    GROUP_KINDS,
    GROUP_ROLES,
    JOIN_REASONS,
    LEAVE_REASONS,
    MARITAL_STATUSES,
    RELATIONS,
    SEXES,
)

Reason = Annotated[str, Field(min_length=1, max_length=500)]


class Acting(Command):
    """A command someone gives: who, in which role, for which region (the gateway builds it from the token)."""

    actor: SignedActor  # verified at the edge: signed by the gateway or the operators' CLI


class MemberIn(Command):
    nik: Nik
    name: str = Field(min_length=1, max_length=200)
    sex: Literal[SEXES]  # type: ignore[valid-type]
    birth_date: date
    relation: Literal[RELATIONS]  # type: ignore[valid-type]
    marital_status: Literal[("", *MARITAL_STATUSES)] = ""  # type: ignore[valid-type]
    occupation: str = Field(default="", max_length=100)


class HouseholdIn(Command):
    """A household's registration data."""

    kk: Kk
    dtks_id: str = Field(min_length=1, max_length=64)
    village_code: VillageCode
    address: str = Field(default="", max_length=500)
    decile: int = Field(ge=1, le=10)
    members: list[MemberIn] = Field(min_length=1, max_length=30)


class RegisterHousehold(HouseholdIn, Acting):
    pass


class ListedHousehold(HouseholdIn):
    """A household as a DTSEN/DTKS file lists it: a registration, with its BDT status in the file."""

    status: Literal[BDT_STATUSES] = "active"  # type: ignore[valid-type]
    status_reason: Literal[("", *REMOVAL_REASONS)] = ""  # type: ignore[valid-type]


class BdtSource(Command):
    """The file an import's changes are attributed to."""

    name: str = Field(min_length=1, max_length=300)
    file_date: date
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ImportHouseholds(Acting):
    """A batch of a file's households with the one actor who imports them all: verified once, not per household;
    ``source``, the file, when its differences are to be applied to known households (``dtsen``)."""

    households: list[ListedHousehold] = Field(min_length=1, max_length=1000)
    source: BdtSource | None = None


class DecideHeldChange(Acting):
    change_id: Uuid
    decision: Literal[REVIEW_DECISIONS]  # type: ignore[valid-type]


class AddMember(Acting):
    kk: HouseholdKey  # its KK, or its id
    member: MemberIn
    reason: Literal[JOIN_REASONS]  # type: ignore[valid-type]


class RemoveMember(Acting):
    kk: HouseholdKey  # its KK, or its id
    nik: Nik
    reason: Literal[LEAVE_REASONS]  # type: ignore[valid-type]
    new_head_nik: Nik | None = None


class MemberChanges(Command):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    sex: Literal[SEXES] | None = None  # type: ignore[valid-type]
    birth_date: date | None = None
    relation: Literal[RELATIONS] | None = None  # type: ignore[valid-type]
    marital_status: Literal[MARITAL_STATUSES] | None = None  # type: ignore[valid-type]
    occupation: str | None = Field(default=None, max_length=100)


class CorrectMember(Acting):
    kk: HouseholdKey  # its KK, or its id
    nik: Nik
    changes: MemberChanges
    reason: Reason

    def changed_fields(self) -> dict:
        return {k: v for k, v in self.changes.model_dump(exclude_none=True).items() if k in CORRECTABLE_FIELDS}


class ChangeStatus(Acting):
    kk: HouseholdKey  # its KK, or its id
    status: Literal[BDT_STATUSES]  # type: ignore[valid-type]
    reason: Reason


class ChangeDecile(Acting):
    kk: HouseholdKey  # its KK, or its id
    decile: int = Field(ge=1, le=10)


class GroupMemberIn(Command):
    kk: Kk
    representative_nik: Nik


class BankAccountIn(Command):
    bank: str = Field(min_length=1, max_length=100)
    number: str = Field(pattern=r"^[0-9][0-9 .-]{4,30}$")
    holder: str = Field(min_length=1, max_length=200)


class FormGroup(Acting):
    name: str = Field(min_length=1, max_length=200)
    village_code: VillageCode
    business_type: Literal[BUSINESS_TYPES]  # type: ignore[valid-type]
    kind: Literal[GROUP_KINDS] = "perempuan"  # type: ignore[valid-type]
    members: list[GroupMemberIn] = Field(min_length=1, max_length=40)
    roles: dict[Literal[GROUP_ROLES], Nik]  # type: ignore[valid-type]
    bank_account: BankAccountIn
    sk_kades: str = Field(min_length=1, max_length=100)


class ChangeGroupMember(Acting):
    group_id: Uuid
    removed_kk: Kk | None = None
    added: GroupMemberIn | None = None
    reason: Reason


class DissolveGroup(Acting):
    group_id: Uuid
    reason: Reason


class GraduateGroup(Acting):
    group_id: Uuid
    reason: Reason


class RegionRowIn(Command):
    code: RegionCode
    name: str = Field(min_length=1, max_length=200)
    level: int = Field(ge=1, le=4)


class ImportRegions(Acting):
    rows: list[RegionRowIn] = Field(min_length=1, max_length=100_000)
    source: str = Field(min_length=1, max_length=300)


class RequestErasure(Acting):
    nik: Nik
    reason: Reason  # why, never who: kept with the request
    whole_household: bool = False  # the person's whole household; without, the person alone (the household stays)


class ApproveErasure(Acting):
    request_id: Uuid


class RecordGrievance(Acting):
    village_code: VillageCode  # where it happened: the region that deals with it
    category: Literal[GRIEVANCE_CATEGORIES]  # type: ignore[valid-type]
    description: str = Field(min_length=1, max_length=4000)
    complainant_name: str | None = Field(default=None, max_length=200)  # none: an anonymous misuse report
    complainant_contact: str | None = Field(default=None, max_length=200)
    household_kk: HouseholdKey | None = None  # what it is about, where known: its KK or its id
    group_id: Uuid | None = None
    proposal_id: Uuid | None = None
    received_on: date | None = None  # a letter typed in later: the day it came (the deadline runs from it)


class AssignGrievance(Acting):
    grievance_id: Uuid
    assignee: SignedActor  # the verifier, as the gateway's user store knows them (signed like the actor)


class NoteGrievance(Acting):
    grievance_id: Uuid
    text: str = Field(min_length=1, max_length=4000)


class ResolveGrievance(Acting):
    grievance_id: Uuid
    outcome: Literal[GRIEVANCE_OUTCOMES]  # type: ignore[valid-type]
    resolution: str = Field(min_length=1, max_length=4000)


class AttachGroupDocument(Acting):
    """A KUBE's own paper, its bytes as uploaded (base64: the content decides its type)."""

    group_id: Uuid
    kind: Literal[GROUP_DOCUMENT_KINDS]  # type: ignore[valid-type]
    content_base64: str = Field(min_length=4, max_length=14_000_000)  # 10 MB, base64
