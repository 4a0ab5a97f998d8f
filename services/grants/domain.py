"""Grants domain: budget ceilings (pagu) per fiscal year and source. Pure: no I/O. Amounts are integer rupiah."""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate, event

from shared.errors import ValidationFailed
from shared.keys import stable_id

BUDGET_SOURCES = ("APBN", "APBD-provinsi", "APBD-kabupaten")


class Budget(Aggregate):
    @staticmethod
    def create_id(fiscal_year: int, source: str) -> uuid.UUID:
        return stable_id("budget", fiscal_year, source)

    @event("Opened")
    def __init__(self, fiscal_year: int, source: str, ceiling_rp: int, set_by: str) -> None:
        check_source(source)
        check_rupiah("ceiling_rp", ceiling_rp)
        self.fiscal_year = fiscal_year
        self.source = source
        self.ceiling_rp = ceiling_rp
        self.set_by = set_by

    @event("CeilingSet")
    def set_ceiling(self, ceiling_rp: int, set_by: str) -> None:
        check_rupiah("ceiling_rp", ceiling_rp)
        self.ceiling_rp = ceiling_rp
        self.set_by = set_by


def check_source(source: str) -> None:
    if source not in BUDGET_SOURCES:
        raise ValidationFailed("source", "budget.source", f"budget source must be one of {BUDGET_SOURCES}: {source!r}")


def check_rupiah(field: str, amount: int) -> None:
    # bool is an int in Python: refuse it explicitly, money is never True.
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValidationFailed(field, "rupiah.non_negative_integer", f"{field} must be whole rupiah ≥ 0: {amount!r}")
