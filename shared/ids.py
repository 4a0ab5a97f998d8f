"""Identifier checks used at the edge of every service: NIK, KK and village codes.

NIK layout (Dukcapil): ``PP KK CC DD MM YY SSSS`` — province, regency and district of *first* registration (not
the domicile, so never derive an address from it), birth day (+40 for women), month, two-digit year, serial.
Every failure is a ``ValidationFailed`` naming the value, so an operator can find the bad cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from shared.errors import ValidationFailed
from shared.regions import VILLAGE_RE, RegionTable

# [0-9] rather than \d: \d also matches non-ASCII digits. Declared once (shared.edge checks it at every edge).
NIK_PATTERN = r"^[0-9]{16}$"
NIK_RE = re.compile(NIK_PATTERN)
KK_RE = NIK_RE  # a KK number has the same shape: 16 digits
Sex = Literal["L", "P"]

# Asia/Jakarta (WIB) has been UTC+7 without daylight saving since 1964: a fixed offset needs no tzdata.
WIB = timezone(timedelta(hours=7), "WIB")


def jakarta_today() -> date:
    return datetime.now(WIB).date()


@dataclass(frozen=True, slots=True)
class NikInfo:
    nik: str
    regency_code: str  # 'PP.KK'
    district_code: str  # 'PP.KK.CC' of first registration; not checked against the table (districts split)
    birth_date: date
    sex: Sex
    serial: int


def parse_nik(nik: str, regions: RegionTable, *, birth_date: date | None = None, today: date | None = None) -> NikInfo:
    """Decode a NIK, checking format, regency, encoded birth date and serial.

    The year has two digits. ``birth_date`` (the stated one, if any) supplies the century; without it the birth
    is put in the latest century that is not after ``today`` (default: today in Jakarta), i.e. age 0–99.
    """
    born, sex = _decode(nik, regions, birth_date, today)
    return NikInfo(nik, f"{nik[0:2]}.{nik[2:4]}", f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}", born, sex, int(nik[12:16]))


def check_nik_matches(nik: str, sex: str, birth_date: date, regions: RegionTable) -> None:
    """Require a valid NIK that encodes the stated sex and birth date.

    Returns nothing so that a million-row import does not build a ``NikInfo`` per row: use ``parse_nik`` for it.
    """
    encoded_born, encoded_sex = _decode(nik, regions, birth_date, None)
    if encoded_sex != sex:
        raise ValidationFailed(
            "nik",
            "nik.sex_mismatch",
            f"NIK {nik} encodes sex {encoded_sex} (day {nik[6:8]}) but the stated sex is {sex!r}",
            nik=nik,
            stated=sex,
            encoded=encoded_sex,
        )
    if encoded_born != birth_date:
        raise ValidationFailed(
            "nik",
            "nik.birth_date_mismatch",
            f"NIK {nik} encodes birth date DDMMYY {nik[6:12]} ({encoded_born.isoformat()}) "
            f"but the stated birth date is {birth_date.isoformat()}",
            nik=nik,
            stated=birth_date.isoformat(),
            encoded=encoded_born.isoformat(),
        )


def check_nik_shape(nik: str) -> str:
    """A NIK's shape alone, 16 digits: what an edge checks before the region table does (``check_nik_matches``)."""
    if not isinstance(nik, str) or not NIK_RE.fullmatch(nik):
        raise ValidationFailed("nik", "nik.format", f"NIK {nik!r} must be exactly 16 digits", nik=nik)
    return nik


def _decode(nik: str, regions: RegionTable, hint: date | None, today: date | None) -> tuple[date, Sex]:
    check_nik_shape(nik)
    regency = f"{nik[0:2]}.{nik[2:4]}"
    if not regions.is_regency(regency):
        raise ValidationFailed(
            "nik", "nik.regency_unknown", f"NIK {nik}: {regency} is not a known regency code", nik=nik
        )
    encoded_day, month = int(nik[6:8]), int(nik[8:10])
    sex: Sex = "P" if encoded_day > 40 else "L"
    day = encoded_day - 40 if sex == "P" else encoded_day
    born = _birth_date(day, month, int(nik[10:12]), hint, today)
    if born is None:
        day_text = f"day {encoded_day} − 40 = {day}" if sex == "P" else f"day {day}"
        raise ValidationFailed(
            "nik",
            "nik.birth_date_invalid",
            f"NIK {nik}: DDMMYY {nik[6:12]} is not a valid birth date ({day_text}, month {month})",
            nik=nik,
        )
    if nik.endswith("0000"):
        raise ValidationFailed("nik", "nik.serial", f"NIK {nik}: serial 0000 is not 0001–9999", nik=nik)
    return born, sex


def _birth_date(day: int, month: int, yy: int, hint: date | None, today: date | None) -> date | None:
    if hint is not None:
        # The century nearest the stated year, so that a wrong year reads as 1999, not 2099, for 2001.
        candidates = [hint.year + (yy - hint.year + 50) % 100 - 50]
        today = date.max
    else:
        today = today or jakarta_today()
        latest = today.year - today.year % 100 + yy
        # The earlier century too: the latest may be in the future, or lack 29 February (2100 vs 2000).
        candidates = [latest, latest - 100]
    for year in candidates:
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        if born <= today:
            return born
    return None


def check_kk(kk: str, regions: RegionTable) -> str:
    """A KK (family card) number: 16 digits whose first four are a known regency (``PP KK CC ...``)."""
    check_kk_shape(kk)
    regency = f"{kk[0:2]}.{kk[2:4]}"
    if not regions.is_regency(regency):
        raise ValidationFailed("kk", "kk.region_unknown", f"KK {kk}: {regency} is not a known regency code", kk=kk)
    return kk


def check_kk_shape(kk: str) -> str:
    """A KK number's shape alone, 16 digits (``check_kk`` checks its regency too)."""
    if not isinstance(kk, str) or not KK_RE.fullmatch(kk):
        raise ValidationFailed("kk", "kk.format", f"KK {kk!r} must be exactly 16 digits", kk=kk)
    return kk


def check_village_shape(code: str) -> str:
    """A village code's shape alone, ``PP.KK.CC.DDDD`` (``check_village`` looks it up in the region table too)."""
    if not isinstance(code, str) or not VILLAGE_RE.fullmatch(code):
        raise ValidationFailed(
            "village_code", "village.format", f"village code {code!r} is not PP.KK.CC.DDDD", village_code=code
        )
    return code


def check_village(code: str, regions: RegionTable) -> str:
    """A village code ``PP.KK.CC.DDDD`` present in the region table."""
    check_village_shape(code)
    if not regions.is_village(code):
        raise ValidationFailed(
            "village_code", "village.unknown", f"village code {code} is not in the region table", village_code=code
        )
    return code
