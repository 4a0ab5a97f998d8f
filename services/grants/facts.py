"""What grants' commands read before they decide, besides their own aggregates: the KUBE as registry last said,
its households' standing, its Family School gate, its proposals in progress, and the money ledger's head.

``GrantsFacts`` is the port; ``SqlGrantsFacts`` answers from the read model in PostgreSQL (what the service runs
on). An application test may give the application another implementation (tests/support/memory/grants.py keeps
one in memory, on the library's POPO persistence); tests/integration/test_facts.py holds both to the same answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from services.grants.readmodel import OPEN_PROPOSAL
from shared.ledger import GENESIS


@dataclass(frozen=True)
class Kube:
    """A KUBE as grants knows it from registry's events."""

    name: str
    village_code: str
    status: str
    kks: tuple[str, ...]  # its member households
    bank_account: dict | None = None  # the group's own account (bank, number, holder); None if formed before v2


@dataclass(frozen=True)
class HouseholdStanding:
    bdt_status: str
    decile: int


@dataclass(frozen=True)
class LedgerHead:
    seq: int
    hash: str


class GrantsFacts(Protocol):
    def kube(self, group_id: str) -> Kube | None: ...

    def open_proposals(self, group_id: str) -> list[str]:
        """The group's proposals in progress (not rejected, not cancelled), as ids."""
        ...

    def standings(self, kks: Sequence[str]) -> dict[str, HouseholdStanding]:
        """The households' standing in BDT, for those grants knows."""
        ...

    def gate_open(self, group_id: uuid.UUID) -> bool:
        """Whether training has opened the group's Family School gate (what paying a second tranche needs)."""
        ...

    def ledger_head(self) -> LedgerHead: ...


class SqlGrantsFacts:
    """The facts from grants' read model, through the application's connection pool."""

    def __init__(self, app) -> None:
        self._query = app.query

    def kube(self, group_id: str) -> Kube | None:
        rows = self._query("SELECT name, village_code, status, members, bank_account FROM groups "
                           "WHERE group_id = %s", (group_id,))
        if not rows:
            return None
        row = rows[0]
        return Kube(row["name"], row["village_code"], row["status"], tuple(m["kk"] for m in row["members"]),
                    row["bank_account"])

    def open_proposals(self, group_id: str) -> list[str]:
        return [str(row["proposal_id"]) for row in self._query(
            f"SELECT proposal_id FROM proposals WHERE group_id = %s AND {OPEN_PROPOSAL} ORDER BY proposal_id",
            (group_id,))]

    def standings(self, kks: Sequence[str]) -> dict[str, HouseholdStanding]:
        return {row["kk"]: HouseholdStanding(row["bdt_status"], row["decile"]) for row in self._query(
            "SELECT kk, bdt_status, decile FROM households WHERE kk = ANY(%s)", (list(kks),))}

    def gate_open(self, group_id: uuid.UUID) -> bool:
        rows = self._query("SELECT open FROM family_school_gates WHERE group_id = %s", (group_id,))
        return bool(rows and rows[0]["open"])

    def ledger_head(self) -> LedgerHead:
        rows = self._query("SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")
        return LedgerHead(rows[0]["seq"], rows[0]["entry_hash"]) if rows else LedgerHead(0, GENESIS)
