"""Grants service: thin nameko entrypoints over the grants application."""

from __future__ import annotations

from services.grants.application import GrantsApplication
from shared.backbone import Backbone, BackboneEntrypoints, domain_rpc


class GrantsService(BackboneEntrypoints):
    name = "grants"
    app: GrantsApplication = Backbone(GrantsApplication)

    @domain_rpc
    def set_budget_ceiling(self, fiscal_year: int, source: str, ceiling_rp: int, set_by: str) -> str:
        return self.app.set_budget_ceiling(fiscal_year, source, ceiling_rp, set_by)

    @domain_rpc
    def budget(self, fiscal_year: int, source: str) -> dict | None:
        return self.app.budget(fiscal_year, source)

    @domain_rpc
    def household(self, kk: str) -> dict | None:
        return self.app.household(kk)

    @domain_rpc
    def households_summary(self) -> dict:
        return self.app.households_summary()

    @domain_rpc
    def households_by_village(self) -> dict[str, int]:
        return self.app.households_by_village()

    @domain_rpc
    def group(self, group_id: str) -> dict | None:
        return self.app.group(group_id)
