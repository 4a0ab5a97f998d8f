"""Region names for labels (``18.01.06 Kalianda``) and the village pickers, from the gateway's own kept copy of the
official table (services/gateway/regions.py): one copy, so a list imported through this gateway shows in the
console's labels from the next page on, as in the API's answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.gateway.errors import ServiceUnavailable

if TYPE_CHECKING:
    from services.gateway.console.web import View


class RegionNames:
    def label(self, view: View, code: str | None) -> str:
        if not code:
            return view.lang.gettext("national")
        name = self.name(view, code)
        return f"{code} {name}" if name else code

    def name(self, view: View, code: str) -> str | None:
        """The name, or None when the table cannot be read now (a label then shows the code alone)."""
        try:
            return view.gateway.regions.names(view.rpc, [code]).get(code)
        except ServiceUnavailable:
            return None

    def villages(self, view: View, region: str) -> list[tuple[str, str, list[tuple[str, str]]]] | None:
        """The villages inside ``region``, grouped by district: ``[(district code, name, [(village, name)])]``;
        None for a region larger than a regency (too many to choose from a list: the code is typed)."""
        if len(region) < 5:
            return None
        try:
            rows = view.gateway.regions.rows(view.rpc)  # in code order: each district's villages come sorted
        except ServiceUnavailable:
            return []
        districts: dict[str, list[tuple[str, str]]] = {}
        for row in rows:
            code = row["code"]
            if len(code) == 13 and (code == region or code.startswith(region + ".")):
                districts.setdefault(code[:8], []).append((code, row["name"]))
        names = view.gateway.regions.names(view.rpc, list(districts))
        return [(district, names.get(district, ""), villages) for district, villages in districts.items()]
