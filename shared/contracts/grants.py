"""Public events of the grants service."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from shared.contracts import EventData, contract

BudgetSource = Literal["APBN", "APBD-provinsi", "APBD-kabupaten"]


@contract("grants.budget.ceiling_set", 1)
class BudgetCeilingSetV1(EventData):
    """The ministry set (or changed) the budget ceiling (pagu) of a fiscal year and source."""

    budget_id: uuid.UUID
    fiscal_year: int = Field(ge=2000, le=2100)
    source: BudgetSource
    ceiling_rp: int = Field(ge=0, description="integer rupiah")
    set_by: str
