import csv
import io
from datetime import date
from pathlib import Path

import pytest

from berdaya.cli.bdt_import import listing, registration
from services.registry.bdt import BDT_COLUMNS, BdtImport, MemberRecord, RejectedRow, read_bdt
from services.registry.commands import ListedHousehold, RegisterHousehold
from shared.errors import ValidationFailed
from shared.regions import load_region_table

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REGIONS = load_region_table(DATA / "wilayah_kabupaten_id.csv", DATA / "wilayah_lampung.csv")
TODAY = date(2025, 6, 30)
KK1, KK2, KK3 = "1801062005100001", "1801062005100002", "1801042005100003"


def person(**cells: str) -> dict[str, str]:
    """A valid row of household KK1 (a man born 5 August 1985, head); ``cells`` override columns."""
    row = {
        "id_dtks": "D1",
        "no_kk": KK1,
        "nik": "1801060508850001",
        "nama": "BUDI SANTOSO",
        "jenis_kelamin": "L",
        "tanggal_lahir": "1985-08-05",
        "hubungan_keluarga": "Kepala Keluarga",
        "status_perkawinan": "Kawin",
        "pekerjaan": "Petani",
        "kode_wilayah": "18.01.06.2001",
        "alamat": "Dusun I, RT 001/RW 002",
        "desil": "2",
    }
    return row | cells


def wife(**cells: str) -> dict[str, str]:
    # Born 1 September 1987: the NIK's day is 01 + 40 = 41.
    return (
        person(
            nik="1801064109870001",
            nama="SITI AMINAH",
            jenis_kelamin="P",
            tanggal_lahir="1987-09-01",
            hubungan_keluarga="Istri",
            pekerjaan="Ibu Rumah Tangga",
        )
        | cells
    )


def child(**cells: str) -> dict[str, str]:
    return (
        person(
            nik="1801061503100001",
            nama="RAHMAT",
            tanggal_lahir="2010-03-15",
            hubungan_keluarga="Anak",
            status_perkawinan="Belum Kawin",
            pekerjaan="Pelajar",
        )
        | cells
    )


def other_household(**cells: str) -> dict[str, str]:
    return (
        person(
            id_dtks="D3",
            no_kk=KK3,
            nik="1801044508900001",
            nama="WATI",
            jenis_kelamin="P",
            tanggal_lahir="1990-08-05",
            status_perkawinan="Cerai Mati",
            pekerjaan="Pedagang",
            kode_wilayah="18.01.04.2001",
            alamat="Dusun III",
            desil="1",
        )
        | cells
    )


def text(rows: list[dict[str, str]], newline: str = "\n") -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=BDT_COLUMNS, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def read(rows: list[dict[str, str]]) -> BdtImport:
    return read_bdt(io.StringIO(text(rows), newline=""), REGIONS, today=TODAY)


def reasons(result: BdtImport) -> dict[int, str]:
    return {row.line: row.reason for row in result.rejected}


def test_a_valid_household() -> None:
    result = read([person(), wife(), child()])
    assert result.rejected == ()
    (household,) = result.households
    assert (household.kk, household.dtks_id, household.village_code) == (KK1, "D1", "18.01.06.2001")
    assert (household.address, household.decile) == ("Dusun I, RT 001/RW 002", 2)
    assert household.members[0] == MemberRecord(
        "1801060508850001", "BUDI SANTOSO", "L", date(1985, 8, 5), "Kepala Keluarga", "Kawin", "Petani"
    )
    assert [member.relation for member in household.members] == ["Kepala Keluarga", "Istri", "Anak"]
    assert household.members[1].birth_date == date(1987, 9, 1) and household.members[1].sex == "P"


def test_relation_and_marital_status_are_normalised() -> None:
    result = read(
        [
            person(hubungan_keluarga="KEPALA  keluarga", status_perkawinan="kawin"),
            wife(hubungan_keluarga="Istri/Suami", status_perkawinan=" KAWIN "),
            child(hubungan_keluarga="anak", status_perkawinan="belum kawin", jenis_kelamin="l"),
        ]
    )
    assert result.rejected == ()
    members = result.households[0].members
    assert [m.relation for m in members] == ["Kepala Keluarga", "Istri", "Anak"]
    assert [m.marital_status for m in members] == ["Kawin", "Kawin", "Belum Kawin"]
    assert members[2].sex == "L"
    # "Suami/Istri" written either way means the spouse, named by the member's sex.
    husband = read([wife(hubungan_keluarga="Kepala Keluarga"), person(hubungan_keluarga="Suami / Istri")])
    assert husband.households[0].members[1].relation == "Suami"


