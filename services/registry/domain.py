"""Registry domain: households (keluarga), their members (anggota keluarga), KUBE groups and the region list in
force. Pure: no I/O.

Identifiers (NIK, KK, village code) are checked against the region table at the edge, before they get here; the
aggregates enforce the rules that need no outside knowledge, and the eligibility rules for a KUBE are pure
functions over facts the application gathers.

Longer than the house's ~400 lines on purpose: a household, a KUBE and the region list share the identity rules
(NIK, KK, village), and the KUBE eligibility rules read the household's facts; one file keeps them side by side.

Events carry what their public event needs (class_version 2): a household's member events and its status and
decile changes its KK, a new member's the household's village too, a correction the member as corrected, a KUBE's
member change its members after the change. So services/registry/public.py maps an event without replaying its
aggregate. Events stored before (class_version 1) are read with those fields None: see ``shared.versioning``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic, register_topic

from shared.actor import Actor, check_region, check_role
from shared.attachments import Attachment, check_attachment
from shared.errors import Conflict, NotFound, NotYours, RuleViolated, ValidationFailed
from shared.keys import legacy_household_id, legacy_person_id, stable_id
from shared.versioning import VersionedEvent
from shared.vocabulary import (
    BDT_STATUSES,
    BUSINESS_TYPES,
    CLOSED_GROUP_STATUSES,
    GROUP_DOCUMENT_KINDS,
    GROUP_KINDS,
    GROUP_ROLES,
    HEAD_OF_HOUSEHOLD,
    JOIN_REASONS,
    LEAVE_REASONS,
    RELATIONS,
)

CORRECTABLE_FIELDS = ("name", "sex", "birth_date", "relation", "marital_status", "occupation")


@dataclass(frozen=True)
class Member:
    nik: str
    name: str
    sex: str
    birth_date: date
    relation: str
    marital_status: str = ""
    occupation: str = ""
    person_id: uuid.UUID | None = None  # random, assigned at registration (None only for a member stored before)

    @property
    def id(self) -> uuid.UUID:
        """The person's pseudonymous id: what every other service knows them by."""
        return self.person_id or legacy_person_id(self.nik)


def with_person_id(member: Member) -> Member:
    """The member with a new random id, unless they have one: a person's id is the registry's, never derived."""
    return member if member.person_id is not None else replace(member, person_id=uuid.uuid4())


# --- who may change the registry: the domain's own check of the (verified) actor, as the gateway's routes say ---

KEEPERS = ("operator",)  # register and correct households, form and change KUBE groups
# A KUBE's own papers, attached by its keepers: the village head's decree forming it, the village meeting's minutes.
GROUP_DOCUMENTS = {kind: KEEPERS for kind in GROUP_DOCUMENT_KINDS}
REGION_TABLE_KEEPERS = ("admin",)  # the official region list, for the whole country


def check_keeper(actor: Actor, village_code: str, action: str) -> None:
    """An operator whose region covers the village of what the command changes."""
    check_role(actor, KEEPERS, action)
    check_region(actor, village_code, action)


def check_region_table_keeper(actor: Actor) -> None:
    check_role(actor, REGION_TABLE_KEEPERS, "import the region table")
    check_region(actor, "", "import the region table")


