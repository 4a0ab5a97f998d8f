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
        self._kks: dict[str, str] = {}  # nik → the household registry last put them in
        self._representatives: dict[str, frozenset[str]] = {}
        # The database's certificate_serial sequence: 1, 2, 3, … in this process.
        self._serials = itertools.count(1)

    def project(self, *events: EventData) -> None:
        """What training's read model keeps of registry's events, as its projections do."""
        for data in events:
            match data:
                case upstream.HouseholdRegisteredV1():
                    for member in data.members:
                        self._registered(member, data.kk, data.village_code)
                case upstream.HouseholdMemberAddedV1():
                    self._registered(data.member, data.kk, data.village_code)
                case upstream.HouseholdMemberRemovedV1():
                    if self._kks.get(data.nik) == data.kk:
                        self._left(data.nik)
                case upstream.HouseholdMemberCorrectedV1():
                    if data.member.nik in self._people:
                        self._people[data.member.nik] = replace(self._people[data.member.nik], name=data.member.name)
                case upstream.HouseholdStatusChangedV1():
                    if data.bdt_status == "removed":
                        for nik in [nik for nik, kk in self._kks.items() if kk == data.kk]:
                            self._left(nik)
                case upstream.GroupFormedV1() | upstream.GroupMemberChangedV1():
                    self._representatives[str(data.group_id)] = frozenset(m.representative_nik for m in data.members)
                case _:
                    raise TypeError(f"training keeps nothing of {type(data).__name__} in memory")

    def _registered(self, member: upstream.MemberV1, kk: str, village_code: str) -> None:
        self._people[member.nik] = Person(member.name, village_code, "active")
        self._kks[member.nik] = kk

    def _left(self, nik: str) -> None:
        self._people[nik] = replace(self._people[nik], status="left")

    def person(self, nik: str) -> Person | None:
        return self._people.get(nik)

    def representatives(self, group_id: uuid.UUID) -> frozenset[str]:
        return self._representatives.get(str(group_id), frozenset())

    def certified(self, niks: Collection[str]) -> set[str]:
        return {nik for cohort in aggregates(self._app, Cohort) for nik, participant in cohort.participants.items()
                if participant["status"] == "completed" and nik in niks}

    def certificate_serial(self) -> int:
        return next(self._serials)



def enrolled_on_approval(app, group_id: uuid.UUID, cohort_id: str) -> None:
    """What training does when grants approves a KUBE's proposal (``readmodel.on_proposal_approved``, a projection on
    SQL): the KUBE's representatives still in the registry enrolled in the cohort, for their group, and its gate
    counted. Here, on the in-memory application, for the cohort named."""
    cohort = app._cohort(cohort_id)
    for nik in sorted(app.facts.representatives(group_id)):
        person = app.facts.person(nik)
        if person is not None and person.status == "active":
            cohort.enrol(nik, person.name, group_id, "otomatis (hibah disetujui)")
    app.record(cohort, *app._gates({group_id}, None, ReadModelWrites()))
