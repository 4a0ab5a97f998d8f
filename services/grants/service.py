"""Grants service: thin nameko entrypoints over the grants application."""

from __future__ import annotations

from nameko.rpc import rpc

from services.grants.application import GrantsApplication
from shared.backbone import Backbone, BackboneEntrypoints


class GrantsService(BackboneEntrypoints):
    name = "grants"
    app: GrantsApplication = Backbone(GrantsApplication)

    @rpc
    def set_budget_ceiling(self, fiscal_year: int, source: str, ceiling_rp: int, set_by: str) -> str:
        return self.app.set_budget_ceiling(fiscal_year, source, ceiling_rp, set_by)

    @rpc
    def budget(self, fiscal_year: int, source: str) -> dict | None:
        return self.app.budget(fiscal_year, source)

    @rpc
    def household(self, kk: str) -> dict | None:
        return self.app.household(kk)

    @rpc
    def households_summary(self) -> dict:
        return self.app.households_summary()