class Household(Aggregate):
    class Event(VersionedEvent):
        # "member": a correction's, the member as corrected (MemberAdded always had its own; Registered its KK
        # and village: a version-1 event keeps what it stored).
        ADDED_IN_V2 = ("kk", "village_code", "member")
        class_version = 3  # v3: a member's removal names the leaver and a new head by their ids too

        @classmethod
        def upcast_v2_v3(cls, state: dict) -> None:
            if "new_head_nik" in cls.__dataclass_fields__:
                state.setdefault("person_id", None)  # before v3: known by the id derived from the NIK
                state.setdefault("new_head_id", None)

    # A household's id is the library's random one (create_id; not derived from the KK: nobody may compute it from a
    # KK); the read model's primary key on the KK keeps one household per KK.

    @classmethod
    def register(cls, **registration: Any) -> Household:
        """A new household, its Registered event pending (its fields and rules: :meth:`_registration`)."""
        return cls(**cls._registration(**registration))

    @classmethod
    def registered(cls, **registration: Any) -> Household.Registered:
        """The Registered event of a new household, without the household: what :meth:`register`'s household has
        pending, with the first-event fields the library's ``_create`` gives it. A batch records its events alone:
        one aggregate object per household was a measurable share of a large import's CPU."""
        return cls.Registered(originator_topic=get_topic(cls), originator_id=cls.create_id(),
                              originator_version=cls.INITIAL_VERSION, timestamp=cls.Registered.create_timestamp(),
                              **cls._registration(**registration))

    @staticmethod
    def _registration(
        *, kk: str, dtks_id: str, village_code: str, address: str, decile: int, members: list[Member],
        registered_by: str,
    ) -> dict[str, Any]:
        """The Registered event's own fields, after a registration's rules; each member gets a new random id."""
        # Checked here, not in the event: a rule tightened later must not stop old events from replaying.
        check_decile(decile)
        check_members(kk, members)
        return {"kk": kk, "dtks_id": dtks_id, "village_code": village_code, "address": address, "decile": decile,
                "members": [with_person_id(m) for m in members], "registered_by": registered_by}

    @event("Registered")
    def __init__(
        self, kk: str, dtks_id: str, village_code: str, address: str, decile: int, members: list[Member],
        registered_by: str,
    ) -> None:
        self.kk = kk
        self.dtks_id = dtks_id
        self.village_code = village_code
        self.address = address
        self.decile = decile
        self.members = list(members)
        self.bdt_status = "active"
        self.registered_by = registered_by
        self.erased = False

    def member(self, nik: str) -> Member:
        for member in self.members:
            if member.nik == nik:
                return member
        raise NotFound(f"NIK {nik} is not a member of household {self.kk}", field="nik", nik=nik, kk=self.kk)

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.relation == HEAD_OF_HOUSEHOLD)

    def add_member(self, member: Member, reason: str, by: str) -> None:
        check_reason(reason, JOIN_REASONS)
        member = with_person_id(member)
        check_members(self.kk, [*self.members, member])
        self._member_added(member=member, reason=reason, by=by, kk=self.kk, village_code=self.village_code)

    @event("MemberAdded")
    def _member_added(self, member: Member, reason: str, by: str, kk: str | None, village_code: str | None) -> None:
        self.members.append(member)

    def remove_member(self, nik: str, reason: str, by: str, new_head_nik: str | None = None) -> None:
        check_reason(reason, LEAVE_REASONS)
        leaving = self.member(nik)
        remaining = [m for m in self.members if m.nik != nik]
        if not remaining:
            raise RuleViolated("household.members", f"NIK {nik} is the last member of household {self.kk}: "
                                                    "change the household's BDT status instead", kk=self.kk, nik=nik)
        if leaving.relation == HEAD_OF_HOUSEHOLD:
            if new_head_nik is None:
                raise RuleViolated("household.one_head", f"NIK {nik} heads household {self.kk}: name the new head",
                                   kk=self.kk, nik=nik)
            self.member(new_head_nik)
            remaining = [replace(m, relation=HEAD_OF_HOUSEHOLD) if m.nik == new_head_nik else m for m in remaining]
        elif new_head_nik is not None:
            raise ValidationFailed("new_head_nik", "household.new_head", "name a new head only when the head leaves")
        check_members(self.kk, remaining)
        self._member_removed(nik=nik, reason=reason, by=by, new_head_nik=new_head_nik, kk=self.kk,
                             person_id=leaving.id,
                             new_head_id=self.member(new_head_nik).id if new_head_nik is not None else None)

    @event("MemberRemoved")
    def _member_removed(self, nik: str, reason: str, by: str, new_head_nik: str | None, kk: str | None,
                        person_id: uuid.UUID | None = None, new_head_id: uuid.UUID | None = None) -> None:
        self.members = [
            replace(m, relation=HEAD_OF_HOUSEHOLD) if m.nik == new_head_nik else m
            for m in self.members if m.nik != nik
        ]

    def correct_member(self, nik: str, changes: dict, reason: str, by: str) -> None:
        unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
        if unknown:
            raise ValidationFailed(unknown[0], "member.correctable",
                                   f"{unknown[0]} cannot be corrected; correctable: {', '.join(CORRECTABLE_FIELDS)}",
                                   correctable=list(CORRECTABLE_FIELDS))
        if not reason.strip():
            raise ValidationFailed("reason", "correction.reason", "a correction needs a reason")
        current = self.member(nik)
        corrected = replace(current, **changes)
        if corrected == current:
            raise Conflict(f"the correction changes nothing for NIK {nik}", nik=nik)
        check_members(self.kk, [corrected if m.nik == nik else m for m in self.members])
        self._member_corrected(nik=nik, changes=changes, reason=reason, by=by, kk=self.kk, member=corrected)

    @event("MemberCorrected")
    def _member_corrected(self, nik: str, changes: dict, reason: str, by: str, kk: str | None,
                          member: Member | None) -> None:
        # ``member`` (the member as corrected) is for the public event: the state applies ``changes``, as always.
        self.members = [replace(m, **changes) if m.nik == nik else m for m in self.members]

    def change_status(self, status: str, reason: str, by: str) -> None:
        if status not in BDT_STATUSES:
            raise ValidationFailed("status", "bdt.status", f"BDT status must be one of {BDT_STATUSES}: {status!r}",
                                   status=status, allowed=list(BDT_STATUSES))
        if status == self.bdt_status:
            raise Conflict(f"household {self.kk} is already {status}", kk=self.kk)
        if not reason.strip():
            raise ValidationFailed("reason", "bdt.status_reason", "a status change needs a reason")
        self._status_changed(status=status, reason=reason, by=by, kk=self.kk)

    @event("StatusChanged")
    def _status_changed(self, status: str, reason: str, by: str, kk: str | None) -> None:
        self.bdt_status = status

    def move(self, village_code: str, address: str, reason: str, by: str) -> None:
        """The household lives elsewhere now (another village, or another address in its own)."""
        if (village_code, address) == (self.village_code, self.address):
            raise Conflict(f"household {self.kk} lives there already", kk=self.kk)
        if not reason.strip():
            raise ValidationFailed("reason", "household.move_reason", "a move needs a reason")
        self._moved(village_code=village_code, address=address, reason=reason, by=by, kk=self.kk)

    @event("Moved")
    def _moved(self, village_code: str, address: str, reason: str, by: str, kk: str) -> None:
        self.village_code = village_code
        self.address = address

    def change_decile(self, decile: int, by: str) -> None:
        check_decile(decile)
        if decile == self.decile:
            raise Conflict(f"household {self.kk} is already in decile {decile}", kk=self.kk)
        self._decile_changed(decile=decile, by=by, kk=self.kk)

    @event("DecileChanged")
    def _decile_changed(self, decile: int, by: str, kk: str | None) -> None:
        self.decile = decile

    def erase(self, request_id: uuid.UUID, by: str) -> None:
        """Record the household's erasure (its data key is destroyed with it: services/registry/erasure.py). The
        event carries ids only; from then on the household holds no one, and what its events said reads as erased."""
        if self.erased:
            raise Conflict("this household is erased already", rule="erasure.done", household_id=str(self.id))
        self._erased(request_id=request_id, person_ids=[m.id for m in self.members], by=by)

    @event("Erased")
    def _erased(self, request_id: uuid.UUID, person_ids: list[uuid.UUID], by: str) -> None:
        self.erased = True
        self.members = []

    def erase_person(self, person_id: uuid.UUID, request_id: uuid.UUID, by: str) -> None:
        """Record one member's erasure while the household stays (their data key is destroyed with it). Never the
        head: the household would have none (erase the whole household instead); never the last member."""
        erased = next((m for m in self.members if m.id == person_id), None)
        if erased is None:
            raise Conflict("this person is no longer a member of the household (erased already, or removed)",
                           rule="erasure.done", household_id=str(self.id), person_id=str(person_id))
        check_erasable_alone(self, erased)
        self._person_erased(request_id=request_id, person_id=person_id, by=by)

    @event("PersonErased")
    def _person_erased(self, request_id: uuid.UUID, person_id: uuid.UUID, by: str) -> None:
        self.members = [m for m in self.members if m.id != person_id]


