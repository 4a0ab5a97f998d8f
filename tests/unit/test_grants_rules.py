"""Grant rules (domain.md, "Grants (BLPS for UEP)" and "People and roles"): the proposal's route with maker–checker
and region scope, approval within requested, cap and budget, tranches, payments, deliveries, LPJ, refunds and
monitoring visits. Every refusal names its class and rule (or field), changes no state and records no event.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.grants.domain import (
    Budget,
    BudgetLine,
    Grant,
    GrantRules,
    HandoverItem,
    Proposal,
    SpendingLine,
    Tranche,
    check_rupiah,
    split_tranches,
)
from services.grants.monitoring import VisitFindings
from shared.actor import Actor, covers
from shared.errors import BerdayaError, Conflict, NotFound, NotYours, RuleViolated, ValidationFailed
from tests.support.grants_cast import (
    FAC,
    FAC_OTHER,
    FINDINGS,
    MIN,
    MIN2,
    MONITORING,
    OP1,
    OP2,
    OP_OTHER,
    PROV,
    PROV_OTHER,
    RULES,
    TODAY,
    TR,
    TR2,
    TR_OTHER,
    VER,
    VER_OTHER,
    VILLAGE,
)

# 10 × 2,000,000 + 1 × 5,000,000 = 25,000,000 requested, above the 20,000,000 cap of a group of 10.
LINES = [BudgetLine("kambing betina", 10, "ekor", 2_000_000), BudgetLine("kandang", 1, "unit", 5_000_000)]
SMALL_LINES = [BudgetLine("mesin jahit", 5, "unit", 3_000_000)]  # 15,000,000, below the cap


# --- helpers -----------------------------------------------------------------------------------------------

def state(aggregate) -> dict:
    """Everything an aggregate holds, version included, except the events not yet collected."""
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


def rule_of(error: BerdayaError) -> str | None:
    return getattr(error, "rule", None) or error.details.get("rule")


def refused(error_class: type[BerdayaError], call: Callable[[], object], *aggregates, rule: str | None = None,
            field: str | None = None) -> BerdayaError:
    """`call` raises exactly `error_class` (with `rule`/`field`) and leaves every aggregate as it was, no event."""
    for aggregate in aggregates:
        aggregate.collect_events()
    before = [state(aggregate) for aggregate in aggregates]
    with pytest.raises(error_class) as info:
        call()
    assert type(info.value) is error_class, info.value
    if rule is not None:
        assert rule_of(info.value) == rule, info.value
    if field is not None:
        assert info.value.details.get("field") == field, info.value
    for aggregate, earlier in zip(aggregates, before, strict=True):
        assert state(aggregate) == earlier
        assert aggregate.collect_events() == []
    return info.value


def names(aggregate) -> list[str]:
    return [type(e).__qualname__ for e in aggregate.collect_events()]


def draft(lines: list[BudgetLine] | None = None, households: int = 10, form: str = "cash",
          actor: Actor = OP1) -> Proposal:
    return Proposal.draft(group_id=uuid.uuid4(), group_name="KUBE Mawar Jondong", village_code=VILLAGE,
                          member_households=households, business_plan="ternak kambing betina",
                          budget_lines=list(LINES if lines is None else lines), form=form, actor=actor)


def submitted(**kw) -> Proposal:
    proposal = draft(**kw)
    proposal.submit(OP1)
    return proposal


def verified(**kw) -> Proposal:
    proposal = submitted(**kw)
    proposal.verify(VER)
    return proposal


def recommended(**kw) -> Proposal:
    proposal = verified(**kw)
    proposal.recommend(PROV)
    proposal.collect_events()
    return proposal


def budget(ceiling: int = 1_000_000_000) -> Budget:
    b = Budget.open(2025, "APBN", ceiling, MIN)
    b.collect_events()
    return b


def approved(amount: int = 20_000_000, form: str = "cash", b: Budget | None = None) -> tuple[Proposal, Budget]:
    b = b or budget()
    proposal = recommended()
    proposal.approve(MIN, amount, form, b, RULES)
    proposal.collect_events()
    b.collect_events()
    return proposal, b


def grant(form: str = "cash", amount: int = 20_000_000) -> Grant:
    proposal, _ = approved(amount, form)
    g = Grant.open(proposal, RULES)
    g.collect_events()
    return g


def pay(g: Grant, number: int, payment_id: str, gate_open: bool = False) -> None:
    g.instruct(number, payment_id, TR, gate_open)
    g.mark_sent(payment_id, TR)
    g.confirm(payment_id, f"BRI-{payment_id}", TR2)


def spending(amount: int = 14_000_000, day: date = date(2025, 6, 1)) -> list[SpendingLine]:
    return [SpendingLine("kambing betina 7 ekor", "KW-001", day, amount)]


def accept_lpj(g: Grant, number: int) -> None:
    g.submit_lpj(number, spending(), OP1, TODAY)
    g.review_lpj(number, True, OP2)


# --- drafting -----------------------------------------------------------------------------------------------

def test_draft_requests_the_sum_of_its_lines():
    proposal = draft()
    assert proposal.requested_rp == 10 * 2_000_000 + 5_000_000 == 25_000_000
    assert proposal.status == "draft" and proposal.last_actor == "op1" and proposal.flags == []
    assert names(proposal) == ["Proposal.Drafted"]


@pytest.mark.parametrize(("overrides", "error", "rule", "field"), [
    ({"lines": []}, ValidationFailed, "rab.empty", "budget_lines"),
    ({"lines": [BudgetLine("kambing", 0, "ekor", 1_000)]}, ValidationFailed, "rab.quantity",
     "budget_lines.0.quantity"),
    ({"lines": [BudgetLine("kambing", True, "ekor", 1_000)]}, ValidationFailed, "rab.quantity",
     "budget_lines.0.quantity"),
    ({"lines": [BudgetLine("kambing", 1, "ekor", 1_000.0)]}, ValidationFailed, "rupiah.positive_integer",
     "budget_lines.0.unit_price_rp"),
    ({"lines": [BudgetLine("kambing", 1, "ekor", 0)]}, ValidationFailed, "rupiah.positive_integer",
     "budget_lines.0.unit_price_rp"),
    ({"lines": [BudgetLine("kambing", 1, "ekor", -5)]}, ValidationFailed, "rupiah.positive_integer",
     "budget_lines.0.unit_price_rp"),
    ({"lines": [BudgetLine("kambing", 1, "ekor", True)]}, ValidationFailed, "rupiah.positive_integer",
     "budget_lines.0.unit_price_rp"),
    ({"lines": [BudgetLine(" ", 1, "ekor", 1_000)]}, ValidationFailed, "rab.line", "budget_lines.0"),
    ({"lines": [BudgetLine("kambing", 1, "", 1_000)]}, ValidationFailed, "rab.line", "budget_lines.0"),
    ({"form": "voucher"}, ValidationFailed, "proposal.form", "form"),
    ({"households": 4}, ValidationFailed, "proposal.member_households", "member_households"),
    ({"households": 21}, ValidationFailed, "proposal.member_households", "member_households"),
    ({"actor": VER}, NotYours, "role.forbidden", None),
    ({"actor": OP_OTHER}, NotYours, "region.scope", None),
])
def test_a_bad_draft_is_refused(overrides, error, rule, field):
    refused(error, lambda: draft(**overrides), rule=rule, field=field)


def test_a_draft_needs_a_business_plan():
    refused(ValidationFailed, lambda: Proposal.draft(
        group_id=uuid.uuid4(), group_name="g", village_code=VILLAGE, member_households=10, business_plan="  ",
        budget_lines=LINES, form="cash", actor=OP1), rule="proposal.business_plan", field="business_plan")


# --- the route ----------------------------------------------------------------------------------------------

def test_the_route_from_draft_to_approval():
    proposal, b = draft(), budget()
    proposal.collect_events()
    proposal.submit(OP1)
    assert (proposal.status, proposal.last_actor) == ("submitted", "op1")
    proposal.verify(VER)
    assert (proposal.status, proposal.last_actor) == ("verified", "ver")
    proposal.recommend(PROV)
    assert (proposal.status, proposal.last_actor) == ("recommended", "prov")
    proposal.approve(MIN, 20_000_000, "cash", b, RULES)
    assert (proposal.status, proposal.last_actor) == ("approved", "min")
    assert proposal.approval == {"amount_rp": 20_000_000, "form": "cash", "fiscal_year": 2025, "source": "APBN",
                                 "region": "", "decree_number": None}
    assert names(proposal) == ["Proposal.Submitted", "Proposal.Verified", "Proposal.Recommended",
                               "Proposal.Approved"]
    assert names(b) == ["Budget.Committed"]
    assert b.committed_rp == 20_000_000


def rejected() -> Proposal:
    proposal = submitted()
    proposal.reject(VER, "usaha fiktif")
    return proposal


def returned() -> Proposal:
    proposal = submitted()
    proposal.return_for_revision(VER, "RAB kurang rinci")
    return proposal


@pytest.mark.parametrize(("make", "act"), [
    (draft, lambda p: p.approve(MIN, 1_000_000, "cash", budget(), RULES)),
    (draft, lambda p: p.verify(VER)),
    (draft, lambda p: p.return_for_revision(VER, "x")),
    (draft, lambda p: p.reject(VER, "x")),
    (draft, lambda p: p.resubmit(OP1, member_households=10)),
    (verified, lambda p: p.verify(Actor("ver2", "verifier", "18.01"))),
    (submitted, lambda p: p.recommend(PROV)),
    (submitted, lambda p: p.approve(MIN, 1_000_000, "cash", budget(), RULES)),
    (submitted, lambda p: p.submit(OP2)),
    (submitted, lambda p: p.resubmit(OP2, member_households=10)),
    (verified, lambda p: p.resubmit(OP2, member_households=10)),
    (recommended, lambda p: p.resubmit(OP2, member_households=10)),
    (verified, lambda p: p.approve(MIN, 1_000_000, "cash", budget(), RULES)),
    (rejected, lambda p: p.verify(Actor("ver2", "verifier", "18.01"))),
    (rejected, lambda p: p.resubmit(OP1, member_households=10)),
    (rejected, lambda p: p.submit(OP1)),
    (rejected, lambda p: p.return_for_revision(Actor("ver2", "verifier", "18.01"), "x")),
    (rejected, lambda p: p.reject(Actor("ver2", "verifier", "18.01"), "again")),
    (rejected, lambda p: p.cancel(MIN, "x", budget())),
    (returned, lambda p: p.verify(Actor("ver2", "verifier", "18.01"))),
    (returned, lambda p: p.submit(OP1)),
    (recommended, lambda p: p.cancel(MIN, "x", budget())),
])
def test_an_illegal_transition_is_refused(make, act):
    proposal = make()
    refused(Conflict, lambda: act(proposal), proposal, rule="proposal.transition")


def test_an_approved_proposal_cannot_be_reviewed_again():
    proposal, b = approved()
    for act in (lambda: proposal.approve(MIN2, 1_000_000, "cash", b, RULES),
                lambda: proposal.return_for_revision(MIN2, "x"), lambda: proposal.reject(MIN2, "x"),
                lambda: proposal.resubmit(OP1, member_households=10)):
        refused(Conflict, act, proposal, b, rule="proposal.transition")


REVIEWS = {  # level → (proposal at that level, its reviewer)
    "verifier": (submitted, VER),
    "province": (verified, PROV),
    "ministry": (recommended, MIN),
}


@pytest.mark.parametrize("level", REVIEWS)
def test_any_level_returns_for_revision_and_the_operator_resubmits_and_it_climbs_again(level):
    make, reviewer = REVIEWS[level]
    proposal = make()
    proposal.collect_events()
    proposal.return_for_revision(reviewer, "harga kandang terlalu tinggi")
    assert (proposal.status, proposal.times_returned) == ("returned", 1)
    events = proposal.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Proposal.Returned"]
    assert (events[0].level, events[0].reason) == (level, "harga kandang terlalu tinggi")

    proposal.resubmit(OP2, member_households=10, budget_lines=SMALL_LINES, business_plan="usaha jahit")
    assert (proposal.status, proposal.requested_rp) == ("submitted", 15_000_000)
    assert proposal.budget_lines == SMALL_LINES and proposal.business_plan == "usaha jahit"
    assert names(proposal) == ["Proposal.Resubmitted"]

    b = budget()
    proposal.verify(VER)
    proposal.recommend(PROV)
    proposal.approve(MIN, 15_000_000, "cash", b, RULES)
    assert proposal.status == "approved" and b.committed_rp == 15_000_000


def test_resubmitting_without_changes_keeps_lines_and_form():
    proposal = returned()
    proposal.resubmit(OP2, member_households=10)
    assert (proposal.status, proposal.requested_rp, proposal.form) == ("submitted", 25_000_000, "cash")


def test_a_resubmission_with_bad_lines_is_refused():
    proposal = returned()
    refused(ValidationFailed, lambda: proposal.resubmit(OP2, member_households=10, budget_lines=[]), proposal,
            rule="rab.empty")
    refused(ValidationFailed, lambda: proposal.resubmit(OP2, member_households=10, form="voucher"), proposal,
            rule="proposal.form")
    refused(ValidationFailed, lambda: proposal.resubmit(OP2, member_households=4), proposal,
            rule="proposal.member_households")
    refused(NotYours, lambda: proposal.resubmit(VER, member_households=10), proposal, rule="role.forbidden")
    refused(NotYours, lambda: proposal.resubmit(OP_OTHER, member_households=10), proposal, rule="region.scope")


@pytest.mark.parametrize("level", REVIEWS)
def test_a_rejection_with_its_reason_is_final(level):
    make, reviewer = REVIEWS[level]
    proposal = make()
    proposal.collect_events()
    proposal.reject(reviewer, "kelompok tidak aktif")
    assert proposal.status == "rejected"
    events = proposal.collect_events()
    assert [(type(e).__qualname__, e.level, e.reason) for e in events] == [
        ("Proposal.Rejected", level, "kelompok tidak aktif")]
    other = Actor("someone-else", reviewer.role, reviewer.region)
    for act in (lambda: proposal.resubmit(OP2, member_households=10),
                lambda: proposal.verify(Actor("v2", "verifier", "18.01")),
                lambda: proposal.reject(other, "x"), lambda: proposal.return_for_revision(other, "x")):
        refused(Conflict, act, proposal, rule="proposal.transition")


@pytest.mark.parametrize("level", REVIEWS)
@pytest.mark.parametrize("action", ["return_for_revision", "reject"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_returning_or_rejecting_needs_a_reason(level, action, reason):
    make, reviewer = REVIEWS[level]
    proposal = make()
    refused(ValidationFailed, lambda: getattr(proposal, action)(reviewer, reason), proposal,
            rule="proposal.reason", field="reason")


@pytest.mark.parametrize(("make", "act"), [
    (draft, lambda p: p.submit(VER)),
    (draft, lambda p: p.submit(TR)),
    (submitted, lambda p: p.verify(OP2)),
    (submitted, lambda p: p.verify(PROV)),
    (submitted, lambda p: p.verify(MIN)),
    (submitted, lambda p: p.return_for_revision(PROV, "x")),
    (submitted, lambda p: p.reject(MIN, "x")),
    (verified, lambda p: p.recommend(Actor("ver2", "verifier", "18.01"))),
    (verified, lambda p: p.recommend(MIN)),
    (verified, lambda p: p.return_for_revision(Actor("ver2", "verifier", "18.01"), "x")),
    (recommended, lambda p: p.approve(Actor("prov2", "province", "18"), 1_000_000, "cash", budget(), RULES)),
    (recommended, lambda p: p.approve(TR, 1_000_000, "cash", budget(), RULES)),
    (recommended, lambda p: p.reject(Actor("prov2", "province", "18"), "x")),
    (recommended, lambda p: p.approve(Actor("aud", "auditor", ""), 1_000_000, "cash", budget(), RULES)),
])
def test_the_wrong_role_is_refused(make, act):
    proposal = make()
    refused(NotYours, lambda: act(proposal), proposal, rule="role.forbidden")


@pytest.mark.parametrize(("make", "act"), [
    (draft, lambda p: p.submit(OP_OTHER)),
    (submitted, lambda p: p.verify(VER_OTHER)),
    (submitted, lambda p: p.return_for_revision(VER_OTHER, "x")),
    (submitted, lambda p: p.reject(VER_OTHER, "x")),
    (verified, lambda p: p.recommend(PROV_OTHER)),
    (verified, lambda p: p.return_for_revision(PROV_OTHER, "x")),
    (verified, lambda p: p.reject(PROV_OTHER, "x")),
])
def test_another_region_is_refused(make, act):
    proposal = make()
    refused(NotYours, lambda: act(proposal), proposal, rule="region.scope")


def test_a_province_covers_its_regencies_and_the_ministry_covers_all():
    proposal = verified()
    proposal.recommend(Actor("prov-b", "province", "18"))
    proposal.approve(Actor("min-b", "ministry", ""), 20_000_000, "cash", budget(), RULES)
    assert proposal.status == "approved"


def test_a_region_prefix_is_not_a_region():
    """18.0 is no ancestor of 18.01: codes are compared part by part, and an actor's region must be a code."""
    assert not covers("18.0", "18.01.06.2001") and not covers("18.011", "18.01.06.2001")
    assert covers("18.01", "18.01.06.2001") and covers("", "18.01.06.2001")
    for malformed in ("18.0", "18.011", "18.01."):
        with pytest.raises(ValidationError):
            Actor("v", "verifier", malformed)
    refused(NotYours, lambda: submitted().verify(Actor("v", "verifier", "18.02")), rule="region.scope")


