"""HTTP benchmark: the gateway in front of the services, under 20 concurrent clients for 30 s.

What is measured
----------------
The services (registry, grants, training) and the gateway run as `nameko run` processes on fresh databases
(``berdaya_bench_http_*``) and a fresh RabbitMQ vhost, as `berdaya up` runs them. After seeding (the built-in
Lampung Selatan region table, 200 households, one user per role), ``--clients`` green-thread clients (default 20)
each send requests back to back for ``--seconds`` (default 30), a mix of

- reads (80 %): a household by KK, a village's households (paginated), proposals of the regency, budgets;
- writes (20 %): a new household registered, or a household's decile changed (each with an Idempotency-Key).

Every request goes through the whole gateway pipeline: token check, the user's row (cached), region scope, one or
two RPCs, JSON. Per request its latency is recorded; ``requests_per_s`` counts the answers (a 4xx refusal, e.g. a
decile that is already the one asked for, is an answer: ``refused_4xx``; a 5xx is an ``error``), ``p50_ms`` /
``p99_ms`` are percentiles of their latencies. ``single_client_get_p50_ms``: GET a household by KK from one client
alone after the load (the gateway's own cost per request without queueing).

**Reference, same run:** ``rpc_p50_ms`` is a bare nameko RPC round trip (``registry.household(kk)``, the call
behind GET /households/{kk}) from a standalone proxy, measured sequentially right after the load: what one hop
costs on this machine now, with nothing else in the way. The figures move with the machine's load (other
processes on the 2 cores): compare them with this reference, not across runs.

Prints one JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/http.py [--clients 20] [--seconds 30] [--households 200]
"""

# ruff: noqa: E402 - eventlet must patch before other imports.
import os
import sys

# This file is named http.py: its folder must not shadow the standard library's http package.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [path for path in sys.path if os.path.abspath(path or os.curdir) != _HERE]

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

import shared  # noqa: F401  (selects psycopg's green wait function)

# isort: split

import argparse
import json
import random
import socket
import statistics
import subprocess
import time
from pathlib import Path

import psycopg
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from berdaya.cli.processes import start_service, stop_pid, wait_until_ready
from services.gateway.auth import hash_password
from services.gateway.store import GatewayStore
from shared.regions import builtin_lampung_selatan

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER = os.environ.get("BENCH_BROKER", "guest:guest@127.0.0.1:5672")
VHOST = "berdaya-bench-http"
SERVICES = ("registry", "grants", "training")
DATABASES = {service: f"berdaya_bench_http_{service}" for service in (*SERVICES, "gateway")}
PASSWORD = "bench-password-1"
VILLAGES = ("18.01.06.2001", "18.01.06.2002", "18.01.04.2001", "18.01.04.2002")


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def url(database: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def reset() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for database in DATABASES.values():
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {database}")
    subprocess.run(["rabbitmqctl", "--quiet", "delete_vhost", VHOST], capture_output=True, timeout=60)
    subprocess.run(["rabbitmqctl", "--quiet", "add_vhost", VHOST], check=True, capture_output=True, timeout=60)
    subprocess.run(["rabbitmqctl", "--quiet", "set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nik(region6: str, day: int, year: int, serial: int, woman: bool) -> str:
    return f"{region6}{day + (40 if woman else 0):02d}03{year % 100:02d}{serial:04d}"


def household(number: int) -> dict:
    village = VILLAGES[number % len(VILLAGES)]
    region6 = village.replace(".", "")[:6]
    return {"kk": f"{region6}{number:010d}", "dtks_id": f"BENCH-{number}", "village_code": village, "decile": 3,
            "members": [{"nik": nik(region6, 5, 1985, number % 9999 + 1, True), "name": f"Siti {number}",
                         "sex": "P", "birth_date": "1985-03-05", "relation": "Kepala Keluarga"},
                        {"nik": nik(region6, 12, 2010, number % 9999 + 1, False), "name": f"Budi {number}",
                         "sex": "L", "birth_date": "2010-03-12", "relation": "Anak"}]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--households", type=int, default=200)
    args = parser.parse_args()

    reset()
    amqp_uri = f"pyamqp://{BROKER}/{VHOST}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"AMQP_URI": amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "GATEWAY_DATABASE_URL":
           url(DATABASES["gateway"]), "JWT_SECRET": "bench-secret-of-at-least-thirty-two-bytes", "LOG_LEVEL": "WARNING"}
    for service in SERVICES:
        env[f"{service.upper()}_DATABASE_URL"] = url(DATABASES[service])
        env[f"{service.upper()}_SETUP_DATABASE_URL"] = url(DATABASES[service])
    processes = []
    try:
        processes = [start_service(s, env, log_name=f"bench-http-{s}") for s in SERVICES]
        wait_until_ready(amqp_uri, timeout=120, processes=processes)
        processes.append(start_service("gateway", env, log_name="bench-http-gateway"))
        wait_for(base + "/health", processes[-1])
        say("services and gateway up; seeding")
        store = GatewayStore(url(DATABASES["gateway"]))
        store.ensure_schema()
        password_hash = hash_password(PASSWORD)
        for username, role, region in (("op.bench", "operator", "18.01"), ("aud.bench", "auditor", ""),
                                       ("min.bench", "ministry", "")):
            store.add_user(username, password_hash, role, region)
        store.close()
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=120) as rpc:
            rows = [row._asdict() for row in builtin_lampung_selatan().rows()]
            rpc.registry.import_regions({"rows": rows, "source": "built-in", "imported_by": "bench"})
        tokens = {name: token(base, name) for name in ("op.bench", "aud.bench", "min.bench")}
        operator = session(tokens["op.bench"])
        seeded = [household(n) for n in range(1, args.households + 1)]
        for body in seeded:
            expect(operator.post(base + "/api/v1/households", json=body, timeout=30))
        expect(session(tokens["min.bench"]).put(base + "/api/v1/budgets/2026/APBN", json={"ceiling_rp": 10**9},
                                                 timeout=30))
        kks = [body["kk"] for body in seeded]
        say(f"{len(kks)} households seeded; {args.clients} clients for {args.seconds:g}s")

        latencies: list[float] = []
        errors: list[str] = []
        refused: list[int] = []
        counts = {"read": 0, "write": 0}
        next_number = iter(range(args.households + 1, 10**7))
        deadline = time.monotonic() + args.seconds

        def client(index: int) -> None:
            rand = random.Random(index)
            op, auditor = session(tokens["op.bench"]), session(tokens["aud.bench"])
            while time.monotonic() < deadline:
                draw = rand.random()
                kind = "write" if draw < 0.2 else "read"
                if draw < 0.1:
                    request = lambda: op.post(base + "/api/v1/households", json=household(next(next_number)),  # noqa: E731
                                              headers={"Idempotency-Key": f"bench-{rand.getrandbits(64):x}"},
                                              timeout=30)
                elif draw < 0.2:
                    request = lambda: op.post(base + f"/api/v1/households/{rand.choice(kks)}/decile",  # noqa: E731
                                              json={"decile": rand.randint(1, 4)},
                                              headers={"Idempotency-Key": f"bench-{rand.getrandbits(64):x}"},
                                              timeout=30)
                elif draw < 0.55:
                    request = lambda: auditor.get(base + f"/api/v1/households/{rand.choice(kks)}", timeout=30)  # noqa: E731
                elif draw < 0.75:
                    request = lambda: op.get(base + "/api/v1/households", timeout=30,  # noqa: E731
                                             params={"village": rand.choice(VILLAGES), "size": "20",
                                                     "page": str(rand.randint(1, 2))})
                elif draw < 0.9:
                    request = lambda: op.get(base + "/api/v1/proposals", timeout=30)  # noqa: E731
                else:
                    request = lambda: auditor.get(base + "/api/v1/budgets", timeout=30)  # noqa: E731
                started = time.perf_counter()
                response = request()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code < 500:  # a refusal (e.g. 409: already in that decile) is an answer too
                    latencies.append(elapsed)
                    counts[kind] += 1
                    refused.append(response.status_code) if response.status_code >= 300 else None
                else:
                    errors.append(f"{response.status_code} {response.text[:200]}")

        started = time.monotonic()
        pool = eventlet.GreenPool(args.clients)
        for index in range(args.clients):
            pool.spawn(client, index)
        pool.waitall()
        elapsed = time.monotonic() - started

        say("load done; measuring one client alone, then the bare RPC round trip")
        sequential, rpc_latencies = [], []
        auditor = session(tokens["aud.bench"])
        for index in range(300):
            began = time.perf_counter()
            expect(auditor.get(base + f"/api/v1/households/{kks[index % len(kks)]}", timeout=30))
            sequential.append((time.perf_counter() - began) * 1000)
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            for index in range(300):
                kk = kks[index % len(kks)]
                began = time.perf_counter()
                rpc.registry.household(kk)
                rpc_latencies.append((time.perf_counter() - began) * 1000)
        result = {
            "clients": args.clients,
            "seconds": round(elapsed, 1),
            "requests": len(latencies),
            "reads": counts["read"],
            "writes": counts["write"],
            "refused_4xx": len(refused),
            "errors": len(errors),
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "single_client_get_p50_ms": round(statistics.median(sequential), 2),
            "rpc_p50_ms": round(statistics.median(rpc_latencies), 2),
            "rpc_p99_ms": round(percentile(rpc_latencies, 0.99), 2),
        }
        if errors:
            result["first_errors"] = errors[:3]
        print(json.dumps(result))
    finally:
        for process in reversed(processes):
            stop_pid(process.process.pid)
        for process in processes:
            Path(process.log_path).unlink(missing_ok=True)


def wait_for(health: str, process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(process.log_path.read_text()[-2000:])
        try:
            if requests.get(health, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{health} not ok within {timeout}s")


def session(access_token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {access_token}"
    return s


def token(base: str, username: str) -> str:
    answer = requests.post(base + "/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30)
    return expect(answer)["access_token"]


def expect(response: requests.Response) -> dict:
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}")
    return response.json()


if __name__ == "__main__":
    main()
