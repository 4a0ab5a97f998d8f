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


def bank_account(formed: upstream.GroupFormedV1) -> dict | None:
    """The group's account as the read model keeps it: registry's v2 carries it, v1 did not."""
    account = getattr(formed, "bank_account", None)
    return account.model_dump() if account else None


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
                case upstream.HouseholdRegisteredV1():
                    self._standings[data.kk] = HouseholdStanding(data.bdt_status, data.decile)
                case upstream.HouseholdStatusChangedV1():
                    self._standings[data.kk] = replace(self._standings[data.kk], bdt_status=data.bdt_status)
                case upstream.HouseholdDecileChangedV1():
                    self._standings[data.kk] = replace(self._standings[data.kk], decile=data.decile)
                case upstream.GroupFormedV1():
                    kube = self._kubes.get(str(data.group_id))
                    self._kubes[str(data.group_id)] = Kube(data.name, data.village_code,
                                                           kube.status if kube else "formed",
                                                           tuple(m.kk for m in data.members), bank_account(data))
                case upstream.GroupMemberChangedV1():
                    self._kube_is(data.group_id, kks=tuple(m.kk for m in data.members))
                case upstream.GroupFundedV1():
                    self._kube_is(data.group_id, status="funded")
                case upstream.GroupDissolvedV1():
                    self._kube_is(data.group_id, status="dissolved")
                case training.GateChangedV1():
                    self._gates[str(data.group_id)] = data.open
                case _:
                    raise TypeError(f"grants keeps nothing of {type(data).__name__} in memory")

    def _kube_is(self, group_id: uuid.UUID, **changes) -> None:
        self._kubes[str(group_id)] = replace(self._kubes[str(group_id)], **changes)

    def kube(self, group_id: str) -> Kube | None:
        return self._kubes.get(str(group_id))

    def open_proposals(self, group_id: str) -> list[str]:
        return sorted(str(p.id) for p in aggregates(self._app, Proposal)
                      if str(p.group_id) == str(group_id) and p.status not in CLOSED_PROPOSAL_STATUSES)

    def standings(self, kks: Sequence[str]) -> dict[str, HouseholdStanding]:
        return {kk: self._standings[kk] for kk in kks if kk in self._standings}

    def gate_open(self, group_id: uuid.UUID) -> bool:
        return self._gates.get(str(group_id), False)

    def ledger_head(self) -> LedgerHead:
        ledger = self._app.recorder.ledger
        return LedgerHead(len(ledger), ledger[-1][-1]) if ledger else LedgerHead(0, GENESIS)