X_OP, X_VER, X_PROV, X_MIN = (Actor("x", role, region) for role, region in (
    ("operator", "18.01"), ("verifier", "18.01"), ("province", "18"), ("ministry", "")))


def test_maker_checker_the_submitter_cannot_verify():
    proposal = draft(actor=X_OP)
    proposal.submit(X_OP)
    refused(NotYours, lambda: proposal.verify(X_VER), proposal, rule="proposal.maker_checker")
    refused(NotYours, lambda: proposal.return_for_revision(X_VER, "x"), proposal, rule="proposal.maker_checker")
    refused(NotYours, lambda: proposal.reject(X_VER, "x"), proposal, rule="proposal.maker_checker")


def test_maker_checker_the_verifier_cannot_recommend_and_the_recommender_cannot_approve():
    proposal = submitted()
    proposal.verify(X_VER)
    refused(NotYours, lambda: proposal.recommend(X_PROV), proposal, rule="proposal.maker_checker")
    proposal.recommend(PROV)
    proposal2 = verified()
    proposal2.recommend(X_PROV)
    b = budget()
    refused(NotYours, lambda: proposal2.approve(X_MIN, 20_000_000, "cash", b, RULES), proposal2, b,
            rule="proposal.maker_checker")
    assert b.committed_rp == 0


