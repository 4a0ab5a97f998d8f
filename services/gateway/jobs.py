"""The gateway's batch work and its settings: the BDT import, run as a child process of the `berdaya` operator CLI,
and the audit's settings (URLs, time-out, one run at a time; the audit itself runs in process: audit.py).

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
