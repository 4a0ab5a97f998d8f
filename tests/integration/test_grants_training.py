"""Grants and the Family School against real PostgreSQL and RabbitMQ: the money's route, its guards under
concurrency, and the gate that ties tranche 2 to the Family School — across services, through events only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from eventlet import sleep as eventlet_sleep
from nameko.containers import ServiceContainer
from nameko.exceptions import RemoteError

from services.training.application import TrainingApplication
from services.training.service import TrainingService
from shared.backbone import Backbone
from shared.config import SERVICES
from shared.errors import from_remote
from shared.ids import jakarta_today
from tests.integration.test_registry import eligible_households, group
from tests.support.households import actor, household, person_id, reader
from tests.support.personal_data import found_in_database, identifying_values
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

VILLAGE = "18.01.06.2001"
OPERATOR = {"user": "op.kalianda", "role": "operator", "region": "18.01"}
OPERATOR_2 = {"user": "op2.kalianda", "role": "operator", "region": "18.01"}
VERIFIER = {"user": "kabid.lamsel", "role": "verifier", "region": "18.01"}
PROVINCE = {"user": "dinsos.lampung", "role": "province", "region": "18"}
MINISTRY = {"user": "kemensos.pusat", "role": "ministry", "region": ""}
MINISTRY_2 = {"user": "kemensos.direktur", "role": "ministry", "region": ""}
TREASURER = {"user": "bendahara.lamsel", "role": "treasurer", "region": "18.01"}
TREASURER_2 = {"user": "bendahara2.lamsel", "role": "treasurer", "region": "18.01"}  # confirms what TREASURER instructs
FACILITATOR = {"user": "fasilitator.rina", "role": "facilitator", "region": "18.01"}
HEAD = {"user": "kadis.lamsel", "role": "head", "region": "18.01"}  # the regency's budget is its office's
LINES = [{"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": 2_500_000},
         {"item": "Kain dan benang", "quantity": 1, "unit": "paket", "unit_price_rp": 4_000_000}]  # Rp 16,500,000


@pytest.fixture
def running(system: System) -> System:
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    with system.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": MINISTRY, "fiscal_year": 2026, "source": "APBN",
                                       "ceiling_rp": 100_000_000})
    return system


def refusal(call):
    with pytest.raises(RemoteError) as raised:
        call()
    error = from_remote(raised.value.exc_type, raised.value.value)
    assert error is not None, raised.value
    return error


def funded_ready_group(rpc, start: int, name: str = "KUBE Mawar", village: str = VILLAGE) -> tuple[str, list[dict]]:
    members = eligible_households(rpc, 7, village, start=start)
    group_id = rpc.registry.form_group(group(name, village, members))
    eventually(lambda: rpc.grants.group(group_id) is not None)
    return group_id, members


def draft(rpc, group_id: str, lines=LINES, form: str = "cash") -> str:
    return rpc.grants.draft_proposal({"actor": OPERATOR, "group_id": group_id, "form": form,
                                      "business_plan": "Usaha jahit seragam sekolah", "budget_lines": lines})


def verified(rpc, proposal_id: str) -> None:
    rpc.grants.submit({"actor": OPERATOR, "proposal_id": proposal_id})
    rpc.grants.verify({"actor": VERIFIER, "proposal_id": proposal_id})


def verified_proposals(rpc, count: int, start: int, name: str) -> list[str]:
    """``count`` KUBEs ready for funding, each with a proposal verified by the district (for approvals that race)."""
    proposals = []
    for number in range(count):
        group_id, _ = funded_ready_group(rpc, start=start + 10 * number, name=f"{name} {number}")
        proposal_id = draft(rpc, group_id)
        verified(rpc, proposal_id)
        proposals.append(proposal_id)
    return proposals


def approval_outcomes(replies) -> list[str]:
    """Each racing approval's outcome: "approved", or the rule that refused it."""
    outcomes = []
    for reply in replies:
        try:
            reply.result()
            outcomes.append("approved")
        except RemoteError as refused:
            outcomes.append(from_remote(refused.exc_type, refused.value).rule)
    return outcomes