def test_maker_checker_is_about_consecutive_steps():
    """domain.md: nobody acts twice *in a row*; x may submit and, after someone else verified, recommend."""
    proposal = draft(actor=X_OP)
    proposal.submit(X_OP)
    proposal.verify(VER)
    proposal.recommend(X_PROV)
    assert proposal.status == "recommended"


def test_maker_checker_the_approver_cannot_cancel():
    proposal, b = approved()
    refused(NotYours, lambda: proposal.cancel(MIN, "salah sasaran", b), proposal, b,
            rule="proposal.maker_checker")


# --- approval -----------------------------------------------------------------------------------------------

def test_approval_above_requested_is_refused():
    proposal = verified(lines=SMALL_LINES)
    proposal.recommend(PROV)
    b = budget()
    refused(RuleViolated, lambda: proposal.approve(MIN, 15_000_001, "cash", b, RULES), proposal, b,
            rule="approval.above_requested")
    proposal.approve(MIN, 15_000_000, "cash", b, RULES)
    assert proposal.approval["amount_rp"] == 15_000_000


def test_approval_above_the_cap_is_refused_at_the_cap_accepted():
    proposal, b = recommended(), budget()
    assert proposal.requested_rp == 25_000_000 and proposal.cap_rp(RULES) == 20_000_000
    refused(RuleViolated, lambda: proposal.approve(MIN, 20_000_001, "cash", b, RULES), proposal, b,
            rule="approval.above_cap")
    proposal.approve(MIN, 20_000_000, "cash", b, RULES)
    assert proposal.status == "approved" and b.committed_rp == 20_000_000


