"""A berdaya system for one end-to-end test: every service a real `nameko run` process, on fresh databases and vhost.

``ProcessSystem`` reuses :class:`tests.support.system.System` for what it owns (the databases, the vhost, and the
operator's view: ``sql``, ``scalar``, ``queue_depth``) and runs the services as OS processes instead of in-process
containers. At teardown, even after a failure, the processes are stopped (SIGTERM, as an operator would) and the
databases and vhost dropped. A failed test keeps its service logs in ``.run/`` (``e2e-<tag>-<service>-<n>.log``) and
prints their tails; set ``BERDAYA_E2E_KEEP_LOGS=1`` to keep a passing test's logs too.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

from kombu import Connection

from berdaya.cli.processes import ServiceProcess, start_service, stop_pid, wait_until_ready
from tests.support.system import System, eventually

READY_TIMEOUT = 60.0


class ProcessSystem(System):
    def __init__(self) -> None:
        super().__init__()
        self.processes: list[ServiceProcess] = []

    def env(self, service: str) -> dict[str, str]:
        """The in-process tests' configuration of ``service`` (``System.config``), as `nameko run` reads it."""
        config, prefix = self.config(service), service.upper()
        return {
            "AMQP_URI": config["AMQP_URI"],
            f"{prefix}_DATABASE_URL": config["DATABASE_URL"],
            # Always this test's database: never the config file's default, whichever the service set-up uses.
            f"{prefix}_SETUP_DATABASE_URL": config.get("SETUP_DATABASE_URL", self.database_url(service)),
            "IDLE_CATCH_UP_S": "1",
            "PULL_TIMEOUT_S": "3",
            **self.key_environment(),
        }

    # --- processes ----------------------------------------------------------------------------------------

    def launch(self, *services: str) -> list[ServiceProcess]:
        """Start one `nameko run` process per named service, together, and wait until each serves RPC itself.

        Ready means: the service answers ``backbone_status`` and RabbitMQ counts one RPC consumer per live process
        of the service — so a second replica is only ready once it consumes from the RPC queue too.
        """
        started = []
        for service in services:
            number = sum(process.service == service for process in self.processes) + 1
            process = start_service(service, self.env(service), log_name=f"e2e-{self.tag}-{service}-{number}")
            self.processes.append(process)
            started.append(process)
        wait_until_ready(self.amqp_uri, services, timeout=READY_TIMEOUT, processes=started)
        for service in dict.fromkeys(services):
            live = sum(p.service == service and p.process.poll() is None for p in self.processes)
            eventually(lambda service=service, live=live: self.rpc_consumers(service) == live,
                       timeout=READY_TIMEOUT, message=f"{service}: one RPC consumer per live process ({live})")
        return started

    def sigkill(self, process: ServiceProcess) -> None:
        """Kill -9: no shutdown code runs; the kernel closes its sockets (AMQP, PostgreSQL sessions, locks)."""
        os.kill(process.process.pid, signal.SIGKILL)
        process.process.wait()

    def stop_processes(self) -> list[str]:
        """SIGTERM every live process at once (SIGKILL any that hangs 30 s); returns what went wrong."""

        def stop(process: ServiceProcess) -> str | None:
            try:
                stop_pid(process.process.pid)
                process.process.wait(timeout=30)
            except Exception as exc:  # every problem reported, every process tried (eventlet's Popen raises its
                return f"{process.log_path.name}: {type(exc).__name__}: {exc}"  # own TimeoutExpired class)
            return None

        live = [process for process in self.processes if process.process.poll() is None]
        with ThreadPoolExecutor(max_workers=max(1, len(live))) as pool:
            return [problem for problem in pool.map(stop, live) if problem]

    # --- looking inside -----------------------------------------------------------------------------------

    def rpc_consumers(self, service: str) -> int:
        try:
            with Connection(self.amqp_uri) as connection:
                return connection.default_channel.queue_declare(f"rpc-{service}", passive=True).consumer_count
        except Exception:  # the queue does not exist yet
            return -1

    @staticmethod
    def log(process: ServiceProcess) -> str:
        return process.log_path.read_text(errors="replace") if process.log_path.exists() else ""

    def leads_relay(self, process: ServiceProcess) -> bool:
        """The relay logs ``relay.leading`` each time it takes the advisory lock."""
        return f"event='relay.leading' logger='{process.service}.relay'" in self.log(process)

    # --- teardown -----------------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            problems = self.stop_processes()
        finally:
            super().close()
        assert not problems, problems

    def report(self, failed: bool) -> None:
        """Keep a failed test's logs (and show their tails); delete a passing test's unless asked to keep them."""
        keep = bool(os.environ.get("BERDAYA_E2E_KEEP_LOGS"))
        for process in self.processes:
            if failed:
                tail = "\n".join(self.log(process).splitlines()[-25:])
                print(f"\n----- {process.log_path} (exit code {process.process.returncode}) -----\n{tail}")
            elif not keep:
                process.log_path.unlink(missing_ok=True)
