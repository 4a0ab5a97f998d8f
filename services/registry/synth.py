"""Synthetic DTKS/BDT files: realistic households of one regency, optionally with typical data-entry errors.

Deterministic for a seed: Faker (slow) only fills name and street pools once; everything else is drawn from one
seeded ``random.Random``, and ages are relative to the fixed date ``AS_OF``, not to the day the file is made.
"""

from __future__ import annotations

import csv
import os
import random
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TextIO, TypeVar

from faker import Faker

from services.registry.bdt import BDT_COLUMNS, HEAD
from shared.errors import ValidationFailed
from shared.regions import CsvSource as CsvTarget
from shared.regions import RegionTable

T = TypeVar("T")
AS_OF = date(2025, 6, 30)
ERROR_KINDS = (
    "nik_length",
    "nik_sex_mismatch",
    "unknown_village",
    "decile_11",
    "two_heads",
    "no_head",
    "bad_date",
    "duplicate_nik",
)

_DUSUN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
# Ordinal of AS_OF minus n years: ages are counted in whole calendar years (AS_OF is no 29 February).
_YEARS_AGO = [date(AS_OF.year - n, AS_OF.month, AS_OF.day).toordinal() for n in range(121)]
_BIRTHDAYS = _YEARS_AGO[::-1]  # ascending, for bisect
_AS_OF_ORDINAL = _YEARS_AGO[0]
_FIRST_KK_ISSUE = date(2005, 1, 1).toordinal()


class _Rng(random.Random):
    """Cheaper draws: ``choice`` and ``randint`` cost about a µs each in pure Python, a dozen times per person."""

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))


def _pool(weights: dict[T, int]) -> list[T]:
    """A list in which each item appears ``weight`` times: one ``pick`` draws by weight."""
    return [item for item, weight in weights.items() for _ in range(weight)]


# Household sizes 1–8, mean ≈ 3.4 (Lampung Selatan: 1.12 M people in ≈ 330 k households).
_SIZES = _pool({1: 11, 2: 20, 3: 24, 4: 22, 5: 12, 6: 6, 7: 3, 8: 2})
# DTKS holds the poorer part of the population: deciles 1–10, most of them low.
_DECILES = _pool({str(decile): weight for decile, weight in enumerate((20, 18, 15, 12, 10, 8, 6, 5, 3, 3), 1)})


_WORKING_AGE = {
    "Petani": 220,
    "Buruh Tani": 200,
    "Buruh Harian Lepas": 150,
    "Pedagang": 100,
    "Wiraswasta": 70,
    "Nelayan": 50,
    "Tidak Bekerja": 80,
    "PNS": 8,
    "TNI": 3,
    "Polri": 3,
}
_OCCUPATIONS_MAN = _pool(_WORKING_AGE)
_OCCUPATIONS_WOMAN = _pool(_WORKING_AGE | {"Ibu Rumah Tangga": 700})
_OCCUPATIONS_OLD = _pool({"Tidak Bekerja": 50, "Petani": 30, "Buruh Tani": 10, "Pedagang": 7, "Pensiunan": 3})
_OCCUPATIONS_SCHOOL_AGE = _pool({"Pelajar": 90, "Tidak Bekerja": 6, "Buruh Harian Lepas": 4})


@dataclass(frozen=True, slots=True)
class InjectedError:
    kind: str
    line: int  # the row carrying the error (the household's first row when every row carries it)
    kks: tuple[str, ...]  # households it makes invalid: two for a duplicate NIK


@dataclass(frozen=True, slots=True)
class SynthSummary:
    households: int
    individuals: int
    injected_errors: tuple[InjectedError, ...]

    @property
    def invalid_households(self) -> frozenset[str]:
        return frozenset(kk for error in self.injected_errors for kk in error.kks)


_Person = tuple[str, int, str, str]  # sex, birth date ordinal, relation, marital status