def check_erasable_alone(household: Household, member: Member) -> None:
    """One member erased while the household stays: not its last member, nor its head (one head is a rule)."""
    if len(household.members) < 2:
        raise RuleViolated("erasure.last_member", "this person is alone in their household: ask for the whole "
                           "household's erasure", household_id=str(household.id))
    if member.relation == HEAD_OF_HOUSEHOLD:
        raise RuleViolated("erasure.head_of_household", "the head of a household that stays cannot be erased alone "
                           "(the household would have no head): ask for the whole household's erasure",
                           household_id=str(household.id))


def check_decile(decile: int) -> None:
    if isinstance(decile, bool) or not isinstance(decile, int) or not 1 <= decile <= 10:
        raise ValidationFailed("decile", "decile.range", f"welfare decile must be 1–10, got {decile!r}", decile=decile,
                               low=1, high=10)


def check_reason(reason: str, allowed: tuple[str, ...]) -> None:
    if reason not in allowed:
        raise ValidationFailed("reason", "member.reason", f"reason must be one of {allowed}: {reason!r}",
                               reason=reason, allowed=list(allowed))


def check_members(kk: str, members: list[Member]) -> None:
    if not members:
        raise RuleViolated("household.members", f"household {kk} has no members", kk=kk)
    for member in members:
        if member.relation not in RELATIONS:
            raise ValidationFailed("relation", "member.relation",
                                   f"relation {member.relation!r} of NIK {member.nik} is not one of {RELATIONS}",
                                   nik=member.nik, relation=member.relation, allowed=list(RELATIONS))
        if member.sex not in ("L", "P"):
            raise ValidationFailed("sex", "member.sex", f"sex of NIK {member.nik} must be L or P: {member.sex!r}",
                                   nik=member.nik, sex=member.sex)
    heads = [m.nik for m in members if m.relation == HEAD_OF_HOUSEHOLD]
    if len(heads) != 1:
        raise RuleViolated(
            "household.one_head",
            f"household {kk} must have exactly one {HEAD_OF_HOUSEHOLD}, has {len(heads)}",
            kk=kk,
            heads=heads,
            count=len(heads),
        )
    seen: set[str] = set()
    for member in members:
        if member.nik in seen:
            raise RuleViolated("nik.unique", f"NIK {member.nik} appears twice in household {kk}", kk=kk,
                               nik=member.nik)
        seen.add(member.nik)


