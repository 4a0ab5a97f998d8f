"""The whole system as it runs in production — registry, grants, training and the gateway as `nameko run`
processes — on a PostgreSQL server and a RabbitMQ node of its own (tests/faults/infra.py), so that a fault test may
kill any of them. Used by tests/faults and by `make soak`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from berdaya.cli.processes import ROOT, ServiceProcess, start_service, stop_pid, wait_until_ready
from berdaya.cli.remote import SigningRpc
from services.gateway.dci_signatures import new_dci_key_environment
from services.gateway.store import GatewayStore
from services.registry.vault import KEK_VARIABLE, new_kek
from shared.actor_assertion import ActorSigner, new_actor_key_environment
from shared.config import SERVICES
from shared.regions import load_region_csv
from shared.signing import new_key_environment
from tests.faults.infra import PrivatePostgres, PrivateRabbit, free_port
from tests.integration.test_gateway import HASH, PASSWORD
from tests.support.households import actor
from tests.support.system import REGION_FILES

RUNTIME_ROLE = "berdaya_app"
PROCESS_NAMES = (*SERVICES, "gateway")


class FaultCluster:
    """Databases, roles and processes of one berdaya installation; every process restartable on its own."""

    def __init__(self, name: str = "faults", rpc_timeout_s: float = 8.0) -> None:
        self.name = f"{name}-{uuid.uuid4().hex[:6]}"  # log files of one run never mix with another's
        self.postgres = PrivatePostgres()
        self.rabbit = PrivateRabbit()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.rpc_timeout_s = rpc_timeout_s
        self.event_keys = new_key_environment(SERVICES, "faults1")  # kept: restarted services verify the same
        self.data_key = {KEK_VARIABLE: new_kek("faults1")}  # the registry's KEK, kept across restarts
        self.actor_keys = new_actor_key_environment("faults1")  # the gateway's and the operators' CLI's
        self.dci_key = new_dci_key_environment("faults1")  # the gateway's, signing its DCI answers
        self.processes: dict[str, list[ServiceProcess]] = {name: [] for name in PROCESS_NAMES}
        self.finished: list[ServiceProcess] = []
        with psycopg.connect(self.postgres.url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {RUNTIME_ROLE} LOGIN")
            for database in self.databases:
                conn.execute(f"CREATE DATABASE {database}")
        self.gateway_store = GatewayStore(self.database_url("gateway"), pool_size=2)
        self.gateway_store.ensure_schema()

    # --- configuration ------------------------------------------------------------------------------------

    @property
    def databases(self) -> list[str]:
        return [f"berdaya_{name}" for name in PROCESS_NAMES]

    def database_url(self, service: str, role: str = "postgres") -> str:
        return self.postgres.url(f"berdaya_{service}", role)

    def env(self) -> dict[str, str]:
        env = {"AMQP_URI": self.rabbit.amqp_uri, "IDLE_CATCH_UP_S": "1", "PULL_TIMEOUT_S": "5",
               "GATEWAY_DATABASE_URL": self.database_url("gateway"), "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.port}",
               "JWT_SECRET": f"faults-{self.name}-secret-of-at-least-32-bytes",
               "RPC_TIMEOUT_S": str(self.rpc_timeout_s), "USER_CACHE_S": "30", **self.event_keys,
               **self.data_key,
               # every process the same environment: the services read the public keys, the gateway its own key
               "ACTOR_PUBLIC_KEYS": self.actor_keys["ACTOR_PUBLIC_KEYS"],
               "ACTOR_SIGNING_KEY": self.actor_keys["GATEWAY_ACTOR_SIGNING_KEY"], **self.dci_key}
        for service in SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = self.database_url(service, RUNTIME_ROLE)
            env[f"{service.upper()}_SETUP_DATABASE_URL"] = self.database_url(service)
            env[f"{service.upper()}_AUDIT_DATABASE_URL"] = self.database_url(service)
        return env

    # --- processes ----------------------------------------------------------------------------------------

    def start(self, name: str) -> ServiceProcess:
        number = len(self.processes[name]) + len([p for p in self.finished if p.service == name]) + 1
        process = start_service(name, self.env(), log_name=f"faults-{self.name}-{name}-{number}")
        self.processes[name].append(process)
        return process

    def start_all(self) -> None:
        for name in PROCESS_NAMES:
            self.start(name)
        self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        """Every service answers RPC, and the gateway's /health is 200 (every dependency up, no halted consumer);
        fails at once if a process exited."""
        wait_until_ready(self.rabbit.amqp_uri, timeout=timeout,
                         processes=[process for processes in self.processes.values() for process in processes])

    def sigkill(self, name: str) -> None:
        """kill -9 the (first) process of ``name``: no shutdown code runs; the kernel closes its connections."""
        process = self.processes[name].pop(0)
        os.kill(process.process.pid, signal.SIGKILL)
        process.process.wait()
        self.finished.append(process)

    def restart(self, name: str) -> None:
        self.sigkill(name)
        self.start(name)

    def stop_all(self) -> None:
        for name in reversed(PROCESS_NAMES):
            for process in self.processes[name]:
                stop_pid(process.process.pid)
                process.process.wait(timeout=30)
                self.finished.append(process)
            self.processes[name] = []

    def logs(self) -> dict[str, str]:
        every = [p for processes in self.processes.values() for p in processes] + self.finished
        return {p.log_path.name: p.log_path.read_text(errors="replace") for p in every if p.log_path.exists()}

    # --- set-up an office would do ------------------------------------------------------------------------

    def import_regions(self) -> None:
        rows = [row._asdict() for path in REGION_FILES for row in load_region_csv(path)]
        operator = ActorSigner.parse(self.actor_keys["OPERATOR_ACTOR_SIGNING_KEY"], "operator")
        with ClusterRpcProxy({"AMQP_URI": self.rabbit.amqp_uri}, timeout=60) as proxy:
            SigningRpc(proxy, operator).registry.import_regions({"rows": rows, "source": "wilayah (faults)",
                                             "actor": actor("admin", "admin", "")})

    def add_user(self, username: str, role: str, region: str) -> None:
        self.gateway_store.add_user(username, HASH, role, region, by="test", must_change_password=False)

    def token(self, username: str) -> str:
        answer = requests.post(self.base + "/api/v1/auth/token", json={"username": username, "password": PASSWORD},
                               timeout=30)
        answer.raise_for_status()
        return answer.json()["access_token"]

    # --- looking inside, as an operator and an auditor would ----------------------------------------------

    def sql(self, service: str, query: str, params: tuple | None = None) -> list[tuple]:
        with psycopg.connect(self.database_url(service), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def backbone_status(self) -> dict[str, dict]:
        with ClusterRpcProxy({"AMQP_URI": self.rabbit.amqp_uri}, timeout=10) as cluster:
            return {service: cluster[service].backbone_status() for service in SERVICES}

    def rpc_consumers(self, service: str) -> int:
        """How many processes consume the service's RPC queue."""
        for line in self.rabbit.ctl("list_queues", "name", "consumers").splitlines():
            name, _, count = line.partition("\t")
            if name == f"rpc-{service}":
                return int(count)
        return 0

    def caught_up(self) -> bool:
        """Every relay published everything, every consumer applied everything its upstream has, no halts."""
        status = self.backbone_status()
        for mine in status.values():
            if mine["relay_position"] != mine["last_position"]:
                return False
            for upstream, consumer in mine["consumers"].items():
                if consumer["halt"] or consumer["position"] != status[upstream]["last_position"]:
                    return False
        return True

    def audit_verify(self) -> dict:
        """`berdaya audit verify --json` against this installation's databases, as an auditor runs it."""
        done = subprocess.run([sys.executable, "-c", "from berdaya.cli import app; app()", "audit", "verify",
                               "--json"], cwd=ROOT, env={**os.environ, **self.env(), "PYTHONWARNINGS": "ignore"},
                              capture_output=True, text=True, timeout=600)
        if done.returncode not in (0, 1):
            raise RuntimeError(f"audit verify failed to run: {done.stderr[-2000:]}")
        return json.loads(done.stdout)

    # --- faults on the infrastructure -----------------------------------------------------------------------

    def broker_outage(self, seconds: float) -> None:
        self.rabbit.stop_app()
        time.sleep(seconds)
        self.rabbit.start_app()

    def database_restart(self, seconds: float, mode: str = "fast") -> None:
        self.postgres.stop(mode)
        time.sleep(seconds)
        self.postgres.start()

    def kill_database_sessions(self) -> int:
        return self.postgres.terminate_backends(self.databases)

    def close(self) -> None:
        try:
            self.stop_all()
        finally:
            self.gateway_store.close()
            self.rabbit.close()
            self.postgres.close()

    def remove_logs(self) -> None:
        for process in [p for processes in self.processes.values() for p in processes] + self.finished:
            process.log_path.unlink(missing_ok=True)


# Every fault the tests and the soak inject, by name: what happens to a real installation on a bad day.
FAULTS = {
    **{f"kill -9 {name}": (lambda cluster, name=name: cluster.restart(name)) for name in PROCESS_NAMES},
    "broker stopped 5 s (rabbitmqctl stop_app/start_app)": lambda cluster: cluster.broker_outage(5),
    "database sessions terminated (pg_terminate_backend)": lambda cluster: cluster.kill_database_sessions(),
    "database restarted, down 5 s (pg_ctl stop -m fast/start)": lambda cluster: cluster.database_restart(5),
    # No clean shutdown: the server's processes are killed and it recovers from its write-ahead log on start.
    "database crashed, down 5 s (pg_ctl stop -m immediate/start)":
        lambda cluster: cluster.database_restart(5, "immediate"),
}
