"""Public events of the registry service."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts import EventData, contract

Sex = Literal["L", "P"]
BdtStatus = Literal["active", "graduated", "removed"]


class MemberV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    nik: str = Field(pattern=r"^\d{16}$")
    name: str
    sex: Sex
    birth_date: date
    relation: str


@contract("registry.household.registered", 1)
class HouseholdRegisteredV1(EventData):
    """A household entered the registry with its members (names travel: training lists participants)."""

    household_id: uuid.UUID
    kk: str = Field(pattern=r"^\d{16}$")
    dtks_id: str
    village_code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
    decile: int = Field(ge=1, le=10)
    bdt_status: BdtStatus
    members: list[MemberV1]
    registered_by: str
