"""HTTP benchmark: the gateway in front of the services, closed loop (20 clients) or open loop (--rate R), 30 s.

What is measured
----------------
The services (registry, grants, training) and the gateway run as `nameko run` processes on fresh databases
(``berdaya_bench_http_*``) and a fresh RabbitMQ vhost, as `berdaya up` runs them. After seeding (the built-in
Lampung Selatan region table, 200 households, one user per role), requests are sent for ``--seconds`` (default
30), a mix of

- reads (80 %): a household by KK, a village's households (paginated), proposals of the regency, budgets;
- writes (20 %): a new household registered, or a household's decile changed (each with an Idempotency-Key).

Two ways of sending them:

- **closed loop** (default): ``--clients`` green-thread clients (default 20) each send requests back to back, so
  the offered load adapts to the answers (a slow gateway is asked less). Latency: from sending to the answer.
- **open loop** (``--rate R``): request *i* is started at ``t0 + i / R`` whatever the answers, as independent
  users would (each request in flight on a connection of its own, reused once free; at most ``--max-in-flight``
  at once). Latency is measured from the *scheduled* start, so time spent queueing — in the gateway, or here when
  the schedule could not be kept — counts. ``target_rate`` is R, ``requests_per_s`` what was achieved, and
  ``start_lag_p99_ms`` how late this process started requests: it shares the machine, so a large lag says part of
  the latency was the load generator's. The issue's aim, "p99 < 50 ms at 200 requests/s", is ``--rate 200``.

Every request goes through the whole gateway pipeline: token check, the user's row (cached), region scope, one or
two RPCs, JSON. Per request its latency is recorded; ``requests_per_s`` counts the answers (a 4xx refusal, e.g. a
decile that is already the one asked for, is an answer: ``refused_4xx``; a 5xx or a failed connection is an
``error``), ``p50_ms`` / ``p99_ms`` are percentiles of their latencies, also per kind of request in
``by_request`` (where the tail comes from). ``single_client_get_p50_ms``: GET a
household by KK from one client alone after the load (the gateway's own cost per request without queueing).

With ``--console``, the console's pages are requested too while the load runs (``--console-readers`` people, each
opening a page every ``--console-pause`` seconds: the operator's home, a person found by name, a household, the
registration form, the groups, the proposals, the Family School; the head's dashboard; the treasurer's list), and
``console_pages`` gives, per page, the server's own time (its ``Server-Timing: app`` header: from the request's
arrival to the page rendered, every API call inside included) and the time seen by the browser, p50 and p99;
``console_pages_alone`` the same pages from one reader with no load, measured right after.

**Reference, same run:** ``rpc_p50_ms`` is a bare nameko RPC round trip (``registry.household(reader, kk)``, the
call behind GET /households/{kk}, its read written into the access log as the gateway's is) from a standalone
proxy, measured sequentially right after the load: what one hop costs on this machine now, with nothing else in
the way. The figures move with the machine's load (other processes on the 2 cores): compare them with this
reference, not across runs. ``load_average_1m`` (before the load, after it) and ``cpu_seconds`` (during the load:
each process of the run, PostgreSQL's backends of the bench's databases, RabbitMQ, and everything else on the
machine) say how loaded the machine was. ``--profile DIR`` samples the services and the gateway with py-spy during
the load (``DIR/<name>.collapsed.txt``, one line per stack).

Prints one JSON object on stdout; progress goes to stderr.

    .venv/bin/python bench/http.py [--clients 20 | --rate 200] [--seconds 30] [--households 200] [--console]
                                   [--profile DIR]
"""

# ruff: noqa: E402 - eventlet must patch before other imports.
import os
import sys

# This file is named http.py: its folder must not shadow the standard library's http package; the project root
# goes there instead (for bench.machine).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [path for path in sys.path if os.path.abspath(path or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet
import eventlet.queue

eventlet.monkey_patch()

from shared.runtime import ensure_green_psycopg  # importing shared selects psycopg's green wait

ensure_green_psycopg()

# isort: split

import argparse
import json
import random
import re
import socket
import statistics
import time

import requests
from nameko.standalone.rpc import ClusterRpcProxy

from bench.machine import BenchEnvironment, Profilers, Services, cpu_snapshot, cpu_used, say
from berdaya.cli.remote import SigningRpc
from services.gateway.auth import hash_password
from services.gateway.dci_signatures import new_dci_key_environment
from services.gateway.store import GatewayStore
from shared.actor import Actor
from shared.config import SERVICES
from shared.regions import builtin_lampung_selatan

