"""Budgets belong to whoever pays (domain.md, "Budget"): a ceiling per fiscal year, source and region, set by its
owner — APBN by the ministry (nationally or allotted to a province), APBD-provinsi by the province, APBD-kabupaten
by the regency's head of office — and the grant it funds approved by that owner, maker–checker, within the ceiling;
the regency's approval records the regent's decree. Every refusal changes nothing (``refused`` re-reads)."""

from __future__ import annotations

import json

import pytest
from eventsourcing.persistence import StoredEvent

from services.grants.application import GrantsApplication
from services.grants.domain import Budget, Grant, Proposal
from services.grants.public import PUBLIC_EVENTS
from shared.actor import Actor
from shared.errors import Conflict, NotYours, RuleViolated, ValidationFailed
from tests.support.grants_cast import (
    HEAD,
    HEAD2,
    HEAD_OTHER,
    HEAD_PROVINCE,
    MIN,
    MIN2,
    OP1,
    OP2,
    PROV,
    PROV2,
    PROV_OTHER,
    RULES,
    TODAY,
    VER,
)
from tests.support.legacy_events import EventVersions, aggregates_after
from tests.unit.test_grants_rules import draft, grant, names, pay, recommended, refused, spending, verified


def opened(source: str, region: str, owner, ceiling: int = 100_000_000) -> Budget:
    budget = Budget.open(2026, source, ceiling, owner, region)
    budget.collect_events()
    return budget


# --- who sets a ceiling, for which region --------------------------------------------------------------------

@pytest.mark.parametrize(("source", "region", "owner"), [
    ("APBN", "", MIN), ("APBN", "18", MIN), ("APBD-provinsi", "18", PROV), ("APBD-kabupaten", "18.01", HEAD)])
def test_each_owner_sets_its_own_ceiling_per_year_source_and_region(source, region, owner):
    budget = Budget.open(2026, source, 50_000_000, owner, region)
    assert (budget.fiscal_year, budget.source, budget.region, budget.ceiling_rp) == (2026, source, region, 50_000_000)
    assert budget.id == Budget.create_id(2026, source, region)
    assert names(budget) == ["Budget.Opened"]
    budget.set_ceiling(60_000_000, owner)
    assert budget.ceiling_rp == 60_000_000


def test_a_national_budget_keeps_the_id_it_had_before_budgets_had_regions():
    assert Budget.create_id(2026, "APBN", "") == Budget.create_id(2026, "APBN")
    assert Budget.create_id(2026, "APBN", "18") != Budget.create_id(2026, "APBN")


@pytest.mark.parametrize(("source", "region", "actor", "error", "rule"), [
    ("APBN", "18.01", MIN, ValidationFailed, "budget.region"),  # APBN: national or a province's allotment
    ("APBD-provinsi", "", PROV, ValidationFailed, "budget.region"),
    ("APBD-provinsi", "18.01", PROV, ValidationFailed, "budget.region"),
    ("APBD-kabupaten", "18", HEAD, ValidationFailed, "budget.region"),
    ("APBD-kabupaten", "18.01.06", HEAD, ValidationFailed, "budget.region"),
    ("APBN", "18", PROV, NotYours, "role.forbidden"),  # the ministry's money
    ("APBD-provinsi", "18", MIN, NotYours, "role.forbidden"),  # the province's
    ("APBD-kabupaten", "18.01", PROV, NotYours, "role.forbidden"),  # the regency's
    ("APBD-provinsi", "17", PROV, NotYours, "budget.owner"),  # another province's
    ("APBD-kabupaten", "18.02", HEAD, NotYours, "budget.owner"),  # another regency's
    ("APBD-kabupaten", "18.01", HEAD_PROVINCE, NotYours, "budget.owner"),  # a province's head covers, not owns
])
def test_nobody_sets_a_ceiling_that_is_not_theirs(source, region, actor, error, rule):
    refused(error, lambda: Budget.open(2026, source, 50_000_000, actor, region), rule=rule)


def test_a_ceiling_is_changed_only_by_its_owner():
    regency = opened("APBD-kabupaten", "18.01", HEAD)
    refused(NotYours, lambda: regency.set_ceiling(1, HEAD_OTHER), regency, rule="budget.owner")
    refused(NotYours, lambda: regency.set_ceiling(1, MIN), regency, rule="role.forbidden")
    regency.set_ceiling(70_000_000, HEAD2)  # another head of the same office
    assert regency.ceiling_rp == 70_000_000


