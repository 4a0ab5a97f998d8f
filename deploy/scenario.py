"""The scenario deploy/test-compose.sh drives through nameko RPC, from a one-off container on the compose network.

    python - STEP [ARGS...] [+ STEP [ARGS...]]... < deploy/scenario.py   (AMQP_URI from the environment)

Steps (each prints one JSON line and exits non-zero on failure):
    ready [TIMEOUT]          every service answers backbone_status
    regions                  import the built-in Lampung Selatan region table into the registry
    register FROM TO [MODE [BATCH]]
                             households FROM..TO-1 of a fixed synthetic DTKS file, BATCH (10) per call;
                             MODE register (registry.register_households: all or nothing, refuses a known KK) or
                             import (registry.import_households: idempotent, so a call whose request was lost
                             with a killed replica is sent again after LOST_AFTER seconds and registers nothing
                             twice; requests are at-most-once, see shared/rpc.py)
    expect N [TIMEOUT]       wait until registry has N households and grants and training have read all of them
                             exactly: grants.households_summary, training.individuals_summary
    status                   backbone_status of every service
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore")  # eventlet's deprecation notice: nameko 2 needs it

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before kombu and psycopg, as the berdaya CLI does

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from functools import cache  # noqa: E402

from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from berdaya.cli.bdt_import import household_data  # noqa: E402
from berdaya.cli.remote import cli_actor  # noqa: E402
from services.registry.bdt import read_bdt  # noqa: E402
from services.registry.synth import write_synthetic_bdt  # noqa: E402
from shared.config import SERVICES  # noqa: E402
from shared.regions import builtin_lampung_selatan  # noqa: E402
from shared.rpc import call_until_answered  # noqa: E402

SEED = 20260
POOL = 600  # households in the synthetic file; the steps take slices of it
BATCH = 10
ACTOR = cli_actor("deploy.test")  # the deploy test acts as an operator tool does: an operator, national
ADMIN = cli_actor("deploy.test", role="admin")  # the region table is the admin's (both signed with ACTOR_SIGNING_KEY)
LOST_AFTER = 20  # seconds without an answer to an import call: its request went down with a replica


def rpc(timeout: float = 60):
    return ClusterRpcProxy({"AMQP_URI": os.environ["AMQP_URI"]}, timeout=timeout)


def say(step: str, **fields) -> None:
    print(json.dumps({"step": step, **fields}, sort_keys=False), flush=True)


def ready(timeout: float = 120) -> None:
    started, deadline = time.monotonic(), time.monotonic() + timeout
    pending = list(SERVICES)
    with rpc(timeout=3) as cluster:
        while pending:
            try:
                cluster[pending[0]].backbone_status()
                pending.pop(0)
            except Exception as exc:  # not up yet: no reply within 3 s, or the broker refused
                if time.monotonic() > deadline:
                    raise SystemExit(f"{pending[0]} did not answer within {timeout:.0f}s: {exc!r}") from None
                time.sleep(0.5)
    say("ready", services=list(SERVICES), seconds=round(time.monotonic() - started, 2))


def regions() -> None:
    rows = [row._asdict() for row in builtin_lampung_selatan().rows()]
    with rpc() as cluster:
        result = cluster.registry.import_regions({"rows": rows, "source": "built-in Lampung Selatan table",
                                                  "actor": ADMIN.on_the_wire()})
    say("regions", codes=result["codes"])


@cache
def households() -> list[dict]:
    table = builtin_lampung_selatan()
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        path = handle.name
    try:
        write_synthetic_bdt(path, POOL, "18.01", table, SEED, error_share=0.0)
        checked = read_bdt(path, table)
    finally:
        os.unlink(path)
    if checked.rejected:
        raise SystemExit(f"the synthetic file has {len(checked.rejected)} invalid rows")
    return [household_data(record) for record in checked.households]  # signed at each call: an assertion lives 120 s


def signed(batch: list[dict]) -> list[dict]:
    """The batch's registrations, each with its actor signed now."""
    actor = ACTOR.on_the_wire()
    return [{**household, "actor": actor} for household in batch]


