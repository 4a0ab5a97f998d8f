from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import ValidationFailed
from shared.ids import check_kk, check_nik_matches, check_village, jakarta_today, parse_nik
from shared.regions import load_region_table

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REGIONS = load_region_table(DATA / "wilayah_kabupaten_id.csv", DATA / "wilayah_lampung.csv")
TODAY = date(2025, 6, 30)


def _rule(call: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(ValidationFailed) as e:
        call(*args, **kwargs)
    return e.value.rule


def test_woman_born_5_august_1985_in_lampung_selatan() -> None:
    info = parse_nik("1801064508850007", REGIONS, today=TODAY)
    assert info.regency_code == "18.01"
    assert info.district_code == "18.01.06"
    assert info.birth_date == date(1985, 8, 5)
    assert info.sex == "P"
    assert info.serial == 7
    check_nik_matches("1801064508850007", "P", date(1985, 8, 5), REGIONS)


def test_man_keeps_the_plain_day() -> None:
    info = parse_nik("1801040508850123", REGIONS, today=TODAY)
    assert (info.sex, info.birth_date, info.serial) == ("L", date(1985, 8, 5), 123)


def test_regency_may_be_anywhere_in_indonesia() -> None:
    assert parse_nik("3171010101900001", REGIONS, today=TODAY).regency_code == "31.71"


@pytest.mark.parametrize(
    ("nik", "rule"),
    [
        ("180106450885000", "nik.format"),  # 15 digits
        ("18010645088500071", "nik.format"),  # 17 digits
        ("18010645O8850007", "nik.format"),  # letter O
        (" 180106450885000", "nik.format"),
        ("١٨٠١٠٦٤٥٠٨٨٥٠٠٠٧", "nik.format"),  # Arabic-Indic digits
        ("9999064508850007", "nik.regency_unknown"),
        ("1800064508850007", "nik.regency_unknown"),  # 18.00 is no regency
        ("1801063102850007", "nik.birth_date_invalid"),  # 31 February
        ("1801067102850007", "nik.birth_date_invalid"),  # woman's 31 February
        ("1801060013850007", "nik.birth_date_invalid"),  # month 13
        ("1801060008850007", "nik.birth_date_invalid"),  # day 0
        ("1801063508850007", "nik.birth_date_invalid"),  # day 35: neither a man's nor a woman's day
        ("1801067208850007", "nik.birth_date_invalid"),  # day 72 = woman's 32
        ("1801064508850000", "nik.serial"),
    ],
)
def test_nik_rules(nik: str, rule: str) -> None:
    assert _rule(parse_nik, nik, REGIONS, today=TODAY) == rule


def test_non_string_nik_is_a_format_error() -> None:
    assert _rule(parse_nik, 1801064508850007, REGIONS) == "nik.format"


def test_day_45_for_a_man_is_a_sex_mismatch() -> None:
    with pytest.raises(ValidationFailed) as e:
        check_nik_matches("1801064508850007", "L", date(1985, 8, 5), REGIONS)
    assert (e.value.field, e.value.rule) == ("nik", "nik.sex_mismatch")
    assert "1801064508850007" in e.value.message and "'L'" in e.value.message and "sex P" in e.value.message


def test_birth_date_mismatch_names_both_dates() -> None:
    with pytest.raises(ValidationFailed) as e:
        check_nik_matches("1801064508850007", "P", date(1985, 8, 6), REGIONS)
    assert e.value.rule == "nik.birth_date_mismatch"
    assert "1985-08-05" in e.value.message and "1985-08-06" in e.value.message
    # A wrong year is reported in the century nearest the stated date.
    with pytest.raises(ValidationFailed) as e:
        check_nik_matches("1801064508990007", "P", date(2001, 8, 5), REGIONS)
    assert "1999-08-05" in e.value.message


def test_century_without_a_hint() -> None:
    assert parse_nik("1801060508250001", REGIONS, today=date(2025, 8, 5)).birth_date == date(2025, 8, 5)
    assert parse_nik("1801060608250001", REGIONS, today=date(2025, 8, 5)).birth_date == date(1925, 8, 6)
    assert parse_nik("1801060101000001", REGIONS, today=TODAY).birth_date == date(2000, 1, 1)
    assert parse_nik("1801063112990001", REGIONS, today=TODAY).birth_date == date(1999, 12, 31)
    # 2100 has no 29 February, 2000 had one.
    assert parse_nik("1801062902000001", REGIONS, today=date(2101, 1, 1)).birth_date == date(2000, 2, 29)
    # 29 February 1925: 2025 has none and 1925 none either.
    assert _rule(parse_nik, "1801062902250001", REGIONS, today=TODAY) == "nik.birth_date_invalid"
    assert parse_nik("1801062902240001", REGIONS, today=TODAY).birth_date == date(2024, 2, 29)


def test_century_from_the_stated_birth_date() -> None:
    # A 105-year-old: without the hint the NIK would read as a 5-year-old.
    assert parse_nik("1801060101200001", REGIONS, birth_date=date(1920, 1, 1)).birth_date == date(1920, 1, 1)
    # The hint alone decides the century; today does not bound it (that is the caller's rule).
    hinted = parse_nik("1801060101300001", REGIONS, birth_date=date(2030, 1, 1), today=TODAY)
    assert hinted.birth_date == date(2030, 1, 1)
    assert parse_nik("1801060101200001", REGIONS, today=TODAY).birth_date == date(2020, 1, 1)


def test_default_today_is_jakarta() -> None:
    assert abs(jakarta_today() - date.today()) <= timedelta(days=1)


def test_kk() -> None:
    assert check_kk("1801062005100042", REGIONS) == "1801062005100042"
    assert _rule(check_kk, "180106200510004", REGIONS) == "kk.format"
    assert _rule(check_kk, "18010620051000421", REGIONS) == "kk.format"
    assert _rule(check_kk, "1801-62005100042", REGIONS) == "kk.format"
    assert _rule(check_kk, "9999062005100042", REGIONS) == "kk.region_unknown"
    with pytest.raises(ValidationFailed) as e:
        check_kk("9999062005100042", REGIONS)
    assert e.value.field == "kk" and "9999062005100042" in e.value.message


def test_village() -> None:
    assert check_village("18.01.06.2001", REGIONS) == "18.01.06.2001"
    assert _rule(check_village, "18.01.06", REGIONS) == "village.format"
    assert _rule(check_village, "1801062001", REGIONS) == "village.format"
    assert _rule(check_village, "18.01.06.2001 ", REGIONS) == "village.format"
    assert _rule(check_village, "18.01.06.2999", REGIONS) == "village.unknown"
    with pytest.raises(ValidationFailed) as e:
        check_village("18.01.06.2999", REGIONS)
    assert "18.01.06.2999" in e.value.message


_REGENCIES = [code.replace(".", "") for code in REGIONS.regencies()]


@given(
    regency=st.sampled_from(_REGENCIES),
    district=st.integers(1, 99),
    # 1925-07-01 is the earliest birth read as age 0–99 on TODAY.
    born=st.dates(min_value=date(1925, 7, 1), max_value=TODAY),
    sex=st.sampled_from(["L", "P"]),
    serial=st.integers(1, 9999),
)
def test_any_well_formed_nik_round_trips(regency: str, district: int, born: date, sex: str, serial: int) -> None:
    day = born.day + (40 if sex == "P" else 0)
    nik = f"{regency}{district:02d}{day:02d}{born:%m%y}{serial:04d}"
    info = parse_nik(nik, REGIONS, today=TODAY)
    assert (info.birth_date, info.sex, info.serial) == (born, sex, serial)
    check_nik_matches(nik, sex, born, REGIONS)
