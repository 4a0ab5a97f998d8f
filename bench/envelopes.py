"""Envelope benchmark: grants' log → public envelopes, as the relay builds them (``public_events_after``).

What is measured, and why
-------------------------
The relay of every service turns its log into public envelopes a page at a time
(``ServiceApplication.public_events_after``, pages of 500 as the relay asks them). Before class_version 2, grants'
mapper (services/grants/public.py) loaded most events' aggregate from the store at the event's version to learn the
proposal's group and village, the grant's proposal, a payment's tranche: one aggregate replay per event, and a
replay reads and decodes every earlier event of the aggregate — quadratic in an aggregate's length. Since v2 the
domain events carry those fields and the mapping reads nothing; only events stored before v2 (their fields None)
take the legacy path, ``_stored_before_v2`` (through ``shared.versioning.carried``).

This script creates a fresh database (``berdaya_bench_envelopes``), builds a realistic grants log in-process with
the domain aggregates and ``GrantsApplication.record`` (one transaction per decision, as the commands record them;
real stored events, ledger rows included): ``--proposals`` proposals (default 300), in waves as a province works
through them — drafted, submitted, verified, recommended (every 10th returned once and resubmitted), approved with
its budget commitment and grant; then per grant tranche 1 instructed → sent → confirmed (every 25th first fails at
the bank and is instructed again), its LPJ submitted and accepted, a monitoring visit, tranche 2 the same way, and
a last visit. Then, over the whole log, in pages of ``--page`` (default 500):

- ``new``: the pure path, as the relay runs it now: ``events_per_s`` (events / seconds of all pages),
  ``p50_ms``/``p99_ms`` of the pages' times, and ``aggregate_reads`` (aggregates loaded from the store: 0).
- ``legacy``, the reference, same run, same log: the legacy path forced for every event that has fields added in v2
  (``legacy_path_forced``: ``shared.versioning.carried``, which every service's public.py calls through its module,
  replaced by one that always takes the service's legacy path and reads the aggregate), i.e. what every event
  cost before v2. (Slightly less than the old code cost: that read a confirmation's grant three times, this once.)
- ``ratio = new.events_per_s / legacy.events_per_s``; ``identical``: both paths gave the same envelopes.

The paths alternate for ``--rounds`` rounds (default 2), so drift of the machine's load hits both; the figures pool
the rounds' pages.

Prints one JSON object on stdout; progress goes to stderr. The database is dropped at the end (``--keep`` keeps it).

    .venv/bin/python bench/envelopes.py [--proposals 300] [--page 500] [--rounds 2] [--keep]

``--service registry`` measures registry's log the same way (``registry_log``, its own database
``berdaya_bench_envelopes_registry``): ``--households`` households (default 2,000) registered in import batches of
100, then in waves, each its own transaction as the commands record them: a member added (birth) and corrected (a
name), the decile changed; every 2nd a second correction (the new member's birth date), every 4th a member moved out,
every 10th graduated. Then ``--groups`` KUBEs (default 100, 10 households each): formed, a member replaced, one
added, one removed, and every 5th a role holder replaced. Before class_version 2 services/registry/public.py read
the aggregate for every member event, status and decile change (its KK, a new member's village, the member as
corrected) and every group member change (the members after it); the legacy path forced is the same, its
``_stored_before_v2`` for every event. Same figures, same JSON shape, with ``service``, ``households`` and
``groups`` in place of ``proposals``.

    .venv/bin/python bench/envelopes.py --service registry [--households 2000] [--groups 100] [--page 500]

``--service training`` measures training's log the same way (``training_log``, its own database
``berdaya_bench_envelopes_training``): the curriculum started, a module added and retired; then ``--cohorts``
cohorts (default 100), each opened in a village with ``--participants`` (default 20, in groups of 10) enrolled one
by one and its last one withdrawn, and ``--sessions`` sessions (default 6, one per module) each scheduled and its
attendance recorded, each its own transaction; as ``TrainingApplication`` records attendance, whoever it brings to
enough modules completes in the same transaction, with their group's gate (opened, then updated). Every fifth
participant misses the first two sessions and the first absence is then corrected (present, with a reason), which
completes them. Before class_version 2 services/training/public.py read a cohort event's village (from the
application's cache of each cohort's first event), the curriculum at a module change's version, and a gate at its
version; the legacy path forced is the same, its ``_stored_before_v2`` for every event (for a cohort event its
cohort's first event, read for each event, there is no cache any more). Same figures, same JSON shape, with
``service``, ``cohorts``, ``participants`` and ``sessions`` in place of ``proposals``.

    .venv/bin/python bench/envelopes.py --service training [--cohorts 100] [--participants 20] [--sessions 6]
"""

