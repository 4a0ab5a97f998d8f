"""Backbone benchmark: registry's store → relay → RabbitMQ → grants' consumer → grants' read model.

What is measured, and why
-------------------------
The event backbone (docs/architecture.md, "The event backbone") carries every household, proposal and
disbursement between services, so its rate and latency bound everything built on it. This script runs the real
registry and grants services as processes (``nameko run``) on fresh databases and a fresh RabbitMQ vhost, and writes
households straight into registry's store from this process with ``RegistryApplication.register_households``
(batches of 500). That bypasses RPC on purpose: RPC is measured elsewhere; here only relay → broker → consumer
counts (and the store write, which the relay must wait for).

- **Burst (the headline).** N households (default 20,000) written as fast as the store takes them, while the relay
  and the consumer run. Grants records per household ``registered_at`` (the event's time) and ``projected_at``
  (``clock_timestamp()`` when its row was written), so the database says when each event was born and arrived:
  ``events_per_s = N / (last projected_at − first registered_at)``; ``p50_ms``/``p99_ms`` are percentiles of
  ``projected_at − registered_at``.
- **Spread.** Fewer households written at a steady rate below capacity: one event's latency when nothing queues.
- **Backlog.** N households stored while registry's service (its relay) is stopped; then it starts and the backlog
  drains through RabbitMQ into grants: the backbone's own rate, without the store write in front of it.
  ``drain_events_per_s = N / (last projected_at − first projected_at)`` (the first batch's own time excluded).
- **Reference, same run, same broker.** The burst's own envelopes through a fresh durable queue with kombu/py-amqp
  and nothing else: persistent, publisher confirms per batch of 500 (``ConfirmingPublisher``), while a consumer in
  another OS process (prefetch 1,000, ack ``multiple`` per 500) reads them. ``raw_events_per_s`` is what broker and
  client library carry on this machine now; it moves with the machine's load, so it runs twice (right after the
  burst, and at the end) and the mean is the yardstick for ``ratio = events_per_s / raw_events_per_s``.
- **Where the time goes.** A separate process samples every 100 ms how far registry's store (max notification id),
  its relay (``__relay__`` tracking row) and grants' consumer (``registry`` tracking row) have got: when each stage
  first moved, when it reached the end, and its rate. CPU seconds per process over the burst (services, this
  script's store writes, PostgreSQL, RabbitMQ, and everything else on the machine) say who was busy.
  ``--profile DIR`` also samples both services with py-spy (collapsed stacks per service).

Prints one JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/events.py [--households 20000] [--relay-batch 500] [--consumer-batch 500] [--help]
"""

# ruff: noqa: E402 - eventlet must patch, and shared must pick psycopg's wait function, before other imports.
import sys
import warnings
from pathlib import Path

# This folder is first on sys.path and bench/http.py would shadow the standard library's http: use the root instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

import shared  # noqa: F401  (selects psycopg's green wait function)

# isort: split

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from kombu import Connection, Exchange, Queue

from services.registry.application import RegistryApplication
from services.registry.commands import ImportRegions, RegisterHousehold
from services.registry.vault import KeyEncryptionKey
from shared.actor import Actor
from shared.publishing import ConfirmingPublisher, persistent_message
from shared.relay import RELAY_TRACKING_NAME
from shared.runtime import ensure_green_psycopg

# isort: split

from bench.machine import BenchEnvironment, Profilers, Services, cpu_snapshot, cpu_used, say
from shared.config import SERVICES

SCRIPT = str(Path(__file__).resolve())
ENV = BenchEnvironment("berdaya-bench", {service: f"berdaya_bench_{service}"
                                          for service in SERVICES})
STORE_BATCH = 500
RAW_PREFETCH, RAW_ACK_EVERY = 1000, 500
POLL_INTERVAL = 0.1
# The region rows the generated households refer to (registry checks KK, NIK and village against its table).
REGIONS = (
    ("18", "Lampung", 1), ("18.01", "Kabupaten Lampung Selatan", 2), ("18.01.04", "Natar", 3),
    ("18.01.06", "Kalianda", 3), ("18.01.04.2001", "Hajimena", 4), ("18.01.04.2002", "Sidosari", 4),
    ("18.01.06.2001", "Jondong", 4), ("18.01.06.2005", "Maja", 4),
)
VILLAGES = tuple(code for code, _, level in REGIONS if level == 4)


def batches(items: list, size: int) -> list[list]:
    return [items[start:start + size] for start in range(0, len(items), size)]


# --- synthetic households -------------------------------------------------------------------------------------


