"""Envelope benchmark: grants' log → public envelopes, as the relay builds them (``public_events_after``).

What is measured, and why
-------------------------
The relay of every service turns its log into public envelopes a page at a time
(``ServiceApplication.public_events_after``, pages of 500 as the relay asks them). Before class_version 2, grants'
mapper (services/grants/public.py) loaded most events' aggregate from the store at the event's version to learn the
proposal's group and village, the grant's proposal, a payment's tranche: one aggregate replay per event, and a
replay reads and decodes every earlier event of the aggregate — quadratic in an aggregate's length. Since v2 the
domain events carry those fields and the mapping reads nothing; only events stored before v2 (their fields None)
take the legacy path, ``_stored_before_v2``.

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
  (``services.grants.public._carried`` replaced by one that always reads the aggregate), i.e. what every event
  cost before v2. (Slightly less than the old code cost: that read a confirmation's grant three times, this once.)
- ``ratio = new.events_per_s / legacy.events_per_s``; ``identical``: both paths gave the same envelopes.

The paths alternate for ``--rounds`` rounds (default 2), so drift of the machine's load hits both; the figures pool
the rounds' pages.

Prints one JSON object on stdout; progress goes to stderr. The database is dropped at the end (``--keep`` keeps it).

    .venv/bin/python bench/envelopes.py [--proposals 300] [--page 500] [--rounds 2] [--keep]
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
from contextlib import contextmanager
from datetime import date

import psycopg

from services.grants import public as grants_public
from services.grants.application import GrantsApplication
from services.grants.domain import Budget, BudgetLine, Grant, Proposal, SpendingLine
from shared.actor import Actor
from shared.runtime import ensure_green_psycopg

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "berdaya_bench_envelopes"
VILLAGES = ("18.01.06.2001", "18.01.06.2005", "18.01.04.2001", "18.01.04.2002")
OPERATOR, OPERATOR_2 = Actor("bench.op", "operator", "18.01"), Actor("bench.op2", "operator", "18.01")
VERIFIER, PROVINCE = Actor("bench.ver", "verifier", "18.01"), Actor("bench.prov", "province", "18")
MINISTRY, TREASURER = Actor("bench.min", "ministry", ""), Actor("bench.tr", "treasurer", "18.01")
FACILITATOR = Actor("bench.fac", "facilitator", "18.01")
LINES = [BudgetLine("mesin jahit", 5, "unit", 2_500_000), BudgetLine("kain dan benang", 1, "paket", 4_000_000)]
APPROVED_RP = 14_000_000
TODAY = date(2025, 6, 15)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{DATABASE}"


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def create_database() -> None:
    drop_database()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")


# --- the log ------------------------------------------------------------------------------------------------


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
               lambda: grant.confirm(payment_id, f"BRI-{uuid.uuid4().hex[:10]}", TREASURER),
               lambda: grant.submit_lpj(number, spending(grant.tranche(number).amount_rp), OPERATOR, TODAY),
               lambda: grant.review_lpj(number, True, OPERATOR_2),
               lambda: grant.record_visit(TODAY, "running", 2_500_000, "usaha berjalan", FACILITATOR, TODAY))


def build_log(app: GrantsApplication, proposals: int) -> int:
    """The grants log of ``proposals`` groups, in waves; returns the number of stored events."""
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
                   lambda p=proposal: p.resubmit(OPERATOR_2), lambda p=proposal: p.verify(VERIFIER))
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
    return app.last_position()


# --- measuring ----------------------------------------------------------------------------------------------


@contextmanager
def legacy_path_forced():
    """Every event with fields added in v2 mapped as if stored before v2: its aggregate read from the store."""
    carried = grants_public._carried
    grants_public._carried = lambda app, e, *names: grants_public._stored_before_v2(app, e, names)
    try:
        yield
    finally:
        grants_public._carried = carried


class CountingReads:
    """Count the aggregates the application loads from its store."""

    def __init__(self, app: GrantsApplication) -> None:
        self.app, self.reads, self.get = app, 0, app.repository.get

    def __enter__(self) -> "CountingReads":
        def counted(*args, **kwargs):
            self.reads += 1
            return self.get(*args, **kwargs)

        self.app.repository.get = counted
        return self

    def __exit__(self, *exc) -> None:
        self.app.repository.get = self.get


def walk(app: GrantsApplication, page: int) -> tuple[list[float], list, int]:
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Envelope benchmark (see the module docstring): JSON on stdout.")
    parser.add_argument("--proposals", type=int, default=300)
    parser.add_argument("--page", type=int, default=500, help="envelopes per public_events_after call")
    parser.add_argument("--rounds", type=int, default=2, help="walks of the log per path, alternating")
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace) -> dict:
    ensure_green_psycopg()
    say(f"fresh database {DATABASE}")
    create_database()
    app = None
    try:
        app = GrantsApplication(database_url())
        started = time.monotonic()
        events = build_log(app, args.proposals)
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
        if app is not None:
            app.close()
        if not args.keep:
            drop_database()
    new, legacy = figures(new_runs), figures(legacy_runs)
    identical = all(n[1] == legacy_runs[0][1] for n in (*new_runs, *legacy_runs))
    return {
        "events": events,
        "proposals": args.proposals,
        "page": args.page,
        "rounds": args.rounds,
        "new": new,
        "legacy": legacy,
        "ratio": round(new["events_per_s"] / legacy["events_per_s"], 2),
        "identical": identical,
        "build_seconds": round(build_seconds, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    print(json.dumps(benchmark(parse_args(sys.argv[1:]))), flush=True)


if __name__ == "__main__":
    main()