def climb(rpc, proposal_id: str) -> None:
    verified(rpc, proposal_id)
    rpc.grants.recommend({"actor": PROVINCE, "proposal_id": proposal_id})


def approve(rpc, proposal_id: str, amount: int = 14_000_000, form: str = "cash", actor=MINISTRY) -> None:
    rpc.grants.approve({"actor": actor, "proposal_id": proposal_id, "amount_rp": amount, "form": form,
                        "fiscal_year": 2026, "source": "APBN"})


def approved_proposal(rpc, start: int, village: str = VILLAGE) -> tuple[str, list[dict], str]:
    """A 2026 APBN budget, seven eligible households in a KUBE, its proposal carried up the route and approved."""
    rpc.grants.set_budget_ceiling({"actor": MINISTRY, "fiscal_year": 2026, "source": "APBN",
                                   "ceiling_rp": 100_000_000})
    group_id, members = funded_ready_group(rpc, start=start, village=village)
    proposal_id = draft(rpc, group_id)
    climb(rpc, proposal_id)
    approve(rpc, proposal_id)
    return group_id, members, proposal_id


def pay(rpc, proposal_id: str, tranche: int, key: str) -> dict:
    payment = rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": tranche,
                                   "idempotency_key": key})
    rpc.grants.mark_sent({"actor": TREASURER, "proposal_id": proposal_id, "payment_id": payment["payment_id"]})
    rpc.grants.confirm({"actor": TREASURER_2, "proposal_id": proposal_id, "payment_id": payment["payment_id"],
                        "bank_reference": f"BRI-{key}"})
    return payment


def complete_family_school(rpc, cohort_id: str, present: list[str], absent: list[str], present_at: int) -> list[dict]:
    """Six sessions in the past: ``present`` at the first ``present_at`` of them, ``absent`` at none."""
    modules = rpc.training.curriculum()["active"]
    completed = []
    for index, module in enumerate(modules):
        session_id = rpc.training.schedule_session({
            "cohort_id": cohort_id, "module": module, "session_date": (jakarta_today() - timedelta(days=60 - index * 7))
            .isoformat(), "place": "Balai Desa Jondong", "actor": FACILITATOR})
        marks = {person: "present" if index < present_at else "absent" for person in present} | {
            person: "absent" for person in absent}
        completed += rpc.training.record_attendance({"cohort_id": cohort_id, "session_id": session_id,
                                                     "marks": marks, "actor": FACILITATOR})
    return completed