# ruff: noqa: E402 - eventlet must patch, and shared must pick psycopg's wait function, before other imports.
import sys
import warnings
from pathlib import Path

# Python puts this script's folder first on sys.path; bench/http.py would then shadow the standard library's http.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()  # as the services run (the relay builds envelopes inside the grants service)

import shared  # noqa: F401  (selects psycopg's green wait function)

# isort: split

import argparse
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from bench.databases import fresh_database
from services.grants.application import GrantsApplication
from services.grants.domain import Budget, BudgetLine, Grant, Proposal, SpendingLine
from services.grants.monitoring import VisitFindings
from services.registry.application import RegistryApplication
from services.registry.domain import BankAccount, Group, GroupMember, Household, Member
from services.registry.vault import KEK_VARIABLE, new_kek
from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES, Cohort, Gate
from shared import versioning
from shared.actor import Actor
from shared.runtime import ensure_green_psycopg
from shared.signing import Signer, Verifier, new_signing_key
from shared.store import ServiceApplication

DATABASE = "berdaya_bench_envelopes"
VILLAGES = ("18.01.06.2001", "18.01.06.2005", "18.01.04.2001", "18.01.04.2002")
OPERATOR, OPERATOR_2 = Actor("bench.op", "operator", "18.01"), Actor("bench.op2", "operator", "18.01")
VERIFIER, PROVINCE = Actor("bench.ver", "verifier", "18.01"), Actor("bench.prov", "province", "18")
MINISTRY, TREASURER = Actor("bench.min", "ministry", ""), Actor("bench.tr", "treasurer", "18.01")
TREASURER_2 = Actor("bench.tr2", "treasurer", "18.01")  # confirms what TREASURER instructs
FACILITATOR = Actor("bench.fac", "facilitator", "18.01")
LINES = [BudgetLine("mesin jahit", 5, "unit", 2_500_000), BudgetLine("kain dan benang", 1, "paket", 4_000_000)]
APPROVED_RP = 14_000_000
TODAY = date(2025, 6, 15)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- grants' log ---------------------------------------------------------------------------------------------