def write_synthetic_bdt(
    target: CsvTarget,
    households: int,
    regency: str,
    regions: RegionTable,
    seed: int,
    error_share: float = 0.0,
) -> SynthSummary:
    """Write a DTKS-style CSV of ``households`` households living in villages of ``regency``.

    With ``error_share`` > 0 that share of households (rounded) gets one typical error each; the summary lists
    them with the households they invalidate.
    """
    if households < 0:
        raise ValidationFailed("households", "synth.households", f"households {households} is negative")
    if not 0.0 <= error_share <= 1.0:
        raise ValidationFailed("error_share", "synth.error_share", f"error_share {error_share} is not in 0–1")
    villages = regions.villages(regency)
    if not regions.is_regency(regency) or not villages:
        raise ValidationFailed("regency", "synth.regency", f"regency {regency!r} has no villages in the region table")
    with ExitStack() as stack:
        if isinstance(target, str | os.PathLike):
            target = stack.enter_context(open(target, "w", encoding="utf-8", newline=""))
        return _Generator(regency, villages, regions, seed).write(target, households, error_share)


class _Generator:
    def __init__(self, regency: str, villages: list[str], regions: RegionTable, seed: int) -> None:
        self.rng = _Rng(seed)
        fake = Faker("id_ID")
        fake.seed_instance(seed)
        # Pools, not per-row Faker calls: Faker costs tens of µs a name. dict.fromkeys keeps a seed's order.
        self.names = {
            "L": self._full_names(fake.first_name_male, fake.last_name_male),
            "P": self._full_names(fake.first_name_female, fake.last_name_female),
        }
        self.streets = _unique(fake.street_name() for _ in range(300))
        self.villages = villages
        # PP KK CC of a NIK: the district of first registration, which the domicile need not match (and which
        # need not exist any more). One pick: a home district 90 % of the time, else another regency (moved in).
        home = [code.replace(".", "") for code in regions.districts(regency)] or [f"{regency.replace('.', '')}01"]
        away = [f"{code.replace('.', '')}{n:02d}" for code in regions.regencies() if code != regency for n in (1, 2, 3)]
        self.nik_regions = home * round(9 * len(away) / len(home)) + away if away else home
        self.unknown_village = next(
            code for code in (f"{regency}.99.{n:04d}" for n in range(2999, 0, -1)) if not regions.exists(code)
        )
        self.serials: dict[str, int] = {}  # per 12-digit NIK/KK prefix: unique numbers by construction

    def write(self, target: TextIO, households: int, error_share: float) -> SynthSummary:
        rng = self.rng
        spoiled = rng.sample(range(households), round(households * error_share))
        kinds = {index: rng.choice(ERROR_KINDS) for index in spoiled}
        writer = csv.writer(target)
        writer.writerow(BDT_COLUMNS)
        line, individuals, errors = 2, 0, []
        last_clean: tuple[str, list[str]] | None = None  # a household whose person a duplicate NIK can copy
        for index in range(households):
            kind = kinds.get(index)
            if kind == "duplicate_nik" and last_clean is None:
                kind = "decile_11"  # nobody to copy yet
            rows = self._household(index, min_size=2 if kind == "two_heads" else 1)
            kk = rows[0][1]
            if kind is None:
                last_clean = (kk, rows[0])
            else:
                at, victim = self._inject(kind, rows, last_clean)
                errors.append(InjectedError(kind, line + at, (kk, victim) if victim else (kk,)))
            writer.writerows(rows)
            line += len(rows)
            individuals += len(rows)
        return SynthSummary(households, individuals, tuple(errors))

    def _inject(self, kind: str, rows: list[list[str]], last_clean: tuple[str, list[str]] | None) -> tuple[int, str]:
        """Spoil ``rows`` with one error of ``kind``; returns the row index it is on and a second KK it spoils."""
        rng = self.rng
        at = rng.randrange(len(rows))
        row = rows[at]
        if kind == "nik_length":
            row[2] = row[2][:-1]
        elif kind == "nik_sex_mismatch":
            row[4] = "P" if row[4] == "L" else "L"
        elif kind == "bad_date":
            row[5] = f"{row[5][:4]}-02-30"
        elif kind == "two_heads":
            at = 1
            rows[1][6] = HEAD
        elif kind == "no_head":
            at = 0
            rows[0][6] = "Famili Lain"
        elif kind == "duplicate_nik":
            assert last_clean is not None  # write() only picks this kind when there is one
            victim_kk, victim = last_clean
            at = len(rows)
            rows.append([*rows[0][:2], *victim[2:6], "Famili Lain", *victim[7:9], *rows[0][9:]])
            return at, victim_kk
        else:
            at = 0
            column = 9 if kind == "unknown_village" else 11
            for each in rows:
                each[column] = self.unknown_village if kind == "unknown_village" else "11"
        return at, ""

    def _household(self, index: int, min_size: int) -> list[list[str]]:
        rng = self.rng
        people = self._people(max(min_size, rng.pick(_SIZES)))
        village = rng.pick(self.villages)
        # Issued (or last reissued) after its youngest member was born.
        youngest = max(person[1] for person in people)
        issued = date.fromordinal(rng.between(max(_FIRST_KK_ISSUE, youngest), _AS_OF_ORDINAL)).isoformat()
        kk = self._numbered(f"{village[:8].replace('.', '')}{issued[8:10]}{issued[5:7]}{issued[2:4]}")
        dtks_id = f"{village.replace('.', '')}{index + 1:08d}"
        shared = [village, self._address(village), rng.pick(_DECILES)]
        rows = []
        for sex, born, relation, marital in people:
            iso, ddmmyy = _birth_texts(born, sex)
            nik = self._numbered(rng.pick(self.nik_regions) + ddmmyy)
            occupation = self._occupation(_age(born), sex)
            rows.append([dtks_id, kk, nik, rng.pick(self.names[sex]), sex, iso, relation, marital, occupation, *shared])
        return rows

    def _people(self, size: int) -> list[_Person]:
        rng = self.rng
        head_sex = "L" if rng.random() < 0.8 else "P"
        head_born = _born_aged(rng, 20, 75)
        married = size > 1 and rng.random() < (0.9 if head_sex == "L" else 0.25)
        if not married:
            # Young and alone: never married; else widowed or divorced (a single parent, an old person alone).
            alone_young = size == 1 and _age(head_born) <= 40
            marital = "Belum Kawin" if alone_young else rng.pick(("Cerai Mati", "Cerai Hidup"))
            people = [(head_sex, head_born, HEAD, marital)]
            eldest = youngest = head_born
        else:
            # Wives mostly a few years younger than their husbands, husbands older than their wives.
            gap = rng.between(-3 * 365, 10 * 365) * (1 if head_sex == "L" else -1)
            spouse_born = min(max(head_born + gap, _YEARS_AGO[86] + 1), _YEARS_AGO[18])
            spouse = ("P", spouse_born, "Istri", "Kawin") if head_sex == "L" else ("L", spouse_born, "Suami", "Kawin")
            people = [(head_sex, head_born, HEAD, "Kawin"), spouse]
            eldest, youngest = min(head_born, spouse_born), max(head_born, spouse_born)
        for _ in range(size - len(people)):
            people.append(self._relative(eldest, youngest, married))
        return people

    def _relative(self, eldest: int, youngest: int, married: bool) -> _Person:
        """Anyone after head and spouse, born consistently with the relation: ``eldest``/``youngest`` are the
        births of the older/younger of the couple (the head alone if single); a generation is ≥ 16 years."""
        rng = self.rng
        sex = rng.pick("LP")
        draw = rng.random()
        if _age(youngest) >= 48 and draw < 0.25:
            return sex, rng.between(youngest + _years(32), _AS_OF_ORDINAL), "Cucu", "Belum Kawin"
        if _age(youngest) >= 40 and draw < 0.32:
            return sex, rng.between(youngest + _years(17), _YEARS_AGO[18]), "Menantu", "Kawin"
        if _age(eldest) <= 65 and draw < 0.05:
            born = rng.between(max(eldest - _years(40), _YEARS_AGO[95] + 1), eldest - _years(18))
            relation = "Mertua" if married and rng.random() < 0.5 else "Orang Tua"
            return sex, born, relation, rng.pick(("Kawin", "Cerai Mati", "Cerai Mati"))
        if draw > 0.97:
            born = _born_aged(rng, 0, 70)
            return sex, born, rng.pick(("Famili Lain", "Lainnya")), _marital_for_age(rng, _age(born))
        # Children: born when the younger parent was 16–45, and not after AS_OF.
        born = rng.between(youngest + _years(16), min(youngest + _years(45), _AS_OF_ORDINAL))
        return sex, born, "Anak", _marital_for_age(rng, _age(born))

    def _numbered(self, prefix: str) -> str:
        serial = self.serials.get(prefix, 0) + 1
        if serial > 9999:  # would need 10,000 people of one district born on one day
            raise ValidationFailed("households", "synth.serials", f"more than 9,999 numbers with prefix {prefix}")
        self.serials[prefix] = serial
        return f"{prefix}{serial:04d}"

    def _full_names(self, first: Callable[[], str], last: Callable[[], str]) -> list[str]:
        """Names as Dukcapil prints them: one given name (15 %), two, or a given and a family name."""
        rng = self.rng
        firsts = _unique(first().upper() for _ in range(1500))
        lasts = _unique(last().upper() for _ in range(600))
        names = []
        for _ in range(5000):
            draw = rng.random()
            given = rng.pick(firsts)
            names.append(given if draw < 0.15 else f"{given} {rng.pick(lasts if draw < 0.8 else firsts)}")
        return names

    def _address(self, village: str) -> str:
        rng = self.rng
        rt_rw = f"RT {rng.between(1, 12):03d}/RW {rng.between(1, 6):03d}"
        if village[9] == "1":  # urban kelurahan: streets; rural desa: hamlets
            return f"{rng.pick(self.streets)} No. {rng.between(1, 150)}, {rt_rw}"
        return f"Dusun {rng.pick(_DUSUN)}, {rt_rw}"

    def _occupation(self, age: int, sex: str) -> str:
        rng = self.rng
        if age < 7:
            return "Tidak Bekerja"
        if age < 18 or (age < 23 and rng.random() < 0.2):
            return rng.pick(_OCCUPATIONS_SCHOOL_AGE)
        if age >= 60:
            return rng.pick(_OCCUPATIONS_OLD)
        return rng.pick(_OCCUPATIONS_WOMAN if sex == "P" else _OCCUPATIONS_MAN)


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _born_aged(rng: _Rng, youngest: int, oldest: int) -> int:
    return rng.between(_YEARS_AGO[oldest + 1] + 1, _YEARS_AGO[youngest])


def _age(born: int) -> int:
    """Whole years on AS_OF of someone born on date ordinal ``born``."""
    return len(_YEARS_AGO) - 1 - bisect_left(_BIRTHDAYS, born)


def _years(count: int) -> int:
    """Days in ``count`` years, near enough: the generation gaps stay clear of the rules they must keep."""
    return round(count * 365.2425)


@lru_cache(maxsize=1 << 17)  # a few ten thousand birth dates, each made once per sex
def _birth_texts(born: int, sex: str) -> tuple[str, str]:
    """``YYYY-MM-DD`` and the NIK's ``DDMMYY`` (women: day + 40) for a birth date ordinal."""
    day = date.fromordinal(born)
    return day.isoformat(), f"{day.day + (40 if sex == 'P' else 0):02d}{day.month:02d}{day.year % 100:02d}"


def _marital_for_age(rng: _Rng, age: int) -> str:
    if age < 17:
        return "Belum Kawin"
    return "Belum Kawin" if rng.random() < 0.8 else "Kawin"
