"""RegistryFacts in memory (the port: services/registry/facts.py).

Registry's commands read only registry's own facts, so every answer comes from the application's in-memory log —
its households and KUBEs as they stand now (grants' approval, registry's one upstream event, marks a KUBE funded
through the consumer's handler, which records on the group itself). The one exception is the region table: its
rows live in the ``regions`` table only (the region list's events keep their count and digest), so a test gives
them (:meth:`MemoryRegistryFacts.given_regions`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.registry.domain import Group, Household, RegionList
from services.registry.facts import HouseholdStanding, Person, no_region_table
from services.registry.readmodel import registration_fingerprint
from shared.jsonable import jsonable
from shared.regions import RegionTable
from tests.support.memory import aggregates


class MemoryRegistryFacts:
    def __init__(self, app) -> None:
        self._app = app
        self._regions: RegionTable | None = None

    def given_regions(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """The rows of the ``regions`` table, which ``import_regions`` writes in SQL only: give the rows a test
        imports (or will import). As in SQL, the table is in force once the log holds a region list."""
        self._regions = RegionTable(rows)

    def regions(self) -> RegionTable:
        if not self._app.recorder.select_events(RegionList.ID, limit=1):
            raise no_region_table()
        if self._regions is None:
            raise RuntimeError("a region list was imported in memory: give its rows with given_regions(rows)")
        return self._regions

    def registrations(self, kks: Sequence[str]) -> dict[str, str]:
        registered = {}
        for kk in kks:
            household_id = self._household_id(kk)
            if household_id is None:
                continue
            # The data as registered (version 1: the Registered event), as the read model fingerprinted it.
            household = self._app.repository.get(household_id, version=1)
            registered[kk] = registration_fingerprint({
                "kk": household.kk, "dtks_id": household.dtks_id, "village_code": household.village_code,
                "address": household.address, "decile": household.decile,
                "members": [{k: v for k, v in m.items() if k != "person_id"} for m in jsonable(household.members)]})
        return registered

    def household_id(self, kk: str) -> str | None:
        found = self._household_id(kk)
        return None if found is None else str(found)

    def _household_id(self, kk: str):
        return next((h.id for h in aggregates(self._app, Household) if h.kk == kk), None)

    def people(self, niks: Sequence[str]) -> dict[str, Person]:
        wanted = set(niks)
        return {member.nik: Person(household.kk, household.village_code, member)
                for household in aggregates(self._app, Household) for member in household.members
                if member.nik in wanted}

    def households(self, kks: Sequence[str]) -> dict[str, HouseholdStanding]:
        wanted = set(kks)
        active_group = {member.kk: group.name for group in aggregates(self._app, Group) if group.is_active
                        for member in group.members}
        return {h.kk: HouseholdStanding(h.kk, str(h.id), h.village_code, h.bdt_status, h.decile, active_group.get(h.kk))
                for h in aggregates(self._app, Household) if h.kk in wanted}