def nik(district: str, birth: date, sex: str, serial: int) -> str:
    """A NIK that encodes its holder: district of registration, birth day (+40 for women), month, year, serial."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def birth_and_serial(number: int, first_year: int) -> tuple[date, int]:
    """A distinct (birth date, serial) pair per number: 30 years × 12 months × 28 days, then the serial moves on."""
    birth = date(first_year + number % 30, 1 + number // 30 % 12, 1 + number // 360 % 28)
    return birth, 1 + number // (30 * 12 * 28)


def household(number: int) -> dict:
    """Household ``number``: a mother as head and a son; KK and both NIKs unique across numbers."""
    mother_birth, mother_serial = birth_and_serial(number, 1960)
    son_birth, son_serial = birth_and_serial(number, 1995)
    return {
        "kk": f"180106{number:010d}",
        "dtks_id": f"DTKS-{number:08d}",
        "village_code": VILLAGES[number % len(VILLAGES)],
        "address": f"Dusun {number % 7 + 1}",
        "decile": 1 + number % 10,
        "actor": Actor(user="bench.operator", role="operator", region="18.01"),  # in-process: no signature needed
        "members": [
            {"nik": nik("180106", mother_birth, "P", mother_serial), "name": f"Ibu {number}", "sex": "P",
             "birth_date": mother_birth.isoformat(), "relation": "Kepala Keluarga"},
            {"nik": nik("180104", son_birth, "L", son_serial), "name": f"Anak {number}", "sex": "L",
             "birth_date": son_birth.isoformat(), "relation": "Anak"},
        ],
    }


def commands(first: int, count: int) -> list[RegisterHousehold]:
    return [RegisterHousehold.model_validate(household(number)) for number in range(first, first + count)]


def import_regions(app: RegistryApplication) -> None:
    rows = [{"code": code, "name": name, "level": level} for code, name, level in REGIONS]
    app.import_regions(ImportRegions.model_validate({"rows": rows, "source": "bench",
                                                     "actor": Actor(user="bench", role="admin", region="")}))


def write_households(app: RegistryApplication, first: int, count: int, batch: int = STORE_BATCH,
                     interval: float = 0.0) -> float:
    """Households ``first`` … in transactions of ``batch``, ``interval`` s apart (0: at once); returns seconds."""
    work = batches(commands(first, count), batch)  # validated before the clock starts: the edge is not measured
    started = time.monotonic()
    for index, households in enumerate(work):
        if interval:
            time.sleep(max(0.0, started + index * interval - time.monotonic()))
        app.register_households(households)
    return time.monotonic() - started


# --- environment: databases, vhost, services ------------------------------------------------------------------


# --- measuring: positions, CPU, profiles ----------------------------------------------------------------------


@dataclass
class PositionSamples:
    """(unix time, store position, relay position, consumer position), one row per POLL_INTERVAL."""

    rows: list[tuple[float, int, int, int]] = field(default_factory=list)

    def first_advance(self, column: int, start: int) -> tuple[float, int] | None:
        return next(((row[0], row[column]) for row in self.rows if row[column] > start), None)

    def reached(self, column: int, target: int) -> float | None:
        return next((row[0] for row in self.rows if row[column] >= target), None)


def poll_positions() -> None:
    """Role ``poll-positions`` (its own OS process, so a busy bench does not delay samples): print until killed."""
    with psycopg.connect(ENV.database_url("registry"), autocommit=True) as registry, \
            psycopg.connect(ENV.database_url("grants"), autocommit=True) as grants:
        while True:
            sampled = time.time()
            stored = registry.execute("SELECT coalesce(max(notification_id), 0) FROM registry_events").fetchone()[0]
            relayed = registry.execute("SELECT coalesce(max(notification_id), 0) FROM registry_tracking "
                                       "WHERE application_name = %s", (RELAY_TRACKING_NAME,)).fetchone()[0]
            consumed = grants.execute("SELECT coalesce(max(notification_id), 0) FROM grants_tracking "
                                      "WHERE application_name = 'registry'").fetchone()[0]
            print(f"{sampled:.6f} {stored} {relayed} {consumed}", flush=True)
            time.sleep(max(0.0, POLL_INTERVAL - (time.time() - sampled)))


class PositionPoller:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, SCRIPT, "poll-positions"], stdout=subprocess.PIPE, text=True)
        self.first_line = self.process.stdout.readline()  # sampling has begun (the process takes a while to start)

    def stop(self) -> PositionSamples:
        time.sleep(2 * POLL_INTERVAL)  # a sample or two after whatever we waited for
        self.process.terminate()
        output, _ = self.process.communicate(timeout=30)
        rows = [line.split() for line in (self.first_line + output).splitlines()]
        return PositionSamples([(float(t), int(s), int(r), int(c)) for t, s, r, c in (r for r in rows if len(r) == 4)])


def stage_progress(samples: PositionSamples, since: float, start: int, final: int) -> dict:
    """Per stage: seconds after ``since`` when it first moved past ``start`` and reached ``final``, and its rate."""
    stages = {}
    for name, column in (("store", 1), ("relay", 2), ("consumer", 3)):
        first, reached = samples.first_advance(column, start), samples.reached(column, final)
        stage: dict = {"first_advance_s": None, "reached_final_s": None, "events_per_s": None}
        if first is not None:
            stage["first_advance_s"] = round(first[0] - since, 3)
        if reached is not None:
            stage["reached_final_s"] = round(reached - since, 3)
        if first is not None and reached is not None and reached > first[0]:
            # From the first sample that saw it move to the first that saw it done. Positions are not contiguous
            # in general, but on a fresh store they count events.
            stage["events_per_s"] = round((final - first[1]) / (reached - first[0]), 1)
        stages[name] = stage
    stages["samples"] = len(samples.rows)
    return stages


# --- the backbone, measured through grants' read model --------------------------------------------------------


def wait_for_projection(expected: int, timeout: float = 900.0) -> None:
    deadline = time.monotonic() + timeout
    while (count := ENV.sql("grants", "SELECT count(*) FROM households")[0][0]) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"grants projected {count} of {expected} households within {timeout:.0f}s")
        time.sleep(POLL_INTERVAL)


def projection_figures(first: int, count: int) -> dict:
    """From grants' own timestamps: when each event was born, when its row was written, and the spread — of the
    households ``first`` to ``first + count`` in the order registered (grants knows them by id, not by KK)."""
    row = ENV.sql("grants", """
        SELECT count(*),
               extract(epoch FROM min(registered_at)),
               extract(epoch FROM min(projected_at)),
               extract(epoch FROM max(projected_at)),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM projected_at - registered_at)),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM projected_at - registered_at)),
               extract(epoch FROM max(projected_at - registered_at))
        FROM (SELECT registered_at, projected_at FROM households ORDER BY registered_at, household_id
              OFFSET %s LIMIT %s) AS part""", (first, count))[0]
    events, first_born, first_projected, last_projected, p50, p99, worst = (float(value) for value in row)
    return {
        "events": int(events),
        "first_registered_at": first_born,
        "first_projected_at": first_projected,
        "last_projected_at": last_projected,
        "events_per_s": round(events / (last_projected - first_born), 1),
        "p50_ms": round(p50 * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(worst * 1000, 1),
    }


def run_burst(app: RegistryApplication, services: Services, households: int, profile: str | None) -> dict:
    start_position = app.last_position()
    poller = PositionPoller()
    profilers = Profilers(profile, services.pids(), rate=200)
    try:
        time.sleep(3 * POLL_INTERVAL)  # a few samples of the idle state first
        cpu_before = cpu_snapshot(services.pids(), "bench_store_writes", "berdaya_bench_")
        say(f"burst: writing {households} households into registry's store in batches of {STORE_BATCH}")
        write_started = time.time()
        store_seconds = write_households(app, 0, households)
        say(f"burst: stored in {store_seconds:.2f}s; waiting for grants to project them")
        wait_for_projection(households)
        cpu_after = cpu_snapshot(services.pids(), "bench_store_writes", "berdaya_bench_")
        wall = time.time() - write_started
    finally:
        samples = poller.stop()
        profilers.stop()
    figures = projection_figures(0, households)
    where = stage_progress(samples, write_started, start_position, app.last_position())
    where["store"]["seconds_in_bench"] = round(store_seconds, 3)
    where["cpu_seconds"] = cpu_used(cpu_before, cpu_after, wall)
    return {**figures, "start_position": start_position, "store_seconds": round(store_seconds, 3),
            "end_to_end_seconds": round(figures["last_projected_at"] - write_started, 3), "where": where}


def run_spread(app: RegistryApplication, first: int, households: int, rate: float, batch: int) -> dict:
    """Households at a steady ``rate`` per second, ``batch`` per transaction: latency when nothing queues."""
    say(f"spread: writing {households} households at {rate:.0f}/s in batches of {batch}")
    seconds = write_households(app, first, households, batch=batch, interval=batch / rate)
    wait_for_projection(first + households)
    figures = projection_figures(first, households)
    return {"events": figures["events"], "target_per_s": rate, "batch": batch,
            "written_per_s": round(households / seconds, 1), "p50_ms": figures["p50_ms"],
            "p99_ms": figures["p99_ms"], "max_ms": figures["max_ms"]}


def run_backlog(app: RegistryApplication, services: Services, first: int, households: int) -> dict:
    """Store ``households`` while registry's relay is stopped, then start it: the backbone draining a backlog."""
    say(f"backlog: registry stopped, storing {households} households")
    services.stop("registry")
    start_position = app.last_position()
    write_households(app, first, households)
    poller = PositionPoller()
    try:
        started = time.time()
        services.start("registry")
        say("backlog: registry started; waiting for grants to project the backlog")
        wait_for_projection(first + households)
    finally:
        samples = poller.stop()
    figures = projection_figures(first, households)
    stages = stage_progress(samples, started, start_position, app.last_position())
    del stages["store"]
    drain_seconds = figures["last_projected_at"] - figures["first_projected_at"]
    return {"events": figures["events"], "drain_events_per_s": round(households / drain_seconds, 1),
            "first_projected_after_start_s": round(figures["first_projected_at"] - started, 3),
            "drain_seconds": round(drain_seconds, 3), **stages}


