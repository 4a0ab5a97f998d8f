"""`berdaya keys`: keys for a deployment — each service's event signing key (shared/signing.py), the actor keys of
the gateway and the operators' CLI (shared/actor_assertion.py), the gateway's DCI signing key
(services/gateway/dci_signatures.py) and the registry's key-encryption key
(services/registry/vault.py); docs/security.md says how to rotate them."""

from __future__ import annotations

import typer

from services.registry.vault import KEK_VARIABLE, new_kek
from shared.actor_assertion import ISSUERS, ActorSigner
from shared.config import SERVICES
from shared.ed25519 import new_private_key
from shared.signing import Signer, new_signing_key

keys_app = typer.Typer(help="event and actor signing keys (Ed25519) and the registry's data key for a deployment",
                       no_args_is_help=True)


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


@keys_app.command("new-actor")
def new_actor(
    issuer: str = typer.Argument(..., help=f"who signs actors: {', '.join(ISSUERS)}"),
    key_id: str = typer.Option(..., "--key-id", help="a new id, e.g. 2026-12 (each signed actor names it)"),
) -> None:
    """Print a new actor signing key for ISSUER (its ACTOR_SIGNING_KEY) and the public entry every service adds."""
    if issuer not in ISSUERS:
        raise typer.BadParameter(f"one of {', '.join(ISSUERS)}", param_hint="ISSUER")
    secret = new_private_key(key_id)
    typer.echo(f"{issuer.upper()}_ACTOR_SIGNING_KEY={secret}")
    typer.echo(f"# add to ACTOR_PUBLIC_KEYS: {ActorSigner.parse(secret, issuer).public_entry()}")


@keys_app.command("new-dci")
def new_dci(
    key_id: str = typer.Option(..., "--key-id", help="a new id, e.g. 2026-12 (each signed DCI answer names it)"),
) -> None:
    """Print a new signing key for the gateway's DCI answers (its DCI_SIGNING_KEY): clients read its public half
    at GET /api/v1/dci/.well-known/jwks.json (docs/dci.md)."""
    typer.echo(f"DCI_SIGNING_KEY={new_private_key(key_id)}")


@keys_app.command("new-data-key")
def new_data_key(
    key_id: str = typer.Option(..., "--key-id", help="a new id, e.g. 2026-12 (each wrapped household key names it)"),
) -> None:
    """Print a new key-encryption key for the registry's household keys (its REGISTRY_DATA_KEY): a secret, and
    the only way to read the registry's personal data — kept apart from the database and its backups."""
    typer.echo(f"{KEK_VARIABLE}={new_kek(key_id)}")
