"""What the benchmarks share: a fresh environment (databases, a RabbitMQ vhost, the services as processes), and
where the CPU went.

Imported as ``bench.machine`` by bench/events.py, bench/import.py, bench/http.py and bench/search.py (they put the
project root on ``sys.path``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import kombu
import psycopg

from berdaya.cli.processes import ServiceProcess, check_running, start_service, stop_pid, wait_until_ready
from services.registry.vault import KEK_VARIABLE, new_kek
from shared.actor_assertion import ActorSigner, actor_process_environment, new_actor_key_environment
from shared.config import SERVICES
from shared.regions import RegionTable, builtin_lampung_selatan, load_region_csv
from shared.signing import new_key_environment

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REGION_FILES = (SHARED_DATA / "wilayah_kabupaten_id.csv", SHARED_DATA / "wilayah_lampung.csv")


# --- environment ---------------------------------------------------------------------------------------------

def rabbitmqctl(*args: str, check: bool = True) -> None:
    result = subprocess.run(["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class BenchEnvironment:
    """A benchmark's own databases (name → database) and vhost, on the PostgreSQL and RabbitMQ of this machine."""

    vhost: str
    databases: dict[str, str]
    admin_url: str = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    broker: str = os.environ.get("BENCH_BROKER", "guest:guest@127.0.0.1:5672")

    def database_url(self, name: str) -> str:
        return f"{self.admin_url.rsplit('/', 1)[0]}/{self.databases[name]}"

    def amqp_uri(self) -> str:
        return f"pyamqp://{self.broker}/{self.vhost}"

    def sql(self, name: str, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url(name), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.databases.values():
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        rabbitmqctl("delete_vhost", self.vhost, check=False)

    def create(self) -> None:
        """Fresh databases and vhost (whatever an earlier run left is dropped first)."""
        self.drop()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.databases.values():
                conn.execute(f"CREATE DATABASE {name}")
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")


def region_table() -> tuple[RegionTable, list[dict], str]:
    """The official region table from ../shared/data when it is there, else the built-in Lampung Selatan one:
    the table, its rows (for registry.import_regions) and where it came from."""
    if all(path.exists() for path in REGION_FILES):
        rows = [row._asdict() for path in REGION_FILES for row in load_region_csv(path)]
        source = "../shared/data"
    else:
        rows = [row._asdict() for row in builtin_lampung_selatan().rows()]
        source = "built-in Lampung Selatan table"
    return RegionTable((r["code"], r["name"], r["level"]) for r in rows), rows, source


@dataclass
class Services:
    """Services as ``nameko run`` processes on a bench environment's databases and vhost."""

    environment: BenchEnvironment
    env: dict[str, str] = field(default_factory=dict)  # more settings for every service
    log_prefix: str = "bench"
    running: dict[str, ServiceProcess] = field(default_factory=dict)
    event_keys: dict[str, str] = field(default_factory=lambda: new_key_environment(SERVICES, "bench1"))
    actor_keys: dict[str, str] = field(default_factory=lambda: new_actor_key_environment("bench1"))
    data_key: dict[str, str] = field(default_factory=lambda: {KEK_VARIABLE: new_kek("bench1")})  # the registry's KEK

    def start(self, *services: str) -> None:
        for service in services:
            self.running[service] = start_service(service, self._environment(service),
                                                  log_name=f"{self.log_prefix}-{service}")
        wait_until_ready(self.environment.amqp_uri(), services=services,
                         processes=[self.running[s] for s in services])

    def add_replica(self, service: str) -> str:
        """Another process of a running service, on the same databases and queues (RabbitMQ shares the service's
        RPC requests among them); returns its name, ``<service>_<n>``. Waits until it consumes requests."""
        replicas = sum(1 for process in self.running.values() if process.service == service)
        name = f"{service}_{replicas + 1}"
        self.running[name] = start_service(service, self._environment(service), log_name=f"{self.log_prefix}-{name}")
        wait_for_rpc_consumers(self.environment.amqp_uri(), service, replicas + 1, self.running[name])
        return name

    def _environment(self, service: str) -> dict[str, str]:
        bench = self.environment
        return {**self.env, **self.event_keys, **self.data_key, **actor_process_environment(service, self.actor_keys),
                "AMQP_URI": bench.amqp_uri(),
                f"{service.upper()}_DATABASE_URL": bench.database_url(service),
                f"{service.upper()}_SETUP_DATABASE_URL": bench.database_url(service)}

    def actor_signer(self) -> ActorSigner:
        """The operators' CLI key these services accept: the bench's own commands are signed with it."""
        return ActorSigner.parse(self.actor_keys["OPERATOR_ACTOR_SIGNING_KEY"], "operator")

    def stop(self, *services: str) -> None:
        """Stop the given services (default: all, in reverse order of start); stopping twice does nothing."""
        for service in services or reversed(list(self.running)):
            process = self.running.pop(service, None)
            if process is not None:
                stop_pid(process.process.pid)
                process.process.wait()

    def pids(self) -> dict[str, int]:
        return {f"{service}_service": process.process.pid for service, process in self.running.items()}


def wait_for_rpc_consumers(amqp_uri: str, service: str, count: int, process: ServiceProcess,
                           timeout: float = 90.0) -> None:
    """Until the service's RPC queue has ``count`` consumers; fail early, with the log's tail, if ``process`` exits."""
    deadline = time.monotonic() + timeout
    with kombu.Connection(amqp_uri) as connection:
        while connection.default_channel.queue_declare(f"rpc-{service}", passive=True).consumer_count < count:
            check_running(process)
            if time.monotonic() > deadline:
                raise TimeoutError(f"rpc-{service} did not reach {count} consumers within {timeout:.0f}s")
            time.sleep(0.3)


# --- CPU, memory and profiles ----------------------------------------------------------------------------------

MEMORY_FIELDS = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}