# --- reference: the same envelopes through a bare queue -------------------------------------------------------


def envelope_messages(app: RegistryApplication, after: int, count: int) -> list[tuple[str, str, str, dict]]:
    """(routing key, body, message id, headers) of ``count`` public events after ``after``, as the relay sends them."""
    messages, position = [], after
    while len(messages) < count:
        envelopes = app.public_events_after(position, min(STORE_BATCH, count - len(messages)))
        if not envelopes:
            break
        for envelope in envelopes:
            headers = {"position": envelope.position, "source": envelope.source}
            messages.append((envelope.type, envelope.model_dump_json(), str(envelope.id), headers))
        position = envelopes[-1].position
    return messages


def consume_raw(queue: str, count: int) -> None:
    """Role ``raw-consumer``: read ``count`` messages, ack per RAW_ACK_EVERY; print when the last one came."""
    received = last_tag = 0

    def on_message(message) -> None:
        nonlocal received, last_tag
        received += 1
        last_tag = message.delivery_tag
        if received % RAW_ACK_EVERY == 0:
            channel.basic_ack(last_tag, multiple=True)

    with Connection(ENV.amqp_uri(), connect_timeout=5) as connection:
        channel = connection.channel()
        channel.basic_qos(prefetch_size=0, prefetch_count=RAW_PREFETCH, a_global=False)
        channel.basic_consume(queue, callback=on_message, no_ack=False)
        print("ready", flush=True)
        while received < count:
            connection.drain_events(timeout=60)
        last_received = time.time()
        if received % RAW_ACK_EVERY:
            channel.basic_ack(last_tag, multiple=True)
    print(json.dumps({"received": received, "last_received": last_received}), flush=True)


