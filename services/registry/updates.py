"""A newer DTSEN/DTKS file against the registry: what changed in a known household, and which changes wait for a
person. Pure: no I/O.

:func:`differences` compares a household with its listing in the file and names each change as one of
``CHANGE_KINDS``, in the order they can be applied (a leaver before a newcomer, so that a new head may arrive;
the household's own attributes last). :func:`held_because` says which changes touch money — those of a household
in an active (proposed or funded) KUBE that would end its eligibility: its removal or graduation, a decile above
the limit, its representative leaving — and so are held for a person to confirm; everything else applies at once.

A held change (:class:`HeldChange`) records ids and non-identifying values only (a decile, a status, a person's
id): the review queue needs no sealing, and confirming it applies the change to the household as it is then.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from eventsourcing.domain import Aggregate, event

from services.registry.domain import CORRECTABLE_FIELDS, Household, KubeRules, Member
from shared.errors import Conflict
from shared.keys import stable_id
from shared.vocabulary import HEAD_OF_HOUSEHOLD

CHANGE_KINDS = ("member_removed", "member_added", "member_corrected", "household_moved", "decile_changed",
                "status_changed")
REMOVAL_REASONS = ("deceased", "moved", "duplicate")  # why the file removes a household
REVIEW_DECISIONS = ("confirmed", "rejected")


@dataclass(frozen=True)
class Listing:
    """A household as the file lists it."""

    kk: str
    village_code: str
    address: str
    decile: int
    status: str
    status_reason: str
    members: tuple[Member, ...]


@dataclass(frozen=True)
class Change:
    kind: str
    nik: str | None = None  # the member changed (member_*)
    member: Member | None = None  # a newcomer (member_added)
    fields: dict = field(default_factory=dict)  # member_corrected: field → new value
    new_head_nik: str | None = None  # member_removed: the head leaves, this member heads the household now
    decile: int | None = None
    status: str | None = None
    status_reason: str = ""
    village_code: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Source:
    """The file a change comes from: what the audit trail names."""

    name: str
    file_date: date
    sha256: str

    def says(self) -> str:
        return f"DTSEN {self.name} ({self.file_date.isoformat()}, sha256 {self.sha256[:12]})"


def differences(household: Household, listing: Listing) -> list[Change]:
    """The changes that make ``household`` what ``listing`` says, in applicable order (CHANGE_KINDS)."""
    known = {m.nik: m for m in household.members}
    listed = {m.nik: m for m in listing.members}
    new_head = next((m.nik for m in listing.members if m.relation == HEAD_OF_HOUSEHOLD), None)
    changes: list[Change] = []
    for nik, member in known.items():
        if nik not in listed:
            heir = new_head if member.relation == HEAD_OF_HOUSEHOLD and new_head in known else None
            changes.append(Change("member_removed", nik=nik, new_head_nik=heir))
    heir = next((c.new_head_nik for c in changes if c.new_head_nik), None)
    changes += [Change("member_added", nik=nik, member=m) for nik, m in listed.items() if nik not in known]
    for nik, member in listed.items():
        if nik in known:
            fields = {name: getattr(member, name) for name in CORRECTABLE_FIELDS
                      if getattr(member, name) != getattr(known[nik], name)}
            if nik == heir:
                fields.pop("relation", None)  # the removal of the old head makes them head
            if fields:
                changes.append(Change("member_corrected", nik=nik, fields=fields))
    if (listing.village_code, listing.address) != (household.village_code, household.address):
        changes.append(Change("household_moved", village_code=listing.village_code, address=listing.address))
    if listing.decile != household.decile:
        changes.append(Change("decile_changed", decile=listing.decile))
    if listing.status != household.bdt_status:
        changes.append(Change("status_changed", status=listing.status, status_reason=listing.status_reason))
    return changes


@dataclass(frozen=True)
class KubeStanding:
    """The household's place in an active KUBE, if any."""

    group: str | None  # the group's name
    representative_nik: str | None


def held_because(change: Change, standing: KubeStanding, rules: KubeRules) -> str | None:
    """Why ``change`` waits for a person (a rule name), or None: it applies at once."""
    if standing.group is None:
        return None
    if change.kind == "status_changed" and change.status != "active":
        return "kube.bdt_active"
    if change.kind == "decile_changed" and change.decile > rules.max_decile:
        return "kube.decile"
    if change.kind == "member_removed" and change.nik == standing.representative_nik:
        return "kube.representative_left"
    return None