def test_bom_crlf_and_quoted_fields(tmp_path: Path) -> None:
    rows = [
        person(nama='BUDI "BUDI" SANTOSO', alamat="Jl. Mawar, No. 5\nRT 001"),
        wife(alamat="Jl. Mawar, No. 5\nRT 001"),
    ]
    path = tmp_path / "bdt.csv"
    path.write_bytes(text(rows, newline="\r\n").encode("utf-8-sig"))
    result = read_bdt(path, REGIONS, today=TODAY)
    assert result.rejected == ()
    assert result.households[0].address == "Jl. Mawar, No. 5\nRT 001"
    assert result.households[0].members[0].name == 'BUDI "BUDI" SANTOSO'
    # A stream opened as plain UTF-8 keeps the BOM in its text: still a valid header.
    with path.open(encoding="utf-8", newline="") as stream:
        assert read_bdt(stream, REGIONS, today=TODAY).households == result.households


def test_line_numbers_are_physical_lines() -> None:
    # Line 2 spans two physical lines, so the wife's row starts on line 4.
    result = read([person(alamat="Jl. Mawar\nRT 001"), wife(alamat="Jl. Mawar\nRT 001", desil="3")])
    assert [row.line for row in result.rejected] == [2, 4]
    assert "desil '3' differs from '2' on line 2" in reasons(result)[4]


def test_rows_of_a_household_need_not_be_adjacent() -> None:
    second = other_household()
    result = read([child(), second, person(), wife()])
    assert result.rejected == ()
    assert [household.kk for household in result.households] == [KK1, KK3]  # first-seen order
    assert [member.name for member in result.households[0].members] == ["RAHMAT", "BUDI SANTOSO", "SITI AMINAH"]


def test_one_bad_row_rejects_the_whole_household_with_every_line() -> None:
    rows = [person(), other_household(), wife(nik="1801064109870001", jenis_kelamin="L"), child()]
    result = read(rows)
    assert [household.kk for household in result.households] == [KK3]
    assert result.rejected[0] == RejectedRow(2, KK1, f"KK {KK1} rejected because line 4 is invalid")
    assert [(row.line, row.no_kk) for row in result.rejected] == [(2, KK1), (4, KK1), (5, KK1)]
    assert "nik 1801064109870001 encodes sex p" in reasons(result)[4].lower()
    assert reasons(result)[5] == f"KK {KK1} rejected because line 4 is invalid"


def test_several_bad_rows_are_each_named() -> None:
    result = read([person(), wife(desil="11"), child(tanggal_lahir="2010-02-30")])
    assert reasons(result)[2] == f"KK {KK1} rejected because lines 3, 4 are invalid"
    assert "desil '11' differs" in reasons(result)[3]
    assert "tanggal_lahir '2010-02-30'" in reasons(result)[4]


def test_the_same_nik_in_two_households_rejects_both() -> None:
    duplicate = other_household(
        nik="1801064109870001", nama="SITI", tanggal_lahir="1987-09-01", hubungan_keluarga="Famili Lain"
    )
    result = read([person(), wife(), other_household(nik="1801044508900002"), child(), duplicate])
    assert result.households == ()
    assert reasons(result)[3] == f"NIK 1801064109870001 is also on line 6 (KK {KK3})"
    assert reasons(result)[6] == f"NIK 1801064109870001 is also on line 3 (KK {KK1})"
    assert reasons(result)[2] == reasons(result)[5] == f"KK {KK1} rejected because line 3 is invalid"
    assert reasons(result)[4] == f"KK {KK3} rejected because line 6 is invalid"


def test_the_same_nik_twice_in_one_household() -> None:
    result = read([person(), wife(), wife(hubungan_keluarga="Anak")])
    assert "is also on line 4" in reasons(result)[3] and "is also on line 3" in reasons(result)[4]


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        (person(nik="180106050885001"), "must be exactly 16 digits"),
        (person(nik="9999060508850001"), "99.99 is not a known regency"),
        (person(nik="1801064508850001"), "encodes sex P"),  # day 45 for a man
        (person(nik="1801060608850001"), "stated birth date is 1985-08-05"),
        (person(nik="1801060508850000"), "serial 0000"),
        (person(no_kk="180106200510001"), "KK '180106200510001' must be exactly 16 digits"),
        (person(no_kk="9999062005100001"), "99.99 is not a known regency"),
        (person(kode_wilayah="18.01.06"), "is not PP.KK.CC.DDDD"),
        (person(kode_wilayah="18.01.06.2999"), "18.01.06.2999 is not in the region table"),
        (person(desil="0"), "desil '0' is not an integer 1–10"),
        (person(desil="11"), "desil '11'"),
        (person(desil="dua"), "desil 'dua'"),
        (person(hubungan_keluarga="Keponakan"), "hubungan_keluarga 'Keponakan'"),
        (person(status_perkawinan="Nikah"), "status_perkawinan 'Nikah'"),
        (person(nama=" "), "nama is empty"),
        (person(jenis_kelamin="X"), "jenis_kelamin 'X'"),
        (person(tanggal_lahir="05-08-1985"), "tanggal_lahir '05-08-1985' is not a date"),
        (person(tanggal_lahir="1985-02-31"), "tanggal_lahir '1985-02-31'"),
        (person(nik="1801060107250001", tanggal_lahir="2025-07-01"), "is in the future"),
        (person(id_dtks=""), "id_dtks is empty"),
        (person(hubungan_keluarga="Anak"), "has no Kepala Keluarga"),
    ],
)
def test_each_rule(row: dict[str, str], fragment: str) -> None:
    result = read([row])
    assert result.households == ()
    assert len(result.rejected) == 1 and result.rejected[0].line == 2
    assert fragment in result.rejected[0].reason