# --- KUBE groups ------------------------------------------------------------------------------------------

# Occupations that exclude a representative: civil servants, military, police, pensioners — as abbreviations
# and as the official names of the KK/KTP occupation list (Permendagri 109/2019, form F-1.01).
EXCLUDED_OCCUPATIONS = ("pns", "asn", "pegawai negeri", "tni", "tentara nasional", "polri", "kepolisian",
                        "pensiunan", "purnawirawan")


@dataclass(frozen=True)
class KubeRules:
    """The numbers of domain.md; provinces differ, so each is a setting with this default."""

    min_households: int = 5
    max_households: int = 20
    women_min_households: int = 7
    women_max_households: int = 10
    max_decile: int = 4
    min_age: int = 18
    max_age: int = 59


@dataclass(frozen=True)
class GroupMember:
    kk: str
    representative_nik: str
    representative_name: str
    # The pseudonymous ids other services know them by (None only in a group stored before ids: see the properties).
    household_id: uuid.UUID | None = None
    representative_id: uuid.UUID | None = None

    @property
    def household(self) -> uuid.UUID:
        return self.household_id or legacy_household_id(self.kk)

    @property
    def representative(self) -> uuid.UUID:
        return self.representative_id or legacy_person_id(self.representative_nik)


@dataclass(frozen=True)
class BankAccount:
    bank: str
    number: str
    holder: str


