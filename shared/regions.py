"""Indonesian region codes (kode wilayah, Kepmendagri 300.2.2-2138/2025) and the CSV reader the imports share.

A code has one to four dot-separated parts: province ``PP``, regency ``PP.KK``, district ``PP.KK.CC``, village
``PP.KK.CC.DDDD``; its level is the number of parts. The table is an input an operator imports (the official
list), so every row is checked here rather than trusted.
"""

from __future__ import annotations

import csv
import os
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import NamedTuple, TextIO

from shared.errors import ValidationFailed

# The shapes of a region code, declared once (shared.edge checks them at every service's edge, the gateway's too).
# [0-9] rather than \d: \d also matches non-ASCII digits such as '١'.
REGION_PATTERN = r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$"  # a province, regency, district or village
VILLAGE_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"
CODE_RE = re.compile(REGION_PATTERN)
VILLAGE_RE = re.compile(VILLAGE_PATTERN)
REGION_HEADER = ["code", "name", "level"]

CsvSource = str | os.PathLike[str] | TextIO


class RegionRow(NamedTuple):
    code: str
    name: str
    level: int


def iter_csv(source: CsvSource) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, cells)`` for every non-blank record of a UTF-8 CSV file (with or without BOM, CRLF or LF).

    ``line`` is the physical line the record starts on (the header is line 1), so that a message can point an
    operator at the spot even when a quoted cell spans lines. An unreadable file raises ``ValidationFailed``.
    """
    with ExitStack() as stack:
        if isinstance(source, str | os.PathLike):
            try:
                # utf-8-sig drops a BOM; newline="" lets the csv module see quoted line breaks and CRLF intact.
                source = stack.enter_context(open(source, encoding="utf-8-sig", newline=""))
            except OSError as e:
                raise ValidationFailed("file", "csv.unreadable", f"cannot open {source}: {e.strerror}") from e
        reader = csv.reader(source)
        line, first = 1, True
        try:
            for cells in reader:
                if cells:
                    if first and cells[0].startswith("\ufeff"):  # a stream opened as plain utf-8 keeps the BOM
                        cells[0] = cells[0][1:]
                    first = False
                    yield line, cells
                line = reader.line_num + 1
        except (UnicodeDecodeError, csv.Error) as e:
            raise ValidationFailed(
                "file", "csv.unreadable", f"file is not readable UTF-8 CSV near line {reader.line_num + 1}: {e}"
            ) from e


# A well-formed code's length gives its level: PP, PP.KK, PP.KK.CC, PP.KK.CC.DDDD.
_LEVEL_BY_LENGTH = {2: 1, 5: 2, 8: 3, 13: 4}
_LEVEL_TEXT = {"1": 1, "2": 2, "3": 3, "4": 4}


def _code_level(code: str) -> int | None:
    return _LEVEL_BY_LENGTH[len(code)] if CODE_RE.fullmatch(code) else None


def _row_problem(code: str, level: int) -> tuple[str, str, str] | None:
    """``(field, rule, message)`` when a row is malformed, else None. Runs on every row: the cheap test first."""
    if _LEVEL_BY_LENGTH.get(len(code)) == level and CODE_RE.fullmatch(code):
        return None
    parts = _code_level(code)
    if parts is None:
        return "code", "region.code_format", f"region code {code!r} is not PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD"
    return "level", "region.level", f"region code {code!r} has {parts} part(s) but level {level}"


class RegionTable:
    """Region codes with their names; lookups and parent/child queries by code prefix."""

    def __init__(self, rows: Iterable[tuple[str, str, int]]) -> None:
        self._rows: dict[str, tuple[str, str, int]] = {}
        for row in rows:
            code, name, level = row
            problem = _row_problem(code, level)
            if problem:
                raise ValidationFailed(*problem, code=code)
            known = self._rows.get(code)
            # Tables are merged (all regencies + one province in full), so an identical repeat is expected.
            if known is not None and known[1] != name:
                raise ValidationFailed(
                    "code", "region.conflict", f"region {code} is named both {known[1]!r} and {name!r}", code=code
                )
            self._rows[code] = row
        self._sorted = sorted(self._rows)

    def rows(self) -> list[RegionRow]:
        return [RegionRow(*self._rows[code]) for code in self._sorted]

    def __len__(self) -> int:
        return len(self._rows)

    def name(self, code: str) -> str | None:
        row = self._rows.get(code)
        return row[1] if row else None

    def level(self, code: str) -> int | None:
        row = self._rows.get(code)
        return row[2] if row else None

    def exists(self, code: str) -> bool:
        return code in self._rows

    def is_village(self, code: str) -> bool:
        return self.level(code) == 4

    def is_regency(self, code: str) -> bool:
        return self.level(code) == 2

    def regencies(self) -> list[str]:
        return [code for code in self._sorted if len(code) == 5]

    def districts(self, regency: str) -> list[str]:
        return self._below(regency, 3)

    def villages(self, district_or_regency: str) -> list[str]:
        return self._below(district_or_regency, 4)

    def _below(self, code: str, level: int) -> list[str]:
        # In sorted order the codes under P are exactly those in [P + ".", P + "/"): '/' follows '.' in ASCII.
        # Found by prefix, so a village is listed even when its district row is missing from the import.
        lo = bisect_left(self._sorted, code + ".")
        hi = bisect_left(self._sorted, code + "/", lo)
        return [below for below in self._sorted[lo:hi] if self._rows[below][2] == level]

    @staticmethod
    def regency_of(code: str) -> str:
        """``'18.01.06.2001'`` → ``'18.01'``; the code must be well-formed and below province level."""
        level = _code_level(code)
        if level is None or level < 2:
            raise ValidationFailed(
                "code", "region.code_format", f"region code {code!r} is not a regency or a code below one"
            )
        return code[:5]


def load_region_csv(source: CsvSource) -> list[RegionRow]:
    """Read ``code,name,level`` rows; the first malformed row raises ``ValidationFailed`` naming its line."""
    rows = iter_csv(source)
    header = next(rows, None)
    if header is None or [cell.strip() for cell in header[1]] != REGION_HEADER:
        found = ",".join(header[1]) if header else "an empty file"
        raise ValidationFailed("header", "region.header", f"line 1: expected header code,name,level, got {found}")
    result: list[RegionRow] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != 3:
            raise ValidationFailed(
                "header", "region.columns", f"line {line}: {len(cells)} fields, the header has 3", line=line
            )
        code, name, level_text = cells[0].strip(), cells[1].strip(), cells[2].strip()
        level = _LEVEL_TEXT.get(level_text)
        if level is None:
            raise ValidationFailed("level", "region.level", f"line {line}: level {level_text!r} is not 1–4", line=line)
        problem = _row_problem(code, level)
        if problem:
            raise ValidationFailed(problem[0], problem[1], f"line {line}: {problem[2]}", line=line)
        if not name:
            raise ValidationFailed("name", "region.name_empty", f"line {line}: region {code} has no name", line=line)
        if code in first_line:
            raise ValidationFailed(
                "code",
                "region.duplicate",
                f"line {line}: region {code} already listed at line {first_line[code]}",
                line=line,
            )
        first_line[code] = line
        result.append(RegionRow(code, name, level))
    return result


def load_region_table(*sources: CsvSource) -> RegionTable:
    """One table from several region files, e.g. every regency of Indonesia plus one province in full."""
    return RegionTable(row for source in sources for row in load_region_csv(source))


# Only the facts of the design notes (domain.md, Kepmendagri 300.2.2-2138/2025): province 18, all its regencies, the 17
# districts of Lampung Selatan and ten of its villages. Lets the demo run on a machine without the data folder.
_LAMPUNG_SELATAN: tuple[tuple[str, str, int], ...] = (
    ("18", "Lampung", 1),
    ("18.01", "Kabupaten Lampung Selatan", 2),
    ("18.02", "Kabupaten Lampung Tengah", 2),
    ("18.03", "Kabupaten Lampung Utara", 2),
    ("18.04", "Kabupaten Lampung Barat", 2),
    ("18.05", "Kabupaten Tulang Bawang", 2),
    ("18.06", "Kabupaten Tanggamus", 2),
    ("18.07", "Kabupaten Lampung Timur", 2),
    ("18.08", "Kabupaten Way Kanan", 2),
    ("18.09", "Kabupaten Pesawaran", 2),
    ("18.10", "Kabupaten Pringsewu", 2),
    ("18.11", "Kabupaten Mesuji", 2),
    ("18.12", "Kabupaten Tulang Bawang Barat", 2),
    ("18.13", "Kabupaten Pesisir Barat", 2),
    ("18.71", "Kota Bandar Lampung", 2),
    ("18.72", "Kota Metro", 2),
    ("18.01.04", "Natar", 3),
    ("18.01.05", "Tanjung Bintang", 3),
    ("18.01.06", "Kalianda", 3),
    ("18.01.07", "Sidomulyo", 3),
    ("18.01.08", "Katibung", 3),
    ("18.01.09", "Penengahan", 3),
    ("18.01.10", "Palas", 3),
    ("18.01.13", "Jati Agung", 3),
    ("18.01.14", "Ketapang", 3),
    ("18.01.15", "Sragi", 3),
    ("18.01.16", "Raja Basa", 3),
    ("18.01.17", "Candipuro", 3),
    ("18.01.18", "Merbau Mataram", 3),
    ("18.01.21", "Bakauheni", 3),
    ("18.01.22", "Tanjung Sari", 3),
    ("18.01.23", "Way Sulan", 3),
    ("18.01.24", "Way Panji", 3),
    ("18.01.04.2001", "Hajimena", 4),
    ("18.01.04.2002", "Sidosari", 4),
    ("18.01.04.2003", "Pemanggilan", 4),
    ("18.01.04.2004", "Natar", 4),
    ("18.01.04.2005", "Muara Putih", 4),
    ("18.01.06.2001", "Jondong", 4),
    ("18.01.06.2002", "Tengkujuh", 4),
    ("18.01.06.2003", "Pauh Tanjung Iman", 4),
    ("18.01.06.2004", "Sumur Kumbang", 4),
    ("18.01.06.2005", "Maja", 4),
)


def builtin_lampung_selatan() -> RegionTable:
    return RegionTable(_LAMPUNG_SELATAN)
