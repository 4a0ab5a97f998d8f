"""How the console reads what people type (pure: no I/O): amounts as the office writes them, NIK and KK with or
without spaces, rows of a form renumbered, only the console's own pages after login."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from services.gateway.console.forms import Form, compact
from services.gateway.console.i18n import Language, grouped
from services.gateway.console.pages.session import safe_next

ID = Language("id")


def form(**fields: str) -> Form:
    return Form(MultiDict(fields), ID)


@pytest.mark.parametrize("typed, amount", [("20.000.000", 20_000_000), ("Rp 20.000.000", 20_000_000),
                                           ("rp20000000", 20_000_000), ("20,000,000", 20_000_000),
                                           ("  1 500 000 ", 1_500_000)])
def test_amounts_as_the_office_types_them(typed: str, amount: int):
    read = form(amount_rp=typed)
    assert read.rupiah("amount_rp") == amount and read.ok


@pytest.mark.parametrize("typed", ["20.5", "dua juta", "-5", "0"])
def test_an_amount_that_is_not_whole_positive_rupiah_is_refused_next_to_its_field(typed: str):
    read = form(amount_rp=typed)
    read.rupiah("amount_rp")
    assert set(read.errors) == {"amount_rp"}


@given(st.integers(min_value=1, max_value=10**13))
def test_an_amount_shown_by_the_console_reads_back_as_itself(amount: int):
    shown = ID.rupiah(amount)
    assert shown.startswith("Rp ") and form(x=shown).rupiah("x") == amount


def test_nik_and_kk_are_sixteen_digits_typed_with_or_without_spaces():
    assert form(nik="1801 0645 0385 0001").digits("nik") == "1801064503850001"
    assert grouped("1801064503850001") == "1801 0645 0385 0001"
    short = form(nik="18010645")
    short.digits("nik")
    assert short.errors == {"nik": "Tepat 16 angka."}


def test_rows_are_renumbered_without_the_blank_ones():
    data = MultiDict({"members.0.nik": "1", "members.3.nik": "", "members.5.nik": "2", "kk": "x"})
    kept = compact(data, "members", ("nik",))
    assert dict(kept) == {"kk": "x", "members.0.nik": "1", "members.1.nik": "2"}


@pytest.mark.parametrize("target, landing", [
    ("/console/proposals?status=submitted", "/console/proposals?status=submitted"),
    ("https://phishing.example/console/", "/console/"), ("//phishing.example/console/", "/console/"),
    ("/api/v1/users", "/console/"), ("/consolex", "/console/"), (None, "/console/")])
def test_after_login_only_a_page_of_the_console(target, landing):
    assert safe_next(target) == landing
