"""`berdaya keys`: event signing keys for a deployment (shared/signing.py; docs/security.md says how to rotate)."""

from __future__ import annotations

import typer

from shared.config import SERVICES
from shared.signing import Signer, new_signing_key

keys_app = typer.Typer(help="event signing keys (Ed25519) for a deployment", no_args_is_help=True)


@keys_app.command("new")
def new(
    service: str = typer.Argument(..., help=f"whose key: {', '.join(SERVICES)}"),
    key_id: str = typer.Option(..., "--key-id", help="a new id, e.g. 2026-12 (the envelope names it)"),
) -> None:
    """Print a new signing key for SERVICE (its secret) and the public entry every consumer adds."""
    if service not in SERVICES:
        raise typer.BadParameter(f"one of {', '.join(SERVICES)}", param_hint="SERVICE")
    secret = new_signing_key(key_id)
    typer.echo(f"{service.upper()}_EVENT_SIGNING_KEY={secret}")
    typer.echo(f"# add to EVENT_PUBLIC_KEYS: {Signer.parse(secret, service).public_entry(service)}")