# --- the route follows the money -----------------------------------------------------------------------------

def test_a_regency_funded_grant_is_approved_by_its_head_on_the_regents_decree_once_verified():
    proposal, budget = verified(), opened("APBD-kabupaten", "18.01", HEAD)
    refused(ValidationFailed, lambda: proposal.approve(HEAD, 20_000_000, "cash", budget, RULES), proposal, budget,
            rule="approval.decree", field="decree_number")
    proposal.approve(HEAD, 20_000_000, "cash", budget, RULES, decree_number=" 400/123/IV.02/2026 ")
    assert proposal.status == "approved" and budget.committed_rp == 20_000_000
    assert proposal.approval == {"amount_rp": 20_000_000, "form": "cash", "fiscal_year": 2026,
                                 "source": "APBD-kabupaten", "region": "18.01", "decree_number": "400/123/IV.02/2026"}
    assert names(proposal) == ["Proposal.Approved"] and names(budget) == ["Budget.Committed"]


def test_a_province_funded_grant_is_approved_by_the_province_once_verified():
    proposal, budget = verified(), opened("APBD-provinsi", "18", PROV)
    proposal.approve(PROV2, 20_000_000, "cash", budget, RULES)
    assert proposal.approval["source"] == "APBD-provinsi" and proposal.approval["decree_number"] is None
    assert budget.committed_rp == 20_000_000


@pytest.mark.parametrize("region", ["", "18"])
def test_an_apbn_grant_is_approved_by_the_ministry_from_the_national_ceiling_or_the_provinces_allotment(region):
    proposal, budget = recommended(), opened("APBN", region, MIN)
    proposal.approve(MIN2, 20_000_000, "cash", budget, RULES)
    assert proposal.approval["region"] == region and budget.committed_rp == 20_000_000


@pytest.mark.parametrize(("make", "source", "region", "owner", "actor", "error", "rule"), [
    # the wrong payer for this money
    (verified, "APBD-kabupaten", "18.01", HEAD, PROV2, NotYours, "role.forbidden"),
    (verified, "APBD-kabupaten", "18.01", HEAD, HEAD_PROVINCE, NotYours, "budget.owner"),
    (verified, "APBD-provinsi", "18", PROV, HEAD, NotYours, "role.forbidden"),
    (verified, "APBD-provinsi", "18", PROV, PROV_OTHER, NotYours, "budget.owner"),
    (recommended, "APBN", "", MIN, PROV2, NotYours, "role.forbidden"),
    # a regency's or province's budget does not fund another's groups
    (verified, "APBD-kabupaten", "18.02", HEAD_OTHER, HEAD_OTHER, RuleViolated, "budget.region"),
    (verified, "APBD-provinsi", "17", PROV_OTHER, PROV_OTHER, RuleViolated, "budget.region"),
    (recommended, "APBN", "17", MIN, MIN2, RuleViolated, "budget.region"),
    # not at the payer's step: the ministry after the province's recommendation, a regency or province before it
    (verified, "APBN", "", MIN, MIN2, Conflict, "proposal.transition"),
    (recommended, "APBD-kabupaten", "18.01", HEAD, HEAD, Conflict, "proposal.transition"),
    (recommended, "APBD-provinsi", "18", PROV, PROV2, Conflict, "proposal.transition"),
])
def test_only_whoever_pays_approves_at_its_step(make, source, region, owner, actor, error, rule):
    proposal, budget = make(), opened(source, region, owner)
    refused(error, lambda: proposal.approve(actor, 20_000_000, "cash", budget, RULES, decree_number="SK-1"),
            proposal, budget, rule=rule)
    assert proposal.approval is None and budget.committed_rp == 0


def test_maker_checker_holds_on_every_route():
    """Nobody acts twice in a row: not the verifier as approver, not the approver as canceller."""
    proposal, budget = verified(), opened("APBD-kabupaten", "18.01", HEAD)
    verifier_as_head = Actor(VER.user, "head", "18.01")
    refused(NotYours, lambda: proposal.approve(verifier_as_head, 1_000_000, "cash", budget, RULES,
                                               decree_number="SK-1"),
            proposal, budget, rule="proposal.maker_checker")
    proposal.approve(HEAD, 1_000_000, "cash", budget, RULES, decree_number="SK-1")
    refused(NotYours, lambda: proposal.cancel(HEAD, "salah sasaran", budget), proposal, budget,
            rule="proposal.maker_checker")