class HeldChange(Aggregate):
    """A change from a file, held for a person: confirmed (then applied) or rejected (nothing changes), once.

    Its id is derived from the file, the household and the change: the same file imported again holds nothing twice.
    """

    @staticmethod
    def create_id(sha256: str, household_id: uuid.UUID, kind: str, detail: dict) -> uuid.UUID:
        return stable_id("bdt-held", sha256, household_id, kind, *sorted(detail.items()))

    @event("Held")
    def __init__(self, sha256: str, household_id: uuid.UUID, kind: str, detail: dict, rule: str, file_name: str,
                 file_date: date, village_code: str, by: str) -> None:
        self.household_id = household_id
        self.kind = kind
        self.detail = dict(detail)  # ids and non-identifying values only (see held_detail)
        self.rule = rule
        self.file_name = file_name
        self.file_date = file_date
        self.sha256 = sha256
        self.village_code = village_code
        self.decision: str | None = None

    def decide(self, decision: str, by: str) -> None:
        if self.decision is not None:
            raise Conflict(f"this change was {self.decision} already", rule="bdt.review_decided",
                           change_id=str(self.id))
        self._decided(decision=decision, by=by, household_id=self.household_id)

    @event("Decided")
    def _decided(self, decision: str, by: str, household_id: uuid.UUID) -> None:
        self.decision = decision


def held_detail(change: Change, household: Household) -> dict:
    """What a held change keeps: a decile, a status and why, or the leaver's id (and the new head's) — never a NIK."""
    if change.kind == "decile_changed":
        return {"decile": change.decile}
    if change.kind == "status_changed":
        return {"status": change.status, "reason": change.status_reason}
    leaver = household.member(change.nik)
    heir = household.member(change.new_head_nik).id if change.new_head_nik else None
    return {"person_id": str(leaver.id), "new_head_id": str(heir) if heir else None}


def change_of(kind: str, detail: dict, household: Household) -> Change:
    """The held change as the household is now (its members found by their ids)."""
    if kind == "decile_changed":
        return Change(kind, decile=detail["decile"])
    if kind == "status_changed":
        return Change(kind, status=detail["status"], status_reason=detail["reason"])
    by_id = {str(m.id): m.nik for m in household.members}
    if detail["person_id"] not in by_id:
        raise Conflict("the member left the household already", rule="bdt.review_stale")
    return Change(kind, nik=by_id[detail["person_id"]], new_head_nik=by_id.get(detail["new_head_id"] or ""))


def apply(household: Household, change: Change, source: Source, by: str) -> None:
    """One change as the household's own event; the domain's rules hold as for a change at the desk."""
    if change.kind == "member_removed":
        household.remove_member(change.nik, reason="other", by=by, new_head_nik=change.new_head_nik)
    elif change.kind == "member_added":
        household.add_member(change.member, reason="other", by=by)
    elif change.kind == "member_corrected":
        household.correct_member(change.nik, change.fields, reason=source.says(), by=by)
    elif change.kind == "household_moved":
        household.move(change.village_code, change.address, reason=source.says(), by=by)
    elif change.kind == "decile_changed":
        household.change_decile(change.decile, by=by)
    else:
        why = f"{change.status_reason}: {source.says()}" if change.status_reason else source.says()
        household.change_status(change.status, reason=why, by=by)


class BdtFile(Aggregate):
    """A DTSEN/DTKS file as the registry applied it: the audit trail from the file (name, date, SHA-256) to each
    household it changed and how. One per file (its id from the SHA-256); an ``Applied`` event per batch."""

    @staticmethod
    def create_id(sha256: str) -> uuid.UUID:
        return stable_id("bdt-file", sha256)

    @event("Received")
    def __init__(self, sha256: str, name: str, file_date: date) -> None:
        self.sha256 = sha256

    @event("Applied")
    def applied(self, changes: dict[str, list[str]], held: dict[str, list[str]], by: str) -> None:
        """``changes`` and ``held``: household id → the kinds of change applied, and held, in this batch."""
