"""Registry service: thin nameko entrypoints over the registry application."""

from __future__ import annotations

from services.registry.application import RegistryApplication
from services.registry.commands import RegisterHousehold
from shared.backbone import Backbone, BackboneEntrypoints, domain_rpc
from shared.edge import parse_command


class RegistryService(BackboneEntrypoints):
    name = "registry"
    app: RegistryApplication = Backbone(RegistryApplication)

    @domain_rpc
    def register_household(self, household: dict) -> str:
        return self.app.register_households([parse_command(RegisterHousehold, household)])[0]

    @domain_rpc
    def register_households(self, households: list) -> list[str]:
        return self.app.register_households([parse_command(RegisterHousehold, h) for h in households])

    @domain_rpc
    def household(self, kk: str) -> dict | None:
        return self.app.household(kk)
