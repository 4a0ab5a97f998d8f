"""A real berdaya system for a test: its own PostgreSQL databases and RabbitMQ vhost, real nameko containers.

Nothing is mocked: services run in this process as nameko ServiceContainers (as `nameko run` would run them),
talk over RabbitMQ, and store in PostgreSQL. Each System is isolated, so tests cannot see each other's events.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from kombu import Connection
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy

from berdaya.cli.remote import SigningRpc
from services.gateway.dci_signatures import new_dci_key_environment
from services.grants.service import GrantsService
from services.registry.service import RegistryService
from services.registry.vault import KEK_VARIABLE, new_kek
from services.training.service import TrainingService
from shared.actor_assertion import ActorSigner, new_actor_key_environment
from shared.broker_access import PRINCIPALS, rabbitmqctl_commands
from shared.regions import load_region_csv
from shared.signing import Signer, new_key_environment
from tests.support.broker_admin import add_vhost, delete_vhost
from tests.support.households import actor

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
REGION_FILES = (SHARED_DATA / "wilayah_kabupaten_id.csv", SHARED_DATA / "wilayah_lampung.csv")
SERVICE_CLASSES = {"registry": RegistryService, "grants": GrantsService, "training": TrainingService}

# The registry's key-encryption key for a test run, as a deployment gives it: in the environment, which the
# registry (in the test's process or a child, also the browser tests' system) and the auditor's replay both read.
os.environ.setdefault(KEK_VARIABLE, new_kek("test1"))


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, capture_output=True, timeout=60)


def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, message: str = "") -> Any:
    """Wait until ``check()`` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s {message}: last value {value!r}")
        time.sleep(interval)