@dataclass(frozen=True)
class Candidate:
    """What the registry knows of a household proposed for a group, gathered by the application."""

    kk: str
    village_code: str
    bdt_status: str
    decile: int
    representative: Member | None  # None: the NIK is not a member of this household
    active_group: str | None  # the name of the household's active KUBE, if any


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_excluded_occupation(occupation: str) -> bool:
    words = " ".join(re.sub(r"[^a-z ]", " ", occupation.casefold()).split())
    return any(re.search(rf"\b{re.escape(term)}\b", words) for term in EXCLUDED_OCCUPATIONS)


def check_candidate(candidate: Candidate, village_code: str, kind: str, rules: KubeRules, today: date,
                    representative_nik: str) -> None:
    """Every eligibility rule for one household; each refusal names the rule and the household.

    The household's own rules come before its representative's, so they refuse every member alike."""
    kk = candidate.kk

    def refuse(rule: str, message: str, **details: object) -> RuleViolated:
        return RuleViolated(rule, f"household {kk}: {message}", kk=kk, **details)

    if candidate.village_code != village_code:
        raise refuse("kube.same_village", f"lives in {candidate.village_code}, the group is in {village_code}",
                     village_code=candidate.village_code, group_village_code=village_code)
    if candidate.bdt_status != "active":
        raise refuse("kube.bdt_active", f"BDT status is {candidate.bdt_status}, must be active",
                     status=candidate.bdt_status)
    if candidate.decile > rules.max_decile:
        raise refuse("kube.decile", f"decile {candidate.decile} is above the limit {rules.max_decile}",
                     decile=candidate.decile, limit=rules.max_decile)
    if candidate.active_group is not None:
        raise refuse("kube.one_active_group", f"already a member of active KUBE {candidate.active_group}",
                     group=candidate.active_group)
    person = candidate.representative
    if person is None:
        raise refuse("kube.representative_member", f"NIK {representative_nik} is not a member of the household",
                     nik=representative_nik)
    age = age_on(person.birth_date, today)
    if not rules.min_age <= age <= rules.max_age:
        raise refuse("kube.representative_age",
                     f"representative {person.nik} is {age}, must be {rules.min_age}–{rules.max_age}",
                     nik=person.nik, age=age, min_age=rules.min_age, max_age=rules.max_age)
    if kind == "perempuan" and person.sex != "P":
        raise refuse("kube.women_representative", f"representative {person.nik} of a women's KUBE must be a woman",
                     nik=person.nik)
    if is_excluded_occupation(person.occupation):
        raise refuse("kube.occupation", f"representative {person.nik} is {person.occupation}: civil servants, "
                                        "TNI/Polri and pensioners cannot join a KUBE",
                     nik=person.nik, occupation=person.occupation)


def eligible_representatives(household: Candidate, members: list[Member], village_code: str, kind: str,
                             rules: KubeRules, today: date) -> tuple[list[Member], RuleViolated | None]:
    """The members who may represent a household in a KUBE of this kind (check_candidate for each), and, when
    nobody may, the refusal that explains it best: the household's own rule if one applies (it refuses everyone
    alike), else that of the member nearest to what the group looks for — an adult woman for a women's KUBE,
    else an adult — so that the sentence shown says what the household lacks."""
    eligible: list[Member] = []
    refused: list[tuple[Member, RuleViolated]] = []
    for member in members:
        try:
            check_candidate(replace(household, representative=member), village_code, kind, rules, today,
                            member.nik)
            eligible.append(member)
        except RuleViolated as refusal:
            refused.append((member, refusal))
    if eligible or not refused:
        return eligible, None

    def distance(entry: tuple[Member, RuleViolated]) -> tuple[bool, bool]:
        adult = age_on(entry[0].birth_date, today) >= rules.min_age
        return kind == "perempuan" and not (adult and entry[0].sex == "P"), not adult

    return [], min(refused, key=distance)[1]


def check_group_size(count: int, kind: str, rules: KubeRules) -> None:
    low, high = ((rules.women_min_households, rules.women_max_households) if kind == "perempuan"
                 else (rules.min_households, rules.max_households))
    if not low <= count <= high:
        raise RuleViolated("kube.size", f"a {kind} KUBE has {low}–{high} member households, not {count}",
                           households=count, kind=kind, low=low, high=high)