def test_a_group_is_funded_in_tranches_and_tranche_two_waits_for_lpj_and_the_family_school(running):
    with running.rpc() as rpc:
        group_id, members = funded_ready_group(rpc, start=200)
        proposal_id = draft(rpc, group_id)
        assert rpc.grants.proposal(proposal_id)["requested_rp"] == 16_500_000
        climb(rpc, proposal_id)
        approve(rpc, proposal_id)

        grant = rpc.grants.grant(proposal_id)
        assert [(t["number"], t["amount_rp"]) for t in grant["tranches"]] == [(1, 9_800_000), (2, 4_200_000)]
        # Registry learns the group is funded; training enrols its representatives in a Kalianda cohort.
        eventually(lambda: rpc.registry.group(reader(), group_id)["status"] == "funded")
        cohorts = eventually(lambda: rpc.training.cohorts(village_code=VILLAGE)["items"])
        cohort_id = cohorts[0]["cohort_id"]
        representatives = [person_id(rpc, m["representative_nik"]) for m in members]  # training knows their ids
        eventually(lambda: len(rpc.training.cohort(cohort_id)["participants"]) == 7)
        assert sorted(p["person_id"] for p in rpc.training.cohort(cohort_id)["participants"]) == sorted(
            representatives)

        first = pay(rpc, proposal_id, 1, "tranche-1-key-0001")
        again = rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": 1,
                                     "idempotency_key": "tranche-1-key-0001"})
        assert again["payment_id"] == first["payment_id"] and again["repeated"] is True
        assert rpc.grants.grant(proposal_id)["disbursed_rp"] == 9_800_000

        assert refusal(lambda: rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": 2,
                                                    "idempotency_key": "tranche-2-key-0001"})).rule == "tranche.lpj"
        rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": [
            {"description": "Mesin jahit 5 unit", "receipt_number": "INV-001", "receipt_date": "2026-01-10",
             "amount_rp": 9_800_000}]})
        assert refusal(lambda: rpc.grants.review_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1,
                                                      "accept": True})).rule == "lpj.maker_checker"
        rpc.grants.review_lpj({"actor": OPERATOR_2, "proposal_id": proposal_id, "tranche": 1, "accept": True})

        # The gate: closed until ≥ 80 % of the 7 representatives (6) have completed the Family School.
        tranche_2 = {"actor": TREASURER, "proposal_id": proposal_id, "tranche": 2,
                     "idempotency_key": "tranche-2-key-0001"}
        assert refusal(lambda: rpc.grants.instruct(tranche_2)).rule == "tranche.family_school"
        completed = complete_family_school(rpc, cohort_id, representatives[:5], representatives[5:], present_at=5)
        assert len(completed) == 5 and all(c["certificate"].startswith("SK-18.01.06-") for c in completed)
        eventually(lambda: any(g["completed"] == 5 for g in rpc.training.gates()))
        assert refusal(lambda: rpc.grants.instruct(tranche_2)).rule == "tranche.family_school"  # 5 of 7 < 80 %
        more = complete_family_school_late(rpc, cohort_id, representatives[5])
        assert len(more) == 1
        eventually(lambda: rpc.grants.grant(proposal_id)["family_school_gate_open"])
        pay(rpc, proposal_id, 2, "tranche-2-key-0001")

        grant = rpc.grants.grant(proposal_id)
        assert grant["disbursed_rp"] == 14_000_000 == grant["amount_rp"]
        assert [t["status"] for t in grant["tranches"]] == ["confirmed", "confirmed"]
        assert refusal(lambda: rpc.grants.instruct({**tranche_2, "idempotency_key": "tranche-2-key-0002"})).rule \
            == "tranche.once"
        assert rpc.training.totals()["completed"] == 6 and rpc.training.totals()["gate_open_groups"] == 1


def complete_family_school_late(rpc, cohort_id: str, person: str) -> list[dict]:
    """Correct five of a participant's absences to present (the facilitator's register was wrong)."""
    cohort = rpc.training.cohort(cohort_id)
    completed = []
    for session in cohort["sessions"][:5]:
        completed += rpc.training.correct_attendance({
            "cohort_id": cohort_id, "session_id": session["session_id"], "person_id": person, "status": "present",
            "reason": "daftar hadir tertukar", "actor": FACILITATOR})
    return completed


