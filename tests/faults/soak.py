"""`make soak`: the fault tests' workload for SOAK_SECONDS (default 600) with faults at random moments.

A private installation (tests/faults/cluster.py: its own PostgreSQL server, RabbitMQ node and service processes)
runs the mixed workload of tests/faults/workload.py while, every 15–45 s, one fault picked at random from
``FAULTS`` strikes (a process killed with SIGKILL, the broker stopped, the database's sessions killed, the
database restarted or crashed). At the end the workload is let finish its commands, the system settles, and what
the clients were told is checked against the stores (tests/faults/checks.py) and by `berdaya audit verify`.

Prints one JSON object on stdout (``commands``, ``faults_injected``, ``lost``, ``duplicated``, ``verify_ok`` and
the details); progress on stderr. Exit status 0 only when nothing was lost or duplicated and the audit is ok.

    SOAK_SECONDS=600 make soak          # or: .venv/bin/python -m tests.faults.soak [--seconds N] [--seed N]
"""

# ruff: noqa: E402 - eventlet must patch before other imports, as in `nameko run`.
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet

eventlet.monkey_patch()

from shared.runtime import ensure_green_psycopg  # importing shared selects psycopg's green wait

ensure_green_psycopg()

# isort: split

import argparse
import json
import os
import random
import sys
import time
from collections import Counter

from tests.faults.checks import findings, open_office, settle
from tests.faults.cluster import FAULTS, FaultCluster
from tests.faults.workload import Workload


def log(message: str) -> None:
    print(f"soak {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def soak(seconds: float, seed: int, workers: int) -> dict:
    chance = random.Random(seed)
    cluster = FaultCluster("soak")
    injected: Counter[str] = Counter()
    try:
        cluster.start_all()
        office = open_office(cluster)
        workload = Workload(office, workers=workers).start()
        log(f"running for {seconds:.0f} s, seed {seed}")
        end = time.monotonic() + seconds
        try:
            while (left := end - time.monotonic()) > 0:
                time.sleep(min(left, chance.uniform(15, 45)))
                if time.monotonic() >= end:
                    break
                name = chance.choice(list(FAULTS))
                log(f"fault: {name} (commands so far {office.ledger.commands})")
                FAULTS[name](cluster)
                injected[name] += 1
                cluster.wait_ready(180)
        finally:
            log("stopping the workload (each worker finishes its command)")
            workload.stop()
        settle(cluster)
        found = findings(cluster, office.ledger)
    finally:
        cluster.close()
    if found["lost"] == 0 and found["duplicated"] == 0 and found["verify_ok"]:
        cluster.remove_logs()
    else:
        log("kept the services' logs in .run/faults-soak-*")
    return {"seconds": seconds, "seed": seed, "faults_injected": sum(injected.values()), "faults": dict(injected),
            "units_done": workload.units_done, **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 600)))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", time.time())))
    parser.add_argument("--workers", type=int, default=6)
    args = parser.parse_args()
    summary = soak(args.seconds, args.seed, args.workers)
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    sys.exit(0 if summary["lost"] == 0 and summary["duplicated"] == 0 and summary["verify_ok"] else 1)


if __name__ == "__main__":
    main()
