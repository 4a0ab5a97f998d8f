import csv
import io
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.bdt import BDT_COLUMNS, read_bdt
from services.registry.synth import AS_OF, ERROR_KINDS, SynthSummary, write_synthetic_bdt
from shared.errors import ValidationFailed
from shared.ids import check_nik_matches, parse_nik
from shared.regions import builtin_lampung_selatan, load_region_table

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REGIONS = load_region_table(DATA / "wilayah_kabupaten_id.csv", DATA / "wilayah_lampung.csv")
REGENCY = "18.01"
WORKING_AGE = {"Petani", "Buruh Tani", "Nelayan", "Pedagang", "Ibu Rumah Tangga", "Wiraswasta", "Buruh Harian Lepas"}
RARE = {"PNS", "TNI", "Polri", "Pensiunan"}
OCCUPATIONS = WORKING_AGE | RARE | {"Pelajar", "Tidak Bekerja"}


def generate(households: int, seed: int, error_share: float = 0.0) -> tuple[str, SynthSummary]:
    out = io.StringIO(newline="")
    summary = write_synthetic_bdt(out, households, REGENCY, REGIONS, seed, error_share)
    return out.getvalue(), summary


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def born(row: dict[str, str]) -> date:
    return date.fromisoformat(row["tanggal_lahir"])


def age(born: date) -> int:
    return AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def sample() -> tuple[str, SynthSummary]:
    return generate(5000, seed=11)


def test_header_and_counts(sample: tuple[str, SynthSummary]) -> None:
    text, summary = sample
    assert text.splitlines()[0] == ",".join(BDT_COLUMNS)
    assert (summary.households, summary.injected_errors) == (5000, ())
    table = rows(text)
    assert len(table) == summary.individuals
    assert len({row["no_kk"] for row in table}) == 5000


def test_clean_file_imports_without_rejections(sample: tuple[str, SynthSummary]) -> None:
    text, summary = sample
    result = read_bdt(io.StringIO(text, newline=""), REGIONS)
    assert result.rejected == ()
    assert len(result.households) == summary.households
    assert sum(len(household.members) for household in result.households) == summary.individuals


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    path = tmp_path / "bdt.csv"
    assert write_synthetic_bdt(path, 300, REGENCY, REGIONS, seed=5, error_share=0.2) == generate(300, 5, 0.2)[1]
    assert path.read_bytes().decode("utf-8") == generate(300, 5, 0.2)[0]  # CRLF, as csv writes it
    assert generate(300, 6)[0] != generate(300, 5)[0]


def test_unique_niks_and_kks_and_real_villages(sample: tuple[str, SynthSummary]) -> None:
    table = rows(sample[0])
    assert len({row["nik"] for row in table}) == len(table)
    villages = set(REGIONS.villages(REGENCY))
    assert {row["kode_wilayah"] for row in table} <= villages
    assert len({row["kode_wilayah"] for row in table}) > 200  # spread over the regency's 260 villages
    # The KK carries the district of the domicile; the NIK the regency of first registration, mostly home.
    assert all(row["no_kk"][:6] == row["kode_wilayah"][:8].replace(".", "") for row in table)
    home = sum(row["nik"].startswith("1801") for row in table) / len(table)
    assert 0.85 < home < 0.95
    assert all(REGIONS.is_regency(f"{row['nik'][:2]}.{row['nik'][2:4]}") for row in table)


def test_households_are_plausible(sample: tuple[str, SynthSummary]) -> None:
    households: dict[str, list[dict[str, str]]] = {}
    for row in rows(sample[0]):
        households.setdefault(row["no_kk"], []).append(row)
    sizes = [len(members) for members in households.values()]
    assert min(sizes) == 1 and max(sizes) == 8
    assert 3.2 < sum(sizes) / len(sizes) < 3.7
    for members in households.values():
        head, *others = members
        assert head["hubungan_keluarga"] == "Kepala Keluarga"
        head_born = date.fromisoformat(head["tanggal_lahir"])
        assert 20 <= age(head_born) <= 75
        spouses = [row for row in others if row["hubungan_keluarga"] in ("Istri", "Suami")]
        assert len(spouses) <= 1
        couple = [head_born]
        for spouse in spouses:
            assert spouse["jenis_kelamin"] != head["jenis_kelamin"]
            assert spouse["hubungan_keluarga"] == ("Istri" if spouse["jenis_kelamin"] == "P" else "Suami")
            assert head["status_perkawinan"] == spouse["status_perkawinan"] == "Kawin"
            couple.append(date.fromisoformat(spouse["tanggal_lahir"]))
        for row in others:
            born = date.fromisoformat(row["tanggal_lahir"])
            assert born <= AS_OF
            relation = row["hubungan_keluarga"]
            if relation in ("Anak", "Cucu", "Menantu"):
                assert all(born.year - parent.year >= 15 for parent in couple), (relation, born, couple)
            if relation in ("Orang Tua", "Mertua"):
                assert all(parent.year - born.year >= 15 for parent in couple), (relation, born, couple)
            if age(born) < 17:
                assert row["status_perkawinan"] == "Belum Kawin"


