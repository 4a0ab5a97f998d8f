"""The development set-up's JWT secret: the gateway has no built-in one, so `berdaya up` on a developer's machine
generates a random one once into .run/jwt-secret (readable by its owner only) and reuses it, so that tokens and
console sessions survive a `make down` / `make up`. A deployment sets JWT_SECRET itself (deploy/compose.yaml
requires it)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from berdaya.cli.processes import RUN_DIR
from services.gateway.auth import MIN_SECRET_BYTES

SECRET_FILE = RUN_DIR / "jwt-secret"


def development_jwt_secret(path: Path = SECRET_FILE) -> str:
    """The secret kept in ``path``, written there first (mode 0600) when missing or too short."""
    if path.exists():
        os.chmod(path, 0o600)
        kept = path.read_text().strip()
        if len(kept.encode()) >= MIN_SECRET_BYTES:
            return kept
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # Created with its mode: never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret
