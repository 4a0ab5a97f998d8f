"""`stream_bdt` passes households on while the file is read, and judges every file exactly as `read_bdt` does."""

import csv
import io
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.registry.bdt import (
    BDT_COLUMNS,
    HEAD,
    BdtImport,
    HouseholdRecord,
    outline_bdt,
    read_bdt,
    stream_bdt,
)

TODAY = date(2025, 6, 30)
# A small pool of KKs, so that a KK comes back; NIKs mostly new, now and then one of a small pool (a NIK on two lines,
# within a household or across); a few malformed values.
KKS = [f"18010620051000{n:02d}" for n in range(16)] + ["", "1801"]
REPEATING_NIKS = [f"18010605088500{n:02d}" for n in range(6)] + ["", "18010605"]
OTHERS = ["Istri", "Anak", "Anak", "Cucu", HEAD, "Saudara"]  # "Saudara" is not a relation
BAD_CELLS = {"nama": "", "jenis_kelamin": "X", "tanggal_lahir": "1985-13-01", "status_perkawinan": "Duda",
             "kode_wilayah": "18.01", "desil": "11", "id_dtks": ""}


def rarely(draw: st.DrawFn, one_in: int) -> bool:
    return draw(st.integers(1, one_in)) == 1


@st.composite
def households(draw: st.DrawFn) -> list[dict[str, str]]:
    """The rows of one household, now and then a bad cell, no head, a cell its other rows disagree with."""
    kk = draw(st.sampled_from(KKS))
    shared = {"id_dtks": f"D{kk[-2:]}", "kode_wilayah": "18.01.06.2001", "alamat": "Dusun I", "desil": "2"}
    rows = []
    for n in range(draw(st.integers(1, 4))):
        nik = draw(st.sampled_from(REPEATING_NIKS)) if rarely(draw, 8) else f"{draw(st.integers(0, 10**9)):016d}"
        relation = (HEAD if not rarely(draw, 10) else "Anak") if n == 0 else draw(st.sampled_from(OTHERS))
        row = {"no_kk": kk, "nik": nik, "nama": "BUDI", "jenis_kelamin": "L", "tanggal_lahir": "1985-08-05",
               "hubungan_keluarga": relation, "status_perkawinan": "Kawin", "pekerjaan": "Petani", **shared}
        if rarely(draw, 12):
            column = draw(st.sampled_from(sorted(BAD_CELLS)))
            row[column] = BAD_CELLS[column]
        if rarely(draw, 20):
            row["alamat"] = "Dusun II"
        rows.append(row)
    return rows


@st.composite
def bdt_files(draw: st.DrawFn) -> str:
    """A file of households, mostly each listed together; some split across the file, some rows moved, a short
    row now and then."""
    rows = [row for household in draw(st.lists(households(), max_size=12)) for row in household]
    for _ in range(draw(st.integers(0, 3)) if rows else 0):
        moved = rows.pop(draw(st.integers(0, len(rows) - 1)))
        rows.insert(draw(st.integers(0, len(rows))), moved)
    out = io.StringIO(newline="")
    out.write(",".join(BDT_COLUMNS) + "\n")
    for row in rows:
        cells = [row[column] for column in BDT_COLUMNS]
        csv.writer(out, lineterminator="\n").writerow(cells[:5] if rarely(draw, 40) else cells)
    return out.getvalue()


def streamed(text: str) -> BdtImport:
    """`stream_bdt` with the outline of the same file, its outcomes gathered as `read_bdt` reports them."""
    outline = outline_bdt(io.StringIO(text, newline=""))
    valid, rejected, kks = [], [], set()
    for outcome in stream_bdt(io.StringIO(text, newline=""), None, outline, today=TODAY):
        if isinstance(outcome, HouseholdRecord):
            valid.append(outcome)
            kks.add(outcome.kk)
        else:
            rejected += outcome
            kks.add(outcome[0].no_kk)
    assert outline.households == len(kks) == len(valid) + len({row.no_kk for row in rejected})
    return BdtImport(tuple(valid), tuple(sorted(rejected, key=lambda row: row.line)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bdt_files())
def test_streaming_judges_every_file_as_reading_it_whole(text: str) -> None:
    """The same valid households in the same (first-seen) order, the same rejected rows, lines and reasons."""
    assert streamed(text) == read_bdt(io.StringIO(text, newline=""), None, today=TODAY)


def test_a_household_is_passed_on_before_the_file_is_read() -> None:
    """Households listed together leave as the next KK starts; a KK that comes back later holds back the ones after
    it (they leave in first-seen order) until its last line; a repeated NIK's households wait for the end."""
    def row(kk: int, nik: int, relation: str = HEAD) -> str:
        return (f"D{kk},{KKS[kk]},{1801060508850000 + nik},BUDI,L,1985-08-05,{relation},Kawin,Petani,"
                "18.01.06.2001,Dusun I,2\n")

    text = ",".join(BDT_COLUMNS) + "\n" + "".join([
        row(0, 0), row(0, 1, "Anak"),  # lines 2-3: together
        row(1, 2), row(2, 3),  # lines 4, 5: KK 1 comes back on line 7
        row(3, 4), row(1, 5, "Anak"),  # line 6: NIK 4 repeats on line 8
        row(4, 6), row(5, 4),
        *(row(6, 7 + n, "Anak") for n in range(2000)),  # no head: rejected at the end, its last line
    ])
    outline = outline_bdt(io.StringIO(text, newline=""))
    assert (outline.households, outline.last_lines, outline.repeated) == (7, {KKS[1]: 7}, {"1801060508850004"})
    source = io.StringIO(text, newline="")
    stream = stream_bdt(source, None, outline, today=TODAY)
    first = next(stream)
    assert isinstance(first, HouseholdRecord) and first.kk == KKS[0] and source.tell() < len(text) / 10
    assert [household.kk for household in (next(stream), next(stream), next(stream))] == [KKS[1], KKS[2], KKS[4]]
    assert source.tell() < len(text) / 10
    last, *doomed = (outcome[0].no_kk for outcome in stream)
    assert last == KKS[6] and sorted(doomed) == [KKS[3], KKS[5]]