def run_reference(messages: list[tuple[str, str, str, dict]]) -> dict:
    """Publish ``messages`` to a fresh durable queue while another process consumes them; time first publish → last."""
    name = f"bench.raw.{uuid.uuid4().hex[:8]}"
    exchange = Exchange(name, type="topic", durable=True, auto_delete=False)
    with Connection(ENV.amqp_uri(), connect_timeout=5) as connection:
        publisher = ConfirmingPublisher(connection, exchange.name)
        exchange(publisher.channel).declare()
        Queue(name, exchange=exchange, routing_key="#", durable=True, auto_delete=False)(publisher.channel).declare()
        consumer = subprocess.Popen([sys.executable, SCRIPT, "raw-consumer", name, str(len(messages))],
                                    stdout=subprocess.PIPE, text=True)
        try:
            if consumer.stdout.readline().strip() != "ready":
                raise RuntimeError("the raw consumer did not start")
            published_from = time.time()
            for batch in batches(messages, STORE_BATCH):
                publisher.publish([(key, persistent_message(body, message_id=message_id, kind=key, headers=headers))
                                   for key, body, message_id, headers in batch])
            published_seconds = time.time() - published_from
            output, _ = consumer.communicate(timeout=300)
        finally:
            if consumer.poll() is None:
                consumer.kill()
                consumer.wait()
    result = json.loads(output.strip().splitlines()[-1])
    seconds = result["last_received"] - published_from
    return {"events": result["received"], "raw_events_per_s": round(result["received"] / seconds, 1),
            "raw_publish_per_s": round(len(messages) / published_seconds, 1), "raw_seconds": round(seconds, 3)}