def test_the_route_refuses_what_the_rules_forbid_and_returned_proposals_come_back(running):
    with running.rpc() as rpc:
        group_id, _ = funded_ready_group(rpc, start=300)
        proposal_id = draft(rpc, group_id)
        assert refusal(lambda: approve(rpc, proposal_id)).rule == "proposal.transition"
        rpc.grants.submit({"actor": OPERATOR, "proposal_id": proposal_id})
        other_regency = {"user": "kabid.lamteng", "role": "verifier", "region": "18.02"}
        assert refusal(lambda: rpc.grants.verify({"actor": other_regency, "proposal_id": proposal_id})).rule \
            == "region.scope"
        assert refusal(lambda: rpc.grants.verify({"actor": {**VERIFIER, "user": OPERATOR["user"]},
                                                  "proposal_id": proposal_id})).rule == "proposal.maker_checker"
        rpc.grants.verify({"actor": VERIFIER, "proposal_id": proposal_id})
        rpc.grants.return_for_revision({"actor": PROVINCE, "proposal_id": proposal_id,
                                        "reason": "RAB belum mencantumkan biaya pelatihan"})
        rpc.grants.resubmit({"actor": OPERATOR, "proposal_id": proposal_id,
                             "budget_lines": [*LINES, {"item": "Pelatihan menjahit", "quantity": 1, "unit": "paket",
                                                       "unit_price_rp": 1_500_000}]})
        rpc.grants.verify({"actor": VERIFIER, "proposal_id": proposal_id})
        rpc.grants.recommend({"actor": PROVINCE, "proposal_id": proposal_id})
        assert refusal(lambda: approve(rpc, proposal_id, amount=14_000_001)).rule == "approval.above_cap"
        approve(rpc, proposal_id, amount=14_000_000)
        shown = rpc.grants.proposal(proposal_id)
        assert shown["status"] == "approved" and shown["requested_rp"] == 18_000_000
        assert [h["event"] for h in shown["history"]] == ["Drafted", "Submitted", "Verified", "Returned",
                                                          "Resubmitted", "Verified", "Recommended", "Approved"]

        second_group, _ = funded_ready_group(rpc, start=320, name="KUBE Melati")
        rejected = draft(rpc, second_group)
        rpc.grants.submit({"actor": OPERATOR, "proposal_id": rejected})
        rpc.grants.reject({"actor": VERIFIER, "proposal_id": rejected, "reason": "usaha sejenis sudah jenuh"})
        assert refusal(lambda: rpc.grants.verify({"actor": VERIFIER, "proposal_id": rejected})).rule \
            == "proposal.transition"
        totals = rpc.grants.totals()
        assert (totals["approved"], totals["returned"], totals["rejected"], totals["approved_rp"]) == (
            1, 1, 1, 14_000_000)
        budget = rpc.grants.budgets(2026)[0]
        assert (budget["committed_rp"], budget["available_rp"]) == (14_000_000, 86_000_000)


def test_a_proposal_whose_household_drops_out_before_approval_is_flagged(running):
    with running.rpc() as rpc:
        group_id, members = funded_ready_group(rpc, start=400)
        proposal_id = draft(rpc, group_id)
        climb(rpc, proposal_id)
        rpc.registry.change_decile({"kk": members[2]["kk"], "decile": 6, "actor": actor("pusdatin")})
        eventually(lambda: rpc.grants.proposal(proposal_id)["flags"])
        error = refusal(lambda: approve(rpc, proposal_id))
        # Why, without the household's KK (grants never learns it).
        assert error.rule == "proposal.flagged" and "a member household moved to decile 6" in error.message
        assert members[2]["kk"] not in error.message


def test_a_group_has_one_proposal_in_progress_even_when_drafts_race(running):
    """A retried or double-clicked draft must not give a group a second proposal (it could be funded twice)."""
    with running.rpc() as rpc:
        group_id, _ = funded_ready_group(rpc, start=450)
        replies = [rpc.grants.draft_proposal.call_async({"actor": OPERATOR, "group_id": group_id, "form": "cash",
                                                         "business_plan": "Usaha jahit", "budget_lines": LINES})
                   for _ in range(4)]
        drafted, refused = [], []
        for reply in replies:
            try:
                drafted.append(reply.result())
            except RemoteError as error:
                refused.append(from_remote(error.exc_type, error.value))
        assert len(drafted) == 1 and [e.rule for e in refused] == ["proposal.one_open"] * 3, refused
        assert drafted[0] in refused[0].message
        error = refusal(lambda: draft(rpc, group_id))
        assert error.rule == "proposal.one_open"
        # Once that proposal is rejected, the group may propose again.
        rpc.grants.submit({"actor": OPERATOR, "proposal_id": drafted[0]})
        rpc.grants.reject({"actor": VERIFIER, "proposal_id": drafted[0], "reason": "RAB tidak wajar"})
        assert draft(rpc, group_id) != drafted[0]