def check_roles(roles: dict[str, str], members: list[GroupMember]) -> None:
    if sorted(roles) != sorted(GROUP_ROLES):
        raise ValidationFailed("roles", "kube.roles", f"roles must be exactly {GROUP_ROLES}, got {sorted(roles)}",
                               expected=list(GROUP_ROLES), roles=sorted(roles))
    if len(set(roles.values())) != len(GROUP_ROLES):
        raise RuleViolated("kube.roles_distinct", "ketua, sekretaris and bendahara must be three different members")
    representatives = {m.representative_nik for m in members}
    for role, nik in roles.items():
        if nik not in representatives:
            raise RuleViolated("kube.role_holder", f"{role} {nik} is not a representative of a member household",
                               nik=nik, role=role)


class Group(Aggregate):
    """A KUBE: its member households with their representatives, roles, bank account and SK Kades."""

    class Event(VersionedEvent):
        ADDED_IN_V2 = ("members",)  # a member change's, after it (Formed always had its own)
        class_version = 3  # v3: a member change names the removed household by its id too

        @classmethod
        def upcast_v2_v3(cls, state: dict) -> None:
            if "removed_kk" in cls.__dataclass_fields__:
                state.setdefault("removed_household_id", None)  # before v3: known by its KK (GroupMember.household)

    @event("Formed")
    def __init__(
        self, name: str, village_code: str, business_type: str, kind: str, members: list[GroupMember],
        roles: dict[str, str], bank_account: BankAccount, sk_kades: str, formed_by: str,
    ) -> None:
        self.name = name
        self.village_code = village_code
        self.business_type = business_type
        self.kind = kind
        self.members = list(members)
        self.roles = dict(roles)
        self.bank_account = bank_account
        self.sk_kades = sk_kades
        self.formed_by = formed_by
        self.status = "formed"
        self.documents: list[Attachment] = []

    @classmethod
    def form(
        cls, *, name: str, village_code: str, business_type: str, kind: str, members: list[GroupMember],
        roles: dict[str, str], bank_account: BankAccount, sk_kades: str, formed_by: str, rules: KubeRules,
    ) -> Group:
        """Form a group after the rules that need no registry lookups (those are in check_candidate)."""
        check_group_fields(name, business_type, kind, bank_account, sk_kades)
        kks = [m.kk for m in members]
        if len(set(kks)) != len(kks):
            raise RuleViolated("kube.distinct_households", "a household appears twice in the group")
        check_group_size(len(members), kind, rules)
        check_roles(roles, members)
        return cls(name=name, village_code=village_code, business_type=business_type, kind=kind, members=members,
                   roles=roles, bank_account=bank_account, sk_kades=sk_kades, formed_by=formed_by)

    @property
    def is_active(self) -> bool:
        """Not at the end of its life: its households may not join another KUBE."""
        return self.status not in CLOSED_GROUP_STATUSES

    def member_kks(self) -> list[str]:
        return [m.kk for m in self.members]

    def change_member(self, removed_kk: str | None, added: GroupMember | None, reason: str, by: str,
                      rules: KubeRules) -> None:
        """Add a household, remove one, or replace one (a role held by the leaver passes to the newcomer)."""
        self.check_active()
        if removed_kk is None and added is None:
            raise ValidationFailed("member", "kube.member_change", "name a household to add, remove or both")
        members = list(self.members)
        roles = dict(self.roles)
        removed_household_id = None
        if removed_kk is not None:
            leaving = next((m for m in members if m.kk == removed_kk), None)
            if leaving is None:
                raise NotFound(f"household {removed_kk} is not a member of KUBE {self.name}", kk=removed_kk)
            members.remove(leaving)
            removed_household_id = leaving.household
            held = [role for role, nik in roles.items() if nik == leaving.representative_nik]
            if held and added is None:
                raise RuleViolated("kube.role_holder", f"household {removed_kk} holds {held[0]}: replace it instead "
                                                       "of removing it", kk=removed_kk, role=held[0])
            for role in held:
                roles[role] = added.representative_nik
        if added is not None:
            if added.kk in {m.kk for m in members}:
                raise RuleViolated("kube.distinct_households", f"household {added.kk} is already a member",
                                   kk=added.kk)
            members.append(added)
        check_group_size(len(members), self.kind, rules)
        check_roles(roles, members)
        if not reason.strip():
            raise ValidationFailed("reason", "kube.member_change_reason", "a member change needs a reason")
        self._member_changed(removed_kk=removed_kk, added=added, roles=roles, reason=reason, by=by, members=members,
                             removed_household_id=removed_household_id)

    @event("MemberChanged")
    def _member_changed(self, removed_kk: str | None, added: GroupMember | None, roles: dict[str, str],
                        reason: str, by: str, members: list[GroupMember] | None,
                        removed_household_id: uuid.UUID | None = None) -> None:
        # ``members`` (the membership after the change) is for the public event: the state is computed, as always.
        self.members = [m for m in self.members if m.kk != removed_kk] + ([added] if added else [])
        self.roles = dict(roles)

    def mark_funded(self, proposal_id: uuid.UUID, amount_rp: int) -> None:
        """The ministry approved the group's grant (learnt from grants' event)."""
        self.check_active()
        if self.status != "formed":
            raise Conflict(f"KUBE {self.name} is already {self.status}", group_id=str(self.id), status=self.status)
        self._funded(proposal_id=proposal_id, amount_rp=amount_rp)

    @event("Funded")
    def _funded(self, proposal_id: uuid.UUID, amount_rp: int) -> None:
        self.status = "funded"

    def activate(self, proposal_id: uuid.UUID, payment_id: str) -> None:
        """The group's first tranche was paid (learnt from grants' event): the KUBE is active."""
        if self.status != "funded":
            raise Conflict(f"only a funded KUBE becomes active; {self.name} is {self.status}", rule="kube.lifecycle",
                           group_id=str(self.id), status=self.status)
        self._activated(proposal_id=proposal_id, payment_id=payment_id)

    @event("Activated")
    def _activated(self, proposal_id: uuid.UUID, payment_id: str) -> None:
        self.status = "active"

    def graduate(self, reason: str, by: str) -> None:
        """Mandiri: an active group whose business stands on its own leaves the programme's mentoring."""
        if self.status != "active":
            raise Conflict(f"only an active KUBE graduates; {self.name} is {self.status}", rule="kube.lifecycle",
                           group_id=str(self.id), status=self.status)
        if not reason.strip():
            raise ValidationFailed("reason", "kube.graduate_reason", "graduating a group needs a reason")
        self._graduated(reason=reason, by=by)

    @event("Graduated")
    def _graduated(self, reason: str, by: str) -> None:
        self.status = "graduated"

    def dissolve(self, reason: str, by: str) -> None:
        self.check_active()
        if not reason.strip():
            raise ValidationFailed("reason", "kube.dissolve_reason", "dissolving a group needs a reason")
        self._dissolved(reason=reason, by=by)

    @event("Dissolved")
    def _dissolved(self, reason: str, by: str) -> None:
        self.status = "dissolved"

    def attach_document(self, kind: str, sha256: str, size: int, media_type: str, actor: Actor) -> None:
        """The SK Kades or the village meeting's minutes, by an operator of the group's region, at any time."""
        check_attachment(kind, GROUP_DOCUMENTS, actor, self.village_code, self.documents, sha256)
        self._document_attached(kind=kind, sha256=sha256, size=size, media_type=media_type, by=actor.user)

    @event("DocumentAttached")
    def _document_attached(self, kind: str, sha256: str, size: int, media_type: str, by: str,
                           timestamp: datetime | None = None) -> None:
        self.documents = [*self.documents, Attachment(kind, sha256, size, media_type, by, timestamp)]

    def check_active(self) -> None:
        if not self.is_active:
            raise Conflict(f"KUBE {self.name} is {self.status}", rule="kube.inactive", group_id=str(self.id),
                           status=self.status)


