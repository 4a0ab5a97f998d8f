"""BDT import benchmark: a district's DTKS file through the real import path, until grants and training hold it.

What is measured, and why
-------------------------
Issue #3 (item 8) asks for a district, about 330,000 households, to be imported and fully projected within 60 s:
at least 5,500 households/s end to end. This script:

1. writes a synthetic DTKS file of ``--households`` households (default 100,000) for regency 18.01 with
   ``write_synthetic_bdt`` — on the official region table from ``../shared/data`` when it is there, else on the
   built-in Lampung Selatan table;
2. starts registry, grants and training as ``nameko run`` processes on fresh databases (``berdaya_bench_import_*``)
   and a fresh RabbitMQ vhost (with ``--registry-workers N``, N registry processes: they share its RPC requests,
   one of them relays), and imports the same region table into the registry (``registry.import_regions``);
3. runs the real import, ``berdaya.cli.bdt_import.import_bdt`` (client-side ``outline_bdt`` then ``stream_bdt``:
   the file's rows, the identifiers' shapes; ``registry.import_households`` RPCs of 500 households, 3 in flight,
   sent while the file is still being read, the registry checking each household's identifiers against its region
   table), and waits until grants' ``households`` and
   training's ``individuals`` read models hold every imported household and individual.

``seconds`` runs from the call to ``import_bdt`` to the last read-model row written (the later of both tables'
``max(projected_at)``, which the services set with ``clock_timestamp()``); ``households_per_s = households /
seconds``. The breakdown says where that time went:

- ``parse_seconds``: ``read_bdt`` of the file alone, in this process, before the clock starts (``import_bdt``
  parses again inside the measured time, overlapping the registry's store);
- ``registry_store_seconds``: from the call until ``import_bdt`` returned (every batch stored by the registry);
- ``projection_lag_seconds``: from that return until both read models were complete;
- ``stages``: when registry's store, its relay, and grants' and training's consumers first moved and reached the
  end, and their rates (sampled every 100 ms by a separate process); for each consumer, how often it was further
  ahead of the relay's recorded position than the batches the relay may have published and not yet recorded (then
  it was fed by its RPC catch-up from registry's log, not by RabbitMQ), and its widest lead;
- ``cpu_seconds``: CPU per process over the import (the services, this client, the bench's PostgreSQL backends,
  RabbitMQ, everything else on the machine).

``cpu_ms_per_household`` divides those CPU seconds by the households: what each stage costs, whatever the load.
``rss_mb`` and ``peak_rss_mb``: each service's resident memory once the read models are complete, and its high-water
mark over the run (``VmRSS`` and ``VmHWM`` of /proc/<pid>/status); ``rss_anon_mb`` and ``rss_file_mb``: that
resident memory split into the process's private heap and the pages of mapped files (shared libraries, shared with
every process that maps them).
``--profile DIR`` samples the three services and this client with py-spy (``DIR/<name>.collapsed.txt``).

**Reference, same run.** PostgreSQL ``COPY ... FROM STDIN (FORMAT csv, HEADER true)`` of the same file into a plain
table (12 text columns), streamed from disk: ``copy_households_per_s = households / copy seconds``. It runs twice,
before the services start and after they stopped, and the mean is the yardstick (the machine's load drifts);
``ratio = households_per_s / copy_households_per_s``.

Prints one JSON object on stdout; progress goes to stderr. The databases and vhost are dropped at the end.

    .venv/bin/python bench/import.py [--households 100000] [--seed 7] [--profile DIR] [--keep]
"""

# ruff: noqa: E402 - eventlet must patch, and shared must pick psycopg's wait function, before other imports.
import sys
import warnings
from pathlib import Path

# Python puts this script's folder first on sys.path; a sibling such as bench/http.py would then shadow the
# standard library's ``http`` (urllib, requests): the project root instead (for bench.machine).
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
import tempfile
import time

import psycopg
from nameko.standalone.rpc import ClusterRpcProxy

from berdaya.cli.bdt_import import BATCH, IN_FLIGHT, import_bdt
from berdaya.cli.remote import cli_actor
from services.registry.bdt import read_bdt
from services.registry.synth import write_synthetic_bdt
from shared.relay import IN_FLIGHT as RELAY_IN_FLIGHT
from shared.relay import RELAY_TRACKING_NAME
from shared.runtime import ensure_green_psycopg

# isort: split

from bench.machine import (
    BenchEnvironment,
    Profilers,
    Services,
    cpu_snapshot,
    cpu_used,
    process_memory_mb,
    region_table,
    say,
)
from shared.config import SERVICES

