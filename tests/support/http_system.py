"""A berdaya system over HTTP for one test (or one session of tests): fresh databases and vhost
(:class:`tests.support.system.System`), the services and the gateway as `nameko run` processes, users added to the
gateway's database directly (as `berdaya users add` does)."""

from __future__ import annotations

import os

import psycopg

from berdaya.cli.processes import start_service, stop_pid, wait_until_ready
from services.gateway.store import GatewayStore
from shared.config import SERVICES
from tests.integration.test_gateway import HASH, Client, free_port
from tests.support.system import ADMIN_URL, System

READY_TIMEOUT = 90.0


class HttpSystem:
    """Fresh databases and vhost (tests.support.system.System), the services and the gateway as processes."""

    def __init__(self) -> None:
        self.system = System()
        self.gateway_db = f"{self.system.tag}_gateway"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.gateway_db}")
        self.gateway_url = f"postgresql://postgres@127.0.0.1:5432/{self.gateway_db}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes = []
        self.store = GatewayStore(self.gateway_url)

    def env(self) -> dict[str, str]:
        system = self.system
        env = {"AMQP_URI": system.amqp_uri, "IDLE_CATCH_UP_S": "1", "PULL_TIMEOUT_S": "3",
               **system.key_environment()}
        for service in SERVICES:
            config = system.config(service)  # the database URLs a service gets in the integration tests
            env[f"{service.upper()}_DATABASE_URL"] = config["DATABASE_URL"]
            env[f"{service.upper()}_SETUP_DATABASE_URL"] = config.get("SETUP_DATABASE_URL", config["DATABASE_URL"])
        return {**env,
                "GATEWAY_DATABASE_URL": self.gateway_url, "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.port}",
                "JWT_SECRET": f"e2e-secret-{system.tag}-of-at-least-32-bytes", **system.gateway_key_environment()}

    def start(self) -> None:
        tag = self.system.tag
        services = [start_service(s, self.env(), log_name=f"e2e-{tag}-{s}") for s in ("registry", "grants",
                                                                                      "training")]
        self.processes += services
        wait_until_ready(self.system.amqp_uri, timeout=READY_TIMEOUT, processes=services)
        gateway = start_service("gateway", self.env(), log_name=f"e2e-{tag}-gateway")
        self.processes.append(gateway)
        wait_until_ready(self.system.amqp_uri, timeout=READY_TIMEOUT, processes=[gateway])
        self.store.ensure_schema()

    def add_user(self, username: str, role: str, region: str) -> None:
        """A user whose password is tests.integration.test_gateway.PASSWORD."""
        self.store.add_user(username, HASH, role, region, by="test", must_change_password=False)

    def client(self, username: str, role: str, region: str) -> Client:
        self.add_user(username, role, region)
        status, answer = Client(self.base).post("/api/v1/auth/token", {"username": username,
                                                                       "password": "kata-sandi-rahasia"})
        assert status == 200, answer
        return Client(self.base, answer["access_token"])

    def stop(self) -> None:
        """SIGTERM every process still running, the gateway first; their logs, databases and queues stay."""
        for process in reversed(self.processes):
            if process.process.poll() is None:
                stop_pid(process.process.pid)
                process.process.wait(timeout=30)

    def close(self, failed: bool) -> None:
        try:
            self.stop()
        finally:
            for process in self.processes:
                if failed:
                    print(f"----- {process.log_path} -----\n{process.log_path.read_text()[-3000:]}")
                elif not os.environ.get("BERDAYA_E2E_KEEP_LOGS"):
                    process.log_path.unlink(missing_ok=True)
            self.store.close()
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.gateway_db} WITH (FORCE)")
            self.system.close()
