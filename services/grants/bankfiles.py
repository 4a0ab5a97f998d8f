"""The treasurer's bulk-transfer file: one CSV line per instructed payment, in the column layout of the office's
bank (bank_layouts.yaml), with a control line and the count and total in the file's name. Pure: no I/O besides
reading the layouts.

Each line carries the payment's short reference (``payment_reference``): the bank echoes it on its statement, and
reconciliation matches the statement's lines back to their payments by it.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from shared.csvcells import neutralised_row
from shared.errors import ValidationFailed

LAYOUTS_FILE = Path(__file__).with_name("bank_layouts.yaml")
FIELDS = ("account_number", "account_holder", "bank", "amount_rp", "reference", "remark", "currency")
REFERENCE_PREFIX = "BLPS"
# 16 characters, letters and digits only: what Indonesian banks' cash-management uploads accept as a reference.
REFERENCE = re.compile(rf"{REFERENCE_PREFIX}[0-9A-F]{{12}}")
REMARK_LENGTH = 35  # a transfer's remark (berita) is cut to this by most banks anyway


def payment_reference(payment_id: str) -> str:
    """The payment's reference on the bank's side: BLPS and the first 12 hex digits of its id."""
    return REFERENCE_PREFIX + uuid.UUID(payment_id).hex[:12].upper()


@dataclass(frozen=True)
class Column:
    title: str
    field: str


@dataclass(frozen=True)
class BankLayout:
    name: str
    delimiter: str
    header: bool
    columns: tuple[Column, ...]
    control_at: str  # top | bottom
    control_cells: tuple[str, ...]


@dataclass(frozen=True)
class TransferLine:
    """One transfer to a KUBE's own account (the group's, never a person's)."""

    account_number: str
    account_holder: str
    bank: str
    amount_rp: int
    reference: str
    remark: str
    currency: str = "IDR"


def load_layouts(path: Path = LAYOUTS_FILE) -> tuple[str, dict[str, BankLayout]]:
    """The default layout's name and every layout, checked: a misspelt field fails at start, not at the bank."""
    with open(path, encoding="utf-8") as handle:
        settings = yaml.safe_load(handle)
    layouts = {}
    for name, spec in settings["layouts"].items():
        columns = tuple(Column(**column) for column in spec["columns"])
        unknown = [column.field for column in columns if column.field not in FIELDS]
        if unknown or spec["control"]["at"] not in ("top", "bottom"):
            raise ValueError(f"bank layout {name}: unknown fields {unknown} or control position")
        layouts[name] = BankLayout(name, spec["delimiter"], bool(spec["header"]), columns, spec["control"]["at"],
                                   tuple(spec["control"]["cells"]))
    if settings["default"] not in layouts:
        raise ValueError(f"the default bank layout {settings['default']!r} is not defined")
    return settings["default"], layouts


def choose_layout(layouts: dict[str, BankLayout], name: str) -> BankLayout:
    if name not in layouts:
        raise ValidationFailed("layout", "batch.layout", f"no bank layout {name!r}; known: {sorted(layouts)}")
    return layouts[name]


def batch_file_name(layout: BankLayout, day: date, lines: list[TransferLine]) -> str:
    """berdaya-<layout>-<date>-<count>trx-Rp<total>.csv: the count and total are visible before it is opened."""
    return f"berdaya-{layout.name}-{day.isoformat()}-{len(lines)}trx-Rp{sum(x.amount_rp for x in lines)}.csv"


def render_batch(layout: BankLayout, day: date, lines: list[TransferLine]) -> str:
    """The CSV text: header (if the layout has one), a row per transfer, and the control line (count, total)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=layout.delimiter, lineterminator="\r\n")
    values = {"count": len(lines), "total_rp": sum(line.amount_rp for line in lines), "date": day.strftime("%Y%m%d")}
    control = [cell.format(**values) for cell in layout.control_cells]
    if layout.control_at == "top":
        writer.writerow(control)
    if layout.header:
        writer.writerow([column.title for column in layout.columns])
    for line in lines:
        # Names and remarks are typed by people: no cell may start a spreadsheet formula (shared/csvcells.py).
        writer.writerow(neutralised_row(getattr(line, column.field) for column in layout.columns))
    if layout.control_at == "bottom":
        writer.writerow(control)
    return out.getvalue()


def remark(tranche: int, group_name: str) -> str:
    return f"BLPS UEP Tahap {tranche} {group_name}"[:REMARK_LENGTH]