def test_the_cap_is_per_household_and_a_setting():
    proposal, b = recommended(households=5), budget()
    assert proposal.cap_rp(RULES) == 10_000_000
    refused(RuleViolated, lambda: proposal.approve(MIN, 10_000_001, "cash", b, RULES), proposal, b,
            rule="approval.above_cap")
    rules = GrantRules(cap_per_household_rp=1_500_000)
    refused(RuleViolated, lambda: proposal.approve(MIN, 7_500_001, "cash", b, rules), proposal, b,
            rule="approval.above_cap")
    proposal.approve(MIN, 7_500_000, "equipment", b, rules)
    assert proposal.approval["form"] == "equipment"


@pytest.mark.parametrize("amount", [0, -1, 1_000_000.0, True, "1000000", Decimal(1_000_000), None])
def test_an_approved_amount_is_positive_whole_rupiah(amount):
    proposal, b = recommended(), budget()
    refused(ValidationFailed, lambda: proposal.approve(MIN, amount, "cash", b, RULES), proposal, b,
            rule="rupiah.positive_integer", field="amount_rp")


def test_an_approval_names_a_known_form():
    proposal, b = recommended(), budget()
    refused(ValidationFailed, lambda: proposal.approve(MIN, 1_000_000, "voucher", b, RULES), proposal, b,
            rule="proposal.form", field="form")


def test_a_flagged_proposal_is_not_approved_until_returned_and_resubmitted():
    proposal = verified()
    proposal.flag("household 1801060000000001 left BDT")
    proposal.flag("household 1801060000000001 left BDT")  # the same flag twice is one flag
    assert proposal.flags == ["household 1801060000000001 left BDT"]
    proposal.recommend(PROV)
    b = budget()
    refused(RuleViolated, lambda: proposal.approve(MIN, 20_000_000, "cash", b, RULES), proposal, b,
            rule="proposal.flagged")
    proposal.return_for_revision(MIN, "periksa anggota")
    proposal.resubmit(OP2, member_households=10)
    assert proposal.flags == []
    proposal.verify(VER)
    proposal.recommend(PROV)
    proposal.approve(MIN, 20_000_000, "cash", b, RULES)
    assert proposal.status == "approved"


def test_a_decided_proposal_is_not_flagged():
    proposal, _ = approved()
    proposal.flag("late change")
    assert proposal.flags == [] and proposal.collect_events() == []


def test_approval_beyond_the_budget_is_refused_and_changes_neither():
    proposal, b = recommended(), budget(ceiling=19_999_999)
    refused(RuleViolated, lambda: proposal.approve(MIN, 20_000_000, "cash", b, RULES), proposal, b,
            rule="budget.ceiling")
    assert proposal.status == "recommended" and proposal.approval is None
    assert b.committed_rp == 0


def test_approval_commits_the_budget_and_may_use_all_of_it():
    b = budget(ceiling=35_000_000)
    approved(20_000_000, b=b)
    assert (b.committed_rp, b.available_rp) == (20_000_000, 15_000_000)
    third = recommended()
    refused(RuleViolated, lambda: third.approve(MIN, 15_000_001, "cash", b, RULES), third, b, rule="budget.ceiling")
    third.approve(MIN, 15_000_000, "cash", b, RULES)
    assert (b.committed_rp, b.available_rp) == (35_000_000, 0)


def test_cancellation_releases_the_budget():
    b = budget(ceiling=20_000_000)
    proposal, _ = approved(20_000_000, b=b)
    proposal.cancel(MIN2, "kelompok bubar", b)
    assert proposal.status == "cancelled" and b.committed_rp == 0
    assert names(proposal) == ["Proposal.Cancelled"] and names(b) == ["Budget.Released"]
    again = recommended()
    again.approve(MIN, 20_000_000, "cash", b, RULES)
    assert b.committed_rp == 20_000_000
    refused(Conflict, lambda: proposal.cancel(MIN, "twice", b), proposal, b, rule="proposal.transition")


def test_a_cancellation_needs_a_ministry_user_and_a_reason():
    proposal, b = approved()
    refused(NotYours, lambda: proposal.cancel(PROV, "x", b), proposal, b, rule="role.forbidden")
    refused(ValidationFailed, lambda: proposal.cancel(MIN2, " ", b), proposal, b, rule="proposal.reason",
            field="reason")


def test_the_ceiling_cannot_go_below_what_is_committed():
    b = budget(ceiling=50_000_000)
    approved(20_000_000, b=b)
    refused(RuleViolated, lambda: b.set_ceiling(19_999_999, MIN), b, rule="budget.ceiling_below_committed")
    b.set_ceiling(20_000_000, MIN)
    assert (b.ceiling_rp, b.available_rp) == (20_000_000, 0)
    assert names(b) == ["Budget.CeilingSet"]
    refused(NotYours, lambda: b.set_ceiling(30_000_000, TR), b, rule="role.forbidden")
    refused(ValidationFailed, lambda: b.set_ceiling(30_000_000.0, MIN), b, rule="rupiah.non_negative_integer")


def test_a_budget_opens_with_a_known_source_year_and_ceiling():
    assert Budget.create_id(2025, "APBN") == Budget.open(2025, "APBN", 0, MIN).id
    refused(ValidationFailed, lambda: Budget.open(2025, "APBDes", 1, MIN), rule="budget.source", field="source")
    refused(ValidationFailed, lambda: Budget.open(1999, "APBN", 1, MIN), rule="budget.fiscal_year")
    refused(ValidationFailed, lambda: Budget.open(True, "APBN", 1, MIN), rule="budget.fiscal_year")
    refused(ValidationFailed, lambda: Budget.open(2025, "APBN", -1, MIN), rule="rupiah.non_negative_integer")
    refused(NotYours, lambda: Budget.open(2025, "APBN", 1, PROV), rule="role.forbidden")


def test_a_release_cannot_exceed_what_is_committed():
    b = budget(ceiling=10)
    refused(RuleViolated, lambda: b.release(uuid.uuid4(), 1, "x"), b, rule="budget.release")


# --- tranches -----------------------------------------------------------------------------------------------

def test_default_tranches_are_70_then_30_percent():
    assert split_tranches(20_000_000, RULES.tranche_percentages) == [Tranche(1, 14_000_000), Tranche(2, 6_000_000)]


@pytest.mark.parametrize("amount", [1, 3, 1_000_001, 19_999_999, 7_777_777])
@pytest.mark.parametrize("percentages", [(70, 30), (50, 50), (40, 30, 30), (100,), (33, 33, 34)])
def test_tranches_sum_exactly_in_whole_rupiah(amount, percentages):
    tranches = split_tranches(amount, percentages)
    assert sum(t.amount_rp for t in tranches) == amount
    assert [t.number for t in tranches] == list(range(1, len(percentages) + 1))
    assert all(isinstance(t.amount_rp, int) and t.amount_rp >= 0 for t in tranches)


def test_odd_amounts_put_the_rounding_on_the_last_tranche():
    assert split_tranches(1_000_001, (70, 30)) == [Tranche(1, 700_000), Tranche(2, 300_001)]