def spending(amount_rp: int) -> list[SpendingLine]:
    return [SpendingLine("belanja bahan", "KW-001", TODAY, amount_rp // 2),
            SpendingLine("sewa kios", "KW-002", TODAY, amount_rp - amount_rp // 2)]


def one_by_one(app: GrantsApplication, aggregate, *decisions) -> None:
    """Each decision recorded in its own transaction, as a command records it."""
    for decide in decisions:
        decide()
        app.record(aggregate)


def pay_tranche(app: GrantsApplication, grant: Grant, number: int, retry: bool) -> None:
    """Instruct → sent → confirmed (a failure at the bank first, when ``retry``), then the LPJ, then a visit."""
    gate_open, payment_id, failed_id = number > 1, f"pay-{number}", f"pay-{number}-failed"
    if retry:
        one_by_one(app, grant, lambda: grant.instruct(number, failed_id, TREASURER, gate_open),
                   lambda: grant.mark_sent(failed_id, TREASURER),
                   lambda: grant.fail(failed_id, "rekening tidak aktif", TREASURER))
    one_by_one(app, grant, lambda: grant.instruct(number, payment_id, TREASURER, gate_open),
               lambda: grant.mark_sent(payment_id, TREASURER),
               lambda: grant.confirm(payment_id, f"BRI-{uuid.uuid4().hex[:10]}", TREASURER_2),
               lambda: grant.submit_lpj(number, spending(grant.tranche(number).amount_rp), OPERATOR, TODAY),
               lambda: grant.review_lpj(number, True, OPERATOR_2),
               lambda: grant.record_visit(grant.first_paid_on, "running", VisitFindings(2_500_000, 5, 600_000, 50_000),
                                          "usaha berjalan", FACILITATOR, grant.first_paid_on, 7, app.monitoring))


def build_log(app: GrantsApplication, proposals: int) -> tuple[int, dict]:
    """The grants log of ``proposals`` groups, in waves; returns the number of stored events and its size."""
    budget = Budget.open(2026, "APBN", proposals * APPROVED_RP * 2, MINISTRY)
    app.record(budget)
    say(f"log: {proposals} proposals drafted → … → approved, each with its grant")
    drafts = []
    for n in range(proposals):
        drafts.append(Proposal.draft(
            group_id=uuid.uuid4(), group_name=f"KUBE {n}", village_code=VILLAGES[n % len(VILLAGES)],
            member_households=10, business_plan="usaha jahit seragam sekolah", budget_lines=LINES, form="cash",
            actor=OPERATOR))
        app.record(drafts[-1])
    for step in (lambda p: p.submit(OPERATOR), lambda p: p.verify(VERIFIER)):
        for proposal in drafts:
            step(proposal)
            app.record(proposal)
    for proposal in drafts[::10]:  # every 10th goes back to the operator once
        one_by_one(app, proposal, lambda p=proposal: p.return_for_revision(PROVINCE, "RAB perlu rincian"),
                   lambda p=proposal: p.resubmit(OPERATOR_2, member_households=10),
                   lambda p=proposal: p.verify(VERIFIER))
    for proposal in drafts:
        one_by_one(app, proposal, lambda p=proposal: p.recommend(PROVINCE))
    grants = []
    for proposal in drafts:
        proposal.approve(MINISTRY, APPROVED_RP, "cash", budget, app.rules)
        grants.append(Grant.open(proposal, app.rules))
        app.record(proposal, budget, grants[-1])  # one transaction, as GrantsApplication.approve records it
    for number in (1, 2):
        say(f"log: tranche {number} of {proposals} grants paid, accounted for, visited")
        for n, grant in enumerate(grants):
            pay_tranche(app, grant, number, retry=number == 1 and n % 25 == 0)
    return app.last_position(), {"proposals": proposals}


# --- measuring -----------------------------------------------------------------------------------------------


@contextmanager
def legacy_path_forced():
    """Every event with fields added in v2 mapped as if stored before v2, whichever the service: its aggregate read
    from the store. The seam: the services' public.py call ``versioning.carried`` through its module."""
    carried = versioning.carried
    versioning.carried = lambda event, names, stored_before_v2: stored_before_v2(names)
    try:
        yield
    finally:
        versioning.carried = carried


class CountingReads:
    """Count the aggregates the application loads from its store."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app, self.reads, self.get = app, 0, app.repository.get

    def __enter__(self) -> "CountingReads":
        def counted(*args, **kwargs):
            self.reads += 1
            return self.get(*args, **kwargs)

        self.app.repository.get = counted
        return self

    def __exit__(self, *exc) -> None:
        self.app.repository.get = self.get


def walk(app: ServiceApplication, page: int) -> tuple[list[float], list, int]:
    """The whole log as envelopes, ``page`` at a time: each page's seconds, the envelopes, aggregates read."""
    seconds, envelopes, position = [], [], 0
    with CountingReads(app) as counting:
        while True:
            started = time.perf_counter()
            batch = app.public_events_after(position, page)
            elapsed = time.perf_counter() - started
            if not batch:
                break
            seconds.append(elapsed)
            envelopes.extend(batch)
            position = batch[-1].position
    return seconds, envelopes, counting.reads


def signing(envelopes: list, built_per_s: float) -> dict:
    """What signing (the relay, ``events_after``) and verifying (each consumer) cost per envelope, against building
    them (measured in the same run)."""
    signer = Signer.parse(new_signing_key("bench1"), envelopes[0].source)
    verifier = Verifier.parse(signer.public_entry(envelopes[0].source), [envelopes[0].source], "bench")
    started = time.perf_counter()
    signed = signer.sign_all(envelopes)
    sign_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for envelope in signed:
        verifier.verify(envelope)
    verify_seconds = time.perf_counter() - started
    sign_per_s = len(envelopes) / sign_seconds
    return {"sign_per_s": round(sign_per_s, 1), "verify_per_s": round(len(envelopes) / verify_seconds, 1),
            "build_per_s": built_per_s, "build_and_sign_per_s": round(1 / (1 / built_per_s + 1 / sign_per_s), 1)}


def figures(runs: list[tuple[list[float], list, int]]) -> dict:
    pages = [s for seconds, _, _ in runs for s in seconds]
    events = sum(len(envelopes) for _, envelopes, _ in runs)
    p99 = statistics.quantiles(pages, n=100, method="inclusive")[98] if len(pages) > 1 else pages[0]
    return {
        "events_per_s": round(events / sum(pages), 1),
        "p50_ms": round(statistics.median(pages) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(max(pages) * 1000, 2),
        "pages": len(pages),
        "aggregate_reads": sum(reads for _, _, reads in runs) // len(runs),  # per walk of the log
    }


# --- registry (--service registry) ---------------------------------------------------------------------------

REGISTRY_DATABASE = "berdaya_bench_envelopes_registry"
GROUP_HOUSEHOLDS = 13  # a KUBE's 10 at its forming, and up to 3 newcomers


def registry_kk(n: int) -> str:
    return f"1801060101{n:06d}"


def registry_nik(n: int, person: int) -> str:
    return f"18010645{n:05d}{person:03d}"


def registry_household(n: int) -> Household:
    """Household ``n``: a woman head (who represents it in a KUBE), her husband and their son."""
    members = [
        Member(registry_nik(n, 1), f"Siti Aminah {n}", "P", date(1985, 8, 5), "Kepala Keluarga", "Kawin", "Petani"),
        Member(registry_nik(n, 2), f"Ahmad Yani {n}", "L", date(1983, 4, 10), "Suami", "Kawin", "Buruh Tani"),
        Member(registry_nik(n, 3), f"Budi {n}", "L", date(2010, 3, 12), "Anak", "Belum Kawin", "Pelajar"),
    ]
    return Household.register(kk=registry_kk(n), dtks_id=f"DTKS-{n:06d}", village_code=VILLAGES[n % len(VILLAGES)],
                              address=f"Jl. Raya Kalianda {n}", decile=1 + n % 4, members=members,
                              registered_by=OPERATOR.user)


def registry_representative(n: int) -> GroupMember:
    return GroupMember(kk=registry_kk(n), representative_nik=registry_nik(n, 1),
                       representative_name=f"Siti Aminah {n}")


def registry_log(app: RegistryApplication, households: int, groups: int) -> tuple[int, dict]:
    """The registry log of ``households`` households and up to ``groups`` KUBEs (the households not graduated, 13 a
    group, in its village, allow so many); returns the number of stored events and its sizes (groups formed)."""
    say(f"log: {households} households registered in import batches of 100")
    registered = [registry_household(n) for n in range(households)]
    for start in range(0, households, 100):
        app.record(*registered[start:start + 100])  # one import batch, one transaction
    steps = (  # (every n-th household, the decision), each wave over all households before the next
        (1, lambda n, h: h.add_member(Member(registry_nik(n, 4), f"Putri {n}", "P", date(2024, 3, 5), "Anak",
                                             "Belum Kawin"), reason="birth", by=OPERATOR.user)),
        (1, lambda n, h: h.correct_member(registry_nik(n, 3), {"name": f"Budi Santoso {n}"},
                                          reason="salah ketik di KK", by=OPERATOR_2.user)),
        (1, lambda n, h: h.change_decile(1 + (n + 1) % 4, by=OPERATOR.user)),
        (2, lambda n, h: h.correct_member(registry_nik(n, 4), {"birth_date": date(2024, 3, 6)},
                                          reason="akta kelahiran", by=OPERATOR_2.user)),
        (4, lambda n, h: h.remove_member(registry_nik(n, 3), reason="moved_out", by=OPERATOR.user)),
        (10, lambda n, h: h.change_status("graduated", reason="penghasilan di atas garis", by=OPERATOR.user)),
    )
    say("log: members added and corrected, deciles changed, members moved out, households graduated")
    for every, decide in steps:
        for n, household in enumerate(registered):
            if n % every == 0:
                decide(n, household)
                app.record(household)

    free: dict[str, list[int]] = {village: [] for village in VILLAGES}  # active households, by village
    for n in range(households):
        if n % 10:
            free[VILLAGES[n % len(VILLAGES)]].append(n)
    formed = []
    for g in range(groups):
        village = VILLAGES[g % len(VILLAGES)]
        chosen, free[village] = free[village][:GROUP_HOUSEHOLDS], free[village][GROUP_HOUSEHOLDS:]
        if len(chosen) < GROUP_HOUSEHOLDS:
            break
        members = [registry_representative(n) for n in chosen[:10]]
        name = f"KUBE Bench {g}"
        group = Group.form(name=name, village_code=village, business_type="olahan makanan", kind="umum",
                           members=members, roles={"ketua": members[0].representative_nik,
                                                   "sekretaris": members[1].representative_nik,
                                                   "bendahara": members[2].representative_nik},
                           bank_account=BankAccount("BRI", f"0123{g:011d}", name), sk_kades=f"141/{g}/SK/2025",
                           formed_by=OPERATOR.user, rules=app.kube_rules)
        app.record(group)
        formed.append((group, chosen))
    say(f"log: {len(formed)} KUBEs formed; a member replaced, one added, one removed, every 5th a role holder replaced")
    for g, (group, chosen) in enumerate(formed):
        # (the household leaving, the one joining — indexes into ``chosen`` — and why), each its own transaction
        changes = [(5, 10, "pindah domisili"), (None, 11, "bergabung"), (6, None, "mengundurkan diri")]
        if g % 5 == 0:
            changes.append((1, 12, "pindah domisili"))  # the secretary's household: its newcomer takes the role
        for leaving, joining, reason in changes:
            group.change_member(None if leaving is None else registry_kk(chosen[leaving]),
                                None if joining is None else registry_representative(chosen[joining]), reason,
                                OPERATOR.user, app.kube_rules)
            app.record(group)
    return app.last_position(), {"households": households, "groups": len(formed)}


# --- training (--service training) ---------------------------------------------------------------------------

TRAINING_DATABASE = "berdaya_bench_envelopes_training"


def training_log(app: TrainingApplication, cohorts: int, participants: int, sessions: int) -> tuple[int, dict]:
    """The training log of ``cohorts`` cohorts (see the module docstring); returns the number of stored events and
    its sizes."""
    curriculum = app.curriculum()  # Started
    for decide in (lambda: curriculum.add_module("digital", "Literasi digital", OPERATOR.user),
                   lambda: curriculum.retire_module("digital", OPERATOR.user)):
        decide()
        app.record(curriculum)
    modules = [code for code, _ in DEFAULT_MODULES]
    gates: dict[uuid.UUID, Gate] = {}
    serial = 0

    def attended(cohort: Cohort, groups: dict[str, uuid.UUID], decide, *args) -> None:
        """One attendance command's transaction, as ``TrainingApplication._attend`` records it: the attendance,
        whoever it brings to enough modules completed, and the gates of their groups."""
        nonlocal serial
        decide(*args, FACILITATOR.user, TODAY)
        changed = set()
        for person in cohort.completable(app.rules):
            serial += 1
            cohort.complete(person, f"SK-{cohort.village_code[:8]}-2025-{serial:06d}", app.rules)
            changed.add(groups[person])
        recorded = []
        for group_id in changed:
            representatives = [person for person, group in groups.items() if group == group_id]
            completed = sum(cohort.participants[person]["status"] == "completed" for person in representatives)
            if group_id not in gates:
                gates[group_id] = Gate.first(group_id, completed, len(representatives), app.rules)
            elif not gates[group_id].update(completed, len(representatives), app.rules):
                continue
            recorded.append(gates[group_id])
        app.record(cohort, *recorded)

    for n in range(cohorts):
        if n % 25 == 0:
            say(f"log: cohorts {n + 1}–{min(n + 25, cohorts)} of {cohorts} opened, enrolled, taught, completed")
        village = VILLAGES[n % len(VILLAGES)]
        cohort = Cohort.open(village, FACILITATOR.user, f"Kelas Bench {n}", OPERATOR.user)
        app.record(cohort)
        people = [str(uuid.uuid5(cohort.id, f"person {i}")) for i in range(participants)]  # the registry's ids
        groups = {person: uuid.uuid5(cohort.id, str(i // 10)) for i, person in enumerate(people)}  # 10 a group
        for person in people:
            cohort.enrol(person, groups[person], OPERATOR.user)
            app.record(cohort)
        cohort.withdraw(people[-1], "pindah desa", OPERATOR.user)
        app.record(cohort)
        present = people[:-1]
        session_ids = []
        for s in range(sessions):
            session_date = date.fromordinal(TODAY.toordinal() - 7 * (sessions - s))
            session_ids.append(cohort.schedule(modules[s % len(modules)], session_date, "Balai Desa", curriculum,
                                               FACILITATOR.user))
            app.record(cohort)
            marks = {person: "absent" if i % 5 == 3 and s < 2 else "present" for i, person in enumerate(present)}
            attended(cohort, groups, cohort.record_attendance, session_ids[-1], marks)
        for i, person in enumerate(present):
            if i % 5 == 3 and session_ids:
                attended(cohort, groups, cohort.correct_attendance, session_ids[0], person, "present",
                         "salah catat: hadir")
    return app.last_position(), {"cohorts": cohorts, "participants": participants, "sessions": sessions}


# --- the benchmark -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """A service's log for the benchmark: its own database (another service's run may be going on), its
    application, and its log built from the arguments (the number of stored events, the sizes the JSON reports)."""

    database: str
    application: type[ServiceApplication]
    build_log: Callable[[ServiceApplication, argparse.Namespace], tuple[int, dict]]


SERVICES = {
    "grants": Service(DATABASE, GrantsApplication, lambda app, args: build_log(app, args.proposals)),
    "registry": Service(REGISTRY_DATABASE, RegistryApplication,
                        lambda app, args: registry_log(app, args.households, args.groups)),
    "training": Service(TRAINING_DATABASE, TrainingApplication,
                        lambda app, args: training_log(app, args.cohorts, args.participants, args.sessions)),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Envelope benchmark (see the module docstring): JSON on stdout.")
    parser.add_argument("--service", choices=("grants", "registry", "training"), default="grants", help="whose log")
    parser.add_argument("--proposals", type=int, default=300)
    parser.add_argument("--households", type=int, default=2000, help="registry: households registered")
    parser.add_argument("--groups", type=int, default=100, help="registry: KUBEs formed")
    parser.add_argument("--cohorts", type=int, default=100, help="training: cohorts opened")
    parser.add_argument("--participants", type=int, default=20, help="training: participants of a cohort")
    parser.add_argument("--sessions", type=int, default=6, help="training: sessions of a cohort")
    parser.add_argument("--page", type=int, default=500, help="envelopes per public_events_after call")
    parser.add_argument("--rounds", type=int, default=2, help="walks of the log per path, alternating")
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace) -> dict:
    """The ``--service``'s log built in a fresh database, then walked by both paths, alternating, ``--rounds`` times."""
    service = SERVICES[args.service]
    ensure_green_psycopg()
    # The registry seals its events under a key-encryption key and does not start without one: a fresh one here.
    os.environ.setdefault(KEK_VARIABLE, new_kek("bench1"))
    say(f"fresh database {service.database}")
    with fresh_database(service.database, keep=args.keep) as url:
        app = service.application(url)
        try:
            started = time.monotonic()
            events, sizes = service.build_log(app, args)
            build_seconds = time.monotonic() - started
            say(f"log: {events} events stored in {build_seconds:.1f}s")
            new_runs, legacy_runs = [], []
            for round_ in range(1, args.rounds + 1):
                new_runs.append(walk(app, args.page))
                say(f"round {round_}: new path {len(new_runs[-1][1]) / sum(new_runs[-1][0]):.0f} events/s")
                with legacy_path_forced():
                    legacy_runs.append(walk(app, args.page))
                say(f"round {round_}: legacy path {len(legacy_runs[-1][1]) / sum(legacy_runs[-1][0]):.0f} events/s")
        finally:
            app.close()
    new, legacy = figures(new_runs), figures(legacy_runs)
    if not legacy["aggregate_reads"]:
        raise RuntimeError("the legacy path was not forced: does a public.py call carried other than through "
                           "shared.versioning?")
    return {
        **({} if args.service == "grants" else {"service": args.service}),  # grants' output as it has always been
        "events": events,
        **sizes,
        "page": args.page,
        "rounds": args.rounds,
        "new": new,
        "legacy": legacy,
        "ratio": round(new["events_per_s"] / legacy["events_per_s"], 2),
        "identical": all(n[1] == legacy_runs[0][1] for n in (*new_runs, *legacy_runs)),
        "signing": signing(new_runs[-1][1], new["events_per_s"]),
        "build_seconds": round(build_seconds, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    print(json.dumps(benchmark(parse_args(sys.argv[1:]))), flush=True)


if __name__ == "__main__":
    main()