@pytest.mark.parametrize(("source", "region", "owner", "make"), [
    ("APBD-kabupaten", "18.01", HEAD, verified), ("APBD-provinsi", "18", PROV, verified),
    ("APBN", "18", MIN, recommended)])
def test_no_owner_approves_over_its_ceiling(source, region, owner, make):
    budget = opened(source, region, owner, ceiling=35_000_000)
    approver = {HEAD: HEAD2, PROV: PROV2, MIN: MIN2}[owner]
    first = make()
    first.approve(approver, 20_000_000, "cash", budget, RULES, decree_number="SK-1")
    second = make()
    refused(RuleViolated, lambda: second.approve(approver, 15_000_001, "cash", budget, RULES, decree_number="SK-2"),
            second, budget, rule="budget.ceiling")
    second.approve(approver, 15_000_000, "cash", budget, RULES, decree_number="SK-2")
    assert (budget.committed_rp, budget.available_rp) == (35_000_000, 0)


def test_a_grant_is_cancelled_by_whoever_pays_it_and_its_budget_released():
    proposal, budget = verified(), opened("APBD-kabupaten", "18.01", HEAD)
    proposal.approve(HEAD, 20_000_000, "cash", budget, RULES, decree_number="SK-1")
    refused(NotYours, lambda: proposal.cancel(MIN, "kelompok bubar", budget), proposal, budget,
            rule="role.forbidden")
    proposal.cancel(HEAD2, "kelompok bubar", budget)
    assert proposal.status == "cancelled" and budget.committed_rp == 0


# --- budgets, approvals and LPJs stored before v3 ---------------------------------------------------------------

V3_ADDED = {Budget.Opened: ("region",), Budget.CeilingSet: ("region",),
            Proposal.Approved: ("budget_region", "decree_number"),
            Grant.LpjAccepted: ("spent_rp", "tranche_rp", "refund_reference", "explanation")}
MAPPER = EventVersions(GrantsApplication, {}).mapper


def as_stored_in_v2(e):
    """The event as the code before v3 stored it: class_version 2, without the fields v3 added."""
    stored = MAPPER.to_stored_event(e)
    state_ = {k: v for k, v in json.loads(stored.state).items() if k not in V3_ADDED[type(e)]}
    return MAPPER.to_domain_event(StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                                              json.dumps({**state_, "class_version": 2}).encode()))


def test_a_budget_stored_before_regions_reads_as_the_national_one_and_still_funds_approvals():
    budget = Budget.open(2026, "APBN", 50_000_000, MIN)
    budget.set_ceiling(60_000_000, MIN)
    old = [as_stored_in_v2(e) for e in budget.collect_events()]
    assert [e.region for e in old] == ["", ""]
    replayed = aggregates_after(old)[budget.id]
    assert (replayed.region, replayed.ceiling_rp, replayed.id) == ("", 60_000_000, Budget.create_id(2026, "APBN"))
    assert PUBLIC_EVENTS[Budget.Opened](None, old[0]).region == ""
    proposal = recommended()
    proposal.approve(MIN2, 20_000_000, "cash", replayed, RULES)
    assert replayed.committed_rp == 20_000_000


def test_an_approval_and_an_lpj_acceptance_stored_before_v3_read_as_national_decree_less_and_unreconciled():
    proposal, budget = draft(), opened("APBN", "", MIN)
    proposal.submit(OP1)
    proposal.verify(VER)
    proposal.recommend(PROV)
    before = proposal.collect_events()
    proposal.approve(MIN2, 20_000_000, "cash", budget, RULES)
    [approved] = [as_stored_in_v2(e) for e in proposal.collect_events()]
    assert (approved.budget_region, approved.decree_number) == ("", None)
    assert aggregates_after([*before, approved])[proposal.id].approval == proposal.approval
    g = grant()
    pay(g, 1, "p1")
    g.submit_lpj(1, spending(), OP1, TODAY)
    g.review_lpj(1, True, OP2)
    accepted = as_stored_in_v2(g.collect_events()[-1])
    data = PUBLIC_EVENTS[Grant.LpjAccepted](None, accepted)
    assert (data.spent_rp, data.tranche_rp, data.refund_reference, data.explanation) == (None, None, None, None)