@pytest.mark.parametrize("percentages", [(70, 20), (70, 40), (), (60, 30, 5)])
def test_percentages_must_add_up_to_100(percentages):
    with pytest.raises(ValueError):
        split_tranches(20_000_000, percentages)


def test_a_grant_opens_only_from_an_approved_proposal():
    proposal = recommended()
    refused(Conflict, lambda: Grant.open(proposal, RULES), proposal)
    proposal.approve(MIN, 20_000_000, "mixed", budget(), RULES)
    g = Grant.open(proposal, RULES)
    assert (g.amount_rp, g.form, g.village_code, g.proposal_id) == (20_000_000, "mixed", VILLAGE, proposal.id)
    assert g.tranches == [Tranche(1, 14_000_000), Tranche(2, 6_000_000)]
    assert g.id == Grant.create_id(proposal.id)
    assert names(g) == ["Grant.Opened"]


# --- cash payments ------------------------------------------------------------------------------------------

def test_a_cash_tranche_is_instructed_sent_and_confirmed():
    g = grant()
    g.instruct(1, "p1", TR, False)
    assert g.payments["p1"]["status"] == "instructed" and g.tranche_status(1) == "instructed"
    assert (g.disbursed_rp, g.committed_payments_rp) == (0, 14_000_000)
    assert names(g) == ["Grant.Instructed"]
    g.mark_sent("p1", TR)
    assert g.tranche_status(1) == "sent"
    g.confirm("p1", "BRI-20250615-0001", TR2)
    assert g.payments["p1"]["bank_reference"] == "BRI-20250615-0001"
    assert g.disbursed_rp == 14_000_000 and g.is_paid(1)
    assert names(g) == ["Grant.Sent", "Grant.Confirmed"]


def test_a_tranche_is_paid_at_most_once():
    g = grant()
    g.instruct(1, "p1", TR, False)
    refused(Conflict, lambda: g.instruct(1, "p2", TR, False), g, rule="tranche.once")
    g.mark_sent("p1", TR)
    refused(Conflict, lambda: g.instruct(1, "p2", TR, True), g, rule="tranche.once")
    g.confirm("p1", "REF", TR2)
    refused(Conflict, lambda: g.instruct(1, "p2", TR, True), g, rule="tranche.once")


def test_a_cancelled_grant_pays_nothing_and_a_paid_one_cannot_be_cancelled():
    g = grant()
    g.cancel("kelompok bubar", "min2")
    assert g.cancelled and names(g) == ["Grant.Cancelled"]
    refused(RuleViolated, lambda: g.instruct(1, "p1", TR, False), g, rule="grant.cancelled")
    equipment = grant(form="equipment")
    equipment.cancel("kelompok bubar", "min2")
    item = HandoverItem(item="Mesin jahit", quantity=1, value_rp=14_000_000)
    refused(RuleViolated, lambda: equipment.deliver(1, "d1", [item], TODAY, "Ketua", TR, False, TODAY), equipment,
            rule="grant.cancelled")
    paying = grant()
    paying.instruct(1, "p1", TR, False)
    refused(RuleViolated, lambda: paying.cancel("terlambat", "min2"), paying, rule="grant.cancel_after_payment")


def test_payment_steps_follow_their_order():
    g = grant()
    g.instruct(1, "p1", TR, False)
    refused(Conflict, lambda: g.confirm("p1", "REF", TR2), g, rule="payment.transition")
    g.mark_sent("p1", TR)
    refused(Conflict, lambda: g.mark_sent("p1", TR), g, rule="payment.transition")
    refused(Conflict, lambda: g.cancel_payment("p1", "x", TR), g, rule="payment.transition")
    refused(ValidationFailed, lambda: g.confirm("p1", "  ", TR2), g, rule="payment.bank_reference",
            field="bank_reference")
    g.confirm("p1", "REF", TR2)
    for act in (lambda: g.confirm("p1", "REF2", TR2), lambda: g.fail("p1", "x", TR),
                lambda: g.cancel_payment("p1", "x", TR), lambda: g.mark_sent("p1", TR)):
        refused(Conflict, act, g, rule="payment.transition")
    refused(NotFound, lambda: g.mark_sent("nope", TR), g)


def test_tranche_2_needs_tranche_1_paid_its_lpj_accepted_and_the_family_school_gate():
    g = grant()
    refused(RuleViolated, lambda: g.instruct(2, "p2", TR, True), g, rule="tranche.order")
    pay(g, 1, "p1")
    refused(RuleViolated, lambda: g.instruct(2, "p2", TR, True), g, rule="tranche.lpj")
    g.submit_lpj(1, spending(), OP1, TODAY)
    refused(RuleViolated, lambda: g.instruct(2, "p2", TR, True), g, rule="tranche.lpj")
    g.review_lpj(1, False, OP2, "kuitansi tidak terbaca")
    refused(RuleViolated, lambda: g.instruct(2, "p2", TR, True), g, rule="tranche.lpj")
    g.submit_lpj(1, spending(), OP1, TODAY)
    g.review_lpj(1, True, OP2)
    refused(RuleViolated, lambda: g.instruct(2, "p2", TR, False), g, rule="tranche.family_school")
    g.instruct(2, "p2", TR, True)
    g.mark_sent("p2", TR)
    g.confirm("p2", "REF2", TR2)
    assert g.disbursed_rp == g.amount_rp == 20_000_000
    assert g.is_paid(1) and g.is_paid(2)


def test_the_first_tranche_does_not_need_the_gate():
    g = grant()
    g.instruct(1, "p1", TR, False)
    assert g.tranche_status(1) == "instructed"


def test_an_unknown_tranche_is_not_found():
    g = grant()
    refused(NotFound, lambda: g.instruct(3, "p3", TR, True), g)
    refused(NotFound, lambda: g.instruct(0, "p0", TR, True), g)


def test_a_failed_payment_is_retried_with_a_new_instruction():
    g = grant()
    g.instruct(1, "p1", TR, False)
    g.mark_sent("p1", TR)
    refused(ValidationFailed, lambda: g.fail("p1", " ", TR), g, rule="payment.reason", field="reason")
    g.fail("p1", "rekening tidak aktif", TR)
    assert g.payments["p1"]["status"] == "failed" and g.payments["p1"]["reason"] == "rekening tidak aktif"
    assert g.tranche_status(1) == "pending" and g.committed_payments_rp == 0
    refused(Conflict, lambda: g.fail("p1", "again", TR), g, rule="payment.transition")
    refused(Conflict, lambda: g.instruct(1, "p1", TR, False), g, rule="payment.id_reused")  # a retry is a new payment
    g.instruct(1, "p1-retry", TR, False)
    g.mark_sent("p1-retry", TR)
    g.confirm("p1-retry", "REF", TR2)
    assert g.disbursed_rp == 14_000_000
    assert [p["status"] for p in g.payments_of(1)] == ["failed", "confirmed"]