class TrainingNotListeningToRegistry(TrainingApplication):
    upstreams = ("grants",)


class TrainingWhoseRegistryConsumerIsDown(TrainingService):
    """Training with its registry consumer not running (crashed, or its queue stuck): registry's news of a group
    cannot reach it, while grants' approval of that group can."""

    app = Backbone(TrainingNotListeningToRegistry)


def test_an_approval_that_overtakes_the_news_of_its_group_waits_for_it_and_is_applied_once(system: System):
    for service in ("registry", "grants"):
        system.start(service)
    lagging = ServiceContainer(TrainingWhoseRegistryConsumerIsDown, system.config("training"))
    lagging.start()
    system.import_regions()
    with system.rpc() as rpc:
        group_id, members, proposal_id = approved_proposal(rpc, start=470)
        approved_at = rpc.grants.backbone_status()["last_position"]
        # Training waits at the approval: it neither halts (it is not poison) nor moves past it.
        eventually(lambda: system.scalar("training", "SELECT count(*) FROM training_tracking "
                                                     "WHERE application_name = 'grants'") > 0, timeout=30)
        for _ in range(3):
            status = rpc.training.backbone_status()["consumers"]["grants"]
            assert status["halt"] is None and status["position"] < approved_at, status
            eventlet_sleep(1)
        assert system.scalar("training", "SELECT count(*) FROM participants") == 0

        lagging.stop()  # the registry consumer is back
        system.start("training")
        eventually(lambda: system.scalar("training", "SELECT count(*) FROM participants WHERE group_id = %s",
                                         (group_id,)) == 7, timeout=60)
        eventually(lambda: rpc.training.backbone_status()["consumers"]["grants"]["position"] >= approved_at)
        assert system.scalar("training", "SELECT count(DISTINCT person_id) FROM participants") == 7
        assert all(c["halt"] is None for c in rpc.training.backbone_status()["consumers"].values())


def test_a_newcomer_registered_and_added_while_training_was_down_is_enrolled_when_it_catches_up(running: System):
    """Registry's news of a household and of its joining a funded KUBE reach training in one batch: the join reads
    the household's people, which the same batch writes — it must see them."""
    with running.rpc() as rpc:
        group_id, members, _ = approved_proposal(rpc, start=640)
        enrolled = "SELECT count(*) FROM participants WHERE group_id = %s"
        eventually(lambda: running.scalar("training", enrolled, (group_id,)) == 7)
        running.stop("training")
        newcomer = household(647, village=VILLAGE, decile=2)
        rpc.registry.register_household(newcomer)
        rpc.registry.change_group_member({
            "group_id": group_id, "added": {"kk": newcomer["kk"], "representative_nik": newcomer["members"][0]["nik"]},
            "reason": "bergabung setelah musyawarah desa", "actor": actor("operator.lamsel")})
        running.start("training")
        eventually(lambda: running.scalar("training", enrolled, (group_id,)) == 8, timeout=60,
                   message="training enrols the newcomer it learnt of in the same batch as her household")
        assert rpc.training.individual(person_id(rpc, newcomer["members"][0]["nik"]))["status"] == "active"


def test_concurrent_approvals_never_spend_more_than_the_ceiling(running):
    with running.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": HEAD, "fiscal_year": 2027, "source": "APBD-kabupaten",
                                       "region": "18.01", "ceiling_rp": 30_000_000})
        proposals = verified_proposals(rpc, 4, start=500, name="KUBE")
        # Four approvals of Rp 14,000,000 at once against Rp 30,000,000: exactly two can fit.
        replies = [rpc.grants.approve.call_async({"actor": HEAD, "proposal_id": p, "amount_rp": 14_000_000,
                                                  "form": "cash", "fiscal_year": 2027, "source": "APBD-kabupaten",
                                                  "decree_number": f"SK-{index}"})
                   for index, p in enumerate(proposals)]
        outcomes = approval_outcomes(replies)
        assert sorted(outcomes) == ["approved", "approved", "budget.ceiling", "budget.ceiling"]
        budget = next(b for b in rpc.grants.budgets(2027))
        assert budget["committed_rp"] == 28_000_000 <= budget["ceiling_rp"]