class System:
    def __init__(self, broker_users: bool = False) -> None:
        """``broker_users``: each service, the gateway and the operators' tools connect as a RabbitMQ user of their
        own with only its rights (shared/broker_access.py), as in a deployment; otherwise all as guest (the
        development set-up — about 15 s of rabbitmqctl less per test)."""
        self.tag = "t" + uuid.uuid4().hex[:10]
        self.vhost = self.tag
        self.amqp_uri = f"pyamqp://guest:guest@127.0.0.1:5672/{self.vhost}"
        self.containers: dict[str, list[ServiceContainer]] = {}
        add_vhost(self.vhost)
        self.broker_logins: dict[str, tuple[str, str]] = {}
        for principal in PRINCIPALS if broker_users else ():
            user, password = f"{self.tag}-{principal}", uuid.uuid4().hex
            rabbitmqctl("add_user", user, password)
            self.broker_logins[principal] = (user, password)
            for command in rabbitmqctl_commands(principal, self.vhost, user):
                rabbitmqctl(*command)
        # Each system its own event keys, as each installation has: its services verify one another's events.
        self.event_keys = new_key_environment(SERVICE_CLASSES, "test1")
        # and its own actor keys: the gateway's and the operators' CLI's, which its services accept
        self.actor_keys = new_actor_key_environment("test1")
        self.dci_key = new_dci_key_environment("test1")  # the gateway's, signing its DCI answers
        self.runtime_role = f"{self.tag}_app"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            # The services run as a role of their own, as in production: INSERT/SELECT only on their logs.
            conn.execute(f"CREATE ROLE {self.runtime_role} LOGIN")
            for service in SERVICE_CLASSES:
                conn.execute(f"CREATE DATABASE {self.database(service)}")

    def amqp_uri_of(self, principal: str) -> str:
        """How ``principal`` (a service, 'gateway' or 'operator') reaches the broker."""
        if principal not in self.broker_logins:
            return self.amqp_uri
        user, password = self.broker_logins[principal]
        return f"pyamqp://{user}:{password}@127.0.0.1:5672/{self.vhost}"

    def database(self, service: str) -> str:
        return f"{self.tag}_{service}"

    def database_url(self, service: str, role: str = "postgres") -> str:
        return f"postgresql://{role}@127.0.0.1:5432/{self.database(service)}"

    def runtime_url(self, service: str) -> str:
        return self.database_url(service, self.runtime_role)

    def config(self, service: str) -> dict:
        return {
            "AMQP_URI": self.amqp_uri_of(service),
            "DATABASE_URL": self.runtime_url(service),
            "SETUP_DATABASE_URL": self.database_url(service),
            "EVENT_SIGNING_KEY": self.event_keys[f"{service.upper()}_EVENT_SIGNING_KEY"],
            "EVENT_PUBLIC_KEYS": self.event_keys["EVENT_PUBLIC_KEYS"],
            "ACTOR_PUBLIC_KEYS": self.actor_keys["ACTOR_PUBLIC_KEYS"],
            "max_workers": 10,
            "BACKBONE": {"idle_catch_up_s": 1, "pull_timeout_s": 3},
        }

    def signer(self, service: str) -> Signer:
        """The service's own signing key: for a test that publishes what the service itself could have."""
        return Signer.parse(self.event_keys[f"{service.upper()}_EVENT_SIGNING_KEY"], service)

    def actor_signer(self, issuer: str = "operator") -> ActorSigner:
        """An issuer's key (``gateway`` or ``operator``): signs actors this system's services accept."""
        return ActorSigner.parse(self.actor_keys[f"{issuer.upper()}_ACTOR_SIGNING_KEY"], issuer)

    def key_environment(self) -> dict[str, str]:
        """The event keys and the actors' public keys as `nameko run` processes of this system read them from the
        environment (a gateway process also needs ``gateway_key_environment``)."""
        return {**self.event_keys, "ACTOR_PUBLIC_KEYS": self.actor_keys["ACTOR_PUBLIC_KEYS"]}

    def gateway_key_environment(self) -> dict[str, str]:
        return {"ACTOR_SIGNING_KEY": self.actor_keys["GATEWAY_ACTOR_SIGNING_KEY"], **self.dci_key}

    # --- services -----------------------------------------------------------------------------------------

    def start(self, service: str, **backbone: Any) -> ServiceContainer:
        """Run ``service``; ``backbone`` settings (``relay_batch=10``...) over this system's."""
        config = self.config(service)
        config["BACKBONE"] = {**config["BACKBONE"], **backbone}
        container = ServiceContainer(SERVICE_CLASSES[service], config)
        container.start()
        self.containers.setdefault(service, []).append(container)
        return container

    def stop(self, service: str) -> None:
        for container in self.containers.pop(service, []):
            container.stop()

    def kill(self, container: ServiceContainer) -> None:
        """Like SIGKILL for the service: its green threads die where they are, its connections close."""
        container.kill()
        for containers in self.containers.values():
            if container in containers:
                containers.remove(container)

    def import_regions(self) -> None:
        """The official region list, as the admin imports it before anyone is registered."""
        rows = [row._asdict() for path in REGION_FILES for row in load_region_csv(path)]
        with self.rpc() as rpc:
            rpc.registry.import_regions({"rows": rows, "source": "wilayah (tests)",
                                         "actor": actor("admin", "admin", "")})

    @contextmanager
    def rpc(self, timeout: float = 30) -> Iterator[SigningRpc]:
        """A proxy to this system's services that signs the plain actor dicts of the commands sent through it, as
        the operators' CLI (``actor_signer``): tests write who acts as readable dicts, the services verify them."""
        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri}, timeout=timeout) as proxy:
            yield SigningRpc(proxy, self.actor_signer())

    # --- looking inside, as an operator would -------------------------------------------------------------

    def sql(self, service: str, query: str, params: tuple | None = None) -> list[tuple]:
        with psycopg.connect(self.database_url(service), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def scalar(self, service: str, query: str, params: tuple | None = None) -> Any:
        return self.sql(service, query, params)[0][0]

    def queue_depth(self, queue: str) -> int:
        with Connection(self.amqp_uri) as connection:
            return connection.default_channel.queue_declare(queue, passive=True).message_count

    def drain_queue(self, queue: str) -> list:
        """Take every message out of a queue (for inspecting dead letters)."""
        messages = []
        with Connection(self.amqp_uri) as connection:
            channel = connection.default_channel
            while (message := channel.basic_get(queue, no_ack=True)) is not None:
                messages.append(message)
        return messages

    def close(self) -> None:
        for service in list(self.containers):
            for container in self.containers.pop(service):
                container.kill()
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            for service in SERVICE_CLASSES:
                conn.execute(f"DROP DATABASE IF EXISTS {self.database(service)} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {self.runtime_role}")
        for user, _ in self.broker_logins.values():
            rabbitmqctl("delete_user", user)
        delete_vhost(self.vhost)