def test_an_instructed_payment_may_fail_before_it_is_sent():
    g = grant()
    g.instruct(1, "p1", TR, False)
    g.fail("p1", "data rekening salah", TR)
    assert g.tranche_status(1) == "pending"


def test_a_payment_is_cancelled_when_instructed_or_failed():
    g = grant()
    g.instruct(1, "p1", TR, False)
    g.cancel_payment("p1", "salah instruksi", TR)
    assert g.payments["p1"]["status"] == "cancelled" and g.tranche_status(1) == "pending"
    assert names(g) == ["Grant.Instructed", "Grant.PaymentCancelled"]
    g.instruct(1, "p2", TR, False)
    g.fail("p2", "ditolak bank", TR)
    g.cancel_payment("p2", "tidak diulang", TR)
    assert g.payments["p2"]["status"] == "cancelled"
    refused(Conflict, lambda: g.cancel_payment("p2", "again", TR), g, rule="payment.transition")
    refused(Conflict, lambda: g.mark_sent("p2", TR), g, rule="payment.transition")


@pytest.mark.parametrize("act", [
    lambda g: g.instruct(1, "p9", OP1, False),
    lambda g: g.instruct(1, "p9", MIN, False),
    lambda g: g.mark_sent("p1", OP1),
    lambda g: g.confirm("p1", "REF", VER),
    lambda g: g.fail("p1", "x", FAC),
    lambda g: g.cancel_payment("p1", "x", PROV),
    lambda g: g.record_refund(1, "x", "y", OP1),
])
def test_only_a_treasurer_moves_money(act):
    g = grant()
    g.instruct(1, "p1", TR, False)
    refused(NotYours, lambda: act(g), g, rule="role.forbidden")


@pytest.mark.parametrize("act", [
    lambda g: g.instruct(2, "p9", TR_OTHER, True),
    lambda g: g.mark_sent("p1", TR_OTHER),
    lambda g: g.fail("p1", "x", TR_OTHER),
    lambda g: g.cancel_payment("p1", "x", TR_OTHER),
    lambda g: g.record_refund(1, "x", "y", TR_OTHER),
    lambda g: g.submit_lpj(1, spending(), OP_OTHER, TODAY),
    lambda g: g.record_visit(TODAY, "running", FINDINGS, "", FAC_OTHER, TODAY, 7, MONITORING),
])
def test_a_treasurer_or_operator_of_another_regency_is_refused(act):
    g = grant()
    g.instruct(1, "p1", TR, False)
    refused(NotYours, lambda: act(g), g, rule="region.scope")


def test_the_treasurer_who_instructed_a_payment_cannot_confirm_it_another_treasurer_does():
    g = grant()
    g.instruct(1, "p1", TR, False)
    g.mark_sent("p1", TR)
    refusal = refused(NotYours, lambda: g.confirm("p1", "BRI-1", TR), g, rule="payment.maker_checker")
    assert refusal.details["payment_id"] == "p1"
    assert g.payments["p1"]["status"] == "sent" and g.disbursed_rp == 0
    g.confirm("p1", "BRI-1", TR2)
    assert g.is_paid(1) and g.disbursed_rp == 14_000_000


def test_the_treasurer_who_instructed_a_retry_cannot_confirm_it_though_another_instructed_the_failed_one():
    g = grant()
    g.instruct(1, "p1", TR2, False)
    g.fail("p1", "rekening tidak aktif", TR)
    g.instruct(1, "p1-retry", TR, False)
    g.mark_sent("p1-retry", TR2)  # sending is not confirming: the one who instructed may send
    refused(NotYours, lambda: g.confirm("p1-retry", "BRI-2", TR), g, rule="payment.maker_checker")
    g.confirm("p1-retry", "BRI-2", TR2)
    assert g.is_paid(1)


two_users = st.tuples(st.sampled_from(["tr", "tr2", "bendahara.lamsel"]),
                      st.sampled_from(["tr", "tr2", "bendahara.lamsel"]))


@given(users=two_users)
def test_a_payment_is_confirmed_if_and_only_if_another_treasurer_than_who_instructed_it_confirms(users):
    instructs, confirms = (Actor(user, "treasurer", "18.01") for user in users)
    g = grant()
    g.instruct(1, "p1", instructs, False)
    g.mark_sent("p1", instructs)
    g.collect_events()
    if instructs.user == confirms.user:
        refused(NotYours, lambda: g.confirm("p1", "BRI-1", confirms), g, rule="payment.maker_checker")
    else:
        g.confirm("p1", "BRI-1", confirms)
    assert g.is_paid(1) is (instructs.user != confirms.user)


# --- equipment ----------------------------------------------------------------------------------------------

# value_rp is the line's value (4 machines worth 10,000,000 together): 13,500,000 in all
BAST = [HandoverItem("mesin jahit", 4, 10_000_000), HandoverItem("mesin obras", 1, 3_500_000)]


def test_an_equipment_grant_is_delivered_with_a_bast_not_transferred():
    g = grant(form="equipment")
    refused(RuleViolated, lambda: g.instruct(1, "p1", TR, False), g, rule="tranche.form")
    g.deliver(1, "d1", BAST, TODAY, "Ibu Siti (ketua)", OP1, False, TODAY)
    assert g.payments["d1"]["status"] == "recorded" and g.payments["d1"]["kind"] == "equipment"
    assert g.disbursed_rp == 0 and not g.is_paid(1) and g.committed_payments_rp == 13_500_000
    events = g.collect_events()
    refused(Conflict, lambda: g.deliver(1, "d2", BAST, TODAY, "Ibu Siti", OP1, False, TODAY), g,
            rule="tranche.once")
    g.accept_handover("d1", TR)
    assert g.payments["d1"]["status"] == "delivered"
    assert g.disbursed_rp == 13_500_000 and g.is_paid(1)
    events += g.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Grant.DeliveryRecorded", "Grant.Delivered"]
    for e, by in zip(events, ("op1", "tr"), strict=True):
        assert (e.items, e.receiver, e.handover_date, e.amount_rp, e.by) == (BAST, "Ibu Siti (ketua)", TODAY,
                                                                             13_500_000, by)
    refused(Conflict, lambda: g.deliver(1, "d2", BAST, TODAY, "Ibu Siti", OP1, False, TODAY), g,
            rule="tranche.once")
    refused(Conflict, lambda: g.accept_handover("d1", OP2), g, rule="payment.transition")


def test_a_delivery_worth_more_than_its_tranche_is_refused():
    g = grant(form="equipment")
    g.deliver(1, "d0", [HandoverItem("mesin jahit", 1, 14_000_000)], TODAY, "Ibu Siti", TR, False, TODAY)
    g2 = grant(form="equipment")
    refused(RuleViolated, lambda: g2.deliver(1, "d1", [HandoverItem("mesin jahit", 1, 14_000_001)], TODAY, "Ibu",
                                             OP1, False, TODAY), g2, rule="grant.above_approved")


