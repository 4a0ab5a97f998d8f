"""Ledger verification benchmark: ``berdaya audit verify``'s hash-chain walk over a million money events.

What is measured, and why
-------------------------
Issues #6 (item 6) and #17 (item 4) ask the auditor's chain check to run at ≥ 100,000 events/s and at ≥ half the
speed of merely reading the same rows, in memory that does not grow with the log (≤ 200 MB). This script builds
grants' event log and ledger in a fresh database (``berdaya_bench_audit``) with the very tables the grants service
creates — the eventsourcing events table ``grants_events`` (same columns, primary key and notification index) and
``shared.ledger.LEDGER_DDL`` — and fills them with ``--events`` money events (default 1,000,000): interleaved
proposal and grant lifecycles (approved, instructed, sent, confirmed, failed, cancelled, handovers recorded and
accepted, refunded) whose stored state is JSON in the format the service stores
(``{"timestamp":{"_type_":"datetime_iso",...},...}``), plus the non-money events of the same lifecycles (drafted,
submitted, verified, recommended, opened; ``--money-only`` leaves them out). Each money event has its ledger row,
chained with ``shared.ledger.chain`` exactly as the service chains them. The rows go in with ``COPY`` (indexes and
constraints are added after the load, then ``VACUUM ANALYZE``, as on a database that has lived a while).

- ``verify_events_per_s``: ledger entries / seconds of ``berdaya.audit.verify.verify_ledger(conn, problems)`` — the
  chain walk of ``berdaya audit verify`` (the join of ledger with grants_events in ledger order, streamed in chunks,
  every entry's hash recomputed, plus the query for money events missing from the ledger), on an autocommit
  connection as ``verify`` opens it. It must find no problem and check every entry. ``verify_peak_rss_mb``: the
  process's peak resident memory during the walk (the high-water mark reset just before it), beside its resident
  memory when the walk starts (``verify_rss_mb_before``: the generator's leftovers, the imports).
- ``copy_events_per_s``: the physical limit of reading those rows, same run: ``COPY (the same join) TO STDOUT`` read
  to nowhere. ``copy_ratio = verify_events_per_s / copy_events_per_s``.
- ``scan_events_per_s``: the older reference, same run: the same join and columns read through a server-side cursor
  (``itersize`` 5,000, as ``audit.stored_events``) and merely counted, no hashing. ``ratio = verify / scan``.
  Both references run before and after verify; the mean is the yardstick.
- ``breakdown`` (skip with ``--no-breakdown``): verify_ledger's parts timed one by one — the join's rows streamed
  and loaded but not hashed (``verify.ledger_rows``), the query for unchained events — with PostgreSQL's plan for
  the join. ``--profile`` adds the walk's cProfile, the functions that took the most time.

Prints one JSON object on stdout; progress (a rich progress bar on a terminal) goes to stderr. The database is
dropped at the end.

- ``hub`` (with ``--hub``): the gateway runs the audit in its own process; the longest wait of its eventlet hub while
  the chain walk runs on a green thread (the reference) and in a native thread (``eventlet.tpool``, as the
  gateway runs it): see ``hub_gaps``.

    .venv/bin/python bench/audit.py [--events 1000000] [--seed 7] [--money-only] [--no-breakdown] [--profile]
                                    [--keep] [--hub]
"""

# ruff: noqa: E402 - eventlet must patch, and shared must pick psycopg's wait function, before other imports.
import sys
from pathlib import Path

# Python puts this script's folder first on sys.path; a sibling such as bench/http.py would then shadow the
# standard library's ``http`` (urllib, requests). The project root instead, for ``bench.databases``.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()  # as `berdaya audit verify` runs (berdaya/cli/__init__.py patches on import)

from shared.runtime import ensure_green_psycopg  # importing shared selects psycopg's green wait

ensure_green_psycopg()

# isort: split

import argparse
import cProfile
import json
import os
import pstats
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
from eventlet import tpool
from eventsourcing.persistence import StoredEvent
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench import databases
from berdaya.audit.verify import LEDGER_JOIN, ledger_rows, verify_ledger
from shared import ledger

