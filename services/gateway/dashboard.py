"""GET /api/v1/dashboard: the programme at a glance for the head of the office — per district (kecamatan), or per
village for a user of one district — merged from what each service knows of its own part: households and KUBE
groups and grievances — recorded, open, overdue, resolved and the mean days to resolve one (registry), proposals,
money and overdue LPJ (grants), Family School completion (training).
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
        self.grievances = self.grievances_open = self.grievances_overdue = self.grievances_resolved = 0
        self.days_to_resolve = 0  # summed over the resolved ones; shown as their mean
        self.groups: Counter[str] = Counter()
        self.proposals: Counter[str] = Counter()

    def as_dict(self) -> dict[str, Any]:
        fields = {k: v for k, v in vars(self).items() if k != "days_to_resolve"}
        mean = round(self.days_to_resolve / self.grievances_resolved, 1) if self.grievances_resolved else None
        return {**fields, "groups": dict(self.groups), "proposals": dict(self.proposals),
                "grievance_days_to_resolve": mean}


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
    for row in c.rpc("registry", "grievance_counts", region):
        here = area(row["village_code"])
        here.grievances += row["recorded"]
        here.grievances_open += row["open"]
        here.grievances_overdue += row["overdue"]
        here.grievances_resolved += row["resolved"]
        here.days_to_resolve += row["days_to_resolve"]
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
