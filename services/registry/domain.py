"""Registry domain: households (keluarga) and their members (anggota keluarga). Pure: no I/O.

Identifiers (NIK, KK, village code) are validated at the edge against the region table before they get here;
the aggregate enforces the rules that need no outside knowledge.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from eventsourcing.domain import Aggregate, event

from shared.errors import RuleViolated, ValidationFailed
from shared.keys import stable_id

HEAD_OF_HOUSEHOLD = "Kepala Keluarga"
BDT_STATUSES = ("active", "graduated", "removed")


@dataclass(frozen=True)
class Member:
    nik: str
    name: str
    sex: str
    birth_date: date
    relation: str
    marital_status: str = ""
    occupation: str = ""


class Household(Aggregate):
    @staticmethod
    def create_id(kk: str) -> uuid.UUID:
        # One household per KK number, by construction: registering a KK twice collides on the id.
        return stable_id("household", kk)

    @event("Registered")
    def __init__(
        self,
        kk: str,
        dtks_id: str,
        village_code: str,
        address: str,
        decile: int,
        members: list[Member],
        registered_by: str,
    ) -> None:
        check_decile(decile)
        check_members(kk, members)
        self.kk = kk
        self.dtks_id = dtks_id
        self.village_code = village_code
        self.address = address
        self.decile = decile
        self.members = list(members)
        self.bdt_status = "active"
        self.registered_by = registered_by


def check_decile(decile: int) -> None:
    if not isinstance(decile, int) or not 1 <= decile <= 10:
        raise ValidationFailed("decile", "decile.range", f"welfare decile must be 1–10, got {decile!r}")


def check_members(kk: str, members: list[Member]) -> None:
    if not members:
        raise RuleViolated("household.members", f"household {kk} has no members", kk=kk)
    heads = [m.nik for m in members if m.relation == HEAD_OF_HOUSEHOLD]
    if len(heads) != 1:
        raise RuleViolated(
            "household.one_head",
            f"household {kk} must have exactly one {HEAD_OF_HOUSEHOLD}, has {len(heads)}",
            kk=kk,
            heads=heads,
        )
    seen: set[str] = set()
    for member in members:
        if member.nik in seen:
            raise RuleViolated("nik.unique", f"NIK {member.nik} appears twice in household {kk}", kk=kk,
                               nik=member.nik)
        seen.add(member.nik)
