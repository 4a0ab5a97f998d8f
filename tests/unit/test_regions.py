import io
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.errors import ValidationFailed
from shared.regions import (
    RegionRow,
    RegionTable,
    builtin_lampung_selatan,
    iter_csv,
    load_region_csv,
    load_region_table,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REGENCIES_CSV = DATA / "wilayah_kabupaten_id.csv"
LAMPUNG_CSV = DATA / "wilayah_lampung.csv"


@pytest.fixture(scope="module")
def full() -> RegionTable:
    return load_region_table(REGENCIES_CSV, LAMPUNG_CSV)


def test_full_table_counts(full: RegionTable) -> None:
    # The README says 551 and 2,895 rows; the files hold 552 (38 provinces + 514 regencies) and 2,896.
    regencies = load_region_csv(REGENCIES_CSV)
    lampung = load_region_csv(LAMPUNG_CSV)
    assert len(regencies) == 552
    assert len(lampung) == 2896
    # Province 18 and its 15 regencies are in both files.
    assert len(full) == 552 + 2896 - 16
    assert len([row for row in lampung if row.code.startswith("18.01")]) == 278
    assert len(full.regencies()) == 514


def test_lookups(full: RegionTable) -> None:
    assert full.name("18.01") == "Kabupaten Lampung Selatan"
    assert full.name("18.01.06.2001") == "Jondong"
    assert full.name("99.99") is None
    assert full.level("18") == 1
    assert full.level("18.01.06") == 3
    assert full.level("18.01.99") is None
    assert full.exists("31.71") and not full.exists("31.71.99.9999")
    assert full.is_village("18.01.04.2005") and not full.is_village("18.01.04")
    assert full.is_regency("18.72") and not full.is_regency("18") and not full.is_regency("18.01.04")


def test_children(full: RegionTable) -> None:
    districts = full.districts("18.01")
    assert len(districts) == 17
    assert districts[0] == "18.01.04" and districts[-1] == "18.01.24"
    assert full.villages("18.01.04")[:5] == [f"18.01.04.200{i}" for i in range(1, 6)]
    assert len(full.villages("18.01")) == 278 - 1 - 17
    assert all(code.startswith("18.01.") for code in full.villages("18.01"))
    assert not set(full.villages("18.01")) & set(full.villages("18.02"))
    assert full.villages("18.0") == []  # a partial code is no parent
    assert full.districts("99.99") == [] and full.villages("18.01.04.2001") == []


def test_villages_found_without_their_district_row() -> None:
    table = RegionTable([("18.01", "Kab", 2), ("18.01.04.2001", "Hajimena", 4)])
    assert table.villages("18.01") == ["18.01.04.2001"]
    assert table.districts("18.01") == []


def test_regency_of() -> None:
    assert RegionTable.regency_of("18.01.06.2001") == "18.01"
    assert RegionTable.regency_of("18.01.06") == "18.01"
    assert RegionTable.regency_of("18.01") == "18.01"
    for bad in ("18", "18.1", "18.01.06.201", "x"):
        with pytest.raises(ValidationFailed):
            RegionTable.regency_of(bad)


@pytest.mark.parametrize(
    ("code", "level", "field"),
    [
        ("18.1", 2, "code"),
        ("18.01.06.20011", 4, "code"),
        ("18-01", 2, "code"),
        ("١٨", 1, "code"),  # Arabic-Indic digits are not region digits
        ("18.01", 3, "level"),
        ("18.01.06.2001", 3, "level"),
    ],
)
def test_table_rejects_malformed_rows(code: str, level: int, field: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        RegionTable([(code, "X", level)])
    assert e.value.field == field


def test_table_merges_identical_rows_and_rejects_conflicts() -> None:
    assert len(RegionTable([("18", "Lampung", 1), ("18", "Lampung", 1)])) == 1
    with pytest.raises(ValidationFailed) as e:
        RegionTable([("18", "Lampung", 1), ("18", "Jambi", 1)])
    assert e.value.rule == "region.conflict"


def test_builtin_table_agrees_with_the_data(full: RegionTable) -> None:
    builtin = builtin_lampung_selatan()
    assert len(builtin) == 1 + 15 + 17 + 10
    assert builtin.districts("18.01") == full.districts("18.01")
    assert builtin.villages("18.01.06") == [f"18.01.06.200{i}" for i in range(1, 6)]
    assert builtin.regencies() == [code for code in full.regencies() if code.startswith("18.")]
    for code in builtin.districts("18.01") + builtin.villages("18.01") + builtin.regencies():
        assert builtin.name(code) == full.name(code)


def test_csv_with_bom_crlf_and_quotes() -> None:
    text = '\ufeffcode,name,level\r\n18,Lampung,1\r\n"18.01","Kabupaten ""Lampung"" Selatan, Baru",2\r\n\r\n'
    rows = load_region_csv(io.StringIO(text, newline=""))
    assert rows == [RegionRow("18", "Lampung", 1), RegionRow("18.01", 'Kabupaten "Lampung" Selatan, Baru', 2)]


def test_csv_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("code,name,level\n18,Lampung,1\n".encode("utf-8-sig"))
    assert load_region_csv(path) == [RegionRow("18", "Lampung", 1)]
    assert load_region_csv(str(path)) == [RegionRow("18", "Lampung", 1)]


def test_line_numbers_count_physical_lines() -> None:
    text = 'a,b\n1,"two\nlines"\n\n3,4\n'
    assert list(iter_csv(io.StringIO(text, newline=""))) == [
        (1, ["a", "b"]),
        (2, ["1", "two\nlines"]),
        (5, ["3", "4"]),
    ]


@pytest.mark.parametrize(
    ("body", "field", "rule", "line"),
    [
        ("18,Lampung,1\n18.1,X,2\n", "code", "region.code_format", 3),
        ("18,Lampung,1\n18.01,X,3\n", "level", "region.level", 3),
        ("18,Lampung,x\n", "level", "region.level", 2),
        ("18,Lampung,5\n", "level", "region.level", 2),
        ("18,Lampung\n", "header", "region.columns", 2),
        ("18,,1\n", "name", "region.name_empty", 2),
        ("18,Lampung,1\n\n18,Lampung,1\n", "code", "region.duplicate", 4),
    ],
)
def test_csv_bad_rows_name_the_line(body: str, field: str, rule: str, line: int) -> None:
    with pytest.raises(ValidationFailed) as e:
        load_region_csv(io.StringIO("code,name,level\n" + body))
    assert (e.value.field, e.value.rule) == (field, rule)
    assert f"line {line}" in e.value.message


@pytest.mark.parametrize("text", ["", "kode,nama,tingkat\n18,Lampung,1\n", "code,name\n"])
def test_csv_bad_header(text: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        load_region_csv(io.StringIO(text))
    assert e.value.field == "header"
    assert "line 1" in e.value.message


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as e:
        load_region_csv(tmp_path / "missing.csv")
    assert e.value.rule == "csv.unreadable"
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("code,name,level\n18,Lampung Selatan \xe9,1\n".encode("latin-1"))
    with pytest.raises(ValidationFailed) as e:
        load_region_csv(latin1)
    assert e.value.rule == "csv.unreadable"


def test_building_the_full_table_is_fast() -> None:
    rows = load_region_csv(REGENCIES_CSV) + load_region_csv(LAMPUNG_CSV)
    best = min(_seconds(lambda: RegionTable(rows)) for _ in range(5))
    assert best < 0.05  # a few ms on the 2-core reference machine; generous for a loaded CI host


def _seconds(build: Callable[[], object]) -> float:
    start = time.perf_counter()
    build()
    return time.perf_counter() - start
