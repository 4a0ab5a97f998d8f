"""Login throttling, and a DCI client's identifier lookups limited per minute (:class:`LookupLimit`).

Login throttling: password guessing is slowed per username and per client address, in the gateway's database
(so that every replica of the gateway counts the same failures).

After ``user_failures`` failed logins for one username — or ``address_failures`` from one client address, whatever
usernames it tried — that username (or address) is blocked for ``base_s``, then twice as long at each further
failure, up to ``max_s``. A blocked login is refused *before* its password is checked: guessing costs the gateway
one small query, never an argon2 hash, so it cannot exhaust the gateway's CPU. A success clears its username's
failures (not its address's: one known password must not reset the count of a client that guesses others'), and
failures older than ``forget_after_s`` are forgotten.

The address is the socket's peer (werkzeug's ``remote_addr``). X-Forwarded-For is not read: anyone can send it,
and no option names proxies to trust. Behind a proxy every client shares its address, so the address limit is
set higher than the username limit (an office behind one NAT must not lock itself out with a few typos).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.gateway.store import GatewayStore

USER, ADDRESS, CODE = "user", "address", "code"


@dataclass(frozen=True)
class Backoff:
    user_failures: int = 5
    address_failures: int = 20
    base_s: float = 1.0
    max_s: float = 900.0
    forget_after_s: float = 3600.0

    def block_s(self, failures: int, threshold: int) -> float | None:
        """How long to block after ``failures`` failures, None below the threshold: base, 2×, 4×, … up to max."""
        if failures < threshold:
            return None
        return min(self.max_s, self.base_s * 2.0 ** min(failures - threshold, 30))


class LoginThrottle:
    def __init__(self, store: GatewayStore, backoff: Backoff | None = None) -> None:
        self.store, self.backoff = store, backoff or Backoff()

    def wait_s(self, username: str, address: str | None) -> int:
        """Whole seconds until this login may be tried (0: now)."""
        left = self.store.login_blocked_s(self._subjects(username, address))
        return math.ceil(left) if left > 0 else 0

    def failed(self, username: str, address: str | None) -> None:
        thresholds = {USER: self.backoff.user_failures, ADDRESS: self.backoff.address_failures}
        for kind, subject in self._subjects(username, address):
            failures = self.store.login_failed(kind, subject, forget_after_s=self.backoff.forget_after_s)
            block_s = self.backoff.block_s(failures, thresholds[kind])
            if block_s is not None:
                self.store.block_login(kind, subject, block_s)

    def succeeded(self, username: str) -> None:
        self.store.login_succeeded(USER, username)

    @staticmethod
    def _subjects(username: str, address: str | None) -> list[tuple[str, str]]:
        return [(USER, username)] + ([(ADDRESS, address)] if address else [])


class CodeThrottle:
    """Guessing printouts' verification codes (GET /verify/{code}, public) is slowed per client address as guessing
    passwords is: after ``address_failures`` wrong codes, blocked for ``base_s``, doubling up to ``max_s``."""

    def __init__(self, store: GatewayStore, backoff: Backoff | None = None) -> None:
        self.store, self.backoff = store, backoff or Backoff()

    def wait_s(self, address: str | None) -> int:
        left = self.store.login_blocked_s([(CODE, address or "")])
        return math.ceil(left) if left > 0 else 0

    def failed(self, address: str | None) -> None:
        failures = self.store.login_failed(CODE, address or "", forget_after_s=self.backoff.forget_after_s)
        block_s = self.backoff.block_s(failures, self.backoff.address_failures)
        if block_s is not None:
            self.store.block_login(CODE, address or "", block_s)


class LookupLimit:
    """A DCI client's searches by NIK or KK (each one a lookup of a person): at most ``per_minute`` in any 60 s,
    counted in the gateway's database like the failures above. A message that would go over is refused whole
    before any of its lookups runs, and its lookups are not counted (they did not happen)."""

    WINDOW_S = 60.0

    def __init__(self, store: GatewayStore, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError(f"DCI_IDENTIFIER_LOOKUPS_PER_MINUTE must be at least 1, not {per_minute}")
        self.store, self.per_minute = store, per_minute

    def take(self, client: str, count: int) -> int:
        """Whole seconds to wait before these ``count`` lookups fit (0: taken now)."""
        if count == 0:
            return 0
        left = self.store.take_lookups(client, count, self.per_minute, self.WINDOW_S)
        return math.ceil(left) if left > 0 else 0
