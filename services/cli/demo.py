"""`berdaya demo`: the whole system end to end, on its own databases and RabbitMQ vhost (recreated each run)."""

from __future__ import annotations

import io
import subprocess
import time

import psycopg
from nameko.standalone.rpc import ClusterRpcProxy

from services.cli.processes import ROOT, ServiceProcess, start_service, stop_pid, wait_until_ready
from services.registry.bdt import HouseholdRecord, read_bdt
from services.registry.synth import write_synthetic_bdt
from shared.config import SERVICES
from shared.regions import RegionTable, builtin_lampung_selatan, load_region_table

DEMO_VHOST = "berdaya-demo"
SHARED_DATA = ROOT.parent / "shared" / "data"


class Demo:
    def __init__(self, admin_url: str, broker: str, say) -> None:
        self.admin_url = admin_url
        self.amqp_uri = f"pyamqp://guest:guest@{broker}/{DEMO_VHOST}"
        self.say = say
        self.processes: list[ServiceProcess] = []

    def database_url(self, service: str) -> str:
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/berdaya_demo_{service}"

    def reset(self) -> None:
        """A clean slate: fresh databases and vhost, so the demo tells the same story every run."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for service in SERVICES:
                conn.execute(f"DROP DATABASE IF EXISTS berdaya_demo_{service} WITH (FORCE)")
                conn.execute(f"CREATE DATABASE berdaya_demo_{service}")
        for args in (("delete_vhost", DEMO_VHOST), ("add_vhost", DEMO_VHOST),
                     ("set_permissions", "-p", DEMO_VHOST, "guest", ".*", ".*", ".*")):
            result = subprocess.run(["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60)
            if result.returncode != 0 and args[0] != "delete_vhost":
                raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")

    def start(self) -> None:
        for service in SERVICES:
            env = {"AMQP_URI": self.amqp_uri, f"{service.upper()}_DATABASE_URL": self.database_url(service),
                   "IDLE_CATCH_UP_S": "1"}
            self.processes.append(start_service(service, env, log_name=f"demo-{service}"))
        wait_until_ready(self.amqp_uri, processes=self.processes)
        self.say(f"services running: {', '.join(p.service for p in self.processes)} (logs in .run/demo-*.log)")

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_pid(process.process.pid)
            process.process.wait()
        self.say("services stopped")
        self.processes = []

    def run(self, households: int, seed: int) -> dict:
        regions, source = demo_regions()
        self.say(f"region table: {len(regions)} codes ({source})")
        records = synthetic_households(regions, households, seed)
        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=60) as rpc:
            started = time.monotonic()
            for start in range(0, len(records), 200):
                rpc.registry.register_households([registration(r) for r in records[start:start + 200]])
            registered_s = time.monotonic() - started
            individuals = sum(len(r.members) for r in records)
            self.say(f"registered {len(records)} households ({individuals} people) through registry RPC "
                     f"in {registered_s:.2f}s")
            self._wait_for(lambda: rpc.grants.households_summary()["households"] == len(records)
                           and rpc.training.individuals_summary()["individuals"] == individuals)
            propagated_s = time.monotonic() - started
            return {
                "registry": {"households_registered": len(records), "individuals_registered": individuals},
                "grants": {"households": rpc.grants.households_summary(),
                           "by_village": rpc.grants.households_by_village()},
                "training": {"individuals": rpc.training.individuals_summary()},
                "backbone": {service: rpc[service].backbone_status() for service in SERVICES},
                "seconds": {"register": round(registered_s, 3), "register_to_projected": round(propagated_s, 3)},
            }

    @staticmethod
    def _wait_for(check, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError("grants and training did not catch up with registry in time")
            time.sleep(0.2)


def demo_regions() -> tuple[RegionTable, str]:
    """The full Lampung table when ../shared/data is beside the project; otherwise the built-in facts."""
    files = [SHARED_DATA / "wilayah_kabupaten_id.csv", SHARED_DATA / "wilayah_lampung.csv"]
    if all(path.exists() for path in files):
        return load_region_table(*files), str(SHARED_DATA)
    return builtin_lampung_selatan(), "built-in Lampung Selatan table"


def synthetic_households(regions: RegionTable, households: int, seed: int) -> list[HouseholdRecord]:
    buffer = io.StringIO()
    write_synthetic_bdt(buffer, households, "18.01", regions, seed)
    buffer.seek(0)
    result = read_bdt(buffer, regions)
    if result.rejected:
        raise RuntimeError(f"generated data rejected: {result.rejected[0]}")
    return list(result.households)


def registration(record: HouseholdRecord) -> dict:
    return {
        "kk": record.kk, "dtks_id": record.dtks_id, "village_code": record.village_code,
        "address": record.address, "decile": record.decile, "registered_by": "demo.operator",
        "members": [
            {"nik": m.nik, "name": m.name, "sex": m.sex, "birth_date": m.birth_date.isoformat(),
             "relation": m.relation, "marital_status": m.marital_status, "occupation": m.occupation}
            for m in record.members
        ],
    }