def reference_runs(messages: list[tuple[str, str, str, dict]], when: str) -> dict:
    say(f"reference ({when}): {len(messages)} envelopes through a bare durable queue (confirms per {STORE_BATCH}, "
        f"prefetch {RAW_PREFETCH}, ack per {RAW_ACK_EVERY})")
    run = run_reference(messages)
    say(f"reference ({when}): {run['raw_events_per_s']:.0f} events/s")
    return {"when": when, **run}


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Backbone benchmark (see the module docstring): JSON on stdout.")
    parser.add_argument("--households", type=int, default=20_000, help="burst size (events)")
    parser.add_argument("--relay-batch", type=int, default=int(os.environ.get("RELAY_BATCH", 500)))
    parser.add_argument("--consumer-batch", type=int, default=int(os.environ.get("CONSUMER_BATCH", 500)))
    parser.add_argument("--spread-households", type=int, default=2_000, help="0: skip the spread mode")
    parser.add_argument("--spread-rate", type=float, default=200.0, help="households per second")
    parser.add_argument("--spread-batch", type=int, default=20, help="households per transaction")
    parser.add_argument("--backlog-households", type=int, default=20_000, help="0: skip the backlog mode")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the services during the burst (pip install py-spy)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and vhost for inspection")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace) -> dict:
    ensure_green_psycopg()
    load_before = os.getloadavg()[0]
    services = Services(ENV, {"RELAY_BATCH": str(args.relay_batch), "CONSUMER_BATCH": str(args.consumer_batch),
                               # No periodic catch-up by RPC while idle: the backlog must travel through RabbitMQ.
                               "IDLE_CATCH_UP_S": "3600"})
    app = None
    try:
        say(f"fresh databases {', '.join(ENV.databases.values())} and vhost {ENV.vhost}")
        ENV.create()
        services.start("registry", "grants")
        say("services running: registry, grants (logs in .run/bench-*.log)")
        # The services' own key-encryption key: the bench's writes are sealed as the registry service seals them.
        app = RegistryApplication(ENV.database_url("registry"),
                                  data_key=KeyEncryptionKey.from_environment(services.data_key))
        import_regions(app)

        burst = run_burst(app, services, args.households, args.profile)
        say(f"burst: {burst['events_per_s']:.0f} events/s, p50 {burst['p50_ms']} ms, p99 {burst['p99_ms']} ms")
        # The reference twice, right after the burst (services idle) and at the very end (services stopped):
        # the machine's load drifts, and the mean of the two is a fairer yardstick than either.
        messages = envelope_messages(app, burst["start_position"], args.households)
        references = [reference_runs(messages, "after the burst")]
        next_household = args.households
        spread = backlog = None
        if args.spread_households:
            spread = run_spread(app, next_household, args.spread_households, args.spread_rate, args.spread_batch)
            next_household += args.spread_households
            say(f"spread: p50 {spread['p50_ms']} ms, p99 {spread['p99_ms']} ms")
        if args.backlog_households:
            backlog = run_backlog(app, services, next_household, args.backlog_households)
            say(f"backlog: drained at {backlog['drain_events_per_s']:.0f} events/s")
        services.stop()
        references.append(reference_runs(messages, "at the end"))
    finally:
        services.stop()
        if app is not None:
            app.close()
        if not args.keep:
            ENV.drop()

    raw_events_per_s = round(sum(run["raw_events_per_s"] for run in references) / len(references), 1)
    result = {key: burst[key] for key in ("events", "events_per_s", "p50_ms", "p99_ms", "max_ms")}
    result.update({
        "raw_events_per_s": raw_events_per_s,
        "ratio": round(burst["events_per_s"] / raw_events_per_s, 3),
        "store_seconds": burst["store_seconds"],
        "store_events_per_s": round(args.households / burst["store_seconds"], 1),
        "end_to_end_seconds": burst["end_to_end_seconds"],
        "relay_batch": args.relay_batch,
        "consumer_batch": args.consumer_batch,
    })
    if backlog:
        result["backlog"] = backlog
        result["backlog_ratio"] = round(backlog["drain_events_per_s"] / raw_events_per_s, 3)
    if spread:
        result["spread"] = spread
    result["where_time_goes"] = {
        **burst["where"],
        "reference_runs": references,
        # Other work on the machine moves every figure here (see cpu_seconds.everything_else).
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        "cpus": os.cpu_count(),
    }
    return result


def main() -> None:
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    if role == "poll-positions":
        poll_positions()
    elif role == "raw-consumer":
        consume_raw(sys.argv[2], int(sys.argv[3]))
    else:
        print(json.dumps(benchmark(parse_args(sys.argv[1:]))), flush=True)


if __name__ == "__main__":
    main()