def test_concurrent_instructions_for_one_tranche_make_exactly_one_payment(running):
    with running.rpc() as rpc:
        group_id, _ = funded_ready_group(rpc, start=600)
        proposal_id = draft(rpc, group_id)
        climb(rpc, proposal_id)
        approve(rpc, proposal_id)
        keys = [f"key-{uuid.uuid4()}" for _ in range(6)] + ["same-key-000001"] * 4
        replies = [rpc.grants.instruct.call_async({"actor": TREASURER, "proposal_id": proposal_id, "tranche": 1,
                                                   "idempotency_key": key}) for key in keys]
        payments, refusals = set(), []
        for reply in replies:
            try:
                payments.add(reply.result()["payment_id"])
            except RemoteError as refused:
                refusals.append(from_remote(refused.exc_type, refused.value).rule)
        assert len(payments) == 1 and set(refusals) <= {"tranche.once"}
        grant = rpc.grants.grant(proposal_id)
        assert len(grant["payments"]) == 1 and grant["tranches"][0]["status"] == "instructed"


def test_a_cancelled_grant_is_never_paid_even_when_the_cancellation_races_the_payment(running):
    """The approval's cancellation and a payment instruction sent at the same moment: one of them wins, never
    both — no money leaves for a grant whose budget was released."""
    with running.rpc() as rpc:
        outcomes = []
        for start in (760, 780):
            _group_id, _members, proposal_id = approved_proposal(rpc, start=start)
            instructed = rpc.grants.instruct.call_async({"actor": TREASURER, "proposal_id": proposal_id,
                                                         "tranche": 1, "idempotency_key": f"race-{start}-key"})
            cancelled = rpc.grants.cancel.call_async({"actor": {**MINISTRY, "user": "kemensos.pejabat2"},
                                                      "proposal_id": proposal_id, "reason": "kelompok bubar"})
            won = []
            for name, reply in (("instruct", instructed), ("cancel", cancelled)):
                try:
                    reply.result()
                    won.append(name)
                except RemoteError as refused:
                    assert from_remote(refused.exc_type, refused.value).rule in (
                        "grant.cancelled", "grant.cancel_after_payment"), refused
            grant, proposal = rpc.grants.grant(proposal_id), rpc.grants.proposal(proposal_id)
            assert len(won) == 1, won
            assert (proposal["status"] == "cancelled") == (won == ["cancel"])
            assert len(grant["payments"]) == (1 if won == ["instruct"] else 0)
            outcomes.append(won[0])
        # Once cancelled, nothing is paid: the refusal names the rule.
        cancelled_id = next((p for p in rpc.grants.proposals("cancelled")["items"]), None)
        if cancelled_id is None:  # both races went to the payment: cancel one now that nothing is racing
            _group_id, _members, proposal_id = approved_proposal(rpc, start=800)
            rpc.grants.cancel({"actor": {**MINISTRY, "user": "kemensos.pejabat2"}, "proposal_id": proposal_id,
                               "reason": "kelompok bubar"})
        else:
            proposal_id = cancelled_id["proposal_id"]
        assert refusal(lambda: rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": 1,
                                                    "idempotency_key": "after-cancel-key"})).rule == "grant.cancelled"
        assert rpc.grants.grant(proposal_id)["payments"] == []