def check_group_fields(name: str, business_type: str, kind: str, bank_account: BankAccount, sk_kades: str) -> None:
    if not name.strip():
        raise ValidationFailed("name", "kube.name", "a KUBE needs a name")
    if business_type not in BUSINESS_TYPES:
        raise ValidationFailed("business_type", "kube.business_type",
                               f"business type must be one of {BUSINESS_TYPES}: {business_type!r}",
                               business_type=business_type, allowed=list(BUSINESS_TYPES))
    check_kind(kind)
    if not sk_kades.strip():
        raise ValidationFailed("sk_kades", "kube.sk_kades", "the village head's decree (SK Kades) number is required")
    if not (bank_account.bank.strip() and bank_account.number.strip()):
        raise ValidationFailed("bank_account", "kube.bank_account", "bank and account number are required")
    if _folded(name) not in _folded(bank_account.holder):
        # Not the holder as a detail: the wrong holder is often a person's name.
        raise RuleViolated("kube.bank_account_holder",
                           f"the account holder {bank_account.holder!r} must be the group {name!r} itself",
                           group=name)


def check_kind(kind: str) -> None:
    if kind not in GROUP_KINDS:
        raise ValidationFailed("kind", "kube.kind", f"kind must be one of {GROUP_KINDS}: {kind!r}", kind=kind,
                               allowed=list(GROUP_KINDS))


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