@pytest.mark.parametrize(("items", "handover", "receiver", "rule", "field"), [
    ([], TODAY, "Ibu", "bast.items", "items"),
    ([HandoverItem("mesin", 1, 1_000.0)], TODAY, "Ibu", "rupiah.positive_integer", "items.0.value_rp"),
    ([HandoverItem("mesin", 1, 0)], TODAY, "Ibu", "rupiah.positive_integer", "items.0.value_rp"),
    ([HandoverItem("mesin", 0, 1_000)], TODAY, "Ibu", "bast.quantity", "items.0.quantity"),
    (BAST, TODAY + timedelta(days=1), "Ibu", "bast.date_future", "handover_date"),
    (BAST, TODAY, "  ", "bast.receiver", "receiver"),
])
def test_a_bad_handover_record_is_refused(items, handover, receiver, rule, field):
    g = grant(form="equipment")
    refused(ValidationFailed, lambda: g.deliver(1, "d1", items, handover, receiver, OP1, False, TODAY), g,
            rule=rule, field=field)


def test_a_cash_grant_is_not_delivered():
    g = grant(form="cash")
    refused(RuleViolated, lambda: g.deliver(1, "d1", BAST, TODAY, "Ibu", OP1, False, TODAY), g, rule="tranche.form")


def test_a_delivery_is_recorded_by_an_operator_or_treasurer_of_the_regency():
    g = grant(form="equipment")
    refused(NotYours, lambda: g.deliver(1, "d1", BAST, TODAY, "Ibu", FAC, False, TODAY), g, rule="role.forbidden")
    refused(NotYours, lambda: g.deliver(1, "d1", BAST, TODAY, "Ibu", OP_OTHER, False, TODAY), g,
            rule="region.scope")


def test_the_one_who_recorded_a_delivery_cannot_accept_its_handover_another_operator_or_treasurer_does():
    g = grant(form="equipment")
    g.deliver(1, "d1", BAST, TODAY, "Ibu Siti", OP1, False, TODAY)
    refusal = refused(NotYours, lambda: g.accept_handover("d1", OP1), g, rule="bast.maker_checker")
    assert refusal.details["payment_id"] == "d1"
    refused(NotYours, lambda: g.accept_handover("d1", FAC), g, rule="role.forbidden")
    refused(NotYours, lambda: g.accept_handover("d1", TR_OTHER), g, rule="region.scope")
    refused(NotFound, lambda: g.accept_handover("nope", OP2), g)
    assert g.payments["d1"]["status"] == "recorded" and not g.is_paid(1)
    g.accept_handover("d1", OP2)
    assert g.is_paid(1)


@given(users=st.tuples(st.sampled_from([OP1, OP2, TR, TR2]), st.sampled_from([OP1, OP2, TR, TR2])))
def test_a_handover_is_accepted_if_and_only_if_another_person_than_who_recorded_it_accepts(users):
    records, accepts = users
    g = grant(form="equipment")
    g.deliver(1, "d1", BAST, TODAY, "Ibu Siti", records, False, TODAY)
    g.collect_events()
    if records == accepts:
        refused(NotYours, lambda: g.accept_handover("d1", accepts), g, rule="bast.maker_checker")
    else:
        g.accept_handover("d1", accepts)
    assert g.is_paid(1) is (records != accepts)


def test_a_delivery_stored_in_one_event_before_the_acceptance_step_is_paid_as_it_was():
    g = grant(form="equipment")
    # how deliver recorded it before: one Delivered event, no DeliveryRecorded before it
    g._delivered(payment_id="d1", tranche=1, amount_rp=13_500_000, items=BAST, handover_date=TODAY,
                 receiver="Ibu Siti", by="op1", proposal_id=g.proposal_id, group_id=g.group_id,
                 village_code=g.village_code)
    events = g.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Grant.Delivered"]
    assert g.payments["d1"]["status"] == "delivered" and g.is_paid(1) and g.disbursed_rp == 13_500_000


def test_a_mixed_grant_may_be_transferred_and_delivered():
    g = grant(form="mixed")
    pay(g, 1, "p1")
    accept_lpj(g, 1)
    refused(RuleViolated, lambda: g.deliver(2, "d2", [HandoverItem("etalase", 1, 6_000_000)], TODAY, "Ibu", OP1,
                                            False, TODAY), g, rule="tranche.family_school")
    g.deliver(2, "d2", [HandoverItem("etalase", 1, 6_000_000)], TODAY, "Ibu", OP1, True, TODAY)
    g.accept_handover("d2", OP2)
    assert g.disbursed_rp == 20_000_000


# --- LPJ ----------------------------------------------------------------------------------------------------

def test_an_lpj_comes_after_the_payment():
    g = grant()
    refused(RuleViolated, lambda: g.submit_lpj(1, spending(), OP1, TODAY), g, rule="lpj.after_payment")
    g.instruct(1, "p1", TR, False)
    g.mark_sent("p1", TR)
    refused(RuleViolated, lambda: g.submit_lpj(1, spending(), OP1, TODAY), g, rule="lpj.after_payment")
    g.confirm("p1", "REF", TR2)
    g.submit_lpj(1, spending(), OP1, TODAY)
    assert g.lpj[1] == {"status": "submitted", "total_rp": 14_000_000, "by": "op1"}
    refused(RuleViolated, lambda: g.submit_lpj(2, spending(), OP1, TODAY), g, rule="lpj.after_payment")


def test_lpj_review_is_maker_checker_and_a_return_needs_a_reason_then_it_is_resubmitted():
    g = grant()
    pay(g, 1, "p1")
    g.submit_lpj(1, spending(), OP1, TODAY)
    refused(Conflict, lambda: g.submit_lpj(1, spending(), OP2, TODAY), g, rule="lpj.transition")
    refused(NotYours, lambda: g.review_lpj(1, True, OP1), g, rule="lpj.maker_checker")
    refused(ValidationFailed, lambda: g.review_lpj(1, False, OP2, " "), g, rule="lpj.reason", field="reason")
    refused(NotYours, lambda: g.review_lpj(1, True, TR), g, rule="role.forbidden")
    refused(NotYours, lambda: g.review_lpj(1, True, OP_OTHER), g, rule="region.scope")
    g.review_lpj(1, False, OP2, "kuitansi belum lengkap")
    assert g.lpj[1]["status"] == "returned"
    assert names(g) == ["Grant.LpjReturned"]
    refused(Conflict, lambda: g.review_lpj(1, True, OP2), g, rule="lpj.transition")
    g.submit_lpj(1, spending(), OP1, TODAY)
    g.review_lpj(1, True, OP2)
    assert g.lpj[1]["status"] == "accepted"
    assert names(g) == ["Grant.LpjSubmitted", "Grant.LpjAccepted"]
    refused(Conflict, lambda: g.submit_lpj(1, spending(), OP1, TODAY), g, rule="lpj.transition")
    refused(Conflict, lambda: g.review_lpj(1, True, OP2), g, rule="lpj.transition")