def test_no_head_is_reported_on_every_row() -> None:
    result = read([wife(), child()])
    assert all("has no Kepala Keluarga" in row.reason for row in result.rejected)
    assert [row.line for row in result.rejected] == [2, 3]


def test_two_heads() -> None:
    result = read([person(), wife(hubungan_keluarga="Kepala Keluarga")])
    assert reasons(result)[3] == f"second Kepala Keluarga in KK {KK1}; the first is on line 2"


@pytest.mark.parametrize(
    ("column", "value"),
    [("id_dtks", "D9"), ("kode_wilayah", "18.01.06.2002"), ("alamat", "Dusun II"), ("desil", "3")],
)
def test_household_cells_must_agree(column: str, value: str) -> None:
    result = read([person(), wife(**{column: value})])
    assert result.households == ()
    assert reasons(result)[3].startswith(f"{column} {value!r} differs from")
    assert reasons(result)[2] == f"KK {KK1} rejected because line 3 is invalid"


def test_a_row_with_a_wrong_number_of_fields() -> None:
    body = text([person(), wife()]) + f"D1,{KK1},1801061503100001,RAHMAT,L\n"
    result = read_bdt(io.StringIO(body), REGIONS, today=TODAY)
    assert reasons(result)[4] == "5 fields where the header has 12"
    assert len(result.rejected) == 3


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (",".join(BDT_COLUMNS[:-1]), "missing: desil"),
        (",".join((*BDT_COLUMNS, "rt")), "unexpected: rt"),
        (",".join(BDT_COLUMNS).replace("nama", "name"), "missing: nama; unexpected: name"),
        (",".join((*BDT_COLUMNS, "nama")), "a column is repeated"),
        ("", "the file is empty"),
    ],
)
def test_bad_header_raises_once(header: str, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        read_bdt(io.StringIO(header + "\n" if header else ""), REGIONS, today=TODAY)
    assert (e.value.field, e.value.rule) == ("header", "bdt.header")
    assert fragment in e.value.message and "line 1" in e.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as e:
        read_bdt(tmp_path / "missing.csv", REGIONS)
    assert e.value.rule == "csv.unreadable"
    path = tmp_path / "latin1.csv"
    path.write_bytes(text([person(nama="JOSÉ")]).encode("latin-1"))
    with pytest.raises(ValidationFailed) as e:
        read_bdt(path, REGIONS)
    assert e.value.rule == "csv.unreadable"


def test_header_only_file_is_empty_import() -> None:
    assert read([]) == BdtImport((), ())


def test_a_record_is_sent_as_the_command_it_goes_to_takes_it() -> None:
    """A registration carries only what ``register_household`` takes (its edge refuses any other field); an import's
    listing is the household's data with its BDT status in the file (the batch carries the actor, once)."""
    (household,) = read([person(), wife(), child()]).households
    registered, listed = registration(household, {}), listing(household)
    assert set(registered) == set(RegisterHousehold.model_fields)
    assert set(listed) == set(ListedHousehold.model_fields)
    assert (listed["status"], listed["status_reason"]) == ("active", "")


def test_without_the_region_table_identifiers_are_checked_for_their_shape_only() -> None:
    """What the import's client reads: a NIK of an unknown regency is left to the registry, which checks every
    identifier once against its own table; a NIK of the wrong shape is refused at its line (the registry's edge
    would refuse the whole batch it came in)."""
    rows = [person(nik="9901060508850001"), wife(), child(), person(no_kk=KK2, nik="180106050885001")]
    shaped = read_bdt(io.StringIO(text(rows), newline=""), None, today=TODAY)
    assert [household.kk for household in shaped.households] == [KK1]
    assert reasons(shaped) == {5: "NIK '180106050885001' must be exactly 16 digits"}
    assert {row.no_kk for row in read(rows).rejected} == {KK1, KK2}  # with the table, both are refused here
