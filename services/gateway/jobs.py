"""The gateway's batch work and its settings: the BDT import, run as a child process of the `berdaya` operator CLI,
the audit's settings (URLs, time-out, one run at a time; the audit itself runs in process: audit.py), and the DCI
push's (where a subscriber may be called, how much per message, how often a delivery is tried: dci_push.py).

The gateway may not import the operator tools (nor the registry's code the import uses: import-linter), and the
import is a batch job anyway: it runs as an operator would run it, in an eventlet-green subprocess (other requests
keep flowing while it runs), and is bounded in time: past its time-out it is killed and the client told 503.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eventlet import patcher
from eventlet.green import subprocess
from eventlet.semaphore import Semaphore

from services.gateway.errors import ApiError
from shared.config import SERVICES

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-c", "from berdaya.cli import app; app()")
# A green Popen reading pipes times out in code of the unpatched standard-library copy eventlet keeps, which raises
# that copy's TimeoutExpired, not the class eventlet.green.subprocess exports (waiting without pipes raises that one).
TIMED_OUT = (subprocess.TimeoutExpired, patcher.original("subprocess").TimeoutExpired)


@dataclass(frozen=True)
class DciPush:
    """How the gateway pushes DCI notifications to the subscribers' ``sender_uri`` (dci_push.py)."""

    # Hosts a notify URI may name over plain http (a subscriber on the office's own network); none by default:
    # https only.
    http_hosts: frozenset[str] = frozenset()
    max_events: int = 100  # the changes one notify message carries at most
    timeout_s: float = 10.0  # one POST to the subscriber
    attempts: int = 4  # of one message in one round; a message still undelivered is sent again the next round
    backoff_s: float = 1.0  # the wait before the second attempt, doubling before each further one

    def __post_init__(self) -> None:
        if not (1 <= self.max_events <= 500 and self.attempts >= 1 and self.timeout_s > 0 and self.backoff_s >= 0):
            raise ValueError("DCI push: DCI_PUSH_MAX_EVENTS 1–500, DCI_PUSH_ATTEMPTS at least 1, DCI_PUSH_TIMEOUT_S "
                             "above 0, DCI_PUSH_BACKOFF_S 0 or more")

    @classmethod
    def from_config(cls, config: Mapping) -> DciPush:
        hosts = config.get("DCI_NOTIFY_HTTP_HOSTS") or ""
        listed = hosts.split(",") if isinstance(hosts, str) else hosts
        return cls(http_hosts=frozenset(host.strip().lower() for host in listed if host.strip()),
                   max_events=int(config.get("DCI_PUSH_MAX_EVENTS", 100)),
                   timeout_s=float(config.get("DCI_PUSH_TIMEOUT_S", 10)),
                   attempts=int(config.get("DCI_PUSH_ATTEMPTS", 4)),
                   backoff_s=float(config.get("DCI_PUSH_BACKOFF_S", 1)))


@dataclass
class Jobs:
    """What the jobs need from the gateway's configuration."""

    amqp_uri: str = ""
    # The gateway's ACTOR_SIGNING_KEY: the import it runs signs its user as the gateway does (actor_assertion.py).
    actor_signing_key: str = ""
    import_timeout_s: float = 600.0
    audit_timeout_s: float = 600.0
    # service → the database URL the audit reads it with; a service left out gets what the audit falls back to
    # (<SERVICE>_AUDIT_DATABASE_URL in the environment, else the service's configured DATABASE_URL).
    audit_urls: Mapping[str, str | None] = field(default_factory=dict)
    # An audit replays every log and holds every aggregate in memory: one at a time per gateway process.
    audit_slot: Semaphore = field(default_factory=lambda: Semaphore(1))
    dci_push: DciPush = field(default_factory=DciPush)

    def __post_init__(self) -> None:
        unknown = set(self.audit_urls) - set(SERVICES)
        if unknown:
            raise ValueError(f"AUDIT_DATABASE_URLS: no service {', '.join(sorted(unknown))} "
                             f"(the audit reads {', '.join(SERVICES)})")


@dataclass(frozen=True)
class Finished:
    returncode: int
    out: bytes
    err: bytes

    def reason(self) -> str:
        """What went wrong, in one line: a traceback's exception line, else the end of what the child said."""
        text = self.err.decode(errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if "Traceback (most recent call last)" in text:
            said = lines[-1]
        else:
            said = " ".join(text.split())
        return said[-500:] or f"exit status {self.returncode}"


def run_cli(args: list[str], *, env: Mapping[str, str], timeout_s: float, what: str) -> Finished:
    """Run ``berdaya ARGS…`` and wait for it at most ``timeout_s`` (then kill it: 503 with Retry-After)."""
    child_env = {**os.environ, "PYTHONWARNINGS": "ignore",
                 # plain tracebacks (no rich panels, no local variables): their last line is the error
                 "TYPER_STANDARD_TRACEBACK": "1", **env}
    process = subprocess.Popen([*CLI, *args], cwd=ROOT, env=child_env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=timeout_s)
    except TIMED_OUT:
        process.kill()
        process.communicate()
        raise ApiError(503, "unavailable", f"{what} did not finish within {timeout_s:g} s",
                       headers={"Retry-After": "60"}) from None
    return Finished(process.returncode, out, err)
