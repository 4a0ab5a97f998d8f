"""What training's commands read before they decide, besides their own aggregates: a person as registry last said,
a KUBE's representatives, who already holds a certificate, and the next certificate number.

``TrainingFacts`` is the port; ``SqlTrainingFacts`` answers from the read model in PostgreSQL (what the service runs
on). An application test may give the application another implementation (tests/support/memory/training.py keeps
one in memory, on the library's POPO persistence), and tests/integration/test_facts.py holds both to the same
answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Person:
    """A person as training knows them from registry's events: where they live, and whether they still do."""

    village_code: str
    status: str  # active, or left (died, moved out, household removed from BDT)


class TrainingFacts(Protocol):
    def person(self, person_id: str) -> Person | None: ...

    def representatives(self, group_id: uuid.UUID) -> frozenset[str]:
        """The person ids representing the KUBE's households, as registry last said (none for a KUBE not heard
        of)."""
        ...

    def certified(self, people: Collection[str]) -> set[str]:
        """Those of ``people`` (person ids) who hold a certificate, of any cohort."""
        ...

    def certificate_serial(self) -> int:
        """The next certificate serial: never given twice (a command that fails burns the one it took)."""
        ...


class SqlTrainingFacts:
    """The facts from training's read model, through the application's connection pool."""

    def __init__(self, app) -> None:
        self._query = app.query

    def person(self, person_id: str) -> Person | None:
        rows = self._query("SELECT village_code, status FROM individuals WHERE person_id = %s", (person_id,))
        return Person(rows[0]["village_code"], rows[0]["status"]) if rows else None

    def representatives(self, group_id: uuid.UUID) -> frozenset[str]:
        rows = self._query("SELECT members FROM groups WHERE group_id = %s", (group_id,))
        return frozenset(member["representative_id"] for member in rows[0]["members"]) if rows else frozenset()

    def certified(self, people: Collection[str]) -> set[str]:
        return {row["person_id"] for row in self._query(
            "SELECT person_id::text FROM participants WHERE status = 'completed' AND person_id = ANY(%s::uuid[])",
            (list(people),))}

    def certificate_serial(self) -> int:
        return self._query("SELECT nextval('certificate_serial') AS serial")[0]["serial"]
