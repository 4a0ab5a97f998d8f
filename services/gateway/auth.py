"""Who is asking: users with a role and a region, argon2 password hashes, signed expiring tokens (JWT, HS256).

A user's region is a region code prefix: '18.01' (a regency) covers '18.01.06.2001', '18' (a province) covers
'18.xx…', '' (national) covers everything.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.actor import Actor
from shared.edge import USER_REGION_PATTERN
from shared.vocabulary import ROLES

REGION_RE = re.compile(USER_REGION_PATTERN)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
ISSUER = "berdaya"
MIN_SECRET_BYTES = 32  # HS256's key: shorter is guessable offline from any one token


@dataclass(frozen=True)
class User:
    username: str
    role: str
    region: str
    disabled: bool = False
    must_change_password: bool = False  # an administrator set the password: the user replaces it first
    identifier_search: bool = False  # a DCI client entitled to search by NIK or KK (docs/dci.md)
    dci_public_key: str | None = None  # a DCI client's '<key id>:<base64>': it signs its messages (dci_signatures.py)

    def actor(self) -> Actor:
        """Who acts, in which role, for which region: what every command carries to the service."""
        return Actor(user=self.username, role=self.role, region=self.region)


def check_user_fields(username: str, role: str, region: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValueError(f"username {username!r}: 2–64 of a-z 0-9 . _ @ -, starting with a letter or digit")
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(ROLES)}")
    if not REGION_RE.match(region):
        raise ValueError(f"region {region!r}: '' (national), '18', '18.01', '18.01.06' or '18.01.06.2001'")


_hasher = PasswordHasher()
# Verified when a username is unknown, so that answering takes as long as for a known one.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class MissingSecret(RuntimeError):
    """No signing secret, or too short a one: the gateway does not start (there is no built-in one to fall back
    on — a secret in the source signs tokens anyone can forge)."""


class Tokens:
    def __init__(self, secret: str, ttl_s: int) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise MissingSecret(f"JWT_SECRET must be set to at least {MIN_SECRET_BYTES} random bytes (it is "
                                f"{'unset' if not secret else f'{len(secret.encode())} bytes'}); e.g. "
                                "python -c 'import secrets; print(secrets.token_urlsafe(48))'")
        self.secret, self.ttl_s = secret, ttl_s

    def issue(self, user: User) -> tuple[str, int]:
        now = int(time.time())
        claims = {"sub": user.username, "role": user.role, "region": user.region, "iat": now,
                  "exp": now + self.ttl_s, "iss": ISSUER}
        return jwt.encode(claims, self.secret, algorithm="HS256"), self.ttl_s

    def read(self, token: str) -> dict:
        """The token's claims; raises jwt.InvalidTokenError when it is forged, malformed or expired."""
        return jwt.decode(token, self.secret, algorithms=["HS256"], issuer=ISSUER,
                          options={"require": ["sub", "exp", "iat", "iss"]})
