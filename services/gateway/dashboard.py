"""GET /api/v1/dashboard: the programme at a glance for the head of the office — per district (kecamatan), or per
village for a user of one district — merged from what each service knows of its own part: households and KUBE
groups (registry), proposals, money and overdue LPJ (grants), Family School completion (training).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.gateway.core import Call

DISTRICT_CODE = len("18.01.06")


def level_of(region: str) -> str:
    """Rows per district, unless the region is a district (or a village) already: then per village."""
    return "village" if len(region) >= DISTRICT_CODE else "district"


def area_of(village_code: str, level: str) -> str:
    return village_code if level == "village" else village_code[:DISTRICT_CODE]


class Area:
    def __init__(self, code: str) -> None:
        self.code = code
        self.households = self.approved_rp = self.disbursed_rp = self.lpj_overdue = self.visits_overdue = 0
        self.participants = self.completed = 0
        self.groups: Counter[str] = Counter()
        self.proposals: Counter[str] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "groups": dict(self.groups), "proposals": dict(self.proposals)}


def dashboard(c: Call) -> dict:
    region = c.region or ""
    level = level_of(region)
    areas: dict[str, Area] = {}

    def area(village_code: str) -> Area:
        code = area_of(village_code, level)
        return areas.setdefault(code, Area(code))

    for row in c.rpc("registry", "dashboard", region):
        here = area(row["village_code"])
        here.households += row["households"]
        here.groups.update(row["groups"])
    money = c.rpc("grants", "dashboard", region)
    for row in money["villages"]:
        here = area(row["village_code"])
        here.proposals.update(row["proposals"])
        here.approved_rp += row["approved_rp"]
        here.disbursed_rp += row["disbursed_rp"]
        here.lpj_overdue += row["lpj_overdue"]
        here.visits_overdue += row["visits_overdue"]
    for row in c.rpc("training", "dashboard", region):
        here = area(row["village_code"])
        here.participants += row["participants"]
        here.completed += row["completed"]
    return {"region": region, "level": level, "rows": [areas[code].as_dict() for code in sorted(areas)],
            "budgets": money["budgets"]}
