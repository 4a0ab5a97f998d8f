"""A PostgreSQL server and a RabbitMQ node of the fault tests' own, so that they can be restarted at will.

The machine's PostgreSQL and RabbitMQ serve everything else (other tests, a running `berdaya up`): the fault tests
never stop those. Each :class:`PrivatePostgres` / :class:`PrivateRabbit` lives in a temporary directory, listens on
127.0.0.1 on a free port, and is removed at the end. Both come from the same Debian packages `make infra` installs;
the servers refuse to run as root, so as root they run as the packages' own users (postgres, rabbitmq).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user(user: str) -> list[str]:
    """Run a server command as ``user`` when we are root (PostgreSQL and RabbitMQ refuse root)."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def _hand_over(path: Path, user: str) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


class PrivatePostgres:
    """``initdb`` + ``pg_ctl``: a throw-away PostgreSQL 15 cluster on a free port (trust auth, superuser postgres)."""

    def __init__(self) -> None:
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bindirs:
            raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql (run `make infra`)")
        self.bin = Path(bindirs[-1])
        self.root = Path(tempfile.mkdtemp(prefix="berdaya-faults-pg-"))
        _hand_over(self.root, "postgres")
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "server.log"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*_as_user("postgres"), str(self.bin / tool), *args], check=True, capture_output=True,
                       timeout=120)

    def url(self, database: str = "postgres", role: str = "postgres") -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   "-c fsync=off")  # fsync only matters when the machine itself crashes, which we do not test
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients are disconnected, the server shuts down cleanly; ``immediate``: as if it crashed."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def terminate_backends(self, databases: list[str]) -> int:
        """Kill every session on these databases except our own, as an operator or a failover would."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            return conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()", (databases,)).fetchone()[0]

    def close(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class PrivateRabbit:
    """A RabbitMQ node of its own (own node name, AMQP port, distribution port, data directory, no plugins)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="berdaya-faults-mq-"))
        self.root.chmod(0o777)  # the node runs as the rabbitmq user and writes its database and logs here
        self.port = free_port()
        self.node = f"berdaya-faults-{os.getpid()}-{self.port}@localhost"
        (self.root / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
                                                 "loopback_users = none\n")
        (self.root / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_PID_FILE": str(self.root / "node.pid"),
        }
        with open(self.root / "server.out", "ab") as out:
            self.server = subprocess.Popen(["rabbitmq-server"], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:  # the node registers with epmd a moment after it starts: until then await_startup fails fast
            try:
                self.ctl("await_startup", "--timeout", "10", timeout=30)
                return
            except RuntimeError:
                if self.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"RabbitMQ node {self.node} did not start: "
                                       f"{(self.root / 'server.out').read_text()[-2000:]}") from None
                time.sleep(0.5)

    @property
    def amqp_uri(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}/"

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(["rabbitmqctl", "-n", self.node, "--quiet", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", "90", timeout=120)

    def close(self) -> None:
        try:
            self.ctl("stop", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            pass  # not running
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
        shutil.rmtree(self.root, ignore_errors=True)
