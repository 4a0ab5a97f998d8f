"""Registry commands as they arrive at the edge (RPC or HTTP), validated for shape before the domain sees them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RELATIONS = (
    "Kepala Keluarga", "Istri", "Suami", "Anak", "Menantu", "Cucu", "Orang Tua", "Mertua", "Famili Lain", "Lainnya",
)


class MemberIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    nik: str = Field(pattern=r"^\d{16}$")
    name: str = Field(min_length=1, max_length=200)
    sex: Literal["L", "P"]
    birth_date: date
    relation: Literal[RELATIONS]  # type: ignore[valid-type]
    marital_status: str = ""
    occupation: str = ""


class RegisterHousehold(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    kk: str = Field(pattern=r"^\d{16}$")
    dtks_id: str = Field(min_length=1, max_length=64)
    village_code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
    address: str = ""
    decile: int = Field(ge=1, le=10)
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    registered_by: str = Field(min_length=1, max_length=100)
