"""The treasurer's bank files without a database: the bulk-transfer file in each layout, the statement read from
MT940 and CSV, and the rules that match its lines to payments (banking.match_lines)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from berdaya.bank.statement import mt940
from services.grants.bankfiles import (
    TransferLine,
    batch_file_name,
    choose_layout,
    load_layouts,
    payment_reference,
    render_batch,
)
from services.grants.banking import PaymentOnRecord, match_lines
from services.grants.statements import StatementLine, parse_statement
from shared.errors import ValidationFailed

DAY = date(2026, 12, 2)
DEFAULT, LAYOUTS = load_layouts()
LINES = [TransferLine("0206-01-000123-50-1", "KUBE Mawar Jondong", "BRI", 14_000_000, "BLPS0123456789AB",
                      "BLPS UEP Tahap 1 KUBE Mawar Jondong"),
         TransferLine("0206-01-000456-50-1", "=HYPERLINK(\"x\")", "BRI", 6_000_000, "BLPSABCDEF012345", "x")]


def test_the_default_file_has_a_header_a_row_per_transfer_and_the_count_and_total_in_its_control_line_and_name():
    layout = choose_layout(LAYOUTS, DEFAULT)
    rows = list(csv.reader(io.StringIO(render_batch(layout, DAY, LINES))))
    assert rows[0] == ["No Rekening", "Nama Pemilik Rekening", "Bank", "Nominal", "Referensi", "Keterangan"]
    assert rows[1] == ["0206-01-000123-50-1", "KUBE Mawar Jondong", "BRI", "14000000", "BLPS0123456789AB",
                       "BLPS UEP Tahap 1 KUBE Mawar Jondong"]
    assert rows[2][1] == "'=HYPERLINK(\"x\")"  # a typed name never runs as a spreadsheet formula
    assert rows[3] == ["TOTAL", "2", "20000000"]
    assert batch_file_name(layout, DAY, LINES) == "berdaya-generic-2026-12-02-2trx-Rp20000000.csv"


def test_a_bank_layout_orders_its_columns_and_puts_its_control_line_first():
    rows = list(csv.reader(io.StringIO(render_batch(choose_layout(LAYOUTS, "bri-cms"), DAY, LINES)), delimiter=";"))
    assert rows[0] == ["H", "20261202", "2", "20000000"]
    assert rows[1] == ["0206-01-000123-50-1", "KUBE Mawar Jondong", "14000000", "IDR",
                       "BLPS UEP Tahap 1 KUBE Mawar Jondong", "BLPS0123456789AB"]
    assert len(rows) == 3


def test_an_unknown_layout_is_refused_naming_the_known_ones():
    with pytest.raises(ValidationFailed, match="generic") as refusal:
        choose_layout(LAYOUTS, "mandiri")
    assert refusal.value.rule == "batch.layout"


def test_a_payment_reference_is_16_letters_and_digits_a_bank_accepts():
    reference = payment_reference("0123abcd-89ab-4cde-8f01-23456789abcd")
    assert reference == "BLPS0123ABCD89AB" and reference.isalnum() and len(reference) == 16


def test_an_mt940_statement_reads_as_lines_a_debit_went_through_a_credit_came_back_with_its_reason():
    lines = parse_statement(mt940(("D", 14_000_000, "BLPS0123456789AB", "BRI2612020001", "TRF KUBE MAWAR"),
                                  ("C", 6_000_000, "BLPSABCDEF012345", "BRI2612020009", "RETUR REK TIDAK DITEMUKAN"),
                                  ("D", 6_500, "NONREF", "BRI2612020010", "BIAYA ADMIN")), "mt940")
    assert [(x.reference, x.amount_rp, x.went_through, x.bank_reference) for x in lines] == [
        ("BLPS0123456789AB", 14_000_000, True, "BRI2612020001"),
        ("BLPSABCDEF012345", 6_000_000, False, "BRI2612020009"),
        (None, 6_500, True, "BRI2612020010")]
    assert lines[1].text == "RETUR REK TIDAK DITEMUKAN"


def test_a_csv_statement_reads_its_status_and_reason_columns():
    content = (b"Tanggal,Referensi,Nominal,Status,Referensi Bank,Keterangan\r\n"
               b"2026-12-02,BLPS0123456789AB,14000000,BERHASIL,CMS001,\r\n"
               b"2026-12-02,BLPSABCDEF012345,6000000,GAGAL,CMS002,Rekening tidak aktif\r\n")
    lines = parse_statement(content, "csv")
    assert [(x.reference, x.went_through, x.bank_reference, x.text) for x in lines] == [
        ("BLPS0123456789AB", True, "CMS001", "BERHASIL"), ("BLPSABCDEF012345", False, "CMS002",
                                                          "Rekening tidak aktif")]


@pytest.mark.parametrize(("content", "form", "rule"), [
    (b"not a statement at all", "mt940", "statement.empty"),
    (b"Tanggal,Nominal\r\n2026-12-02,5\r\n", "csv", "statement.csv_columns"),
    (b"Tanggal,Referensi,Nominal,Status,Referensi Bank,Keterangan\r\nx,BLPS0123456789AB,10.5,BERHASIL,C,\r\n",
     "csv", "statement.amount"),
    (b"x", "pdf", "statement.format"),
    (b"Tanggal,Referensi,Nominal,Status,Referensi Bank,Keterangan\r\nx,BLPS0123456789AB,Infinity,BERHASIL,C,\r\n",
     "csv", "statement.amount"),
    (b"Tanggal,Referensi,Nominal,Status,Referensi Bank,Keterangan\r\n" + b"x" * 200_000 + b",1,1,1,1,1\r\n", "csv",
     "statement.unreadable"),
])
def test_a_file_that_is_not_a_statement_is_refused_with_its_reason(content, form, rule):
    with pytest.raises(ValidationFailed) as refusal:
        parse_statement(content, form)
    assert refusal.value.rule == rule


def line(number: int, reference: str | None, amount_rp: int, went_through: bool = True, bank_reference: str = "B1",
         identity: str | None = None, text: str = "") -> StatementLine:
    return StatementLine(number, identity or f"line-{number}", reference, amount_rp, went_through, bank_reference,
                         text)


def on_record(reference: str, amount_rp: int = 14_000_000, status: str = "sent", bank_reference: str | None = None):
    return PaymentOnRecord(str(uuid.uuid4()), str(uuid.uuid4()), reference, amount_rp, status, bank_reference)


def test_each_line_gets_its_verdict_and_only_the_exact_matches_are_applied():
    payments = {p.reference: p for p in (on_record("BLPSA"), on_record("BLPSB"), on_record("BLPSC"),
                                         on_record("BLPSD", status="instructed"))}
    verdicts = match_lines([
        line(1, "BLPSA", 14_000_000, bank_reference="BRI1"),
        line(2, "BLPSB", 13_000_000),
        line(3, "BLPSZ", 14_000_000),
        line(4, "BLPSA", 14_000_000, bank_reference="BRI1", identity="line-1"),
        line(5, "BLPSC", 14_000_000, went_through=False, text="REKENING DITUTUP"),
        line(6, "BLPSD", 14_000_000),
        line(7, None, 6_500),
    ], payments)
    assert [(v.line, v.verdict) for v in verdicts] == [
        (1, "confirm"), (2, "amount_differs"), (3, "unknown_reference"), (4, "duplicate"), (5, "fail"),
        (6, "not_awaiting"), (7, "unknown_reference")]
    assert verdicts[0].payment_id == payments["BLPSA"].payment_id and verdicts[0].bank_reference == "BRI1"
    assert verdicts[4].detail == "REKENING DITUTUP"
    assert [v.line for v in verdicts if v.awaits_decision] == [2, 3, 4, 6, 7]


def test_a_second_line_paying_the_same_payment_waits_for_a_person_instead_of_paying_it_twice():
    verdicts = match_lines([line(1, "BLPSA", 14_000_000, bank_reference="BRI1"),
                            line(2, "BLPSA", 14_000_000, bank_reference="BRI2")], {"BLPSA": on_record("BLPSA")})
    assert [v.verdict for v in verdicts] == ["confirm", "not_awaiting"]


@given(st.lists(st.tuples(st.sampled_from(["BLPSA", "BLPSB", None]), st.sampled_from([14_000_000, 1]),
                          st.booleans(), st.sampled_from(["BRI1", "BRI2"])), max_size=8))
def test_matching_what_was_applied_again_applies_nothing(rows):
    """Idempotency: once a statement's verdicts are recorded on the payments, the same lines against them apply
    nothing more (what a statement overlapping an earlier one meets)."""
    lines = [line(n, ref, amount, ok, bank, identity=f"{ref}|{amount}|{ok}|{bank}")
             for n, (ref, amount, ok, bank) in enumerate(rows, start=1)]
    payments = {"BLPSA": on_record("BLPSA"), "BLPSB": on_record("BLPSB", status="instructed")}
    for verdict in match_lines(lines, payments):
        if verdict.verdict in ("confirm", "fail"):
            payments[verdict.reference] = on_record(
                verdict.reference, status="confirmed" if verdict.verdict == "confirm" else "failed",
                bank_reference=verdict.bank_reference if verdict.verdict == "confirm" else None)
    assert not [v for v in match_lines(lines, payments) if v.verdict in ("confirm", "fail")]
