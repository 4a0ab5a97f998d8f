"""What every command that talks to the services needs: the broker's address, who acts, and refusals shown as
answers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from nameko.exceptions import RemoteError
from pydantic import ValidationError
from rich.console import Console

from berdaya.cli.processes import development_actor_key
from shared.actor import Actor
from shared.actor_assertion import ActorSigner
from shared.config import DEFAULT_AMQP_URI
from shared.ed25519 import KeyConfigError
from shared.errors import BerdayaError, ValidationFailed, from_remote

console = Console(stderr=True)


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


@dataclass(frozen=True)
class CliActor:
    """Who an operator tool acts as, signed afresh for each call (an import outlives one assertion's life)."""

    actor: Actor
    signer: ActorSigner | None = None  # None: the key this process is given (``operator_signer``)

    def on_the_wire(self) -> dict[str, Any]:
        return (self.signer or operator_signer()).sign(self.actor)


def cli_actor(user: str, region: str = "", role: str = "operator", signer: ActorSigner | None = None) -> CliActor:
    """The actor of the commands an operator tool sends: every command carries one, signed, as the gateway's do.

    The CLI has no signed-in user: it acts as the user its ``--by`` names (the same name it recorded before, so the
    stored events read as they always did), in the role whose work it does on the servers — ``operator`` for a
    DTKS/BDT import, ``admin`` for the region table (as the API's routes allow) — and nationally (region ''), since
    whoever runs it there acts for the whole programme; a caller that knows the user's region passes it (the
    gateway's BDT import passes its signed-in user's). It signs as the ``operator`` issuer, an identity of its own
    (``ACTOR_SIGNING_KEY``; see ``operator_signer``).
    """
    try:
        return CliActor(Actor(user=user, role=role, region=region), signer)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        option = error["loc"][0] if error["loc"][:1] in (("region",), ("role",)) else "by"
        raise ValidationFailed(option, f"{option}.{error['type']}", f"--{option}: {error['msg']}") from None


def operator_signer() -> ActorSigner:
    """The key the CLI signs its actors with: ``ACTOR_SIGNING_KEY`` (as the ``ACTOR_ISSUER`` it names, the
    ``operator`` unless the gateway runs it), else the development installation's (.run/, made by `berdaya up`).
    Without one it sends nothing: the services would refuse an unsigned actor anyway."""
    issuer = os.environ.get("ACTOR_ISSUER", "operator")
    text = os.environ.get("ACTOR_SIGNING_KEY") or development_actor_key(issuer)
    try:
        return ActorSigner.parse(text, issuer)
    except (KeyConfigError, ValueError) as missing:
        raise BerdayaError(f"{missing}: the services verify who sends a command; set ACTOR_SIGNING_KEY to the "
                           f"{issuer}'s key") from None


def fail(refused: BerdayaError | RemoteError) -> NoReturn:
    """A refusal is the user's answer, not a crash: its message, and exit code 2."""
    if isinstance(refused, RemoteError):
        refused = from_remote(refused.exc_type, refused.value) or BerdayaError(f"{refused.exc_type}: {refused.value}")
    console.print(f"[red]refused:[/] {refused.message}")
    raise typer.Exit(2)


class SigningRpc:
    """A ``ClusterRpcProxy`` that signs the plain actors (``{"user", "role", "region"}``) of the commands sent through
    it, as ``signer``: for the demo and the tests, whose steps act as many people, written as readable dicts. An actor
    already signed, or not a valid actor, is sent as it is (and the service refuses what it cannot verify)."""

    def __init__(self, proxy: Any, signer: ActorSigner) -> None:
        self._proxy, self._signer = proxy, signer

    def __getattr__(self, service: str) -> _SigningService:
        return _SigningService(getattr(self._proxy, service), self._signer)

    __getitem__ = __getattr__

    def signed(self, value: Any) -> Any:
        return _signed(value, self._signer)


@dataclass(frozen=True)
class _SigningService:
    service: Any
    signer: ActorSigner

    def __getattr__(self, method: str) -> _SigningMethod:
        return _SigningMethod(getattr(self.service, method), self.signer)


@dataclass(frozen=True)
class _SigningMethod:
    method: Any
    signer: ActorSigner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.method(*_signed(args, self.signer), **_signed(kwargs, self.signer))

    def call_async(self, *args: Any, **kwargs: Any) -> Any:
        return self.method.call_async(*_signed(args, self.signer), **_signed(kwargs, self.signer))


def _signed(value: Any, signer: ActorSigner) -> Any:
    if isinstance(value, list | tuple):
        return type(value)(_signed(item, signer) for item in value)
    if not isinstance(value, dict):
        return value
    signed = {key: _signed(item, signer) for key, item in value.items()}
    actor = value.get("actor")
    if isinstance(actor, dict) and "signature" not in actor:
        try:
            signed["actor"] = signer.sign(Actor(**actor))
        except (TypeError, ValidationError):
            pass  # sent as it is: the service refuses it
    return signed
