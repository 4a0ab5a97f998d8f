"""Monitoring a funded KUBE: when its visits are due, and the ministry's stage a visit places it in — pure rules,
their numbers the settings of monitoring.yaml (docs/procedures/kube-life.md)."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from shared.errors import ValidationFailed
from shared.vocabulary import KUBE_STAGES, REVENUE_TRENDS

MONITORING_FILE = Path(__file__).with_name("monitoring.yaml")


@dataclass(frozen=True)
class StageCriteria:
    revenue_trends: tuple[str, ...]
    min_members_active_pct: int
    min_savings_rp: int
    iuran_paid: bool


@dataclass(frozen=True)
class MonitoringRules:
    monthly_visits: int = 6
    then_every_months: int = 3
    revenue_tolerance_pct: int = 10
    stages: tuple[tuple[str, StageCriteria], ...] = ()  # highest stage first; none met: tumbuh


@dataclass(frozen=True)
class VisitFindings:
    """What a facilitator counts at a visit (whole rupiah)."""

    monthly_revenue_rp: int
    members_active: int  # member households still active in the business
    savings_rp: int  # the group's savings
    iuran_rp: int  # iuran kesetiakawanan sosial paid since the last visit


def load_monitoring(path: Path = MONITORING_FILE) -> MonitoringRules:
    """The settings, checked: a misspelt stage or trend fails when the service starts, not at a visit."""
    with open(path, encoding="utf-8") as handle:
        settings = yaml.safe_load(handle)
    stages = []
    for name, spec in settings["stages"].items():
        trends = tuple(spec["revenue_trend"])
        if name not in KUBE_STAGES[1:] or not set(trends) <= set(REVENUE_TRENDS):
            raise ValueError(f"monitoring stage {name}: unknown stage or revenue trend {trends}")
        stages.append((name, StageCriteria(trends, int(spec["min_members_active_pct"]), int(spec["min_savings_rp"]),
                                           bool(spec["iuran_paid"]))))
    stages.sort(key=lambda stage: KUBE_STAGES.index(stage[0]), reverse=True)
    schedule = settings["schedule"]
    return MonitoringRules(int(schedule["monthly_visits"]), int(schedule["then_every_months"]),
                           int(settings["revenue_tolerance_pct"]), tuple(stages))


def revenue_trend(revenue_rp: int, previous_rp: int | None, tolerance_pct: int) -> str:
    if previous_rp is None:
        return "steady"  # a first visit has nothing to compare with
    if revenue_rp > previous_rp:
        return "rising"
    return "steady" if revenue_rp * 100 >= previous_rp * (100 - tolerance_pct) else "falling"


def check_findings(findings: VisitFindings, member_households: int) -> None:
    if not 0 <= findings.members_active <= member_households:
        raise ValidationFailed("members_active", "visit.members_active",
                               f"members still active: 0 to the group's {member_households} households",
                               members=member_households)


def classify(findings: VisitFindings, member_households: int, trend: str, rules: MonitoringRules) -> str:
    """The highest stage whose every criterion the visit meets; tumbuh (growing) when it meets none."""
    active_pct = findings.members_active * 100 // member_households if member_households else 0
    for stage, criteria in rules.stages:
        if (trend in criteria.revenue_trends and active_pct >= criteria.min_members_active_pct
                and findings.savings_rp >= criteria.min_savings_rp
                and (findings.iuran_rp > 0 or not criteria.iuran_paid)):
            return stage
    return KUBE_STAGES[0]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it has no such day (31 January → 28 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(first_paid: date, rules: MonitoringRules) -> Iterator[date]:
    """Monthly for ``monthly_visits`` months after tranche 1 was paid, then every ``then_every_months``."""
    for month in range(1, rules.monthly_visits + 1):
        yield add_months(first_paid, month)
    month = rules.monthly_visits
    while True:
        month += rules.then_every_months
        yield add_months(first_paid, month)


def next_visit_due(first_paid: date, last_visit: date | None, rules: MonitoringRules) -> date:
    """The first scheduled day after the latest visit (after the payment when there was none yet)."""
    since = max(first_paid, last_visit) if last_visit else first_paid
    return next(due for due in due_dates(first_paid, rules) if due > since)
