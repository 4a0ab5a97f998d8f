"""Who reads personal data, and why: what every read of a person's or a household's data carries.

A read of personal data is verified at the service's edge exactly as a command is (``Edge.parse(ReadBy, reader)``:
the same signed actor, ``actor.unverified`` without one) and names its ``purpose``, the route it serves
(``api.get_household``, ``console.people``, ``cli.people.export``, ``rpc.tests``): the registry writes both into
its access log. The purpose's first word is the kind of route — ``api``, ``console`` or ``cli``; anything else
(another service, a test's RPC) is ``rpc``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from shared.actor_assertion import SignedActor
from shared.edge import Command

ROUTE_KINDS = ("api", "console", "cli")  # besides "rpc"
Purpose = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", max_length=100)]


class ReadBy(Command):
    actor: SignedActor
    purpose: Purpose

    @property
    def route(self) -> str:
        kind = self.purpose.split(".", 1)[0]
        return kind if kind in ROUTE_KINDS else "rpc"