DATABASE = "berdaya_bench_audit"
CHUNK = 10_000  # money events generated, chained and copied per step
ITERSIZE = 5_000  # rows per round trip of the server-side cursor (as berdaya.audit.replay.stored_events)
PREFIX = "services.grants.domain:"
# grants_events exactly as eventsourcing's PostgresApplicationRecorder creates it for the grants service.
EVENTS_DDL = (
    """CREATE TABLE grants_events (
        originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, state bytea,
        notification_id bigserial, PRIMARY KEY (originator_id, originator_version))
        WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000,
              autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000,
              autovacuum_analyze_scale_factor = 0.01)""",
    "CREATE UNIQUE INDEX grants_events_notification_id_idx ON grants_events (notification_id ASC)",
)
MONEY_TOPICS = ("Proposal.Approved", "Proposal.Cancelled", "Grant.Instructed", "Grant.Sent", "Grant.Confirmed",
                "Grant.Failed", "Grant.PaymentCancelled", "Grant.DeliveryRecorded", "Grant.Delivered", "Grant.Refunded")
console = Console(stderr=True)


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    return databases.database_url(DATABASE)


# --- realistic money events ------------------------------------------------------------------------------------

VILLAGES = ("18.01.04.2001", "18.01.04.2002", "18.01.04.2005", "18.01.06.2001", "18.01.06.2005", "18.01.13.2003")
GROUP_NAMES = ("KUBE Mawar", "KUBE Melati", "KUBE Sejahtera", "KUBE Maju Bersama", "KUBE Tunas Harapan")
PLANS = ("Usaha olahan makanan: keripik pisang dan kemplang, dipasarkan ke warung dan pasar Kalianda",
         "Ternak kambing: pembesaran dan penjualan menjelang Iduladha, kandang bersama di dusun II",
         "Warung sembako bersama di jalan desa, belanja grosir dari Bandar Lampung setiap pekan")
FAILURES = ("nomor rekening tidak sesuai", "rekening tidak aktif", "nama pemilik rekening berbeda")
BANKS = ("BRI", "BNI", "Mandiri", "BSI")


