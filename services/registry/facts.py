"""What registry's commands read before they decide, besides the aggregate they change: the region table in force,
which KKs are registered (with their registration's fingerprint), who holds a NIK, and a household as the KUBE
rules see it (its standing and its active KUBE).

``RegistryFacts`` is the port; ``SqlRegistryFacts`` answers from the read model in PostgreSQL (what the service runs
on). An application test may give the application another implementation (tests/support/memory/registry.py keeps
one in memory, on the library's POPO persistence), and tests/integration/test_facts.py holds both to the same
answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.registry.domain import Candidate, Member, RegionList
from shared.errors import Conflict
from shared.regions import RegionTable

# A household as the KUBE rules see it: with the name of its active group, if any.
CANDIDATE_HOUSEHOLDS = """
    SELECT h.kk, h.household_id::text, h.village_code, h.bdt_status, h.decile, g.name AS active_group
    FROM households h LEFT JOIN group_members gm ON gm.kk = h.kk LEFT JOIN groups g ON g.group_id = gm.group_id"""
MEMBER_FIELDS = ("nik", "name", "sex", "birth_date", "relation", "marital_status", "occupation", "person_id")


@dataclass(frozen=True)
class Person:
    """A registered person, with their household's KK and village."""

    kk: str
    village_code: str
    member: Member


@dataclass(frozen=True)
class HouseholdStanding:
    """A registered household as the KUBE rules see it."""

    kk: str
    household_id: str
    village_code: str
    bdt_status: str
    decile: int
    active_group: str | None  # the name of its active KUBE, if any

    def candidate(self, representative: Member | None) -> Candidate:
        return Candidate(kk=self.kk, village_code=self.village_code, bdt_status=self.bdt_status, decile=self.decile,
                         representative=representative, active_group=self.active_group)


class RegistryFacts(Protocol):
    def regions(self) -> RegionTable:
        """The region table in force; refused (``regions.missing``) until one was imported."""
        ...

    def registrations(self, kks: Sequence[str]) -> dict[str, str]:
        """KK → the fingerprint of its registration's data (``readmodel.fingerprint``), for the KKs registered."""
        ...

    def people(self, niks: Sequence[str]) -> dict[str, Person]:
        """NIK → the person holding it now, for the NIKs registered."""
        ...

    def households(self, kks: Sequence[str]) -> dict[str, HouseholdStanding]:
        """KK → the household's standing, for the KKs registered."""
        ...

    def household_id(self, kk: str) -> str | None:
        """The id of the household registered with this KK (the registry's own lookup: ids are random)."""
        ...


def no_region_table() -> Conflict:
    return Conflict("no region table yet: import the official list first (berdaya regions import FILE)",
                    rule="regions.missing")


def member_of(row: dict) -> Member:
    return Member(**{field: row[field] for field in MEMBER_FIELDS})


def standing_of(row: dict) -> HouseholdStanding:
    """A row of ``CANDIDATE_HOUSEHOLDS`` as the KUBE rules see it."""
    return HouseholdStanding(row["kk"], row["household_id"], row["village_code"], row["bdt_status"], row["decile"],
                             row["active_group"])


class SqlRegistryFacts:
    """The facts from registry's read model, through the application's connection pool."""

    def __init__(self, app) -> None:
        self._query = app.query
        self._events_table = app.recorder.events_table_name
        self._regions: tuple[int, RegionTable] | None = None

    def regions(self) -> RegionTable:
        # Cached; reloaded when another replica imported a new table (the region list's version moved).
        version = self._query(f"SELECT max(originator_version) AS version FROM {self._events_table} "
                              "WHERE originator_id = %s", (RegionList.ID,))[0]["version"]
        if version is None:
            raise no_region_table()
        if self._regions is None or self._regions[0] != version:
            rows = self._query("SELECT code, name, level FROM regions")
            self._regions = (version, RegionTable((r["code"], r["name"], r["level"]) for r in rows))
        return self._regions[1]

    def registrations(self, kks: Sequence[str]) -> dict[str, str]:
        return {row["kk"]: row["fingerprint"] for row in self._query(
            "SELECT kk, fingerprint FROM households WHERE kk = ANY(%s)", (list(kks),))}

    def people(self, niks: Sequence[str]) -> dict[str, Person]:
        return {row["nik"]: Person(row["kk"], row["village_code"], member_of(row)) for row in self._query(
            f"SELECT kk, village_code, {', '.join(MEMBER_FIELDS)} FROM individuals WHERE nik = ANY(%s)",
            (list(niks),))}

    def households(self, kks: Sequence[str]) -> dict[str, HouseholdStanding]:
        return {row["kk"]: standing_of(row) for row in self._query(CANDIDATE_HOUSEHOLDS + " WHERE h.kk = ANY(%s)",
                                                                  (list(kks),))}

    def household_id(self, kk: str) -> str | None:
        rows = self._query("SELECT household_id::text FROM households WHERE kk = %s", (kk,))
        return rows[0]["household_id"] if rows else None
