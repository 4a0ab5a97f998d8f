"""Training's commands through TrainingApplication on in-memory (POPO) persistence: the rules that need more than one
aggregate or a fact — who registry says may be enrolled, and under which name; a certificate number of each
completion's own; a KUBE's gate counted over its representatives, as registry last named them, certified in any
cohort; the curriculum a session is scheduled from — with no database, in milliseconds. A refusal re-reads the log
to prove nothing was recorded. The same facts from PostgreSQL: tests/integration/test_facts.py."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from services.training import commands as cmd
from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES, Gate
from shared.contracts import registry
from shared.errors import Conflict, NotFound, RuleViolated, ValidationFailed
from shared.ids import jakarta_today
from tests.support.grants_cast import FAC, MIN, OP1, VILLAGE
from tests.support.memory import refused
from tests.support.memory.training import MemoryTrainingFacts, enrolled_on_approval

MODULES = [code for code, _ in DEFAULT_MODULES]
OTHER_REGENCY_VILLAGE = "18.02.01.2001"


@pytest.fixture
def training() -> TrainingApplication:
    return TrainingApplication.in_memory(MemoryTrainingFacts)


def person(n: int) -> str:
    """A person by the id the registry gave them (training never learns a NIK)."""
    return str(uuid.UUID(int=n))


def member(person_id: str) -> registry.MemberV2:
    return registry.MemberV2(person_id=person_id, sex="P", relation="Istri")


def registered(training: TrainingApplication, *people: str, village_code: str = VILLAGE) -> uuid.UUID:
    """Registry's news of a household of these people, projected as training's consumer would: its id."""
    household_id = uuid.uuid4()
    training.facts.project(registry.HouseholdRegisteredV2(
        household_id=household_id, village_code=village_code, decile=2, bdt_status="active",
        members=[member(n) for n in people], registered_by="op1"))
    return household_id


def group_members(representatives: list[str]) -> list[registry.GroupMemberV2]:
    return [registry.GroupMemberV2(household_id=uuid.UUID(int=1000 + i), representative_id=n)
            for i, n in enumerate(representatives)]


def kube_approved(training: TrainingApplication, cohort_id: str, representatives: list[str]) -> uuid.UUID:
    """A KUBE registry formed of households these people represent, its proposal approved by grants: they are
    enrolled in the cohort for their group."""
    for n in representatives:
        registered(training, n)
    group_id = uuid.uuid4()
    training.facts.project(registry.GroupFormedV2(
        group_id=group_id, name="KUBE Mawar", village_code=VILLAGE, business_type="ternak", kind="perempuan",
        members=group_members(representatives), roles={}, formed_by="op1",
        bank_account=registry.BankAccountV1(bank="BRI", number="0206-01-000001-50-1", holder="KUBE Mawar")))
    enrolled_on_approval(training, group_id, cohort_id)
    return group_id


def opened(training: TrainingApplication) -> str:
    return training.open_cohort(cmd.OpenCohort(actor=FAC, village_code=VILLAGE, facilitator="fasilitator.rina"))


def enrol(training: TrainingApplication, cohort_id: str, person_id: str) -> None:
    training.enrol(cmd.Enrol(actor=OP1, cohort_id=cohort_id, person_id=person_id))


def sessions(training: TrainingApplication, cohort_id: str, modules: list[str]) -> list[str]:
    start = date(2025, 3, 3)
    return [training.schedule_session(cmd.ScheduleSession(actor=FAC, cohort_id=cohort_id, module=module,
                                                          session_date=start + timedelta(days=7 * i), place="balai"))
            for i, module in enumerate(modules)]


def attended(training: TrainingApplication, cohort_id: str, session_ids: list[str], present: list[str],
             absent: tuple[str, ...] = ()) -> list[dict]:
    """Everyone marked at every session; what the marks completed."""
    marks = {n: "present" for n in present} | {n: "absent" for n in absent}
    return [done for session_id in session_ids for done in training.record_attendance(cmd.RecordAttendance(
        actor=FAC, cohort_id=cohort_id, session_id=session_id, marks=marks))]


def gate(training: TrainingApplication, group_id: uuid.UUID) -> Gate:
    return training.repository.get(Gate.create_id(group_id))



# --- who may be enrolled: a person registry registered, still there, in the actor's region --------------------

def test_a_person_training_has_not_heard_of_cannot_be_enrolled(training):
    cohort_id = opened(training)
    refused(training, NotFound, None, lambda: enrol(training, cohort_id, person(1)))


def test_a_person_of_another_region_is_answered_as_one_training_has_not_heard_of(training):
    cohort_id = opened(training)
    registered(training, person(2), village_code=OTHER_REGENCY_VILLAGE)
    elsewhere = refused(training, NotFound, None, lambda: enrol(training, cohort_id, person(2)))
    unknown = refused(training, NotFound, None, lambda: enrol(training, cohort_id, person(3)))
    assert elsewhere.message == unknown.message.replace(person(3), person(2))


def test_a_person_who_died_cannot_be_enrolled(training):
    cohort_id = opened(training)
    household_id = registered(training, person(1), person(2))
    training.facts.project(registry.HouseholdMemberRemovedV2(household_id=household_id, person_id=person(1),
                                                             reason="death", by="op1"))
    refused(training, RuleViolated, "enrolment.left_registry", lambda: enrol(training, cohort_id, person(1)))
    enrol(training, cohort_id, person(2))
    assert [p["person_id"] for p in training.cohort(cohort_id)["participants"]] == [person(2)]


def test_a_household_removed_from_bdt_is_enrolled_again_once_registered_again(training):
    cohort_id = opened(training)
    household_id = registered(training, person(1), person(2))
    training.facts.project(registry.HouseholdStatusChangedV2(household_id=household_id, bdt_status="removed",
                                                             by="op1"))
    for left in (person(1), person(2)):
        refused(training, RuleViolated, "enrolment.left_registry", lambda p=left: enrol(training, cohort_id, p))
    registered(training, person(1))
    enrol(training, cohort_id, person(1))
    assert [p["person_id"] for p in training.cohort(cohort_id)["participants"]] == [person(1)]


def test_a_participant_is_enrolled_once(training):
    cohort_id = opened(training)
    registered(training, person(1))
    enrol(training, cohort_id, person(1))
    refused(training, Conflict, "enrolment.exists", lambda: enrol(training, cohort_id, person(1)))


# --- sessions come from the curriculum; completion gives a certificate of its own -----------------------------

def test_a_session_of_a_module_the_curriculum_retired_is_refused(training):
    cohort_id = opened(training)
    training.retire_module(cmd.RetireModule(actor=MIN, code="usaha"))
    refused(training, ValidationFailed, "session.module", lambda: sessions(training, cohort_id, ["usaha"]))
    assert sessions(training, cohort_id, ["keuangan"])


def test_each_completion_gets_a_certificate_number_of_its_own(training):
    first, second = opened(training), opened(training)
    for cohort_id, people in ((first, [person(1), person(2)]), (second, [person(3)])):
        for someone in people:
            registered(training, someone)
            enrol(training, cohort_id, someone)
    year = jakarta_today().year
    completed = attended(training, first, sessions(training, first, MODULES[:5]), [person(1), person(2)])
    assert completed == [{"person_id": person(1), "certificate": f"SK-18.01.06-{year}-000001"},
                         {"person_id": person(2), "certificate": f"SK-18.01.06-{year}-000002"}]
    completed = attended(training, second, sessions(training, second, MODULES[:5]), [person(3)])
    assert completed == [{"person_id": person(3), "certificate": f"SK-18.01.06-{year}-000003"}]


# --- a KUBE's gate: 80 % of its representatives, as registry last named them, certified in any cohort ---------

def test_the_gate_opens_when_eight_of_ten_representatives_complete(training):
    cohort_id = opened(training)
    representatives = [person(n) for n in range(1, 11)]
    group_id = kube_approved(training, cohort_id, representatives)
    assert (gate(training, group_id).open, gate(training, group_id).completed) == (False, 0)
    session_ids = sessions(training, cohort_id, MODULES[:5])
    attended(training, cohort_id, session_ids, representatives[:7], absent=tuple(representatives[7:]))
    assert (gate(training, group_id).open, gate(training, group_id).completed) == (False, 7)
    training.correct_attendance(cmd.CorrectAttendance(actor=FAC, cohort_id=cohort_id, session_id=session_ids[0],
                                                      person_id=representatives[7], status="present",
                                                      reason="terlambat dicatat"))
    assert gate(training, group_id).open is False  # present at one module only: not certified yet
    for session_id in session_ids[1:]:
        training.correct_attendance(cmd.CorrectAttendance(actor=FAC, cohort_id=cohort_id, session_id=session_id,
                                                          person_id=representatives[7], status="present",
                                                          reason="terlambat dicatat"))
    assert (gate(training, group_id).open, gate(training, group_id).completed,
            gate(training, group_id).representatives) == (True, 8, 10)


def test_a_certificate_from_another_cohort_counts_for_the_gate(training):
    earlier, cohort_id = opened(training), opened(training)
    representatives = [person(n) for n in range(1, 6)]
    registered(training, representatives[0])
    enrol(training, earlier, representatives[0])
    attended(training, earlier, sessions(training, earlier, MODULES[:5]), representatives[:1])
    group_id = kube_approved(training, cohort_id, representatives)
    assert gate(training, group_id).completed == 1
    attended(training, cohort_id, sessions(training, cohort_id, MODULES[:5]), representatives[1:4],
             absent=tuple(representatives[4:]))
    assert (gate(training, group_id).open, gate(training, group_id).completed) == (True, 4)  # 4 of 5: 80 %


def test_the_gate_counts_the_representatives_registry_last_named(training):
    cohort_id = opened(training)
    representatives = [person(n) for n in range(1, 6)]
    group_id = kube_approved(training, cohort_id, representatives)
    training.facts.project(registry.GroupMemberChangedV2(
        group_id=group_id, removed_household_id=uuid.UUID(int=1003), members=group_members(representatives[:3]),
        roles={},
        reason="pindah", by="op1"))
    attended(training, cohort_id, sessions(training, cohort_id, MODULES[:5]), representatives[:3],
             absent=tuple(representatives[3:]))
    assert (gate(training, group_id).open, gate(training, group_id).completed,
            gate(training, group_id).representatives) == (True, 3, 3)
