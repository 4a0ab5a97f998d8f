"""Who acts in registry's application tests, the region table they run on and the commands they give: one cast for
the tests in memory (tests/unit/test_registry_application.py) and for the contract of registry's facts
(tests/integration/test_facts.py)."""

from __future__ import annotations

from services.registry.commands import FormGroup, ImportHouseholds, ImportRegions, RegisterHousehold
from shared.actor import Actor
from tests.support.households import VILLAGE, group_body, household_body

OTHER_VILLAGE = "18.02.01.2001"  # in another regency, Lampung Tengah
REGIONS = [("18", "Lampung", 1), ("18.01", "Lampung Selatan", 2), ("18.01.06", "Kalianda", 3),
           (VILLAGE, "Jondong", 4), ("18.02", "Lampung Tengah", 2), ("18.02.01", "Padang Ratu", 3),
           (OTHER_VILLAGE, "Haduyang Ratu", 4)]

ADMIN = Actor("admin", "admin", "")
OP = Actor("op1", "operator", "18.01")
OP_OTHER = Actor("op9", "operator", "18.02")

IMPORT_REGIONS = ImportRegions(actor=ADMIN, source="tests",
                               rows=[{"code": code, "name": name, "level": level} for code, name, level in REGIONS])


def household(number: int, village: str = VILLAGE, actor: Actor = OP, **changes) -> RegisterHousehold:
    """Household ``number``: a woman head (a KUBE's representative) and her son; KK and NIKs unique per number."""
    return RegisterHousehold.model_validate({**household_body(number, village), "actor": actor, **changes})


def an_import(*registrations: RegisterHousehold, actor: Actor = OP) -> ImportHouseholds:
    """These households as one batch of a file, imported by ``actor``."""
    return ImportHouseholds.model_validate({"actor": actor, "households": [
        registration.model_dump(exclude={"actor"}) for registration in registrations]})


def formation(name: str, members: list[RegisterHousehold]) -> FormGroup:
    """A women's KUBE of these households in Jondong, their heads its representatives, the first three its roles."""
    return FormGroup.model_validate({**group_body(name, [c.model_dump() for c in members]), "actor": OP})
