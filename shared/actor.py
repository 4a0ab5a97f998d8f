"""Who acts: a user with a role, scoped to a region — one type from the gateway's token to the domain's checks.

The gateway builds it from the signed-in user, sends it with every command, and each service's edge validates it
(a pydantic dataclass: checked when it arrives as a dict, a plain frozen value inside); the domain asks it whether
it covers a record's region. A region is a code prefix: '18.01' (a regency) covers '18.01.06.2001', '18' (a
province) covers '18.…', '' (national) covers everything.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from shared.edge import UserName, UserRegion
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