SCRIPT = str(Path(__file__).resolve())
REGENCY = "18.01"
# Names of their own: bench/events.py (berdaya_bench_<service>, berdaya-bench) may run at the same time.
ENV = BenchEnvironment("berdaya-bench-import", {name: f"berdaya_bench_import_{name}" for name in (*SERVICES, "copy")})
POLL_INTERVAL = 0.1
COPY_CHUNK = 1 << 20
COPY_TABLE = """CREATE TABLE bdt_copy (
    id_dtks text, no_kk text, nik text, nama text, jenis_kelamin text, tanggal_lahir text, hubungan_keluarga text,
    status_perkawinan text, pekerjaan text, kode_wilayah text, alamat text, desil text)"""


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# --- environment: databases, vhost, services ------------------------------------------------------------------


# --- the file and the reference -------------------------------------------------------------------------------


def copy_reference(path: Path) -> float:
    """Seconds to COPY the file (streamed in 1 MiB chunks) into a fresh plain table, commit included."""
    with psycopg.connect(ENV.database_url("copy")) as conn:
        conn.execute("DROP TABLE IF EXISTS bdt_copy")
        conn.execute(COPY_TABLE)
        conn.commit()
        started = time.monotonic()
        with conn.cursor() as cursor, open(path, "rb") as source:
            with cursor.copy("COPY bdt_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while chunk := source.read(COPY_CHUNK):
                    copy.write(chunk)
        conn.commit()
        seconds = time.monotonic() - started
        rows = conn.execute("SELECT count(*) FROM bdt_copy").fetchone()[0]
        conn.execute("DROP TABLE bdt_copy")
        conn.commit()
    say(f"reference: COPY of {rows} rows in {seconds:.2f}s")
    return seconds


# --- measuring: positions, CPU, profiles ----------------------------------------------------------------------


STAGES = ("store", "relay", "grants_consumer", "training_consumer")


def poll_positions(output: str) -> None:
    """Role ``poll-positions`` (its own OS process, so a busy bench does not delay samples): append to ``output``
    until killed (a file, not a pipe: nobody reads a pipe during a long import, and a full pipe would stall us).

    Each line: unix time, registry's store position, its relay's position, grants' and training's positions in
    registry's log (their tracking rows)."""
    with open(output, "a", buffering=1) as out, \
            psycopg.connect(ENV.database_url("registry"), autocommit=True) as registry, \
            psycopg.connect(ENV.database_url("grants"), autocommit=True) as grants, \
            psycopg.connect(ENV.database_url("training"), autocommit=True) as training:
        while True:
            sampled = time.time()
            stored = registry.execute("SELECT coalesce(max(notification_id), 0) FROM registry_events").fetchone()[0]
            relayed = registry.execute("SELECT coalesce(max(notification_id), 0) FROM registry_tracking "
                                       "WHERE application_name = %s", (RELAY_TRACKING_NAME,)).fetchone()[0]
            consumed = [conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {name}_tracking "
                                     "WHERE application_name = 'registry'").fetchone()[0]
                        for name, conn in (("grants", grants), ("training", training))]
            out.write(f"{sampled:.6f} {stored} {relayed} {consumed[0]} {consumed[1]}\n")
            time.sleep(max(0.0, POLL_INTERVAL - (time.time() - sampled)))


