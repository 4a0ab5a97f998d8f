"""CSV cells a spreadsheet will not run as a formula (CSV injection, CWE-1236).

A KUBE's name, a receiver, a bank reference or a region's name is typed by somebody; in a CSV opened in a
spreadsheet, a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be run as a formula
(``=HYPERLINK(...)`` on the auditor's machine). Every CSV berdaya writes for people passes its text cells here:
such a cell is prefixed with an apostrophe, which spreadsheets show as text (OWASP's advice). Numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_row(values: Iterable[Any]) -> list[Any]:
    return [neutralised(value) for value in values]
