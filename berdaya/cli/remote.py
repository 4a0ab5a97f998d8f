"""What every command that talks to the services needs: the broker's address, who acts, and refusals shown as
answers."""

from __future__ import annotations

import os
from typing import NoReturn

import typer
from nameko.exceptions import RemoteError
from pydantic import ValidationError
from rich.console import Console

from shared.actor import Actor
from shared.config import DEFAULT_AMQP_URI
from shared.errors import BerdayaError, ValidationFailed, from_remote

console = Console(stderr=True)


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def cli_actor(user: str, region: str = "", role: str = "operator") -> Actor:
    """The actor of the commands an operator tool sends: every command carries one, as the gateway's do.

    The CLI has no signed-in user: it acts as the user its ``--by`` names (the same name it recorded before, so the
    stored events read as they always did), in the role whose work it does on the servers — ``operator`` for a
    DTKS/BDT import, ``admin`` for the region table (as the API's routes allow) — and nationally (region ''), since
    whoever runs it there acts for the whole programme; a caller that knows the user's region passes it (the
    gateway's BDT import passes its signed-in user's).
    """
    try:
        return Actor(user=user, role=role, region=region)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        option = "region" if error["loc"][:1] == ("region",) else "by"  # the role is ours: only these can be wrong
        raise ValidationFailed(option, f"{option}.{error['type']}", f"--{option}: {error['msg']}") from None


def fail(refused: BerdayaError | RemoteError) -> NoReturn:
    """A refusal is the user's answer, not a crash: its message, and exit code 2."""
    if isinstance(refused, RemoteError):
        refused = from_remote(refused.exc_type, refused.value) or BerdayaError(f"{refused.exc_type}: {refused.value}")
    console.print(f"[red]refused:[/] {refused.message}")
    raise typer.Exit(2)
