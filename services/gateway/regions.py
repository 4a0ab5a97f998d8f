"""The official region table as the gateway answers it (GET /regions, and through it the console's labels; the
printouts' place names), read from the registry once and kept: a region's code and name change only when a new list
is imported, which this gateway's own import route clears at once — an import by the CLI or another replica shows
within ``KEEP_S``, as the console's labels always did. The registry checks every code a command names against its
own table: what is kept here is only ever shown.

Bounded: a table of more than ``MAX_CODES`` codes (the whole country has about 91,000) is not kept, but read each
time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

KEEP_S = 600.0
MAX_CODES = 100_000


class KeptRegions:
    def __init__(self, keep_s: float = KEEP_S, max_codes: int = MAX_CODES) -> None:
        self.keep_s, self.max_codes = keep_s, max_codes
        self._rows: list[dict] = []
        self._names: dict[str, str] = {}
        self._read_at = float("-inf")

    def rows(self, rpc: Callable[..., Any]) -> list[dict]:
        """Every row (code, name, level), in code order."""
        if time.monotonic() - self._read_at < self.keep_s:
            return self._rows
        rows = rpc("registry", "region_rows")
        if len(rows) <= self.max_codes:
            self._rows, self._names, self._read_at = rows, {r["code"]: r["name"] for r in rows}, time.monotonic()
        return rows

    def names(self, rpc: Callable[..., Any], codes: list[str]) -> dict[str, str]:
        """The names of those of ``codes`` the table holds."""
        rows = self.rows(rpc)
        names = self._names if rows is self._rows else {r["code"]: r["name"] for r in rows}
        return {code: names[code] for code in codes if code in names}

    def forget(self) -> None:
        """Read the table again at the next question (a new list was imported)."""
        self._read_at = float("-inf")