class PositionPoller:
    def __init__(self, output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen([sys.executable, SCRIPT, "poll-positions", str(output)])
        deadline = time.monotonic() + 120
        while not (output.exists() and output.stat().st_size):  # sampling has begun (the process starts slowly)
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the position poller did not start")
            time.sleep(POLL_INTERVAL)

    def stop(self) -> list[tuple[float, ...]]:
        time.sleep(2 * POLL_INTERVAL)
        self.process.terminate()
        self.process.wait(timeout=30)
        rows = [line.split() for line in self.output.read_text().splitlines()]
        return [(float(row[0]), *map(int, row[1:])) for row in rows if len(row) == 1 + len(STAGES)]


def stage_progress(samples: list[tuple[float, ...]], since: float, start: int, final: int) -> dict:
    """Per stage: seconds after ``since`` when it first moved past ``start`` and reached ``final``, and its rate
    (registry events per second between the two)."""
    stages = {}
    for column, name in enumerate(STAGES, 1):
        first = next(((row[0], row[column]) for row in samples if row[column] > start), None)
        reached = next((row[0] for row in samples if row[column] >= final), None)
        stage: dict = {"first_advance_s": None, "reached_final_s": None, "events_per_s": None}
        if first is not None:
            stage["first_advance_s"] = round(first[0] - since, 3)
        if reached is not None:
            stage["reached_final_s"] = round(reached - since, 3)
        if first is not None and reached is not None and reached > first[0]:
            stage["events_per_s"] = round((final - first[1]) / (reached - first[0]), 1)
        stages[name] = stage
    # The relay shares registry's process with the import's RPC workers: its rate while they stored, and alone.
    store_done = stages["store"]["reached_final_s"]
    if store_done is not None:
        at = next((row for row in samples if row[0] - since >= store_done), None)
        relay_done = stages["relay"]["reached_final_s"]
        if at is not None and relay_done is not None and relay_done > store_done:
            stages["relay"]["position_when_store_done"] = at[2]
            stages["relay"]["events_per_s_after_store_done"] = round((final - at[2]) / (relay_done - store_done), 1)
    # The relay records a batch once the broker confirmed it, with up to RELAY_IN_FLIGHT batches published meanwhile:
    # a consumer further ahead of the recorded position got events by its RPC catch-up (registry's events_after),
    # not by RabbitMQ. The share of samples where that was so, and the widest lead over the recorded position.
    published_unrecorded = RELAY_IN_FLIGHT * int(os.environ.get("RELAY_BATCH", 500))
    during = [row for row in samples if row[1] > start and min(row[3], row[4]) < final]
    for column, name in ((3, "grants_consumer"), (4, "training_consumer")):
        leads = [row[column] - row[2] for row in during]
        pulled = [lead for lead in leads if lead > published_unrecorded]
        stages[name]["ahead_of_relay_share"] = round(len(pulled) / len(during), 3) if during else None
        stages[name]["max_ahead_of_relay"] = max([0, *leads])
    return stages


# --- the import, measured through grants' and training's read models ------------------------------------------


def read_models_complete(households: int, individuals: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        projected = ENV.sql("grants", "SELECT count(*) FROM households")[0][0]
        people = ENV.sql("training", "SELECT count(*) FROM individuals")[0][0] if projected >= households else None
        if people is not None and people >= individuals:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"read models incomplete after {timeout:.0f}s: grants {projected}/{households} "
                               f"households, training {people if people is not None else '?'}/{individuals} "
                               "individuals")
        time.sleep(2 * POLL_INTERVAL)


def last_projected_at() -> float:
    """Unix time of the last row written into either read model (the services' ``clock_timestamp()``)."""
    grants = ENV.sql("grants", "SELECT extract(epoch FROM max(projected_at)) FROM households")[0][0]
    training = ENV.sql("training", "SELECT extract(epoch FROM max(projected_at)) FROM individuals")[0][0]
    return max(float(grants), float(training))


def store_position() -> int:
    return ENV.sql("registry", "SELECT coalesce(max(notification_id), 0) FROM registry_events")[0][0]


def run_import(path: Path, households: int, individuals: int, services: Services, profile: str | None,
               timeout: float) -> dict:
    start_position = store_position()
    poller = PositionPoller(path.with_name("positions.txt"))
    profilers = Profilers(profile, {**services.pids(), "import_client": os.getpid()})
    step = max(1, households // 10)
    reported = [0]

    def progress(done: int, total: int) -> None:
        if done - reported[0] >= step or done == total:
            reported[0] = done
            say(f"import: {done}/{total} households stored by the registry ({time.time() - started:.1f}s)")

    try:
        time.sleep(3 * POLL_INTERVAL)  # a few samples of the idle state first
        cpu_before = cpu_snapshot(services.pids(), "import_client", "berdaya_bench_import_")
        say(f"import: import_bdt of {households} households ({BATCH} per RPC, {IN_FLIGHT} in flight)")
        started = time.time()
        # who imports the file: the CLI's operator, national
        report = import_bdt(path, ENV.amqp_uri(), cli_actor("bench", signer=services.actor_signer()),
                            progress=progress)
        returned = time.time()
        say(f"import: import_bdt returned after {returned - started:.2f}s; waiting for grants and training")
        if report.households_imported != households or report.individuals_imported != individuals:
            raise RuntimeError(f"imported {report.households_imported} households, {report.individuals_imported} "
                               f"individuals of {households}, {individuals}: {report.as_dict()['rejected_rows'][:5]}")
        read_models_complete(households, individuals, timeout)
        complete_seen = time.time()
        cpu_after = cpu_snapshot(services.pids(), "import_client", "berdaya_bench_import_")
        memory = {name: process_memory_mb(pid) for name, pid in services.pids().items()}
    finally:
        samples = poller.stop()
        profilers.stop()
    done = last_projected_at()
    seconds = done - started
    return {
        "seconds": seconds,
        "registry_store_seconds": returned - started,
        "projection_lag_seconds": max(0.0, done - returned),
        "completion_noticed_after_s": round(complete_seen - done, 3),
        "stages": stage_progress(samples, started, start_position, store_position()),
        "cpu_seconds": cpu_used(cpu_before, cpu_after, complete_seen - started),
        "memory": memory,
        "report": {key: value for key, value in report.as_dict().items() if key != "rejected_rows"},
    }


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="BDT import benchmark (see the module docstring): JSON on stdout.")
    parser.add_argument("--households", type=int, default=100_000, help="households in the generated file")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic file")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the read models")
    parser.add_argument("--registry-workers", type=int, default=1,
                        help="registry processes sharing its RPC requests (one relays, the others stand by)")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the services and this client during the import")
    parser.add_argument("--keep", action="store_true", help="keep the databases and vhost for inspection")
    return parser.parse_args(argv)


