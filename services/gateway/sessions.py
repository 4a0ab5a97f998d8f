"""The console's sessions: who a browser is, without a bearer token.

A session is a random token in an HttpOnly, SameSite=Strict cookie. The gateway's database keeps only the token's
SHA-256, the user, the CSRF token the session's forms carry, and when it was last seen. A session ends at logout,
after ``idle_s`` without a request, ``ttl_s`` after it began, and at once when its user is disabled or their
password reset (the store deletes their sessions in the same transaction).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from services.gateway.store import GatewayStore, SessionRow

# Seen-at is written at most this often: a page view is a read, not a write, in the common case.
TOUCH_EVERY_S = 60.0


@dataclass(frozen=True)
class Opened:
    token: str  # the cookie's value: never stored
    csrf: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(self, store: GatewayStore, *, ttl_s: float, idle_s: float) -> None:
        self.store, self.ttl_s, self.idle_s = store, ttl_s, idle_s

    def open(self, username: str) -> Opened:
        opened = Opened(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        self.store.open_session(token_hash(opened.token), username, opened.csrf, self.ttl_s)
        return opened

    def find(self, token: str) -> SessionRow | None:
        """The live session of this cookie, or None (unknown, expired, idle too long: then ended)."""
        if not token:
            return None
        key = token_hash(token)
        found = self.store.session(key)
        if found is None:
            return None
        if found.idle_s > self.idle_s:
            self.store.end_session(key)
            return None
        if found.idle_s > TOUCH_EVERY_S:
            self.store.touch_session(key)
        return found

    def end(self, token: str) -> None:
        self.store.end_session(token_hash(token))