# --- erasure: one admin asks, another approves (maker–checker) ----------------------------------------------

ERASERS = ("admin",)  # request and approve an erasure, for the household's region


def check_eraser(actor: Actor, village_code: str, action: str) -> None:
    check_role(actor, ERASERS, action)
    check_region(actor, village_code, action)


class ErasureRequest(Aggregate):
    """A request to erase personal data — a household's, or one member's while the household stays: who asked, when
    (the event's time), why, and who approved.

    Ids only: the household and the person the request was made for (by NIK, at the edge), never a NIK or a name.
    The reason is the requester's free text, kept plain with the request (it must say why, not who)."""

    # ``person_only``: the person alone, their household staying. A request stored before it could be asked for (every
    # request was for a whole household then) lacks it, and reads with this default.
    @event("Requested")
    def __init__(self, household_id: uuid.UUID, person_id: uuid.UUID, village_code: str, reason: str,
                 requested_by: str, person_only: bool = False) -> None:
        self.household_id = household_id
        self.person_id = person_id
        self.village_code = village_code
        self.reason = reason
        self.requested_by = requested_by
        self.person_only = person_only
        self.approved_by: str | None = None

    @classmethod
    def request(cls, *, household_id: uuid.UUID, person_id: uuid.UUID, village_code: str, reason: str,
                requested_by: str, person_only: bool = False) -> ErasureRequest:
        if not reason.strip():
            raise ValidationFailed("reason", "erasure.reason", "an erasure request needs a reason")
        return cls(household_id=household_id, person_id=person_id, village_code=village_code, reason=reason.strip(),
                   requested_by=requested_by, person_only=person_only)

    def approve(self, by: str) -> None:
        """The checker's approval: a second admin, never the one who asked; once."""
        if self.approved_by is not None:
            raise Conflict(f"erasure request {self.id} was approved already by {self.approved_by}",
                           rule="erasure.approved", request_id=str(self.id))
        if by == self.requested_by:
            raise NotYours("erasure.four_eyes", f"{by} asked for this erasure: another admin must approve it",
                               request_id=str(self.id), user=by)
        self._approved(by=by, household_id=self.household_id)

    @event("Approved")
    def _approved(self, by: str, household_id: uuid.UUID) -> None:  # the household: for its public event
        self.approved_by = by


# --- the region list --------------------------------------------------------------------------------------


class RegionList(Aggregate):
    """The official region list in force: its rows live in the ``regions`` table, written with these events."""

    ID = stable_id("regions", "kode-wilayah")

    @staticmethod
    def create_id() -> uuid.UUID:
        return RegionList.ID

    @event("Imported")
    def __init__(self, codes: int, sha256: str, source: str, imported_by: str) -> None:
        self.codes = codes

    @event("Reimported")
    def reimport(self, codes: int, sha256: str, source: str, imported_by: str) -> None:
        self.codes = codes


# Its events were first recorded under the application module's topic: those stored events still load.
register_topic("services.registry.application:RegionList", RegionList)