@pytest.mark.parametrize(("lines", "rule", "field"), [
    ([], "lpj.lines", "lines"),
    ([SpendingLine("kambing", "KW-1", date(2025, 6, 1), 1_000.5)], "rupiah.positive_integer", "lines.0.amount_rp"),
    ([SpendingLine("kambing", "KW-1", date(2025, 6, 1), -1)], "rupiah.positive_integer", "lines.0.amount_rp"),
    ([SpendingLine("kambing", "KW-1", date(2025, 6, 1), False)], "rupiah.positive_integer", "lines.0.amount_rp"),
    ([SpendingLine("kambing", " ", date(2025, 6, 1), 1_000)], "lpj.receipt", "lines.0.receipt_number"),
    ([SpendingLine("kambing", "KW-1", TODAY + timedelta(days=1), 1_000)], "lpj.receipt_date",
     "lines.0.receipt_date"),
])
def test_a_bad_lpj_is_refused(lines, rule, field):
    g = grant()
    pay(g, 1, "p1")
    refused(ValidationFailed, lambda: g.submit_lpj(1, lines, OP1, TODAY), g, rule=rule, field=field)


def test_an_lpj_is_submitted_by_an_operator():
    g = grant()
    pay(g, 1, "p1")
    refused(NotYours, lambda: g.submit_lpj(1, spending(), FAC, TODAY), g, rule="role.forbidden")


# --- refunds and monitoring ---------------------------------------------------------------------------------

def test_refunds_never_exceed_what_was_disbursed():
    g = grant()
    refused(RuleViolated, lambda: g.record_refund(1, "dana disalahgunakan", "STS-1", TR), g,
            rule="refund.above_disbursed")
    pay(g, 1, "p1")
    g.record_refund(4_000_000, "dana disalahgunakan", "STS-1", TR)
    g.record_refund(10_000_000, "usaha berhenti", "STS-2", TR)
    assert g.refunded_rp == 14_000_000
    assert names(g)[-2:] == ["Grant.Refunded", "Grant.Refunded"]
    refused(RuleViolated, lambda: g.record_refund(1, "x", "STS-3", TR), g, rule="refund.above_disbursed")


@pytest.mark.parametrize(("amount", "reason", "reference", "rule"), [
    (0, "x", "STS", "rupiah.positive_integer"),
    (-1, "x", "STS", "rupiah.positive_integer"),
    (1_000.0, "x", "STS", "rupiah.positive_integer"),
    (True, "x", "STS", "rupiah.positive_integer"),
    (1_000, " ", "STS", "refund.reason"),
    (1_000, "x", "", "refund.reason"),
])
def test_a_bad_refund_is_refused(amount, reason, reference, rule):
    g = grant()
    pay(g, 1, "p1")
    refused(ValidationFailed, lambda: g.record_refund(amount, reason, reference, TR), g, rule=rule)


def test_a_monitoring_visit_after_tranche_one_is_recorded_with_its_stage():
    g = grant()
    pay(g, 1, "p1")
    g.collect_events()
    paid = g.first_paid_on
    assert g.record_visit(paid, "running", FINDINGS, "12 kambing, 3 anak", FAC, paid, 7, MONITORING) == "berkembang"
    assert g.record_visit(paid, "struggling", VisitFindings(0, 3, 0, 0), "", OP1, paid, 7, MONITORING) == "tumbuh"
    assert g.visits == 2 and g.last_visit == {"visit_date": paid, "monthly_revenue_rp": 0, "stage": "tumbuh"}
    events = g.collect_events()
    assert [(type(e).__qualname__, e.by, e.business_status, e.monthly_revenue_rp, e.trend, e.stage) for e in events] \
        == [("Grant.Monitored", "fac", "running", 3_500_000, "steady", "berkembang"),
            ("Grant.Monitored", "op1", "struggling", 0, "falling", "tumbuh")]


@pytest.mark.parametrize(("days", "status", "findings", "actor", "error", "rule"), [
    (1, "running", FINDINGS, FAC, ValidationFailed, "visit.date_future"),
    (0, "booming", FINDINGS, FAC, ValidationFailed, "visit.status"),
    (0, "running", VisitFindings(-1, 6, 0, 0), FAC, ValidationFailed, "rupiah.non_negative_integer"),
    (0, "running", VisitFindings(1.5, 6, 0, 0), FAC, ValidationFailed, "rupiah.non_negative_integer"),
    (0, "running", VisitFindings(True, 6, 0, 0), FAC, ValidationFailed, "rupiah.non_negative_integer"),
    (0, "running", VisitFindings(1, 6, -5, 0), FAC, ValidationFailed, "rupiah.non_negative_integer"),
    (0, "running", VisitFindings(1, 6, 0, 0.5), FAC, ValidationFailed, "rupiah.non_negative_integer"),
    (0, "running", VisitFindings(1, 8, 0, 0), FAC, ValidationFailed, "visit.members_active"),
    (-1, "running", FINDINGS, FAC, RuleViolated, "visit.before_payment"),
    (0, "running", FINDINGS, TR, NotYours, "role.forbidden"),
    (0, "running", FINDINGS, FAC_OTHER, NotYours, "region.scope"),
])
def test_a_bad_visit_is_refused(days, status, findings, actor, error, rule):
    g = grant()
    pay(g, 1, "p1")
    day = g.first_paid_on + timedelta(days=days)
    refused(error, lambda: g.record_visit(day, status, findings, "", actor, g.first_paid_on, 7, MONITORING), g,
            rule=rule)


def test_no_visit_before_tranche_one_is_paid_and_visits_come_in_date_order():
    g = grant()
    today = TODAY + timedelta(days=1000)  # whatever the day: nothing is paid yet
    refused(RuleViolated, lambda: g.record_visit(TODAY, "running", FINDINGS, "", FAC, today, 7, MONITORING), g,
            rule="visit.before_payment")
    pay(g, 1, "p1")
    later = g.first_paid_on + timedelta(days=30)
    g.record_visit(later, "running", FINDINGS, "", FAC, later, 7, MONITORING)
    refused(RuleViolated, lambda: g.record_visit(later - timedelta(days=1), "running", FINDINGS, "", FAC, later, 7,
                                                 MONITORING), g, rule="visit.order")


# --- money --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [1.0, 0.5, -1, True, False, "100", None, Decimal("100"), float("nan")])
def test_money_is_whole_non_negative_rupiah(amount):
    error = refused(ValidationFailed, lambda: check_rupiah("amount_rp", amount), rule="rupiah.non_negative_integer",
                    field="amount_rp")
    assert error.as_dict()["field"] == "amount_rp"


@pytest.mark.parametrize("amount", [0, -1, True, 1.0])
def test_positive_money_refuses_zero_too(amount):
    refused(ValidationFailed, lambda: check_rupiah("amount_rp", amount, positive=True),
            rule="rupiah.positive_integer", field="amount_rp")


@pytest.mark.parametrize("amount", [0, 1, 20_000_000, 10**15])
def test_whole_rupiah_pass(amount):
    assert check_rupiah("amount_rp", amount) == amount
