"""The DTKS/BDT reader with a column layout of the office's own export, and its optional BDT status column."""

import csv
import io
from pathlib import Path

import pytest

from services.registry.bdt import BDT_COLUMNS, BdtLayout, read_bdt, read_layout
from shared.errors import ValidationFailed
from tests.unit.test_bdt import KK1, REGIONS, TODAY, person, reasons, wife

# An export as an office receives it: other names, another order, a status column.
RENAMED = {"no_kk": "NOMOR_KK", "nama": "NAMA_LENGKAP", "desil": "DESIL_NASIONAL"}


def exported(rows: list[dict[str, str]], layout: BdtLayout, statuses: list[str]) -> io.StringIO:
    header = list(reversed(layout.names()))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row, status in zip(rows, statuses, strict=True):
        cells = {layout.columns[name]: value for name, value in row.items()} | {layout.status_column: status}
        writer.writerow([cells[name] for name in header])
    return io.StringIO(out.getvalue(), newline="")


@pytest.fixture
def layout(tmp_path: Path) -> BdtLayout:
    path = tmp_path / "layout.yaml"
    path.write_text("columns:\n" + "".join(f"  {ours}: {theirs}\n" for ours, theirs in RENAMED.items())
                    + "status_bdt: KETERANGAN\n", encoding="utf-8")
    return read_layout(path)


def test_a_layout_file_reads_the_office_export_in_its_own_names_and_order(layout: BdtLayout) -> None:
    result = read_bdt(exported([person(), wife()], layout, ["Meninggal", "Meninggal"]), REGIONS, today=TODAY,
                      layout=layout)
    assert result.rejected == ()
    (household,) = result.households
    assert (household.kk, household.decile, len(household.members)) == (KK1, 2, 2)
    assert (household.status, household.status_reason) == ("removed", "deceased")


def test_without_a_status_column_every_household_is_active() -> None:
    result = read_bdt(exported([person()], BdtLayout(), [""]), REGIONS, today=TODAY)
    assert (result.households[0].status, result.households[0].status_reason) == ("active", "")


def test_an_unknown_status_or_one_that_differs_within_a_household_rejects_it(layout: BdtLayout) -> None:
    unknown = read_bdt(exported([person()], layout, ["hilang"]), REGIONS, today=TODAY, layout=layout)
    assert "status_bdt 'hilang' is not one of" in reasons(unknown)[2]
    differing = read_bdt(exported([person(), wife()], layout, ["graduasi", "aktif"]), REGIONS, today=TODAY,
                         layout=layout)
    assert "status_bdt 'aktif' differs from 'graduasi'" in reasons(differing)[3]


def test_the_default_header_against_a_layout_names_what_is_missing(layout: BdtLayout) -> None:
    with pytest.raises(ValidationFailed) as e:
        read_bdt(io.StringIO(",".join(BDT_COLUMNS) + "\n"), REGIONS, today=TODAY, layout=layout)
    assert "missing: NOMOR_KK, NAMA_LENGKAP, DESIL_NASIONAL, KETERANGAN" in e.value.message


def test_a_layout_must_map_every_field(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as e:
        BdtLayout({"nik": "NIK"})
    assert e.value.rule == "bdt.layout"
