"""Reading a DTKS/BDT export (one row per individual) into validated households.

The column layout is configuration (:class:`BdtLayout`): which header names the file uses for each of our fields,
in any order, with ``BDT_COLUMNS`` as the default; an optional BDT status column says that a household graduated
or was removed (deceased, moved, duplicate) — without it every household of the file is active.

Rows are grouped by ``no_kk`` in first-seen order because one household's rows need not be adjacent, and a NIK
seen again anywhere later rejects both households. :func:`read_bdt` reads the file once and holds the validated
rows, compactly, until its end. :func:`stream_bdt` passes each household on as soon as it is complete, with the
same outcome, because a cheap first pass (:func:`outline_bdt`) has told it which KKs come back later and which
NIKs repeat: the import sends households while the file is still being read. A household with any invalid row is
rejected whole and every one of its rows is reported with its physical line number (header = line 1). Bad data
never raises; only an unreadable file or a wrong header does.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from shared.errors import ValidationFailed
from shared.ids import (
    NIK_RE,
    Sex,
    check_kk,
    check_kk_shape,
    check_nik_matches,
    check_nik_shape,
    check_village,
    check_village_shape,
    jakarta_today,
)
from shared.regions import CsvSource, RegionTable, iter_csv

BDT_COLUMNS = (
    "id_dtks",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan_keluarga",
    "status_perkawinan",
    "pekerjaan",
    "kode_wilayah",
    "alamat",
    "desil",
)
STATUS_FIELD = "status_bdt"  # optional: the household's standing in this file
HEAD = "Kepala Keluarga"
RELATIONS = (HEAD, "Istri", "Suami", "Anak", "Menantu", "Cucu", "Orang Tua", "Mertua", "Famili Lain", "Lainnya")
MARITAL_STATUSES = ("Belum Kawin", "Kawin", "Cerai Hidup", "Cerai Mati")

_SHARED_COLUMNS = ("id_dtks", "kode_wilayah", "alamat", "desil", STATUS_FIELD)  # equal on every row of a household
# The status column's words (Indonesian as the exports write them, English too) → BDT status and why.
STATUS_CELLS: dict[str, tuple[str, str]] = {
    "": ("active", ""), "aktif": ("active", ""), "active": ("active", ""),
    "graduasi": ("graduated", ""), "graduated": ("graduated", ""),
    "meninggal": ("removed", "deceased"), "deceased": ("removed", "deceased"),
    "pindah": ("removed", "moved"), "moved": ("removed", "moved"),
    "ganda": ("removed", "duplicate"), "duplicate": ("removed", "duplicate"),
}
_SPOUSE = "Istri/Suami"  # the form's combined value: resolved by the member's sex


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


# Exact spellings first (the common case, one lookup), then a whitespace- and case-insensitive key.
_RELATION = {text: text for text in RELATIONS} | {_key(text): text for text in RELATIONS}
_RELATION |= {_key(_SPOUSE): _SPOUSE, _key("Suami/Istri"): _SPOUSE}
_MARITAL = {text: text for text in MARITAL_STATUSES} | {_key(text): text for text in MARITAL_STATUSES}
_SEX: dict[str, Sex] = {"L": "L", "P": "P", "l": "L", "p": "P"}
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class MemberRecord:
    nik: str
    name: str
    sex: Sex
    birth_date: date
    relation: str
    marital_status: str
    occupation: str


@dataclass(frozen=True, slots=True)
class HouseholdRecord:
    kk: str
    dtks_id: str
    village_code: str
    address: str
    decile: int
    members: tuple[MemberRecord, ...]
    status: str = "active"  # BDT_STATUSES
    status_reason: str = ""  # why removed: deceased, moved or duplicate


@dataclass(frozen=True)
class BdtLayout:
    """Our field → the file's header name for it. Every mapped column must be in the header, once, in any order;
    a column the layout does not name is refused (a misspelt name must not be read as a missing value)."""

    columns: Mapping[str, str] = field(default_factory=lambda: {name: name for name in BDT_COLUMNS})
    status_column: str | None = None  # the file's name for STATUS_FIELD, when it has one

    def __post_init__(self) -> None:
        if sorted(self.columns) != sorted(BDT_COLUMNS):
            raise ValidationFailed("layout", "bdt.layout", f"a layout maps exactly {', '.join(BDT_COLUMNS)}",
                                   missing=[c for c in BDT_COLUMNS if c not in self.columns],
                                   unexpected=[c for c in self.columns if c not in BDT_COLUMNS])

    def names(self) -> tuple[str, ...]:
        """The header names in our order (the status column last, when mapped)."""
        named = tuple(self.columns[column] for column in BDT_COLUMNS)
        return (*named, self.status_column) if self.status_column else named


def read_layout(path: Path) -> BdtLayout:
    """A layout file (YAML): ``columns: {our name: the file's name, ...}``, optionally ``status_bdt: name``; a field
    left out keeps its default name."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    columns = {name: name for name in BDT_COLUMNS} | {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    status = data.get(STATUS_FIELD)
    return BdtLayout(columns, str(status) if status else None)


DEFAULT_LAYOUT = BdtLayout()


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    no_kk: str
    reason: str


@dataclass(frozen=True, slots=True)
class BdtImport:
    households: tuple[HouseholdRecord, ...]
    rejected: tuple[RejectedRow, ...]  # ordered by line


class _Household:
    """The rows of one KK read so far. The household-level cells come from its first well-formed row."""

    __slots__ = ("kk", "lines", "niks", "members", "problems", "shared", "shared_line", "decile", "head_line")

    def __init__(self, kk: str) -> None:
        self.kk = kk
        self.lines: list[int] = []
        self.niks: list[str] = []  # parallel to lines: finds the line of a NIK seen again later
        self.members: list[MemberRecord] = []
        self.problems: dict[int, list[str]] | None = None  # by line; most households have none
        self.shared: tuple[str, str, str, str, str] | None = None  # cells of _SHARED_COLUMNS
        self.shared_line = 0
        self.decile = 0
        self.head_line = 0

    def flag(self, line: int, reason: str) -> None:
        if self.problems is None:
            self.problems = {}
        self.problems.setdefault(line, []).append(reason)


@dataclass(frozen=True, slots=True)
class BdtOutline:
    """What a first pass over the KK and NIK columns alone finds: enough to pass each household on, checked, as soon
    as its last row is read, with exactly the outcome of reading the whole file first."""

    households: int  # KKs in the file
    last_lines: dict[str, int]  # the line of the last row of each KK whose rows are not all together
    repeated: frozenset[str]  # well-formed NIKs on more than one line: their households are rejected


def outline_bdt(source: CsvSource, layout: BdtLayout = DEFAULT_LAYOUT) -> BdtOutline:
    """The first pass (no row is checked): csv alone, a few sets, a small part of the cost of checking the rows."""
    rows = iter_csv(source)
    order = _check_header(next(rows, None), layout)
    kk_at, nik_at = order[1], order[2]
    kks: set[str] = set()
    last_lines: dict[str, int] = {}
    niks: set[str] = set()
    repeated: set[str] = set()
    previous = None
    for line, cells in rows:
        kk, nik = _kk_and_nik(cells, kk_at, nik_at)
        if kk != previous:
            if kk in kks:
                last_lines[kk] = line  # back after another KK: its rows are not together
            kks.add(kk)
            previous = kk
        elif kk in last_lines:
            last_lines[kk] = line
        if nik in niks:
            repeated.add(nik)
        niks.add(nik)
    return BdtOutline(len(kks), last_lines, frozenset(filter(NIK_RE.fullmatch, repeated)))


def read_bdt(source: CsvSource, regions: RegionTable | None, *, today: date | None = None,
             layout: BdtLayout = DEFAULT_LAYOUT) -> BdtImport:
    """Validate a DTKS/BDT file; ``today`` (default: today in Jakarta) bounds the birth dates.

    Without ``regions`` the identifiers are checked for their shape only (16 digits, ``PP.KK.CC.DDDD``): the import
    leaves their meaning — a known regency and village, a NIK that encodes the member's sex and birth date — to the
    registry, which checks it once against its own table (never trusting the file's reader)."""
    valid: list[HouseholdRecord] = []
    rejected: list[RejectedRow] = []
    for outcome in stream_bdt(source, regions, None, today=today, layout=layout):
        if isinstance(outcome, HouseholdRecord):
            valid.append(outcome)
        else:
            rejected += outcome
    rejected.sort(key=lambda row: row.line)
    return BdtImport(tuple(valid), tuple(rejected))


def stream_bdt(source: CsvSource, regions: RegionTable | None, outline: BdtOutline | None, *,
               today: date | None = None,
               layout: BdtLayout = DEFAULT_LAYOUT) -> Iterator[HouseholdRecord | tuple[RejectedRow, ...]]:
    """Each household of the file as :func:`read_bdt` judges it — its record, or all its rows rejected — passed on
    as soon as ``outline`` (:func:`outline_bdt` of the same file) shows it complete; the valid ones in first-seen order.

    Without an outline (a stream that cannot be read twice) every household waits for the end of the file."""
    rows = iter_csv(source)
    order = _check_header(next(rows, None), layout)  # our columns' positions; a wrong header raises now, not later
    return map(_outcome, _households(rows, order, regions, today or jakarta_today(), outline))


def _kk_and_nik(cells: list[str], kk_at: int, nik_at: int) -> tuple[str, str]:
    """A row's KK and NIK, as both passes see them: a short row too."""
    return (cells[kk_at].strip() if len(cells) > kk_at else "", cells[nik_at].strip() if len(cells) > nik_at else "")


def _households(rows: Iterator[tuple[int, list[str]]], order: list[int], regions: RegionTable | None, today: date,
                outline: BdtOutline | None) -> Iterator[_Household]:
    """The file's households, their rows checked, each passed on once complete.

    A household's outcome depends on its own rows and on a NIK it shares with another line. With an outline, a KK
    whose rows are together is complete when the next KK starts, any other one at its last line; a household with a
    NIK of ``outline.repeated`` is rejected whatever else it holds, so it waits for the end of the file (its reasons
    name the later lines) without holding back the households after it. Without one, any KK may come back and any
    NIK repeat on the last line: every household waits for the end of the file."""
    kk_at, nik_at, width = order[1], order[2], len(order)
    reading: dict[str, _Household] = {}  # by KK: read so far, not passed on
    waiting: deque[_Household] = deque()  # the same, in first-seen order: the valid ones leave in that order
    doomed: list[_Household] = []
    by_nik: dict[str, _Household] = {}  # the first household of each NIK that may repeat
    for line, cells in rows:
        kk, nik = _kk_and_nik(cells, kk_at, nik_at)
        household = reading.get(kk)
        if household is None:
            household = reading[kk] = _Household(kk)
            waiting.append(household)
        household.lines.append(line)
        household.niks.append(nik)
        if len(cells) != width:
            household.flag(line, f"{len(cells)} fields where the header has {width}")
        else:
            ours = [cells[at].strip() for at in order]
            _read_row(household, line, ours if len(ours) > len(BDT_COLUMNS) else [*ours, ""], regions, today)
        if NIK_RE.fullmatch(nik) and (outline is None or nik in outline.repeated):  # a blank NIK is no duplicate
            first = by_nik.setdefault(nik, household)
            if first is not household or household.niks.count(nik) > 1:
                _flag_duplicate(nik, first, household, line)
        while outline is not None and waiting:
            oldest = waiting[0]
            last = outline.last_lines.get(oldest.kk)
            if (line < last) if last is not None else (oldest.kk == kk):
                break  # not complete yet
            del reading[waiting.popleft().kk]
            if outline.repeated.isdisjoint(oldest.niks):
                yield oldest
            else:
                doomed.append(oldest)
    # Let go of all but the queue, so that each household is freed once passed on.
    reading.clear()
    by_nik.clear()
    while waiting:
        yield waiting.popleft()
    while doomed:
        yield doomed.pop()


def _check_header(header: tuple[int, list[str]] | None, layout: BdtLayout) -> list[int]:
    """The position in the file of each of the layout's columns, in our order."""
    expected = layout.names()
    found = [cell.strip() for cell in header[1]] if header else []
    if sorted(found) == sorted(expected) and len(set(found)) == len(found):
        return [found.index(name) for name in expected]
    missing = [column for column in expected if column not in found]
    unexpected = [column for column in found if column not in expected]
    if not header:
        problem = "the file is empty"
    elif missing or unexpected:
        problem = "; ".join(
            f"{label}: {', '.join(columns)}"
            for label, columns in (("missing", missing), ("unexpected", unexpected))
            if columns
        )
    else:
        problem = "a column is repeated"
    raise ValidationFailed(
        "header",
        "bdt.header",
        f"line 1: the header must have exactly the columns {','.join(expected)} ({problem})",
        missing=missing,
        unexpected=unexpected,
    )


def _read_row(household: _Household, line: int, cells: list[str], regions: RegionTable | None, today: date) -> None:
    dtks_id, kk, nik, name, sex, born, relation, marital, occupation, village, address, decile, status = cells
    shared = (dtks_id, village, address, decile, status)
    if household.shared is None:
        # Interned: a few thousand village codes stand for hundreds of thousands of households.
        household.shared, household.shared_line = (dtks_id, sys.intern(village), address, decile, status), line
        try:
            household.decile = _household_cells(dtks_id, kk, village, decile, status, regions)
        except ValidationFailed as e:
            household.flag(line, e.message)
    elif shared != household.shared:
        for column, mine, first in zip(_SHARED_COLUMNS, shared, household.shared, strict=True):
            if mine != first:
                household.flag(
                    line, f"{column} {mine!r} differs from {first!r} on line {household.shared_line} of KK {kk}"
                )
    try:
        member = _member(nik, name, sex, born, relation, marital, occupation, regions, today)
    except ValidationFailed as e:
        household.flag(line, e.message)
        return
    if member.relation == HEAD:
        if household.head_line:
            household.flag(line, f"second {HEAD} in KK {kk}; the first is on line {household.head_line}")
        else:
            household.head_line = line
    household.members.append(member)


def _household_cells(dtks_id: str, kk: str, village: str, decile: str, status: str,
                     regions: RegionTable | None) -> int:
    """Check the cells every row of a household shares; returns the decile."""
    if not dtks_id:
        raise ValidationFailed("id_dtks", "bdt.dtks_id_empty", "id_dtks is empty")
    if regions is None:
        check_kk_shape(kk)
        check_village_shape(village)
    else:
        check_kk(kk, regions)
        check_village(village, regions)
    if not (decile.isascii() and decile.isdigit() and 1 <= int(decile) <= 10):
        raise ValidationFailed("desil", "bdt.decile", f"desil {decile!r} is not an integer 1–10")
    if status.casefold() not in STATUS_CELLS:
        raise ValidationFailed(STATUS_FIELD, "bdt.status", f"{STATUS_FIELD} {status!r} is not one of "
                                                          f"{', '.join(sorted(filter(None, STATUS_CELLS)))}")
    return int(decile)


def _member(
    nik: str,
    name: str,
    sex_text: str,
    born_text: str,
    relation_text: str,
    marital_text: str,
    occupation: str,
    regions: RegionTable | None,
    today: date,
) -> MemberRecord:
    if not name:
        raise ValidationFailed("nama", "bdt.name_empty", f"nama is empty for NIK {nik!r}")
    sex = _SEX.get(sex_text)
    if sex is None:
        raise ValidationFailed("jenis_kelamin", "bdt.sex", f"jenis_kelamin {sex_text!r} is not L or P")
    born = _parse_date(born_text)
    if born > today:
        raise ValidationFailed("tanggal_lahir", "bdt.birth_date_future", f"tanggal_lahir {born_text} is in the future")
    if regions is None:
        check_nik_shape(nik)
    else:
        check_nik_matches(nik, sex, born, regions)
    relation = _RELATION.get(relation_text) or _RELATION.get(_key(relation_text))
    if relation is None:
        raise ValidationFailed(
            "hubungan_keluarga",
            "bdt.relation",
            f"hubungan_keluarga {relation_text!r} is not one of {', '.join(RELATIONS)}, Istri/Suami",
        )
    if relation == _SPOUSE:
        relation = "Istri" if sex == "P" else "Suami"
    marital = _MARITAL.get(marital_text) or _MARITAL.get(_key(marital_text))
    if marital is None:
        raise ValidationFailed(
            "status_perkawinan",
            "bdt.marital_status",
            f"status_perkawinan {marital_text!r} is not one of {', '.join(MARITAL_STATUSES)}",
        )
    # A few dozen occupations repeat over a million rows: share one string each.
    return MemberRecord(nik, name, sex, born, relation, marital, sys.intern(occupation))


@lru_cache(maxsize=1 << 16)  # some 40,000 birth dates cover everyone alive: one shared date object each
def _parse_date(text: str) -> date:
    try:
        if _DATE_RE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValidationFailed("tanggal_lahir", "bdt.birth_date", f"tanggal_lahir {text!r} is not a date YYYY-MM-DD")


def _flag_duplicate(nik: str, first: _Household, again: _Household, line: int) -> None:
    first_line = first.lines[first.niks.index(nik)]
    again.flag(line, f"NIK {nik} is also on line {first_line} (KK {first.kk})")
    first.flag(first_line, f"NIK {nik} is also on line {line} (KK {again.kk})")


def _outcome(household: _Household) -> HouseholdRecord | tuple[RejectedRow, ...]:
    """The household's record, or every one of its rows rejected with its reason."""
    if not household.head_line and not household.problems:
        for line in household.lines:
            household.flag(line, f"KK {household.kk} has no {HEAD}")
    problems = household.problems
    if not problems:
        assert household.shared is not None  # a household without problems has a well-formed row
        dtks_id, village, address, _, status = household.shared
        return HouseholdRecord(household.kk, dtks_id, village, address, household.decile, tuple(household.members),
                               *STATUS_CELLS[status.casefold()])
    bad = sorted(problems)
    because = (
        f"KK {household.kk} rejected because line {bad[0]} is invalid"
        if len(bad) == 1
        else f"KK {household.kk} rejected because lines {', '.join(map(str, bad))} are invalid"
    )
    return tuple(RejectedRow(line, household.kk, "; ".join(problems[line]) if line in problems else because)
                 for line in household.lines)
