"""What every command that talks to the services needs: the broker's address, and refusals shown as answers."""

from __future__ import annotations

import os
from typing import NoReturn

import typer
from nameko.exceptions import RemoteError
from rich.console import Console

from shared.config import DEFAULT_AMQP_URI
from shared.errors import BerdayaError, from_remote

console = Console(stderr=True)


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def fail(refused: BerdayaError | RemoteError) -> NoReturn:
    """A refusal is the user's answer, not a crash: its message, and exit code 2."""
    if isinstance(refused, RemoteError):
        refused = from_remote(refused.exc_type, refused.value) or BerdayaError(f"{refused.exc_type}: {refused.value}")
    console.print(f"[red]refused:[/] {refused.message}")
    raise typer.Exit(2)
