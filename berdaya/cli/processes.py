"""Running the services as real processes (`nameko run`), in the foreground for the demo or in the background."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nameko.standalone.rpc import ClusterRpcProxy

from services.gateway.dci_signatures import new_dci_key_environment
from services.registry.vault import KEK_FILE_VARIABLE, KEK_VARIABLE, new_kek
from shared.actor_assertion import new_actor_key_environment
from shared.broker_access import broker_user
from shared.config import SERVICES, service_config_path
from shared.signing import new_key_environment

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / ".run"
SERVICE_CLASSES = {
    "registry": "services.registry.service:RegistryService",
    "grants": "services.grants.service:GrantsService",
    "training": "services.training.service:TrainingService",
    "gateway": "services.gateway.service:GatewayService",
}
# What `berdaya up` runs: the services, then the HTTP gateway in front of them (`down` stops it first).
PROCESSES = (*SERVICES, "gateway")


def development_event_keys() -> dict[str, str]:
    """The development installation's event keys (`make up`, `make demo`), kept so that consumers keep verifying
    what the services signed before a restart. A deployment gives each service its own key (docs/security.md)."""
    return _made_once("event-keys.json", lambda: new_key_environment(SERVICES, "dev1"))


def development_actor_keys() -> dict[str, str]:
    """The development installation's actor keys (`make up`, `make demo`): the gateway's and the operators' CLI's
    signing keys and the public entries every service accepts."""
    return _made_once("actor-keys.json", lambda: new_actor_key_environment("dev1"))


def development_dci_key() -> dict[str, str]:
    """The development installation's DCI signing key of the gateway (`make up`), kept: a DCI client that checks
    answers keeps the public key it read. A deployment keeps its own secret (docs/dci.md)."""
    return _made_once("dci-key.json", lambda: new_dci_key_environment("dev1"))


def development_data_key() -> dict[str, str]:
    """The development installation's key-encryption key of the registry (`make up`, `make demo`), kept: the
    household keys wrapped with it must unwrap after a restart. A deployment keeps its own secret (docs/security.md)."""
    return _made_once("data-key.json", lambda: {KEK_VARIABLE: new_kek("dev1")})


def use_development_data_key() -> None:
    """An auditor's command on the development installation reads the registry's log with its key, unless a key
    is given (REGISTRY_DATA_KEY or REGISTRY_DATA_KEY_FILE); with neither, the replay refuses."""
    if not (os.environ.get(KEK_VARIABLE) or os.environ.get(KEK_FILE_VARIABLE)) and (RUN_DIR / "data-key.json").exists():
        os.environ.update(development_data_key())


def _made_once(name: str, make: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Development keys kept in .run/``name``: made once, readable by their owner only, then reused."""
    path = RUN_DIR / name
    if not path.exists():
        RUN_DIR.mkdir(exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(make(), handle)
    return json.loads(path.read_text())


def development_actor_key(issuer: str) -> str | None:
    """``issuer``'s signing key of the development installation, if `berdaya up` made one (else None)."""
    path = RUN_DIR / "actor-keys.json"
    return json.loads(path.read_text()).get(f"{issuer.upper()}_ACTOR_SIGNING_KEY") if path.exists() else None


def development_broker_uri(principal: str, default: str) -> str:
    """How ``principal`` of the local installation reaches RabbitMQ: as its own user when scripts/ensure-infra.sh
    could make them (passwords in .run/broker.env), else ``default`` (guest, the development broker's own)."""
    path = RUN_DIR / "broker.env"
    if not path.exists():
        return default
    passwords = dict(line.split("=", 1) for line in path.read_text().split())
    password = passwords.get(f"RABBITMQ_{principal.upper()}_PASSWORD")
    if password is None:
        return default
    host = default.rpartition("@")[2]
    return f"pyamqp://{broker_user(principal)}:{password}@{host}"


@dataclass
class ServiceProcess:
    service: str
    process: subprocess.Popen
    log_path: Path
    web_address: str  # the WEB_SERVER_ADDRESS it was started with: where a gateway listens

    @property
    def base_url(self) -> str:
        host, _, port = self.web_address.rpartition(":")
        return f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}"


def start_service(service: str, env: dict[str, str], log_name: str | None = None) -> ServiceProcess:
    RUN_DIR.mkdir(exist_ok=True)
    log_path = RUN_DIR / f"{log_name or service}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child process
    config = str(service_config_path(service))
    child_env = {**os.environ, "PYTHONWARNINGS": "ignore", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", config, SERVICE_CLASSES[service]],
        cwd=ROOT,
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop the services in order
    )
    log.close()
    return ServiceProcess(service, process, log_path, child_env.get("WEB_SERVER_ADDRESS", "0.0.0.0:8080"))


def wait_until_ready(amqp_uri: str, services: tuple[str, ...] = SERVICES, timeout: float = 90.0,
                     processes: list[ServiceProcess] = ()) -> None:
    """Wait until every service answers RPC (the gateway, which has no RPC: until GET /health says ok); fail
    early, with the log's tail, if one exits."""
    deadline = time.monotonic() + timeout
    pending = [service for service in services if service in SERVICES]
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=2) as cluster:
        while pending:
            for process in processes:
                check_running(process)
            try:
                cluster[pending[0]].backbone_status()
                pending.pop(0)
            except Exception:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{pending[0]} did not answer within {timeout:.0f}s") from None
                time.sleep(0.3)
    for process in processes:
        if process.service == "gateway":
            wait_for_gateway(process, deadline)


def check_running(process: ServiceProcess) -> None:
    """Raise, with the last lines of its log, if the process has exited."""
    if process.process.poll() is not None:
        tail = process.log_path.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"{process.service} exited with code {process.process.returncode}:\n" + "\n".join(tail))


def wait_for_gateway(process: ServiceProcess, deadline: float) -> None:
    last = "no answer"
    while True:
        check_running(process)
        try:
            with urllib.request.urlopen(process.base_url + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}: {error.read()[:300]!r}"
        except OSError as error:
            last = str(error)
        if time.monotonic() > deadline:
            raise TimeoutError(f"gateway: GET {process.base_url}/health not ok in time ({last})")
        time.sleep(0.3)


def stop_pid(pid: int, timeout: float = 30.0) -> bool:
    """SIGTERM (nameko stops gracefully: workers finish, relay and consumers stop), SIGKILL if it hangs."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished:
            return False
    except ChildProcessError:
        pass  # not our child (started by `berdaya up` earlier): ask the kernel instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (OSError, IndexError):
        return "Z"


def pid_file(service: str) -> Path:
    return RUN_DIR / f"{service}.pid"


def running_pid(service: str) -> int | None:
    path = pid_file(service)
    if not path.exists():
        return None
    pid = int(path.read_text().strip())
    return pid if _alive(pid) else None
