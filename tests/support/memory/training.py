"""TrainingFacts in memory (the port: services/training/facts.py)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Collection
from dataclasses import replace

from services.training.domain import Cohort
from services.training.facts import Person
from shared.contracts import EventData
from shared.contracts import registry as upstream
from shared.store import ReadModelWrites
from tests.support.memory import aggregates


class MemoryTrainingFacts:
    def __init__(self, app) -> None:
        self._app = app
        self._people: dict[str, Person] = {}
        self._households: dict[str, str] = {}  # person id → the household registry last put them in
        self._representatives: dict[str, frozenset[str]] = {}
        # The database's certificate_serial sequence: 1, 2, 3, … in this process.
        self._serials = itertools.count(1)

    def project(self, *events: EventData) -> None:
        """What training's read model keeps of registry's events, as its projections do."""
        for data in events:
            match data:
                case upstream.HouseholdRegisteredV2():
                    for member in data.members:
                        self._registered(member, data.household_id, data.village_code)
                case upstream.HouseholdMemberAddedV2():
                    self._registered(data.member, data.household_id, data.village_code)
                case upstream.HouseholdMemberRemovedV2():
                    self._left(str(data.person_id))
                case upstream.HouseholdMemberCorrectedV2():
                    pass  # training keeps nothing a correction changes that a command reads
                case upstream.HouseholdStatusChangedV2():
                    if data.bdt_status == "removed":
                        for person_id, household_id in self._households.items():
                            if household_id == str(data.household_id):
                                self._left(person_id)
                case upstream.GroupFormedV2() | upstream.GroupMemberChangedV2():
                    self._representatives[str(data.group_id)] = frozenset(str(m.representative_id)
                                                                          for m in data.members)
                case _:
                    raise TypeError(f"training keeps nothing of {type(data).__name__} in memory")

    def _registered(self, member: upstream.MemberV2, household_id: uuid.UUID, village_code: str) -> None:
        self._people[str(member.person_id)] = Person(village_code, "active")
        self._households[str(member.person_id)] = str(household_id)

    def _left(self, person_id: str) -> None:
        self._people[person_id] = replace(self._people[person_id], status="left")

    def person(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def representatives(self, group_id: uuid.UUID) -> frozenset[str]:
        return self._representatives.get(str(group_id), frozenset())

    def certified(self, people: Collection[str]) -> set[str]:
        return {person_id for cohort in aggregates(self._app, Cohort)
                for person_id, participant in cohort.participants.items()
                if participant["status"] == "completed" and person_id in people}

    def certificate_serial(self) -> int:
        return next(self._serials)



def enrolled_on_approval(app, group_id: uuid.UUID, cohort_id: str) -> None:
    """What training does when grants approves a KUBE's proposal (``readmodel.on_proposal_approved``, a projection on
    SQL): the KUBE's representatives still in the registry enrolled in the cohort, for their group, and its gate
    counted. Here, on the in-memory application, for the cohort named."""
    cohort = app._cohort(cohort_id)
    for person_id in sorted(app.facts.representatives(group_id)):
        person = app.facts.person(person_id)
        if person is not None and person.status == "active":
            cohort.enrol(person_id, group_id, "otomatis (hibah disetujui)")
    app.record(cohort, *app._gates({group_id}, None, ReadModelWrites()))