def benchmark(args: argparse.Namespace) -> dict:
    ensure_green_psycopg()
    load_before = load_average()
    services = Services(ENV, log_prefix="bench-import")
    with tempfile.TemporaryDirectory(prefix="berdaya-bench-import-") as directory:
        path = Path(directory) / "dtks.csv"
        try:
            regions, region_rows, region_source = region_table()
            say(f"generating {args.households} households of regency {REGENCY} ({len(regions)} region codes from "
                f"{region_source})")
            generated = time.monotonic()
            summary = write_synthetic_bdt(path, args.households, REGENCY, regions, args.seed)
            generate_seconds = time.monotonic() - generated
            say(f"generated {summary.households} households, {summary.individuals} individuals, "
                f"{path.stat().st_size / 1e6:.1f} MB in {generate_seconds:.1f}s")

            parsed = time.monotonic()
            checked = read_bdt(path, None)  # as import_bdt reads it
            parse_seconds = time.monotonic() - parsed
            households, individuals = len(checked.households), sum(len(h.members) for h in checked.households)
            if checked.rejected or households != summary.households:
                raise RuntimeError(f"read_bdt rejected rows of the synthetic file: {checked.rejected[:5]}")
            del checked
            say(f"read_bdt alone: {parse_seconds:.2f}s ({households / parse_seconds:.0f} households/s)")

            say(f"fresh databases {', '.join(ENV.databases.values())} and vhost {ENV.vhost}")
            ENV.create()
            copy_seconds = [copy_reference(path)]
            services.start(*SERVICES)
            replicas = [services.add_replica("registry") for _ in range(args.registry_workers - 1)]
            say("services running: " + ", ".join((*SERVICES, *replicas)) + " (logs in .run/bench-import-*.log)")
            with ClusterRpcProxy({"AMQP_URI": ENV.amqp_uri()}, timeout=120) as rpc:
                imported = rpc.registry.import_regions({"rows": region_rows, "source": region_source,
                                                        "actor": cli_actor("bench", role="admin", signer=services
                                                                           .actor_signer()).on_the_wire()})
            say(f"region table: {imported['codes']} codes imported into the registry")

            measured = run_import(path, households, individuals, services, args.profile, args.timeout)
            services.stop()
            copy_seconds.append(copy_reference(path))
        finally:
            services.stop()
            if not args.keep:
                ENV.drop()

    seconds = measured["seconds"]
    households_per_s = households / seconds
    copy_households_per_s = households / (sum(copy_seconds) / len(copy_seconds))
    return {
        "households": households,
        "individuals": individuals,
        "seconds": round(seconds, 3),
        "households_per_s": round(households_per_s, 1),
        "copy_households_per_s": round(copy_households_per_s, 1),
        "ratio": round(households_per_s / copy_households_per_s, 4),
        "parse_seconds": round(parse_seconds, 3),
        "registry_store_seconds": round(measured["registry_store_seconds"], 3),
        "projection_lag_seconds": round(measured["projection_lag_seconds"], 3),
        "rss_mb": {name: memory["rss_mb"] for name, memory in measured["memory"].items()},
        "peak_rss_mb": {name: memory["peak_rss_mb"] for name, memory in measured["memory"].items()},
        "rss_anon_mb": {name: memory["rss_anon_mb"] for name, memory in measured["memory"].items()},
        "rss_file_mb": {name: memory["rss_file_mb"] for name, memory in measured["memory"].items()},
        "load_average": {"before": load_before, "after": load_average(), "cpus": os.cpu_count()},
        "where_time_goes": {
            "generate_seconds": round(generate_seconds, 3),
            "copy_seconds": [round(s, 3) for s in copy_seconds],
            "import_report": measured["report"],
            "completion_noticed_after_s": measured["completion_noticed_after_s"],
            "stages": measured["stages"],
            "cpu_seconds": measured["cpu_seconds"],
            "cpu_ms_per_household": {
                name: round(1000 * value / households, 3) for name, value in measured["cpu_seconds"].items()
                if name not in ("wall", "machine_capacity", "machine_busy", "everything_else")},
            "region_codes": len(region_rows),
            "rpc_batch": BATCH,
            "rpc_in_flight": IN_FLIGHT,
            "registry_workers": args.registry_workers,
        },
    }


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "poll-positions":
        poll_positions(sys.argv[2])
    else:
        print(json.dumps(benchmark(parse_args(sys.argv[1:]))), flush=True)


if __name__ == "__main__":
    main()
