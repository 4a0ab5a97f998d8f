"""Who acts: a user with a role, scoped to a region — one type from the gateway's token to the domain's checks.

The gateway (or the operators' CLI) builds it from who is signed in and sends it with every command, signed
(shared/actor_assertion.py); each service's edge verifies it and makes it an Actor again (a pydantic dataclass: a
plain frozen value inside); each service's domain checks its role (``check_role``) and whether it covers the
region of what the command acts on (``check_region``).

A region is a code prefix: '18.01' (a regency) covers '18.01.06.2001', '18' (a
province) covers '18.…', '' (national) covers everything.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from shared.edge import UserName, UserRegion
from shared.errors import NotYours
from shared.vocabulary import ROLES


def covers(scope: str, region_code: str) -> bool:
    """Does someone whose region is ``scope`` act for ``region_code``?"""
    return scope == "" or region_code == scope or region_code.startswith(scope + ".")


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Actor:
    user: UserName
    role: Literal[ROLES]  # type: ignore[valid-type]
    region: UserRegion

    def covers(self, region_code: str) -> bool:
        return covers(self.region, region_code)

    def on_the_wire(self) -> dict[str, str]:
        """The actor as it travels over RPC (the service's edge makes it an Actor again)."""
        return asdict(self)


def check_role(actor: Actor, allowed: tuple[str, ...], action: str) -> None:
    if actor.role not in allowed:
        raise NotYours("role.forbidden", f"{actor.user} ({actor.role}) may not {action}; only {', '.join(allowed)}",
                       user=actor.user, role=actor.role)


def check_region(actor: Actor, region_code: str, action: str) -> None:
    if not actor.covers(region_code):
        raise NotYours("region.scope", f"{actor.user} acts for region {actor.region or 'national'}, "
                                       f"not {region_code or 'the whole country'}: may not {action}",
                       user=actor.user, region=region_code)