def listed(batch: list[dict]) -> dict:
    """The batch as one import, its actor signed now."""
    return {"actor": ACTOR.on_the_wire(), "households": batch}


def register(first: int, last: int, mode: str = "register", batch_size: int = BATCH) -> None:
    pool = households()
    if not 0 <= first < last <= len(pool):
        raise SystemExit(f"households {first}..{last} not within the pool of {len(pool)}")
    started = time.monotonic()
    registered = unchanged = individuals = resent = 0

    def lost(attempt: int) -> None:
        nonlocal resent
        resent += 1
        say("resent", after_attempt=attempt, lost_after_s=LOST_AFTER)

    with rpc(timeout=LOST_AFTER if mode == "import" else 120) as cluster:
        for calls, start in enumerate(range(first, last, batch_size), 1):
            batch = pool[start:min(start + batch_size, last)]
            if mode == "register":
                registered += len(cluster.registry.register_households(signed(batch)))
                individuals += sum(len(h["members"]) for h in batch)
            elif mode == "import":
                result = call_until_answered(lambda batch=batch: cluster.registry.import_households(listed(batch)),
                                             on_lost=lost)
                if result["rejected"]:
                    raise SystemExit(f"import rejected {result['rejected']}")
                registered += result["imported"]
                unchanged += result["unchanged"]
                individuals += result["individuals"]
            else:
                raise SystemExit(f"unknown mode {mode!r}")
            if calls % 10 == 0:
                say("progress", calls=calls, households=registered + unchanged)
    seconds = time.monotonic() - started
    say("register", mode=mode, households=f"{first}..{last - 1}", registered=registered, unchanged=unchanged,
        individuals=individuals, resent=resent, seconds=round(seconds, 2),
        per_second=round((last - first) / seconds, 1))


def expect(count: int, timeout: float = 180) -> None:
    pool = households()
    want_individuals = sum(len(h["members"]) for h in pool[:count])
    started, deadline = time.monotonic(), time.monotonic() + timeout
    with rpc(timeout=30) as cluster:
        while True:
            registry = cluster.registry.counts()
            grants = cluster.grants.households_summary()
            training = cluster.training.individuals_summary()
            seen = {"registry": registry["households"], "registry_individuals": registry["individuals"],
                    "grants": grants["households"], "grants_members": grants["members"],
                    "training_individuals": training["individuals"], "training_households": training["households"]}
            want = {"registry": count, "registry_individuals": want_individuals, "grants": count,
                    "grants_members": want_individuals, "training_individuals": want_individuals,
                    "training_households": count}
            if seen == want:
                say("expect", ok=True, **seen, seconds=round(time.monotonic() - started, 2))
                return
            if any(seen[key] > want[key] for key in want):
                say("expect", ok=False, error="more than registered: something was applied twice", seen=seen,
                    want=want)
                raise SystemExit(1)
            if time.monotonic() > deadline:
                say("expect", ok=False, error=f"not converged within {timeout:.0f}s", seen=seen, want=want)
                raise SystemExit(1)
            time.sleep(0.5)


def status() -> None:
    with rpc(timeout=30) as cluster:
        say("status", **{service: cluster[service].backbone_status() for service in SERVICES})


def run_step(argv: list[str]) -> None:
    steps = {"ready": ready, "regions": regions, "register": register, "expect": expect, "status": status}
    if not argv or argv[0] not in steps:
        raise SystemExit(__doc__)
    step, args = steps[argv[0]], argv[1:]
    if step is register:
        register(int(args[0]), int(args[1]), *args[2:3], *map(int, args[3:4]))
    elif step is expect:
        expect(int(args[0]), *map(float, args[1:]))
    elif step is ready:
        ready(*map(float, args))
    else:
        step()


def main(argv: list[str]) -> None:
    """Steps separated by '+' run in one process: `ready + regions + register 0 40 + expect 40`."""
    step: list[str] = []
    for word in [*argv, "+"]:
        if word == "+":
            run_step(step)
            step = []
        else:
            step.append(word)

if __name__ == "__main__":
    main(sys.argv[1:])
