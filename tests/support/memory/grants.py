"""GrantsFacts in memory (the port: services/grants/facts.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from services.grants.domain import Proposal
from services.grants.facts import HouseholdStanding, Kube, LedgerHead
from services.grants.readmodel import CLOSED_PROPOSAL_STATUSES
from shared.contracts import EventData, training
from shared.contracts import registry as upstream
from shared.ledger import GENESIS
from tests.support.memory import aggregates


class MemoryGrantsFacts:
    def __init__(self, app) -> None:
        self._app = app
        self._kubes: dict[str, Kube] = {}
        self._standings: dict[str, HouseholdStanding] = {}
        self._gates: dict[str, bool] = {}

    def project(self, *events: EventData) -> None:
        """What grants' read model keeps of registry's and training's events, as its projections do."""
        for data in events:
            match data:
                case upstream.HouseholdRegisteredV2():
                    self._standings[str(data.household_id)] = HouseholdStanding(data.bdt_status, data.decile)
                case upstream.HouseholdStatusChangedV2():
                    self._standing_is(data.household_id, bdt_status=data.bdt_status)
                case upstream.HouseholdDecileChangedV2():
                    self._standing_is(data.household_id, decile=data.decile)
                case upstream.GroupFormedV2():
                    kube = self._kubes.get(str(data.group_id))
                    self._kubes[str(data.group_id)] = Kube(data.name, data.village_code,
                                                           kube.status if kube else "formed",
                                                           tuple(str(m.household_id) for m in data.members),
                                                           data.bank_account.model_dump())
                case upstream.GroupMemberChangedV2():
                    self._kube_is(data.group_id, households=tuple(str(m.household_id) for m in data.members))
                case upstream.GroupFundedV1():
                    self._kube_is(data.group_id, status="funded")
                case upstream.GroupDissolvedV1():
                    self._kube_is(data.group_id, status="dissolved")
                case training.GateChangedV1():
                    self._gates[str(data.group_id)] = data.open
                case _:
                    raise TypeError(f"grants keeps nothing of {type(data).__name__} in memory")

    def _standing_is(self, household_id: uuid.UUID, **changes) -> None:
        self._standings[str(household_id)] = replace(self._standings[str(household_id)], **changes)

    def _kube_is(self, group_id: uuid.UUID, **changes) -> None:
        self._kubes[str(group_id)] = replace(self._kubes[str(group_id)], **changes)

    def kube(self, group_id: str) -> Kube | None:
        return self._kubes.get(str(group_id))

    def open_proposals(self, group_id: str) -> list[str]:
        return sorted(str(p.id) for p in aggregates(self._app, Proposal)
                      if str(p.group_id) == str(group_id) and p.status not in CLOSED_PROPOSAL_STATUSES)

    def standings(self, household_ids: Sequence[str]) -> dict[str, HouseholdStanding]:
        return {h: self._standings[h] for h in household_ids if h in self._standings}

    def gate_open(self, group_id: uuid.UUID) -> bool:
        return self._gates.get(str(group_id), False)

    def ledger_head(self) -> LedgerHead:
        ledger = self._app.recorder.ledger
        return LedgerHead(len(ledger), ledger[-1][-1]) if ledger else LedgerHead(0, GENESIS)
