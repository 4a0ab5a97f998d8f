"""Region names for labels (``18.01.06 Kalianda``), read through the API's region list and kept a while: the
official list changes with a new Kepmendagri, not between two page views."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from services.gateway.console.web import Refused

if TYPE_CHECKING:
    from services.gateway.console.web import View

KEEP_S = 600.0
PAGE = 200


class RegionNames:
    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._loaded: dict[str, float] = {}  # prefix → when its names were read

    def label(self, view: View, code: str | None) -> str:
        if not code:
            return view.lang.gettext("national")
        name = self.name(view, code)
        return f"{code} {name}" if name else code

    def name(self, view: View, code: str) -> str | None:
        """The name, or None when the list cannot be read now (a label then shows the code alone)."""
        prefix = code[:5] if len(code) >= 5 else code  # a regency's list holds its districts and villages
        loaded = self._loaded.get(prefix)
        if loaded is None or time.monotonic() - loaded >= KEEP_S:
            try:
                self._load(view, prefix, everything=len(prefix) >= 5)
            except Refused:
                return self._names.get(code)
        return self._names.get(code)

    def villages(self, view: View, region: str) -> list[tuple[str, str, list[tuple[str, str]]]] | None:
        """The villages inside ``region``, grouped by district: ``[(district code, name, [(village, name)])]``;
        None for a region larger than a regency (too many to choose from a list: the code is typed)."""
        if len(region) < 5:
            return None
        self.name(view, region)  # loads the regency's list
        districts: dict[str, list[tuple[str, str]]] = {}
        for code, name in sorted(self._names.items()):
            if len(code) == 13 and (code == region or code.startswith(region + ".")):
                districts.setdefault(code[:8], []).append((code, name))
        return [(district, self._names.get(district, ""), rows) for district, rows in districts.items()]

    def _load(self, view: View, prefix: str, everything: bool) -> None:
        page = 1
        while True:
            found = view.api("list_regions", query={"prefix": prefix, "page": page, "size": PAGE if everything else 1})
            self._names.update((row["code"], row["name"]) for row in found["items"])
            if not everything or page * PAGE >= found["total"]:
                break
            page += 1
        self._loaded[prefix] = time.monotonic()