def test_a_failed_payment_is_retried_and_equipment_is_delivered_with_its_handover_record(running):
    with running.rpc() as rpc:
        group_id, _ = funded_ready_group(rpc, start=700)
        proposal_id = draft(rpc, group_id, form="mixed")
        climb(rpc, proposal_id)
        approve(rpc, proposal_id, form="mixed")
        failed = rpc.grants.instruct({"actor": TREASURER, "proposal_id": proposal_id, "tranche": 1,
                                      "idempotency_key": "attempt-0001"})
        rpc.grants.mark_sent({"actor": TREASURER, "proposal_id": proposal_id, "payment_id": failed["payment_id"]})
        rpc.grants.fail({"actor": TREASURER, "proposal_id": proposal_id, "payment_id": failed["payment_id"],
                         "reason": "rekening tidak aktif"})
        pay(rpc, proposal_id, 1, "attempt-0002")
        assert rpc.grants.totals()["failed_then_retried"] == 1
        rpc.grants.submit_lpj({"actor": OPERATOR, "proposal_id": proposal_id, "tranche": 1, "lines": [
            {"description": "Bahan baku", "receipt_number": "NOTA-7", "receipt_date": "2026-02-01",
             "amount_rp": 9_800_000}]})
        rpc.grants.review_lpj({"actor": OPERATOR_2, "proposal_id": proposal_id, "tranche": 1, "accept": True})
        error = refusal(lambda: rpc.grants.deliver({
            "actor": OPERATOR, "proposal_id": proposal_id, "tranche": 2, "idempotency_key": "bast-0001",
            "items": [{"item": "Mesin obras", "quantity": 1, "value_rp": 4_200_000}],
            "handover_date": jakarta_today().isoformat(), "receiver": "Ketua KUBE"}))
        assert error.rule == "tranche.family_school"
        assert rpc.grants.grant(proposal_id)["disbursed_rp"] == 9_800_000


@pytest.mark.parametrize("mistake", ["no_session", "not_in_cohort", "future_session", "duplicate_session"])
def test_bad_family_school_input_is_refused_and_nothing_is_recorded(running, mistake):
    with running.rpc() as rpc:
        members = eligible_households(rpc, 2, VILLAGE, start=800)
        people = [person_id(rpc, m["representative_nik"]) for m in members]
        eventually(lambda: rpc.training.individual(people[1]))
        cohort_id = rpc.training.open_cohort({"village_code": VILLAGE, "facilitator": "fasilitator.rina",
                                              "actor": actor("kasi.pemberdayaan")})
        rpc.training.enrol({"cohort_id": cohort_id, "person_id": people[0], "actor": actor("kasi")})
        yesterday = (jakarta_today() - timedelta(days=1)).isoformat()
        facilitator = actor("f", "facilitator")
        session_id = rpc.training.schedule_session({"cohort_id": cohort_id, "module": "keuangan",
                                                    "session_date": yesterday, "place": "Balai Desa",
                                                    "actor": facilitator})
        before = rpc.training.cohort(cohort_id)
        attend = {"cohort_id": cohort_id, "session_id": session_id, "actor": facilitator,
                  "marks": {people[0]: "present"}}
        if mistake == "no_session":
            call = lambda: rpc.training.record_attendance({**attend, "session_id": str(uuid.uuid4())})  # noqa: E731
        elif mistake == "not_in_cohort":
            call = lambda: rpc.training.record_attendance(  # noqa: E731
                {**attend, "marks": {people[1]: "present"}})
        elif mistake == "future_session":
            later = rpc.training.schedule_session({"cohort_id": cohort_id, "module": "usaha", "place": "Balai Desa",
                                                   "session_date": (jakarta_today() + timedelta(days=7)).isoformat(),
                                                   "actor": facilitator})
            before = rpc.training.cohort(cohort_id)
            call = lambda: rpc.training.record_attendance({**attend, "session_id": later})  # noqa: E731
        else:
            call = lambda: rpc.training.schedule_session({  # noqa: E731
                "cohort_id": cohort_id, "module": "keuangan", "session_date": yesterday, "place": "Aula",
                "actor": facilitator})
        error = refusal(call)
        assert error.code in ("not_found", "invalid", "conflict"), error
        assert rpc.training.cohort(cohort_id) == before



