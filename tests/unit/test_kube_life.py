"""A KUBE's life after funding (docs/procedures/kube-life.md): the stage a monitoring visit places the group in,
the visit schedule and what is overdue, the lifecycle's order (funded → active → graduated | dissolved) and a
cohort opened automatically getting its facilitator."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from services.grants.monitoring import (
    MonitoringRules,
    StageCriteria,
    VisitFindings,
    add_months,
    classify,
    due_dates,
    load_monitoring,
    next_visit_due,
    revenue_trend,
)
from services.grants.queries import visit_due
from services.training.domain import Cohort
from shared.errors import Conflict, ValidationFailed
from shared.ids import jakarta_today
from tests.unit.test_kube_rules import NEWCOMER, formed, kk, refused
from tests.unit.test_kube_rules import RULES as KUBE_RULES

RULES = load_monitoring()  # the shipped settings: monitoring.yaml
GOOD = VisitFindings(monthly_revenue_rp=3_000_000, members_active=10, savings_rp=2_500_000, iuran_rp=100_000)


# --- the stage of a visit -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("findings", "trend", "stage"), [
    (GOOD, "rising", "maju"),  # every criterion of maju
    (GOOD, "steady", "berkembang"),  # maju needs rising revenue
    (replace(GOOD, members_active=8), "rising", "berkembang"),  # 80 % active: below maju's 90 %
    (replace(GOOD, savings_rp=1_999_999), "rising", "berkembang"),  # one rupiah short of maju's savings
    (replace(GOOD, savings_rp=500_000, members_active=7), "steady", "berkembang"),  # berkembang's floor exactly
    (replace(GOOD, members_active=6), "steady", "tumbuh"),  # 60 % active
    (replace(GOOD, savings_rp=499_999), "steady", "tumbuh"),
    (replace(GOOD, iuran_rp=0), "rising", "tumbuh"),  # no iuran kesetiakawanan sosial: neither stage
    (GOOD, "falling", "tumbuh"),
])
def test_a_visit_places_the_group_in_the_highest_stage_whose_every_criterion_holds(findings, trend, stage):
    assert classify(findings, 10, trend, RULES) == stage


def test_the_stage_criteria_are_settings():
    lenient = replace(RULES, stages=(("berkembang", StageCriteria(("rising", "steady", "falling"), 0, 0, False)),))
    assert classify(VisitFindings(0, 0, 0, 0), 10, "falling", lenient) == "berkembang"
    assert classify(GOOD, 10, "rising", lenient) == "berkembang"  # no maju defined: nobody is maju


@pytest.mark.parametrize(("revenue", "previous", "trend"), [
    (1_000_000, None, "steady"),  # a first visit compares with nothing
    (1_000_001, 1_000_000, "rising"),
    (1_000_000, 1_000_000, "steady"),
    (900_000, 1_000_000, "steady"),  # within the 10 % tolerance
    (899_999, 1_000_000, "falling"),
    (0, 1, "falling"),
])
def test_the_revenue_trend_compares_with_the_previous_visit_within_a_tolerance(revenue, previous, trend):
    assert revenue_trend(revenue, previous, RULES.revenue_tolerance_pct) == trend


def test_settings_naming_an_unknown_stage_fail_when_read(tmp_path):
    settings = tmp_path / "monitoring.yaml"
    settings.write_text("schedule: {monthly_visits: 6, then_every_months: 3}\nrevenue_tolerance_pct: 10\n"
                        "stages:\n  mandiri: {revenue_trend: [rising], min_members_active_pct: 1, min_savings_rp: 1,"
                        " iuran_paid: true}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mandiri"):
        load_monitoring(settings)


# --- the schedule --------------------------------------------------------------------------------------------

def test_visits_are_due_monthly_for_six_months_then_quarterly():
    dates = due_dates(date(2026, 1, 31), RULES)
    assert [next(dates) for _ in range(9)] == [
        date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30),
        date(2026, 7, 31), date(2026, 10, 31), date(2027, 1, 31), date(2027, 4, 30)]


def test_the_schedule_is_a_setting():
    dates = due_dates(date(2026, 1, 15), MonitoringRules(monthly_visits=2, then_every_months=6))
    assert [next(dates) for _ in range(4)] == [date(2026, 2, 15), date(2026, 3, 15), date(2026, 9, 15),
                                               date(2027, 3, 15)]


@pytest.mark.parametrize(("last_visit", "due"), [
    (None, date(2026, 2, 10)),  # no visit yet: a month after the payment
    (date(2026, 2, 3), date(2026, 2, 10)),  # an early visit does not skip the month's
    (date(2026, 2, 10), date(2026, 3, 10)),
    (date(2026, 7, 20), date(2026, 10, 10)),  # after six months: the quarter's
])
def test_the_next_visit_is_the_first_scheduled_day_after_the_latest_visit(last_visit, due):
    assert next_visit_due(date(2026, 1, 10), last_visit, RULES) == due


def test_a_visit_is_overdue_the_day_after_it_was_due_and_never_before_payment_or_after_the_end():
    today = jakarta_today()
    paid = add_months(today, -1)  # due today
    assert visit_due(paid, None, "active", RULES) == {"next_visit_due": today.isoformat(), "days_overdue": 0,
                                                      "overdue": False}
    late = visit_due(add_months(today, -2), None, "active", RULES)
    assert late["overdue"] and late["days_overdue"] > 0
    for status in ("graduated", "dissolved"):
        assert visit_due(add_months(today, -2), None, status, RULES)["next_visit_due"] is None
    assert visit_due(None, None, "funded", RULES) == {"next_visit_due": None, "days_overdue": None,
                                                      "overdue": False}


# --- the lifecycle -------------------------------------------------------------------------------------------

def funded():
    group = formed(10)
    group.mark_funded(uuid.uuid4(), 20_000_000)
    group.collect_events()
    return group


def test_a_funded_group_becomes_active_then_graduates_with_a_reason():
    group = funded()
    group.activate(uuid.uuid4(), "pay-1")
    assert group.status == "active" and group.is_active
    group.change_member(kk(1), NEWCOMER, reason="pindah domisili", by="operator", rules=KUBE_RULES)  # still allowed
    group.graduate(reason="usaha mandiri", by="operator")
    assert group.status == "graduated" and not group.is_active
    assert [type(e).__qualname__ for e in group.collect_events()] == [
        "Group.Activated", "Group.MemberChanged", "Group.Graduated"]
    refused(group, Conflict, group.change_member, kk(2), None, reason="left", by="operator", rules=KUBE_RULES)
    refused(group, Conflict, group.dissolve, reason="again", by="operator")


def test_transitions_out_of_order_are_refused_and_change_nothing():
    group = formed(10)  # not funded: neither active nor graduated
    assert refused(group, Conflict, group.activate, uuid.uuid4(), "pay-1").details["rule"] == "kube.lifecycle"
    assert refused(group, Conflict, group.graduate, reason="x", by="operator").details["rule"] == "kube.lifecycle"
    group = funded()  # not active: no graduation
    assert refused(group, Conflict, group.graduate, reason="x", by="operator").details["rule"] == "kube.lifecycle"
    group.activate(uuid.uuid4(), "pay-1")
    group.collect_events()
    assert refused(group, Conflict, group.activate, uuid.uuid4(), "pay-2").details["rule"] == "kube.lifecycle"  # once
    assert refused(group, ValidationFailed, group.graduate, reason=" ", by="operator").rule == "kube.graduate_reason"


def test_an_active_group_may_be_dissolved_with_a_reason_and_is_then_never_graduated():
    group = funded()
    group.activate(uuid.uuid4(), "pay-1")
    group.dissolve(reason="usaha berhenti, anggota pindah", by="operator")
    group.collect_events()
    assert refused(group, Conflict, group.graduate, reason="x", by="operator").details["rule"] == "kube.lifecycle"


# --- a cohort opened automatically gets its facilitator ------------------------------------------------------

def test_a_cohort_opened_automatically_is_assigned_its_facilitator():
    cohort = Cohort.open("18.01.06.2001", "belum ditentukan", "Sekolah Keluarga 18.01.06.2001", by="otomatis")
    cohort.assign_facilitator("fasilitator.rina", by="op1")
    assert cohort.facilitator == "fasilitator.rina"
    events = cohort.collect_events()
    assert [(type(e).__qualname__, getattr(e, "facilitator", None)) for e in events][-1] == (
        "Cohort.FacilitatorAssigned", "fasilitator.rina")
    for name, error, rule in (("fasilitator.rina", Conflict, "cohort.facilitator_unchanged"),
                              ("  ", ValidationFailed, "cohort.facilitator")):
        with pytest.raises(error) as raised:
            cohort.assign_facilitator(name, by="op1")
        assert (raised.value.details.get("rule") or raised.value.rule) == rule
    assert cohort.facilitator == "fasilitator.rina" and cohort.collect_events() == []