def process_memory_mb(pid: int) -> dict[str, float | None]:
    """A process's resident memory now (``VmRSS``), at its peak (``VmHWM``), and now split into its private heap
    (``RssAnon``) and the pages of mapped files such as shared libraries (``RssFile``), in MB (/proc/<pid>/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return dict.fromkeys(MEMORY_FIELDS.values())
    kib = dict(re.findall(r"^(\w+):\s+(\d+) kB", status, re.MULTILINE))
    return {key: round(int(kib[field]) / 1024, 1) for field, key in MEMORY_FIELDS.items()}


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def cpu_snapshot(service_pids: dict[str, int], this_process: str, database_prefix: str) -> dict[str, float]:
    """CPU seconds so far: each service, this process (named ``this_process``), the PostgreSQL backends of the
    bench's databases (named ``database_prefix…``), RabbitMQ, and the whole machine."""
    snapshot = {name: process_cpu_seconds(pid) for name, pid in service_pids.items()}
    snapshot[this_process] = process_cpu_seconds(os.getpid())
    snapshot["postgres_bench_backends"] = snapshot["rabbitmq_whole_broker"] = 0.0
    marker = f" {database_prefix}".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres: ") and marker in command:
                snapshot["postgres_bench_backends"] += process_cpu_seconds(int(entry.name))
            elif b"beam.smp" in command.split(b"\0", 1)[0]:
                snapshot["rabbitmq_whole_broker"] += process_cpu_seconds(int(entry.name))
    ticks = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    snapshot["machine_busy"] = (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS  # all but idle and iowait
    return snapshot


def cpu_used(before: dict[str, float], after: dict[str, float], wall: float) -> dict[str, float]:
    used = {name: round(after[name] - before[name], 2) for name in before}
    used["everything_else"] = round(used["machine_busy"] - sum(v for k, v in used.items() if k != "machine_busy"), 2)
    used["wall"] = round(wall, 2)
    used["machine_capacity"] = round(wall * (os.cpu_count() or 1), 2)
    return used


class Profilers:
    """With a directory: py-spy samples each process (collapsed stacks, one line per stack:
    DIR/<name>.collapsed.txt; ``flamegraph.pl`` or speedscope draw them). Without one: nothing."""

    def __init__(self, directory: str | None, pids: dict[str, int], rate: int = 100) -> None:
        self.processes = []
        if not directory:
            return
        Path(directory).mkdir(parents=True, exist_ok=True)
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        for name, pid in pids.items():
            self.processes.append(subprocess.Popen(
                [py_spy, "record", "--pid", str(pid), "--format", "raw", "--output",
                 str(Path(directory) / f"{name}.collapsed.txt"), "--rate", str(rate), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.5)  # let py-spy attach

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