def test_a_person_of_another_region_cannot_be_enrolled_and_is_answered_as_unknown(running):
    with running.rpc() as rpc:
        [member] = eligible_households(rpc, 1, VILLAGE, start=860)  # a woman of Kalianda, Lampung Selatan (18.01)
        there = person_id(rpc, member["representative_nik"])
        eventually(lambda: rpc.training.individual(there))
        lamteng = actor("fasilitator.lamteng", "facilitator", "18.02")  # Lampung Tengah
        cohort_id = rpc.training.open_cohort({"village_code": "18.02.01.2001", "facilitator": "fasilitator.lamteng",
                                              "actor": lamteng})
        unknown = str(uuid.uuid4())  # registered nowhere
        elsewhere = refusal(lambda: rpc.training.enrol({"cohort_id": cohort_id, "person_id": there,
                                                        "actor": lamteng}))
        nowhere = refusal(lambda: rpc.training.enrol({"cohort_id": cohort_id, "person_id": unknown,
                                                      "actor": lamteng}))
        # The same answer as for a person who does not exist: no sign that they are registered elsewhere.
        assert type(elsewhere) is type(nowhere)
        assert elsewhere.details["field"] == nowhere.details["field"] == "person_id"
        assert elsewhere.message == nowhere.message.replace(unknown, there)
        assert rpc.training.cohort(cohort_id)["participants"] == []  # nothing enrolled


def test_grants_and_training_keep_ids_only_and_ask_the_registry_for_names(running):
    """Issue 16, item 1: after a KUBE's way from registration through approval, the Family School and a household
    leaving BDT, neither grants' nor training's database holds a NIK, KK, name or DTKS id the registry was given —
    not in their events, read models or tracking. A name comes from the registry, to a role and region entitled to
    it, and its access log records the read."""
    with running.rpc() as rpc:
        start = 900
        group_id, members, proposal_id = approved_proposal(rpc, start=start)
        registered = [household(n, village=VILLAGE, decile=2) for n in range(start, start + 7)]
        cohort_id = eventually(lambda: rpc.training.cohorts(village_code=VILLAGE)["items"])[0]["cohort_id"]
        people = [person_id(rpc, m["representative_nik"]) for m in members]
        eventually(lambda: len(rpc.training.cohort(cohort_id)["participants"]) == 7)
        complete_family_school(rpc, cohort_id, people[:6], people[6:], present_at=5)
        rpc.registry.change_status({"kk": members[6]["kk"], "status": "removed", "reason": "Ibu 906 pindah",
                                    "actor": actor("operator.lamsel")})
        eventually(lambda: rpc.training.individual(people[6])["status"] == "left")

        values = identifying_values(registered)
        assert found_in_database(running, "registry", values)  # the scan finds what is there
        assert found_in_database(running, "grants", values) == {}
        assert found_in_database(running, "training", values) == {}

        facilitator = reader("fasilitator.rina", "facilitator", "18.01", "api.get_cohort")
        names = rpc.registry.names(facilitator, people)
        assert {names[p]["nik"] for p in people} == {m["representative_nik"] for m in members}
        assert {names[p]["name"] for p in people} == {h["members"][0]["name"] for h in registered}
        elsewhere = reader("fasilitator.lamteng", "facilitator", "18.02", "api.get_cohort")
        assert rpc.registry.names(elsewhere, people) == {}  # not their region: nobody
        treasurer = reader("bendahara.lamsel", "treasurer", "18.01", "api.get_cohort")
        assert refusal(lambda: rpc.registry.names(treasurer, people)).rule == "role.forbidden"

        auditor = reader("auditor.pusat", "auditor", "", "rpc.tests")
        log = rpc.registry.access_log(auditor, members[0]["representative_nik"])["reads"]
        assert [(r["username"], r["read"], r["purpose"]) for r in log if r["read"] == "names"] == [
            ("fasilitator.rina", "names", "api.get_cohort")]