def test_deciles_and_occupations(sample: tuple[str, SynthSummary]) -> None:
    table = rows(sample[0])
    deciles = Counter(int(row["desil"]) for row in {row["no_kk"]: row for row in table}.values())
    assert set(deciles) == set(range(1, 11))
    assert deciles[1] > deciles[5] > deciles[10]
    assert sum(deciles[d] for d in range(1, 5)) / sum(deciles.values()) > 0.55
    occupations = Counter(row["pekerjaan"] for row in table)
    assert set(occupations) <= OCCUPATIONS and WORKING_AGE <= set(occupations)
    assert 0 < sum(occupations[o] for o in RARE) / len(table) < 0.03
    assert all(row["pekerjaan"] == "Tidak Bekerja" for row in table if age(born(row)) < 7)


def test_names_are_indonesian_and_upper_case(sample: tuple[str, SynthSummary]) -> None:
    names = [row["nama"] for row in rows(sample[0])]
    assert all(name and name == name.upper() for name in names)
    assert len(set(names)) > 1000


@settings(max_examples=15, deadline=None)
@given(households=st.integers(1, 150), seed=st.integers(0, 2**32))
def test_every_generated_nik_decodes_to_its_row(households: int, seed: int) -> None:
    for row in rows(generate(households, seed)[0]):
        born = date.fromisoformat(row["tanggal_lahir"])
        check_nik_matches(row["nik"], row["jenis_kelamin"], born, REGIONS)
        # Everybody is under 100, so even without the stated date the NIK reads right.
        info = parse_nik(row["nik"], REGIONS, today=AS_OF)
        assert (info.birth_date, info.sex) == (born, row["jenis_kelamin"])


@settings(max_examples=15, deadline=None)
@given(households=st.integers(1, 150), seed=st.integers(0, 2**32))
def test_a_clean_file_always_imports_whole(households: int, seed: int) -> None:
    text, summary = generate(households, seed)
    result = read_bdt(io.StringIO(text, newline=""), REGIONS)
    assert result.rejected == () and len(result.households) == households


@settings(max_examples=15, deadline=None)
@given(households=st.integers(20, 300), seed=st.integers(0, 2**32))
def test_each_injected_error_rejects_exactly_its_households(households: int, seed: int) -> None:
    text, summary = generate(households, seed, error_share=0.1)
    assert len(summary.injected_errors) == round(households * 0.1)
    result = read_bdt(io.StringIO(text, newline=""), REGIONS)
    rejected = {row.no_kk for row in result.rejected}
    assert rejected == summary.invalid_households
    assert len(result.households) == households - len(rejected)
    # The line each error names is one the reader reports with a reason of its own.
    own_reasons = {row.line for row in result.rejected if "rejected because" not in row.reason}
    assert {error.line for error in summary.injected_errors} <= own_reasons


def test_every_error_kind_is_made_and_caught() -> None:
    text, summary = generate(400, seed=3, error_share=0.5)
    kinds = Counter(error.kind for error in summary.injected_errors)
    assert set(kinds) == set(ERROR_KINDS)
    reasons = {row.line: row.reason for row in read_bdt(io.StringIO(text, newline=""), REGIONS).rejected}
    expected = {
        "nik_length": "must be exactly 16 digits",
        "nik_sex_mismatch": "but the stated sex is",
        "unknown_village": "is not in the region table",
        "decile_11": "desil '11'",
        "two_heads": "second Kepala Keluarga",
        "no_head": "has no Kepala Keluarga",
        "bad_date": "is not a date YYYY-MM-DD",
        "duplicate_nik": "is also on line",
    }
    for error in summary.injected_errors:
        assert expected[error.kind] in reasons[error.line], (error, reasons[error.line])


def test_duplicate_nik_names_both_households() -> None:
    _, summary = generate(400, seed=3, error_share=0.5)
    duplicates = [error for error in summary.injected_errors if error.kind == "duplicate_nik"]
    assert duplicates and all(len(error.kks) == 2 and error.kks[0] != error.kks[1] for error in duplicates)
    # With every household spoiled there is no clean one to copy from: another kind stands in.
    _, everything = generate(50, seed=3, error_share=1.0)
    assert len(everything.injected_errors) == 50
    assert "duplicate_nik" not in {error.kind for error in everything.injected_errors}


def test_builtin_table_is_enough_for_the_demo() -> None:
    regions = builtin_lampung_selatan()
    out = io.StringIO(newline="")
    summary = write_synthetic_bdt(out, 500, REGENCY, regions, seed=1)
    table = rows(out.getvalue())
    assert {row["kode_wilayah"] for row in table} <= set(regions.villages(REGENCY))
    result = read_bdt(io.StringIO(out.getvalue(), newline=""), regions)
    assert result.rejected == () and len(result.households) == summary.households


@pytest.mark.parametrize(
    ("households", "regency", "error_share", "rule"),
    [
        (10, "31.71", 0.0, "synth.regency"),  # Jakarta has no villages in this table
        (10, "18.99", 0.0, "synth.regency"),
        (10, "18.01", 1.5, "synth.error_share"),
        (-1, "18.01", 0.0, "synth.households"),
    ],
)
def test_bad_arguments(households: int, regency: str, error_share: float, rule: str) -> None:
    with pytest.raises(ValidationFailed) as e:
        write_synthetic_bdt(io.StringIO(), households, regency, REGIONS, 1, error_share)
    assert e.value.rule == rule