DATABASE_PREFIX = "berdaya_bench_http_"
ENV = BenchEnvironment(vhost="berdaya-bench-http",
                       databases={name: DATABASE_PREFIX + name for name in (*SERVICES, "gateway")})
PASSWORD = "bench-password-1"
BENCH_AUDITOR = Actor(user="aud.bench", role="auditor", region="")
VILLAGES = ("18.01.06.2001", "18.01.06.2002", "18.01.04.2001", "18.01.04.2002")
# The request mix: each kind is drawn while rand.random() is below its bound (10 % registrations, 10 % decile
# changes, 35 % a household by KK, 20 % a village's households, 15 % proposals, 10 % budgets).
MIX = (("register", "write", 0.10), ("decile", "write", 0.20), ("household", "read", 0.55),
       ("village_households", "read", 0.75), ("proposals", "read", 0.90), ("budgets", "read", 1.0))


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


class Load:
    """The request mix, and what the answers were."""

    def __init__(self, base: str, tokens: dict[str, str], kks: list[str], first_new: int) -> None:
        self.base, self.tokens, self.kks = base, tokens, kks
        self.next_number = iter(range(first_new, 10**7))
        self.latencies: list[float] = []
        self.by_request: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.refused = 0
        self.counts = {"read": 0, "write": 0}

    def sessions(self) -> tuple[requests.Session, requests.Session]:
        """A user's connections: the operator's and the auditor's."""
        return session(self.tokens["op.bench"]), session(self.tokens["aud.bench"])

    def send(self, rand: random.Random, op: requests.Session, auditor: requests.Session, started: float) -> None:
        """One request of the mix; its latency counted from ``started`` (perf_counter)."""
        base, draw = self.base, rand.random()
        label, kind = next((label, kind) for label, kind, bound in MIX if draw < bound)
        try:
            if label == "register":
                response = op.post(base + "/api/v1/households", json=household(next(self.next_number)),
                                   headers={"Idempotency-Key": f"bench-{rand.getrandbits(64):x}"}, timeout=30)
            elif label == "decile":
                response = op.post(base + f"/api/v1/households/{rand.choice(self.kks)}/decile",
                                   json={"decile": rand.randint(1, 4)},
                                   headers={"Idempotency-Key": f"bench-{rand.getrandbits(64):x}"}, timeout=30)
            elif label == "household":
                response = auditor.get(base + f"/api/v1/households/{rand.choice(self.kks)}", timeout=30)
            elif label == "village_households":
                response = op.get(base + "/api/v1/households", timeout=30,
                                  params={"village": rand.choice(VILLAGES), "size": "20",
                                          "page": str(rand.randint(1, 2))})
            elif label == "proposals":
                response = op.get(base + "/api/v1/proposals", timeout=30)
            else:
                response = auditor.get(base + "/api/v1/budgets", timeout=30)
        except requests.RequestException as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            return
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code < 500:  # a refusal (e.g. 409: already in that decile) is an answer too
            self.latencies.append(elapsed)
            self.by_request.setdefault(label, []).append(elapsed)
            self.counts[kind] += 1
            self.refused += response.status_code >= 300
        else:
            self.errors.append(f"{response.status_code} {response.text[:200]}")

    def figures(self, elapsed: float) -> dict:
        return {
            "seconds": round(elapsed, 1),
            "requests": len(self.latencies),
            "reads": self.counts["read"],
            "writes": self.counts["write"],
            "refused_4xx": self.refused,
            "errors": len(self.errors),
            "requests_per_s": round(len(self.latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(self.latencies), 2),
            "p99_ms": round(percentile(self.latencies, 0.99), 2),
            "by_request": {label: {"n": len(values), "p50_ms": round(statistics.median(values), 2),
                                   "p99_ms": round(percentile(values, 0.99), 2)}
                           for label, values in sorted(self.by_request.items())},
        }


# The console's pages a reader opens, in turn: (name, who, address; {kk} is a seeded household).
CONSOLE_PAGES = (("home", "op.bench", "/console/"), ("people_search", "op.bench", "/console/people?q=siti+12"),
                 ("household", "op.bench", "/console/households/{kk}"),
                 ("register_form", "op.bench", "/console/households/new"), ("groups", "op.bench", "/console/groups"),
                 ("proposals", "op.bench", "/console/proposals"), ("cohorts", "op.bench", "/console/cohorts"),
                 ("dashboard", "head.bench", "/console/dashboard"), ("payables", "tr.bench", "/console/grants"))
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")


def console_session(base: str, username: str) -> requests.Session:
    """A browser's session: the login form (its CSRF token and cookie), then the session cookie."""
    browser = requests.Session()
    form = browser.get(base + "/console/login", timeout=30).text
    csrf = re.search(r'name="_csrf" value="([^"]+)"', form).group(1)
    answer = browser.post(base + "/console/login", data={"username": username, "password": PASSWORD, "_csrf": csrf,
                                                         "next": "/console/"}, allow_redirects=False, timeout=30)
    if answer.status_code != 303 or "berdaya_session" not in browser.cookies:
        raise RuntimeError(f"console login of {username}: {answer.status_code}")
    return browser


class ConsoleReaders:
    """People reading the console while the load runs: per page, the server's time and the browser's."""

    def __init__(self, base: str, kks: list[str]) -> None:
        self.base, self.kks = base, kks
        self.browsers = {who: console_session(base, who) for who in {who for _, who, _ in CONSOLE_PAGES}}
        self.server: dict[str, list[float]] = {}
        self.seen: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def open(self, rand: random.Random, name: str, who: str, address: str) -> None:
        began = time.perf_counter()
        answer = self.browsers[who].get(self.base + address.format(kk=rand.choice(self.kks)), timeout=30,
                                        allow_redirects=False)
        seen = (time.perf_counter() - began) * 1000
        timing = SERVER_TIMING.search(answer.headers.get("Server-Timing", ""))
        if answer.status_code != 200 or timing is None:
            self.errors.append(f"{name}: {answer.status_code}")
            return
        self.server.setdefault(name, []).append(float(timing.group(1)))
        self.seen.setdefault(name, []).append(seen)

    def read_while(self, running, readers: int, pause: float) -> None:
        def reader(index: int) -> None:
            rand = random.Random(1000 + index)
            for turn in range(10**9):
                if not running():
                    return
                self.open(rand, *CONSOLE_PAGES[(index + turn) % len(CONSOLE_PAGES)])
                eventlet.sleep(pause)

        for index in range(readers):
            eventlet.spawn(reader, index)

    def figures(self) -> dict:
        return {name: {"n": len(self.server[name]),
                       "server_p50_ms": round(statistics.median(self.server[name]), 1),
                       "server_p99_ms": round(percentile(self.server[name], 0.99), 1),
                       "p50_ms": round(statistics.median(self.seen[name]), 1),
                       "p99_ms": round(percentile(self.seen[name], 0.99), 1)}
                for name, *_ in CONSOLE_PAGES if name in self.server}


def closed_loop(load: Load, clients: int, seconds: float) -> dict:
    """``clients`` clients, each sending its next request when the previous one is answered."""
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        rand, (op, auditor) = random.Random(index), load.sessions()
        while time.monotonic() < deadline:
            load.send(rand, op, auditor, time.perf_counter())

    started = time.monotonic()
    pool = eventlet.GreenPool(clients)
    for index in range(clients):
        pool.spawn(client, index)
    pool.waitall()
    return {"mode": "closed", "clients": clients, **load.figures(time.monotonic() - started)}


def open_loop(load: Load, rate: float, seconds: float, max_in_flight: int) -> dict:
    """Request i starts at t0 + i / rate whatever the answers; its latency counts from that scheduled moment."""
    idle = eventlet.queue.LightQueue()  # connections free for the next request (one per request in flight)
    lags: list[float] = []

    def user(index: int, scheduled: float) -> None:
        lags.append((time.perf_counter() - scheduled) * 1000)
        op, auditor = load.sessions() if idle.empty() else idle.get()
        load.send(random.Random(index), op, auditor, scheduled)
        idle.put((op, auditor))

    pool = eventlet.GreenPool(max_in_flight)
    t0 = time.perf_counter()
    for index in range(int(rate * seconds)):
        scheduled = t0 + index / rate
        eventlet.sleep(max(0.0, scheduled - time.perf_counter()))
        pool.spawn(user, index, scheduled)  # blocks while max_in_flight are running: the lag then counts
    pool.waitall()
    return {"mode": "open", "target_rate": rate, **load.figures(time.perf_counter() - t0),
            "start_lag_p99_ms": round(percentile(lags, 0.99), 2), "max_in_flight": max_in_flight}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="closed loop: concurrent clients")
    parser.add_argument("--rate", type=float, help="open loop: requests started per second, on a fixed schedule")
    parser.add_argument("--max-in-flight", type=int, default=1000, help="open loop: requests running at once")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--console", action="store_true", help="also open the console's pages while the load runs")
    parser.add_argument("--console-readers", type=int, default=2)
    parser.add_argument("--console-pause", type=float, default=0.2, help="seconds between a reader's pages")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the services and the gateway during the load")
    args = parser.parse_args()
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")

    ENV.create()
    amqp_uri = ENV.amqp_uri()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # Plain http to 127.0.0.1 from requests, which sends Secure cookies over https only: the console's are not.
    services = Services(ENV, env={"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "LOG_LEVEL": "WARNING",
                                  "JWT_SECRET": "bench-secret-of-at-least-thirty-two-bytes",
                                  "CONSOLE_SECURE_COOKIES": "false", **new_dci_key_environment("bench1")},
                        log_prefix="bench-http")
    try:
        services.start(*SERVICES)
        services.start("gateway")
        say("services and gateway up; seeding")
        store = GatewayStore(ENV.database_url("gateway"))
        store.ensure_schema()
        password_hash = hash_password(PASSWORD)
        for username, role, region in (("op.bench", "operator", "18.01"), ("aud.bench", "auditor", ""),
                                       ("min.bench", "ministry", ""), ("head.bench", "head", "18.01"),
                                       ("tr.bench", "treasurer", "18.01")):
            store.add_user(username, password_hash, role, region, by="bench", must_change_password=False)
        store.close()
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=120) as proxy:
            rpc = SigningRpc(proxy, services.actor_signer())
            rows = [row._asdict() for row in builtin_lampung_selatan().rows()]
            rpc.registry.import_regions({"rows": rows, "source": "built-in",
                                         "actor": {"user": "bench", "role": "admin", "region": ""}})
        tokens = {name: token(base, name) for name in ("op.bench", "aud.bench", "min.bench")}
        operator = session(tokens["op.bench"])
        seeded = [household(n) for n in range(1, args.households + 1)]
        for body in seeded:
            expect(operator.post(base + "/api/v1/households", json=body, timeout=30))
        expect(session(tokens["min.bench"]).put(base + "/api/v1/budgets/2026/APBN", json={"ceiling_rp": 10**9},
                                                 timeout=30))
        kks = [body["kk"] for body in seeded]
        load = Load(base, tokens, kks, args.households + 1)
        readers = ConsoleReaders(base, kks) if args.console else None
        loading = [True]
        if readers:
            readers.read_while(lambda: loading[0], args.console_readers, args.console_pause)
        load_before = os.getloadavg()[0]
        profilers = Profilers(args.profile, services.pids())
        cpu_before, began = cpu_snapshot(services.pids(), "bench_client", DATABASE_PREFIX), time.monotonic()
        if args.rate is None:
            say(f"{len(kks)} households seeded; {args.clients} clients for {args.seconds:g}s")
            result = closed_loop(load, args.clients, args.seconds)
        else:
            say(f"{len(kks)} households seeded; {args.rate:g} requests/s for {args.seconds:g}s")
            result = open_loop(load, args.rate, args.seconds, args.max_in_flight)
        cpu_after, wall = cpu_snapshot(services.pids(), "bench_client", DATABASE_PREFIX), time.monotonic() - began
        profilers.stop()
        loading[0] = False
        result["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
        result["cpu_seconds"] = cpu_used(cpu_before, cpu_after, wall)
        if readers:
            result["console_pages"] = readers.figures()
            alone = ConsoleReaders(base, kks)
            rand = random.Random(7)
            for _ in range(20):
                for page in CONSOLE_PAGES:
                    alone.open(rand, *page)
            result["console_pages_alone"] = alone.figures()
            if readers.errors or alone.errors:
                result["console_errors"] = (readers.errors + alone.errors)[:5]

        say("load done; measuring one client alone, then the bare RPC round trip")
        sequential, rpc_latencies = [], []
        auditor = session(tokens["aud.bench"])
        for index in range(300):
            began = time.perf_counter()
            expect(auditor.get(base + f"/api/v1/households/{kks[index % len(kks)]}", timeout=30))
            sequential.append((time.perf_counter() - began) * 1000)
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as rpc:
            signer = services.actor_signer()
            for index in range(300):
                kk = kks[index % len(kks)]
                # signed ahead, as the gateway signs before it calls: the round trip alone is timed
                auditor_reads = {"actor": signer.sign(BENCH_AUDITOR), "purpose": "rpc.bench"}
                began = time.perf_counter()
                rpc.registry.household(auditor_reads, kk)
                rpc_latencies.append((time.perf_counter() - began) * 1000)
        result.update({
            "single_client_get_p50_ms": round(statistics.median(sequential), 2),
            "rpc_p50_ms": round(statistics.median(rpc_latencies), 2),
            "rpc_p99_ms": round(percentile(rpc_latencies, 0.99), 2),
        })
        if load.errors:
            result["first_errors"] = load.errors[:3]
        print(json.dumps(result))
    finally:
        services.stop()
        ENV.drop()


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