class Clock:
    """Event times: a few years of programme, moving on by a few seconds per event."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)

    def tick(self) -> dict:
        self.now += timedelta(microseconds=self.rng.randrange(1, 120_000_000))
        return {"_type_": "datetime_iso", "_data_": self.now.isoformat()}


def new_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def uuid_hex(value: uuid.UUID) -> dict:
    return {"_type_": "uuid_hex", "_data_": value.hex}


Step = tuple[uuid.UUID, int, str, dict]  # originator id, version, topic (without prefix), fields but the timestamp


def lifecycle(rng: random.Random) -> Iterator[Step]:
    """One proposal from draft to its grant's last payment, as the grants service records it."""
    proposal, group = new_uuid(rng), new_uuid(rng)
    village, form = rng.choice(VILLAGES), "cash" if rng.random() < 0.8 else "equipment"
    amount = rng.choice((10_000_000, 12_500_000, 15_000_000, 20_000_000))
    first = amount * 7 // 10
    yield proposal, 1, "Proposal.Drafted", {
        "originator_topic": f"{PREFIX}Proposal", "group_id": uuid_hex(group), "group_name": rng.choice(GROUP_NAMES),
        "village_code": village, "member_households": rng.randrange(5, 16), "business_plan": rng.choice(PLANS),
        "budget_lines": [{"_type_": f"{PREFIX}BudgetLine", "_data_": {
            "item": item, "quantity": quantity, "unit": "paket", "unit_price_rp": price}}
            for item, quantity, price in (("Peralatan usaha", 2, amount // 4), ("Bahan baku awal", 1, amount // 2))],
        "requested_rp": amount, "form": form, "drafted_by": "op.lamsel"}
    yield proposal, 2, "Proposal.Submitted", {"by": "op.lamsel"}
    yield proposal, 3, "Proposal.Verified", {"by": "kabid.pemberdayaan"}
    yield proposal, 4, "Proposal.Recommended", {"by": "dinsos.lampung"}
    if rng.random() < 0.03:
        yield proposal, 5, "Proposal.Cancelled", {"by": "kemensos.dirjen", "reason": "kelompok membubarkan diri"}
        return
    yield proposal, 5, "Proposal.Approved", {"by": "kemensos.dirjen", "amount_rp": amount, "form": form,
                                             "fiscal_year": 2026, "source": "APBN"}
    grant = new_uuid(rng)
    yield grant, 1, "Grant.Opened", {
        "originator_topic": f"{PREFIX}Grant", "proposal_id": uuid_hex(proposal), "group_id": uuid_hex(group),
        "village_code": village, "amount_rp": amount, "form": form,
        "tranches": [{"_type_": f"{PREFIX}Tranche", "_data_": {"number": 1, "amount_rp": first}},
                     {"_type_": f"{PREFIX}Tranche", "_data_": {"number": 2, "amount_rp": amount - first}}]}
    version = 2
    for tranche, tranche_rp in ((1, first), (2, amount - first)):
        if form == "equipment":  # recorded by an operator, the handover accepted by a treasurer
            handover = {
                "payment_id": str(new_uuid(rng)), "tranche": tranche, "amount_rp": tranche_rp,
                "items": [{"_type_": f"{PREFIX}HandoverItem", "_data_": {
                    "item": "Peralatan dapur", "quantity": 2, "value_rp": tranche_rp}}],
                "handover_date": {"_type_": "date_iso", "_data_": "2026-03-02"}, "receiver": "Ketua KUBE"}
            yield grant, version, "Grant.DeliveryRecorded", {**handover, "by": "op.lamsel"}
            yield grant, version + 1, "Grant.Delivered", {**handover, "by": "bendahara.lamsel"}
            version += 2
            continue
        while True:
            payment = str(new_uuid(rng))
            yield grant, version, "Grant.Instructed", {"payment_id": payment, "tranche": tranche,
                                                      "amount_rp": tranche_rp, "by": "bendahara.lamsel"}
            version += 1
            outcome = rng.random()
            if outcome < 0.03:
                yield grant, version, "Grant.PaymentCancelled", {"payment_id": payment,
                                                                "reason": "salah nominal", "by": "bendahara.lamsel"}
                version += 1
                continue
            yield grant, version, "Grant.Sent", {"payment_id": payment, "by": "bendahara.lamsel"}
            version += 1
            if outcome < 0.12:
                yield grant, version, "Grant.Failed", {"payment_id": payment, "reason": rng.choice(FAILURES),
                                                      "by": "bendahara.lamsel"}
                version += 1
                continue
            yield grant, version, "Grant.Confirmed", {
                "payment_id": payment, "bank_reference": f"{rng.choice(BANKS)}-{rng.randrange(10**11, 10**12)}",
                "by": "bendahara2.lamsel"}  # not who instructed it
            version += 1
            break
    if rng.random() < 0.02:
        yield grant, version, "Grant.Refunded", {"amount_rp": 250_000, "reason": "sisa dana tidak terpakai",
                                                 "reference": f"STS-{rng.randrange(10**6, 10**7)}",
                                                 "by": "bendahara.lamsel"}


class EventSource:
    """Stored events of many lifecycles at once, interleaved as in a real log, in notification order."""

    def __init__(self, seed: int, money_only: bool, active: int = 2_000) -> None:
        self.rng = random.Random(seed)
        self.clock = Clock(self.rng)
        self.money_only = money_only
        self.active = [lifecycle(self.rng) for _ in range(active)]
        self.notification_id = 0

    def take(self, money_events: int) -> list[tuple[StoredEvent, int, str]]:
        """The next stored events, with their notification ids and times, holding ``money_events`` money events."""
        events, money, rng, active = [], 0, self.rng, self.active
        while money < money_events:
            slot = int(rng.random() * len(active))
            try:
                originator_id, version, topic, fields = next(active[slot])
            except StopIteration:
                active[slot] = lifecycle(rng)
                continue
            is_money = topic in MONEY_TOPICS
            if self.money_only and not is_money:
                continue
            timestamp = self.clock.tick()
            state = json.dumps({"timestamp": timestamp, **fields}, separators=(",", ":"),
                               ensure_ascii=False).encode("utf-8")
            self.notification_id += 1
            events.append((StoredEvent(originator_id, version, PREFIX + topic, state), self.notification_id,
                           timestamp["_data_"]))
            money += is_money
        return events


def load(events: int, seed: int, money_only: bool) -> dict:
    """Create both tables, fill them with COPY, then add the constraints and VACUUM ANALYZE."""
    ledger_topics = {PREFIX + topic for topic in MONEY_TOPICS}
    source = EventSource(seed, money_only)
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute(EVENTS_DDL[0])
        conn.execute(ledger.LEDGER_DDL)
        # Constraints and indexes after the load (much faster), exactly as the DDL defined them.
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid IN ('grants_events'::regclass, 'ledger'::regclass) ORDER BY conrelid, conname").fetchall()
        for table, name, _ in constraints:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    started = time.monotonic()
    total_events = state_bytes = 0
    previous = ledger.GENESIS
    progress = Progress(TextColumn("[bench] generating"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("ledger events"), TimeElapsedColumn(), TimeRemainingColumn(),
                        console=console, disable=not console.is_terminal)
    with psycopg.connect(database_url()) as events_conn, psycopg.connect(database_url()) as ledger_conn, \
            events_conn.cursor().copy("COPY grants_events (originator_id, originator_version, topic, state, "
                                      "notification_id) FROM STDIN") as events_copy, \
            ledger_conn.cursor().copy("COPY ledger (seq, originator_id, originator_version, topic, previous_hash, "
                                      "entry_hash, recorded_at) FROM STDIN") as ledger_copy, progress:
        task = progress.add_task("generate", total=events)
        seq = 0
        while seq < events:
            batch = source.take(min(CHUNK, events - seq))
            total_events += len(batch)
            # COPY text format: uuids, numbers, topics and hex hold no tab, newline or backslash; bytea as \\x<hex>.
            events_copy.write("".join(
                f"{stored.originator_id}\t{stored.originator_version}\t{stored.topic}\t\\\\x{stored.state.hex()}"
                f"\t{position}\n" for stored, position, _ in batch))
            money = [(stored, at) for stored, _, at in batch if stored.topic in ledger_topics]
            rows = ledger.chain(previous, [stored for stored, _ in money])
            previous = rows[-1][4]
            lines = []
            for (stored, recorded_at), (originator_id, version, topic, previous_hash, digest) in zip(
                    money, rows, strict=True):
                seq += 1
                state_bytes += len(stored.state)
                lines.append(f"{seq}\t{originator_id}\t{version}\t{topic}\t{previous_hash}\t{digest}\t{recorded_at}\n")
            ledger_copy.write("".join(lines))
            progress.update(task, completed=seq)
            if not console.is_terminal and seq % (10 * CHUNK) == 0:
                say(f"generated {seq}/{events} ledger events ({time.monotonic() - started:.0f}s)")
    generated = time.monotonic() - started
    say(f"generated and copied {seq} ledger events, {total_events} events in all, in {generated:.1f}s")
    started = time.monotonic()
    with psycopg.connect(database_url(), autocommit=True) as conn:
        for table, name, definition in constraints:
            conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        conn.execute(EVENTS_DDL[1])
        conn.execute("SELECT setval('grants_events_notification_id_seq', %s)", (source.notification_id,))
        conn.execute("SELECT setval('ledger_seq_seq', %s)", (seq,))
        conn.execute("VACUUM ANALYZE grants_events")
        conn.execute("VACUUM ANALYZE ledger")
        sizes = conn.execute("SELECT pg_total_relation_size('grants_events'), pg_total_relation_size('ledger')"
                             ).fetchone()
    indexed = time.monotonic() - started
    say(f"constraints, indexes and VACUUM ANALYZE in {indexed:.1f}s")
    return {"events_in_log": total_events, "mean_state_bytes": round(state_bytes / seq, 1),
            "generate_and_copy_seconds": round(generated, 1), "index_and_vacuum_seconds": round(indexed, 1),
            "grants_events_mb": round(sizes[0] / 2**20, 1), "ledger_mb": round(sizes[1] / 2**20, 1),
            "head": previous}


# --- measuring --------------------------------------------------------------------------------------------------


def reset_peak_rss() -> None:
    """Start this process's resident-memory high-water mark again from now (Linux: /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (``VmRSS``) or its high-water mark (``VmHWM``)."""
    with open("/proc/self/status") as status:
        return round(int(status.read().split(f"{field}:")[1].split()[0]) / 1024, 1)


def scan() -> dict:
    """The older reference: the same join and columns through a server-side cursor, counted, no hashing."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        wall, cpu = time.monotonic(), time.process_time()
        rows = 0
        with conn.transaction(), conn.cursor(name="bench_scan") as cursor:
            conn.execute("SET TRANSACTION READ ONLY")
            cursor.itersize = ITERSIZE
            cursor.execute(LEDGER_JOIN)
            for _ in cursor:
                rows += 1
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    say(f"scan: {rows} rows in {wall:.2f}s ({rows / wall:.0f}/s, {cpu:.2f} CPU s)")
    return {"rows": rows, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)}


def copy() -> dict:
    """The physical limit: the same join through ``COPY … TO STDOUT``, each row read and dropped."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        wall, cpu = time.monotonic(), time.process_time()
        rows = 0
        with conn.cursor().copy(f"COPY ({LEDGER_JOIN}) TO STDOUT") as copying:
            for _ in copying:
                rows += 1
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    say(f"copy: {rows} rows in {wall:.2f}s ({rows / wall:.0f}/s, {cpu:.2f} CPU s)")
    return {"rows": rows, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3)}


def verify() -> dict:
    """``verify_ledger`` as ``berdaya audit verify`` runs it: an autocommit connection, a list for problems."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        problems: list = []
        reset_peak_rss()
        rss_before = rss_mb()
        wall, cpu = time.monotonic(), time.process_time()
        checked, head = verify_ledger(conn, problems)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        peak = rss_mb("VmHWM")
    say(f"verify_ledger: {checked} entries in {wall:.2f}s ({checked / wall:.0f}/s, {cpu:.2f} CPU s), "
        f"{len(problems)} problems, peak RSS {peak} MB")
    return {"checked": checked, "head": head, "problems": [p.as_dict() for p in problems[:5]],
            "problem_count": len(problems), "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "peak_rss_mb": peak, "rss_mb_before": rss_before}


def profile() -> list[dict]:
    """The walk under cProfile: the functions with the most time of their own."""
    profiler = cProfile.Profile()
    with psycopg.connect(database_url(), autocommit=True) as conn:
        profiler.runcall(verify_ledger, conn, [])
    stats = pstats.Stats(profiler).stats
    top = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:15]
    return [{"function": f"{Path(file).name}:{line}({name})", "calls": calls, "own_seconds": round(own, 2),
             "with_callees_seconds": round(total, 2)} for (file, line, name), (_, calls, own, total, _) in top]


def hub_gaps() -> dict:
    """The gateway runs the audit in its own process (services/gateway/audit.py): how long does its eventlet hub go
    without serving other requests while the chain walk runs? A ticker green thread asks for 10 ms sleeps; the gaps
    between its wake-ups, with the walk on a green thread (the reference: what running it in process without a
    native thread does) and in a native thread through ``eventlet.tpool`` (what the gateway does)."""

    def walk() -> int:
        with psycopg.connect(database_url(), autocommit=True) as conn:
            return verify_ledger(conn, [])[0]

    def gaps_while(run) -> dict:
        gaps: list[float] = []
        running = [True]

        def ticker() -> None:
            last = time.monotonic()
            while running[0]:
                eventlet.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticking = eventlet.spawn(ticker)
        wall = time.monotonic()
        run()
        wall = time.monotonic() - wall
        running[0] = False
        ticking.wait()
        gaps.sort()
        return {"walk_seconds": round(wall, 2), "ticks": len(gaps), "gap_p50_ms": round(gaps[len(gaps) // 2] * 1e3, 1),
                "gap_p99_ms": round(gaps[int(len(gaps) * 0.99)] * 1e3, 1), "gap_max_ms": round(gaps[-1] * 1e3, 1)}

    result = {"green_thread": gaps_while(lambda: eventlet.spawn(walk).wait()),
              "native_thread": gaps_while(lambda: tpool.execute(walk))}
    say(f"hub: longest gap {result['green_thread']['gap_max_ms']} ms on a green thread, "
        f"{result['native_thread']['gap_max_ms']} ms with the walk in a native thread")
    return result


def timed(function, *args) -> tuple[object, float, float]:
    wall, cpu = time.monotonic(), time.process_time()
    result = function(*args)
    return result, round(time.monotonic() - wall, 3), round(time.process_time() - cpu, 3)


def breakdown() -> dict:
    """verify_ledger's parts one by one, on the same connection settings."""
    topics = [PREFIX + topic for topic in MONEY_TOPICS]
    with psycopg.connect(database_url(), autocommit=True) as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, BUFFERS) " + LEDGER_JOIN).fetchall()
        rows, stream_s, stream_cpu = timed(lambda: sum(1 for _ in ledger_rows(conn)))
        unchained, unchained_s, _ = timed(lambda: conn.execute(
            "SELECT e.notification_id, e.topic FROM grants_events e WHERE e.topic = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM ledger l WHERE l.originator_id = e.originator_id "
            "AND l.originator_version = e.originator_version) ORDER BY e.notification_id", (topics,)).fetchall())
    return {
        "stream_rows_seconds": stream_s, "stream_rows_cpu_seconds": stream_cpu,
        "stream_rows_per_s": round(rows / stream_s, 1) if stream_s else None,
        "unchained_query_seconds": unchained_s, "unchained_found": len(unchained),
        "join_plan": [line for (line,) in plan],
    }


# --- main -------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Ledger verification benchmark (see the module docstring).")
    parser.add_argument("--events", type=int, default=1_000_000, help="ledger (money) events to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--money-only", action="store_true", help="no non-money events in grants_events")
    parser.add_argument("--no-breakdown", action="store_true", help="skip timing verify_ledger's parts")
    parser.add_argument("--profile", action="store_true", help="also run the walk under cProfile")
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    parser.add_argument("--hub", action="store_true", help="also measure the gateway's hub during an in-process walk")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace) -> dict:
    load_before = [round(value, 2) for value in os.getloadavg()]
    say(f"fresh database {DATABASE}")
    with databases.fresh_database(DATABASE, keep=args.keep):
        loaded = load(args.events, args.seed, args.money_only)
        scans, copies = [scan()], [copy()]
        verified = verify()
        scans.append(scan())
        copies.append(copy())
        parts = None if args.no_breakdown else breakdown()
        profiled = profile() if args.profile else None
        hub = hub_gaps() if args.hub else None
    if verified["checked"] != args.events or verified["problem_count"] or verified["head"] != loaded["head"]:
        raise RuntimeError(f"verify_ledger did not pass the generated ledger: {verified}")
    if any(run["rows"] != args.events for run in scans + copies):
        raise RuntimeError(f"a reference did not read every entry: {scans} {copies}")
    verify_per_s = args.events / verified["seconds"]
    scan_per_s = args.events / (sum(run["seconds"] for run in scans) / len(scans))
    copy_per_s = args.events / (sum(run["seconds"] for run in copies) / len(copies))
    result = {
        "events": args.events,
        "verify_events_per_s": round(verify_per_s, 1),
        "copy_events_per_s": round(copy_per_s, 1),
        "copy_ratio": round(verify_per_s / copy_per_s, 3),
        "scan_events_per_s": round(scan_per_s, 1),
        "ratio": round(verify_per_s / scan_per_s, 3),
        "verify_seconds": verified["seconds"],
        "verify_cpu_seconds": verified["cpu_seconds"],
        "verify_peak_rss_mb": verified["peak_rss_mb"],
        "verify_rss_mb_before": verified["rss_mb_before"],
        "copies": copies,
        "scans": scans,
        "data": {key: value for key, value in loaded.items() if key != "head"},
        "load_average": {"before": load_before, "after": [round(v, 2) for v in os.getloadavg()],
                         "cpus": os.cpu_count()},
    }
    if parts:
        result["breakdown"] = parts
    if profiled:
        result["profile"] = profiled
    if hub:
        result["hub"] = hub
    return result


def main() -> None:
    print(json.dumps(benchmark(parse_args(sys.argv[1:]))), flush=True)


if __name__ == "__main__":
    main()
