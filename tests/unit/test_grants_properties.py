"""Properties of the grant domain under random command sequences (domain.md, "Grants (BLPS for UEP)").

- A grant driven by random payments, deliveries, LPJ reviews, refunds, visits and Family School gate changes, by
  right and wrong actors: a refused command changes nothing; the money invariants hold after every step; payments
  move only along their transitions; nobody confirms a transfer or accepts a handover they started; replaying the
  recorded events rebuilds the same grant.
- One budget with many proposals approved and cancelled at random: committed never exceeds the ceiling, never goes
  negative, and equals what the approved-and-not-cancelled proposals hold.
- A proposal under random actions never leaves its transition graph and nobody reviews it twice in a row.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from functools import partial

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.grants.domain import (
    Budget,
    BudgetLine,
    Grant,
    HandoverItem,
    Proposal,
    SpendingLine,
)
from services.grants.monitoring import VisitFindings
from shared.actor import Actor
from shared.errors import BerdayaError
from tests.support.grants_cast import (
    FAC,
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
    VILLAGE,
)

# Mostly the right actor, sometimes a wrong role or another regency.
treasurers = st.sampled_from([TR, TR2, TR, TR2, TR, TR_OTHER, OP1, MIN])
operators = st.sampled_from([OP1, OP2, OP1, OP2, OP1, OP2, OP_OTHER, TR])
visitors = st.sampled_from([FAC, FAC, OP1, OP2, TR, VER, OP_OTHER])
deliverers = st.sampled_from([OP1, OP1, TR, TR, TR_OTHER, FAC])
reasons = st.sampled_from(["rekening ditutup", "kuitansi kurang", "dana disalahgunakan", ""])
UNSPENT = "sisa dana dipakai modal kerja"  # an explanation of a balance left unspent
tranche_numbers = st.integers(min_value=0, max_value=3)
pick = st.integers(min_value=0, max_value=9)

PAYMENT_MOVES = {  # status → statuses a payment may move to
    "instructed": {"sent", "failed", "cancelled"},
    "recorded": {"delivered"},
    "sent": {"confirmed", "failed"},
    "failed": {"cancelled"},
    "confirmed": set(),
    "cancelled": set(),
    "delivered": set(),
}
PAID = ("confirmed", "delivered")
LIVE_OUT = ("failed", "cancelled")


def state(aggregate) -> dict:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


def replay(events: list):
    aggregate = events[0].mutate(None)
    for e in events[1:]:
        aggregate = e.mutate(aggregate)
    return aggregate


def draft(lines: list[BudgetLine], households: int = 10, actor: Actor = OP1) -> Proposal:
    return Proposal.draft(group_id=uuid.uuid4(), group_name="KUBE Mawar", village_code=VILLAGE,
                          member_households=households, business_plan="ternak kambing", budget_lines=lines,
                          form="cash", actor=actor)


def recommended(requested: int, households: int = 10) -> Proposal:
    proposal = draft([BudgetLine("modal usaha", 1, "paket", requested)], households)
    proposal.submit(OP1)
    proposal.verify(VER)
    proposal.recommend(PROV)
    proposal.collect_events()
    return proposal


def refusal_changes_nothing(call, *aggregates) -> bool:
    """Run `call`; True if it succeeded. A refusal must leave every aggregate (version included) as it was."""
    before = [state(a) for a in aggregates]
    try:
        call()
    except BerdayaError:
        for aggregate, earlier in zip(aggregates, before, strict=True):
            assert state(aggregate) == earlier, "a refused command changed the aggregate"
            assert aggregate.collect_events() == [], "a refused command left an event"
        return False
    return True


# --- the grant ----------------------------------------------------------------------------------------------

class GrantMachine(RuleBasedStateMachine):
    @initialize(form=st.sampled_from(["cash", "equipment", "mixed"]),
                amount=st.integers(min_value=1, max_value=40_000_000), head_start=st.integers(min_value=0, max_value=3))
    def open(self, form: str, amount: int, head_start: int) -> None:
        """A new grant; with a head start its first tranche is paid (1), its LPJ submitted (2) or accepted (3)."""
        proposal = recommended(40_000_000, households=20)
        proposal.approve(MIN, amount, form, Budget.open(2025, "APBN", 10**12, MIN), RULES)
        self.grant = grant = Grant.open(proposal, RULES)
        self.gate_open = head_start == 3
        self.serial = 0
        self.statuses: dict[str, str] = {}
        first = grant.tranche(1).amount_rp
        if head_start and form == "equipment" and first > 0:
            payment_id = self.fresh_id()
            grant.deliver(1, payment_id, [HandoverItem("alat", 1, first)], TODAY, "Ibu Siti", OP1, False, TODAY)
            grant.accept_handover(payment_id, TR)
        elif head_start and form != "equipment":
            payment_id = self.fresh_id()
            grant.instruct(1, payment_id, TR, False)
            grant.mark_sent(payment_id, TR)
            grant.confirm(payment_id, "BRI-1", TR2)
        if head_start >= 2 and grant.is_paid(1) and first > 0:
            grant.submit_lpj(1, [SpendingLine("belanja", "KW-1", TODAY, min(first, 1_000))], OP1, TODAY)
        if head_start == 3 and grant.is_paid(1) and first > 0:
            grant.review_lpj(1, True, OP2, explanation=UNSPENT)
        self.events = list(grant.collect_events())
        self.statuses = {pid: p["status"] for pid, p in grant.payments.items()}

    def other_than(self, payment_id: str) -> Actor:
        """A treasurer of the regency who did not instruct the payment or record its handover."""
        payment = self.grant.payments[payment_id]
        return TR2 if TR.user in (payment.get("instructed_by"), payment.get("recorded_by")) else TR

    def fresh_id(self) -> str:
        self.serial += 1
        return f"pay-{self.serial}"

    def payment_id(self, index: int) -> str:
        """Mostly one of the latest payments, sometimes an unknown id."""
        ids = list(self.grant.payments)
        return ids[-1 - index % len(ids)] if ids and index < 9 else "no-such-payment"

    def attempt(self, call) -> None:
        if refusal_changes_nothing(call, self.grant):
            self.events.extend(self.grant.collect_events())
        self.check_moves()

    def check_moves(self) -> None:
        for payment_id, payment in self.grant.payments.items():
            before, now = self.statuses.get(payment_id), payment["status"]
            if before is None:
                assert now in ("instructed", "recorded"), f"a payment was born {now}"
            elif before != now:
                assert now in PAYMENT_MOVES[before], f"payment {payment_id}: {before} → {now}"
        assert set(self.statuses) <= set(self.grant.payments), "a payment disappeared"
        self.statuses = {pid: p["status"] for pid, p in self.grant.payments.items()}

    # --- commands ---

    @rule(open_=st.booleans())
    def toggle_gate(self, open_: bool) -> None:
        self.gate_open = open_

    @rule(number=tranche_numbers, actor=treasurers)
    def instruct(self, number: int, actor: Actor) -> None:
        self.attempt(lambda: self.grant.instruct(number, self.fresh_id(), actor, self.gate_open))

    @rule(index=pick, actor=treasurers)
    def send(self, index: int, actor: Actor) -> None:
        self.attempt(lambda: self.grant.mark_sent(self.payment_id(index), actor))

    @rule(index=pick, actor=treasurers, reference=st.sampled_from(["BRI-0001", "", " "]))
    def confirm(self, index: int, actor: Actor, reference: str) -> None:
        self.attempt(lambda: self.grant.confirm(self.payment_id(index), reference, actor))

    @rule(index=pick, actor=treasurers, reason=reasons)
    def fail(self, index: int, actor: Actor, reason: str) -> None:
        self.attempt(lambda: self.grant.fail(self.payment_id(index), reason, actor))

    @rule(index=pick, actor=treasurers, reason=reasons)
    def cancel(self, index: int, actor: Actor, reason: str) -> None:
        self.attempt(lambda: self.grant.cancel_payment(self.payment_id(index), reason, actor))

    @rule(number=tranche_numbers, actor=deliverers,
          values=st.lists(st.integers(min_value=-1, max_value=30_000_000), max_size=3),
          days=st.integers(min_value=-30, max_value=2), receiver=st.sampled_from(["Ibu Siti", ""]))
    def deliver(self, number: int, actor: Actor, values: list[int], days: int, receiver: str) -> None:
        items = [HandoverItem(f"alat {i}", 1, value) for i, value in enumerate(values)]
        self.attempt(lambda: self.grant.deliver(number, self.fresh_id(), items, TODAY + timedelta(days=days),
                                                receiver, actor, self.gate_open, TODAY))

    @rule(index=pick, actor=deliverers)
    def accept_handover(self, index: int, actor: Actor) -> None:
        self.attempt(lambda: self.grant.accept_handover(self.payment_id(index), actor))

    @rule(number=tranche_numbers, actor=operators,
          amounts=st.lists(st.integers(min_value=-1, max_value=20_000_000), max_size=3),
          days=st.integers(min_value=-30, max_value=1))
    def submit_lpj(self, number: int, actor: Actor, amounts: list[int], days: int) -> None:
        lines = [SpendingLine(f"belanja {i}", f"KW-{i}", TODAY + timedelta(days=days), amount)
                 for i, amount in enumerate(amounts)]
        self.attempt(lambda: self.grant.submit_lpj(number, lines, actor, TODAY))

    @rule(number=tranche_numbers, accept=st.booleans(), actor=operators, reason=reasons,
          refund_reference=st.sampled_from(["", "STS-1"]), explanation=st.sampled_from(["", UNSPENT]))
    def review_lpj(self, number: int, accept: bool, actor: Actor, reason: str, refund_reference: str,
                   explanation: str) -> None:
        self.attempt(lambda: self.grant.review_lpj(number, accept, actor, reason, refund_reference, explanation))

    @rule(amount=st.one_of(st.integers(min_value=-1, max_value=3_000_000), st.integers(max_value=45_000_000)),
          actor=treasurers,
          reason=reasons, reference=st.sampled_from(["STS-1", ""]))
    def refund(self, amount: int, actor: Actor, reason: str, reference: str) -> None:
        self.attempt(lambda: self.grant.record_refund(amount, reason, reference, actor))

    @rule(actor=visitors, status=st.sampled_from(["running", "struggling", "stopped", "booming"]),
          revenue=st.integers(min_value=-1, max_value=10_000_000), active=st.integers(min_value=-1, max_value=11),
          days=st.integers(min_value=-60, max_value=1))
    def visit(self, actor: Actor, status: str, revenue: int, active: int, days: int) -> None:
        today = self.grant.first_paid_on or TODAY  # visits follow tranche 1's payment (its day is the clock's)
        findings = VisitFindings(revenue, active, 600_000, 50_000)
        self.attempt(lambda: self.grant.record_visit(today + timedelta(days=days), status, findings, "", actor,
                                                     today, 10, MONITORING))

    @precondition(lambda self: any(p["status"] in ("instructed", "sent", "failed", "recorded")
                                   for p in self.grant.payments.values()))
    @rule(choice=st.integers(min_value=0, max_value=5))
    def move_a_payment_the_right_way(self, choice: int) -> None:
        """A treasurer moves an open payment along one of its edges: sent, confirmed (by the other treasurer),
        failed or cancelled; a recorded handover is accepted by another person."""
        grant = self.grant
        payment_id = next(pid for pid, p in reversed(grant.payments.items())
                          if p["status"] in ("instructed", "sent", "failed", "recorded"))
        moves = {
            "instructed": [lambda: grant.mark_sent(payment_id, TR), lambda: grant.fail(payment_id, "ditolak", TR),
                           lambda: grant.cancel_payment(payment_id, "salah", TR)],
            "sent": [lambda: grant.confirm(payment_id, "BRI-7", self.other_than(payment_id)),
                     lambda: grant.fail(payment_id, "ditolak", TR)],
            "failed": [lambda: grant.cancel_payment(payment_id, "tidak diulang", TR)],
            "recorded": [lambda: grant.accept_handover(payment_id, self.other_than(payment_id))],
        }[grant.payments[payment_id]["status"]]
        self.attempt(moves[choice % len(moves)])

    @precondition(lambda self: any(not self.grant.is_paid(t.number) for t in self.grant.tranches))
    @rule()
    def pay_the_next_tranche_the_right_way(self) -> None:
        """Drive the grant forward so that later tranches, LPJs and refunds are reached often."""
        grant = self.grant
        number = next(t.number for t in grant.tranches if not grant.is_paid(t.number))
        for earlier in range(1, number):
            if grant.lpj.get(earlier, {}).get("status") == "submitted":
                self.attempt(lambda n=earlier: grant.review_lpj(n, True, OP2 if grant.lpj[n]["by"] == "op1" else OP1,
                                                                explanation=UNSPENT))
            elif grant.lpj.get(earlier, {}).get("status") != "accepted":
                self.attempt(lambda n=earlier: grant.submit_lpj(
                    n, [SpendingLine("belanja", "KW-9", TODAY, 1_000)], OP1, TODAY))
                self.attempt(lambda n=earlier: grant.review_lpj(n, True, OP2, explanation=UNSPENT))
        for payment in grant.payments_of(number):
            if payment["status"] == "instructed":
                self.attempt(lambda p=payment["payment_id"]: grant.mark_sent(p, TR))
            if grant.payments[payment["payment_id"]]["status"] == "sent":
                self.attempt(lambda p=payment["payment_id"]: grant.confirm(p, "BRI-9", self.other_than(p)))
            if payment["status"] == "recorded":
                self.attempt(lambda p=payment["payment_id"]: grant.accept_handover(p, self.other_than(p)))
        if grant.tranche_status(number) == "pending":
            if grant.form == "equipment":
                value = max(grant.tranche(number).amount_rp, 1)
                self.attempt(lambda: grant.deliver(number, self.fresh_id(), [HandoverItem("alat", 1, value)], TODAY,
                                                   "Ibu Siti", OP1, True, TODAY))
            else:
                self.attempt(lambda: grant.instruct(number, self.fresh_id(), TR, True))

    # --- invariants ---

    @invariant()
    def invariants(self) -> None:
        self.money_stays_within_the_approval()
        self.an_accepted_lpj_accounts_for_its_tranche()
        self.a_tranche_is_paid_at_most_once()
        self.later_tranches_wait_for_earlier_ones()
        self.nobody_confirms_what_they_started()
        self.the_events_rebuild_the_grant()

    def an_accepted_lpj_accounts_for_its_tranche(self) -> None:
        for number, lpj in self.grant.lpj.items():
            if lpj["status"] == "accepted":
                balance = self.grant.tranche(number).amount_rp - lpj["total_rp"]
                assert balance >= 0, f"tranche {number}: receipts above the tranche accepted"
                returned = self.grant.refunds.get(lpj["refund_reference"], 0) if lpj["refund_reference"] else 0
                assert balance <= returned or lpj["explanation"], f"tranche {number}: a balance unaccounted for"

    def money_stays_within_the_approval(self) -> None:
        grant = self.grant
        assert 0 <= grant.disbursed_rp <= grant.amount_rp
        assert grant.committed_payments_rp <= grant.amount_rp
        assert 0 <= grant.refunded_rp <= grant.disbursed_rp
        assert sum(t.amount_rp for t in grant.tranches) == grant.amount_rp

    def a_tranche_is_paid_at_most_once(self) -> None:
        for tranche in self.grant.tranches:
            payments = self.grant.payments_of(tranche.number)
            assert sum(p["status"] in PAID for p in payments) <= 1
            assert sum(p["status"] not in LIVE_OUT for p in payments) <= 1
            for p in payments:
                assert p["amount_rp"] <= tranche.amount_rp

    def later_tranches_wait_for_earlier_ones(self) -> None:
        grant = self.grant
        for tranche in grant.tranches[1:]:
            if grant.payments_of(tranche.number):
                previous = tranche.number - 1
                assert grant.is_paid(previous)
                assert grant.lpj.get(previous, {}).get("status") == "accepted"

    def nobody_confirms_what_they_started(self) -> None:
        """Segregation of duties: a transfer is confirmed, a handover accepted, by another user than who instructed
        or recorded it."""
        started = {e.payment_id: e.by for e in self.events if type(e).__name__ in ("Instructed", "DeliveryRecorded")}
        for e in self.events:
            if type(e).__name__ in ("Confirmed", "Delivered"):
                assert e.by != started[e.payment_id], f"{e.by} started and finished payment {e.payment_id}"

    def the_events_rebuild_the_grant(self) -> None:
        assert self.grant.collect_events() == []
        assert state(replay(self.events)) == state(self.grant)
        assert self.grant.version == len(self.events)


GrantMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
test_a_grant_under_random_commands = GrantMachine.TestCase


# --- one budget, many proposals ---------------------------------------------------------------------------------

class BudgetMachine(RuleBasedStateMachine):
    @initialize(ceiling=st.integers(min_value=0, max_value=100_000_000))
    def open(self, ceiling: int) -> None:
        self.budget = Budget.open(2025, "APBN", ceiling, MIN)
        self.budget_events = list(self.budget.collect_events())
        self.proposals: list[Proposal] = []

    def proposal(self, index: int) -> Proposal | None:
        return self.proposals[index % len(self.proposals)] if self.proposals else None

    def attempt(self, call, proposal: Proposal | None = None) -> None:
        aggregates = (self.budget,) if proposal is None else (proposal, self.budget)
        if refusal_changes_nothing(call, *aggregates):
            self.budget_events.extend(self.budget.collect_events())
            if proposal is not None:
                proposal.collect_events()

    @rule(requested=st.integers(min_value=1, max_value=40_000_000), households=st.integers(min_value=5, max_value=20))
    def new_proposal(self, requested: int, households: int) -> None:
        self.proposals.append(recommended(requested, households))

    @precondition(lambda self: self.proposals)
    @rule(index=pick, amount=st.integers(min_value=-1, max_value=45_000_000),
          actor=st.sampled_from([MIN, MIN2, PROV]))
    def approve(self, index: int, amount: int, actor: Actor) -> None:
        proposal = self.proposal(index)
        self.attempt(lambda: proposal.approve(actor, amount, "cash", self.budget, RULES), proposal)

    @precondition(lambda self: self.proposals)
    @rule(index=pick, actor=st.sampled_from([MIN, MIN2, PROV]), reason=st.sampled_from(["kelompok bubar", ""]))
    def cancel(self, index: int, actor: Actor, reason: str) -> None:
        proposal = self.proposal(index)
        self.attempt(lambda: proposal.cancel(actor, reason, self.budget), proposal)

    @rule(ceiling=st.integers(min_value=-1, max_value=120_000_000), actor=st.sampled_from([MIN, MIN2, TR]))
    def set_ceiling(self, ceiling: int, actor: Actor) -> None:
        self.attempt(lambda: self.budget.set_ceiling(ceiling, actor))

    @invariant()
    def committed_is_what_the_approved_proposals_hold(self) -> None:
        budget = self.budget
        assert 0 <= budget.committed_rp <= budget.ceiling_rp
        assert budget.committed_rp == sum(p.approval["amount_rp"] for p in self.proposals if p.status == "approved")
        for p in self.proposals:
            if p.status in ("approved", "cancelled"):
                assert p.approval["amount_rp"] <= min(p.requested_rp, p.cap_rp(RULES))

    @invariant()
    def the_events_rebuild_the_budget(self) -> None:
        assert state(replay(self.budget_events)) == state(self.budget)


BudgetMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=25, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
test_one_budget_under_random_approvals_and_cancellations = BudgetMachine.TestCase


# --- one proposal under random actions ------------------------------------------------------------------------

EDGES = {
    ("draft", "submitted"),
    ("submitted", "verified"), ("submitted", "returned"), ("submitted", "rejected"),
    ("verified", "recommended"), ("verified", "returned"), ("verified", "rejected"),
    ("recommended", "approved"), ("recommended", "returned"), ("recommended", "rejected"),
    ("returned", "submitted"),
    ("approved", "cancelled"),
}
X = {role: Actor("x", role, region) for role, region in
     (("operator", "18.01"), ("verifier", "18.01"), ("province", "18"), ("ministry", ""))}
proposal_actors = st.sampled_from([OP1, OP2, VER, PROV, MIN, MIN2, TR, OP_OTHER, PROV_OTHER, *X.values()])
ACTIONS = ("submit", "verify", "recommend", "approve", "return", "reject", "resubmit", "cancel", "flag")
REVIEW_ACTIONS = ("verify", "recommend", "approve", "return", "reject", "cancel")
actions = st.tuples(st.sampled_from(ACTIONS), proposal_actors, st.integers(min_value=-1, max_value=30_000_000),
                    st.sampled_from(["alasan", "", " "]))


def act(proposal: Proposal, budget: Budget, action: str, actor: Actor, amount: int, reason: str) -> None:
    if action == "submit":
        proposal.submit(actor)
    elif action == "verify":
        proposal.verify(actor)
    elif action == "recommend":
        proposal.recommend(actor)
    elif action == "approve":
        proposal.approve(actor, amount, "cash", budget, RULES)
    elif action == "return":
        proposal.return_for_revision(actor, reason)
    elif action == "reject":
        proposal.reject(actor, reason)
    elif action == "resubmit":
        lines = [BudgetLine("modal", 1, "paket", amount)] if amount % 2 else None
        proposal.resubmit(actor, member_households=proposal.member_households, budget_lines=lines)
    elif action == "cancel":
        proposal.cancel(actor, reason, budget)
    else:
        proposal.flag(reason or "anggota berubah")


@settings(max_examples=150, deadline=None)
@given(first=st.sampled_from([OP1, X["operator"]]), steps=st.lists(actions, max_size=40),
       ceiling=st.integers(min_value=0, max_value=40_000_000))
def test_a_proposal_never_leaves_its_transition_graph(first, steps, ceiling):
    proposal = draft([BudgetLine("modal", 1, "paket", 25_000_000)], actor=first)
    budget = Budget.open(2025, "APBN", ceiling, MIN)
    events = list(proposal.collect_events())
    budget.collect_events()
    for action, actor, amount, reason in steps:
        before_status, before_actor = proposal.status, proposal.last_actor
        step = partial(act, proposal, budget, action, actor, amount, reason)
        if not refusal_changes_nothing(step, proposal, budget):
            continue
        new = proposal.collect_events()
        events.extend(new)
        budget.collect_events()
        if proposal.status != before_status:
            assert (before_status, proposal.status) in EDGES, f"{before_status} → {proposal.status} by {action}"
            if action in REVIEW_ACTIONS:
                assert actor.user != before_actor, f"{actor.user} acted twice in a row ({action})"
            assert proposal.last_actor == actor.user
        else:
            assert action == "flag" and [type(e).__qualname__ for e in new] in ([], ["Proposal.Flagged"])
        if proposal.status in ("approved", "cancelled"):
            assert proposal.approval["amount_rp"] <= min(proposal.requested_rp, proposal.cap_rp(RULES))
        assert 0 <= budget.committed_rp <= budget.ceiling_rp
        assert budget.committed_rp == (proposal.approval["amount_rp"] if proposal.status == "approved" else 0)
    assert state(replay(events)) == state(proposal)
    assert proposal.requested_rp == sum(line.total_rp for line in proposal.budget_lines)


# --- the cap follows the group as it is when the proposal climbs again ----------------------------------------


@settings(max_examples=200, deadline=None)
@given(drafted_with=st.integers(5, 20), memberships=st.lists(st.integers(5, 20), min_size=1, max_size=4),
       asked=st.integers(1, 40).map(lambda millions: millions * 1_000_000))
def test_the_cap_follows_the_households_the_group_has_at_its_last_resubmission(drafted_with, memberships, asked):
    """Returned and resubmitted as the group's membership changes: approval is capped by the households the group
    had when it was last resubmitted, not when it was drafted (a group that shrank from 10 to 5 households was
    approvable up to Rp 20,000,000)."""
    proposal = draft([BudgetLine("modal usaha", 1, "paket", asked)], drafted_with)
    proposal.submit(OP1)
    for households in memberships:  # returned, and resubmitted for the group as it now is
        proposal.return_for_revision(VER, "anggota kelompok berubah")
        proposal.resubmit(OP2, member_households=households)
    proposal.verify(VER)
    proposal.recommend(PROV)
    proposal.collect_events()
    cap = RULES.cap_per_household_rp * memberships[-1]
    budget = Budget.open(2026, "APBN", 10**12, MIN)
    budget.collect_events()
    over = min(asked, cap) + 1
    if over <= asked:  # above the cap that now holds (and within what was asked): refused, nothing changes
        assert not refusal_changes_nothing(lambda: proposal.approve(MIN2, over, "cash", budget, RULES), proposal,
                                           budget)
    assert refusal_changes_nothing(lambda: proposal.approve(MIN2, min(asked, cap), "cash", budget, RULES),
                                   proposal, budget)
    assert proposal.approval["amount_rp"] <= cap
