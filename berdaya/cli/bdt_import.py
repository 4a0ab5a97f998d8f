"""`berdaya import-bdt`: a DTKS/BDT file into the registry, household by household, nothing half-imported.

A newer file (DTSEN is updated monthly to quarterly) changes known households: the registry applies its
differences, attributed to the file (its name, date and SHA-256), and holds what touches money for review
(services/registry/dtsen.py); the report counts them per kind. The file's column layout is configuration
(``--layout``, services/registry/bdt.py); without one, today's header.

The file is read and checked here for what the registry cannot see (its rows, a household's rows agreeing, one
head, a NIK on two lines), its identifiers for their shape only; valid households travel to
``registry.import_households`` in batches, a few calls in flight so that RPC and the database overlap. A quick first
pass over the KK and NIK columns (services/registry/bdt.py: ``outline_bdt``) lets the checking pass send each
household as soon as it is complete, so the registry stores while the file is still being read. The registry
checks each household's identifiers once against its own region table (a known regency and village, a NIK that
encodes the member's sex and birth date) and refuses a household that fails. A household with any invalid row is not
imported; every rejected row is reported with its line number and reason (a household the registry refused: each of
its lines, with the registry's reason). Re-running a file changes nothing — which is also why a batch left
unanswered (its request went down with a killed registry replica) is simply sent again.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from berdaya.cli.remote import CliActor
from services.registry.bdt import DEFAULT_LAYOUT, BdtLayout, HouseholdRecord, outline_bdt, stream_bdt
from shared.ids import jakarta_today
from shared.regions import iter_csv
from shared.rpc import call_until_answered

BATCH = 500
IN_FLIGHT = 3


@dataclass
class ImportReport:
    households_imported: int = 0
    individuals_imported: int = 0
    households_rejected: int = 0
    rejected_rows: list[dict] = field(default_factory=list)
    unchanged: int = 0
    households_changed: int = 0  # known households the file changed (or whose change waits for review)
    changes: Counter = field(default_factory=Counter)  # applied changes, by kind
    held_for_review: int = 0

    def as_dict(self) -> dict:
        return {
            "households_imported": self.households_imported,
            "individuals_imported": self.individuals_imported,
            "households_rejected": self.households_rejected,
            "rejected_rows": self.rejected_rows,
            "unchanged": self.unchanged,
            "households_changed": self.households_changed,
            "changes": dict(sorted(self.changes.items())),
            "held_for_review": self.held_for_review,
        }


def household_data(record: HouseholdRecord) -> dict:
    """The household's registration data, as the registry's commands carry it."""
    return {
        "kk": record.kk, "dtks_id": record.dtks_id, "village_code": record.village_code, "address": record.address,
        "decile": record.decile,
        "members": [
            {"nik": m.nik, "name": m.name, "sex": m.sex, "birth_date": m.birth_date.isoformat(),
             "relation": m.relation, "marital_status": m.marital_status, "occupation": m.occupation}
            for m in record.members
        ],
    }


def registration(record: HouseholdRecord, actor: dict) -> dict:
    """The household as ``register_household`` takes it, ``actor`` (signed) acting."""
    return {**household_data(record), "actor": actor}


def listing(record: HouseholdRecord) -> dict:
    """The household as an ``import_households`` batch lists it: its data, and its BDT status in the file."""
    return {**household_data(record), "status": record.status, "status_reason": record.status_reason}


def file_source(path: Path, file_date: date | None = None) -> dict:
    """What the file's changes are attributed to: its name, its date (default: today in Jakarta), its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "file_date": (file_date or jakarta_today()).isoformat(), "sha256": digest.hexdigest()}


def import_bdt(path: Path, amqp_uri: str, actor: CliActor, progress: Callable[[int, int], None] | None = None,
               rpc_timeout: float = 120, layout: BdtLayout = DEFAULT_LAYOUT,
               file_date: date | None = None) -> ImportReport:
    """``progress(done, total)``: of the file's ``total`` households, ``done`` stored (or refused) by the registry
    or rejected here."""
    report = ImportReport()
    source = file_source(path, file_date)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=rpc_timeout) as rpc:
        outline = outline_bdt(path, layout)
        rejected_kks: set[str] = set()
        server_rejections: dict[str, str] = {}
        in_flight: list = []
        batch: list[HouseholdRecord] = []
        done = 0

        def batch_of(records: list[HouseholdRecord]) -> dict:
            # The actor signed afresh for each call (a resent one too): an assertion lives 120 s.
            return {"actor": actor.on_the_wire(), "households": [listing(record) for record in records],
                    "source": source}

        def settle(reply, records: list[HouseholdRecord]) -> None:
            nonlocal done
            try:
                result = reply.result()
            except RpcTimeout:
                result = call_until_answered(lambda: rpc.registry.import_households(batch_of(records)),
                                             attempts=2)
            report.households_imported += result["imported"]
            report.individuals_imported += result["individuals"]
            report.unchanged += result["unchanged"]
            report.households_changed += result["households_changed"]
            report.changes.update(result["changes"])
            report.held_for_review += result["held_for_review"]
            server_rejections.update({r["kk"]: r["reason"] for r in result["rejected"]})
            done += len(records)
            if progress:
                progress(done + len(rejected_kks), outline.households)

        def send(records: list[HouseholdRecord]) -> None:
            # The reply is read only when IN_FLIGHT calls wait: meanwhile the registry stores and the file is read.
            in_flight.append((rpc.registry.import_households.call_async(batch_of(records)), records))
            if len(in_flight) >= IN_FLIGHT:
                settle(*in_flight.pop(0))

        # Each household as soon as it is complete: the first batch leaves long before the file's end.
        for outcome in stream_bdt(path, None, outline, layout=layout):
            if isinstance(outcome, HouseholdRecord):
                batch.append(outcome)
                if len(batch) == BATCH:
                    send(batch)
                    batch = []
            else:
                report.rejected_rows += [{"line": r.line, "no_kk": r.no_kk, "reason": r.reason} for r in outcome]
                rejected_kks.add(outcome[0].no_kk)
        if batch:
            send(batch)
        while in_flight:
            settle(*in_flight.pop(0))
    report.rejected_rows += rows_of(path, server_rejections, layout) if server_rejections else []
    report.rejected_rows.sort(key=lambda row: row["line"])
    report.households_rejected = len(rejected_kks | set(server_rejections))
    return report


def rows_of(path: Path, reasons: dict[str, str], layout: BdtLayout) -> list[dict]:
    """Every line of the households the registry refused (e.g. a NIK already registered elsewhere)."""
    lines: dict[str, list[int]] = defaultdict(list)
    rows = iter_csv(path)
    header = next(rows, None)
    kk_at = [cell.strip() for cell in header[1]].index(layout.columns["no_kk"]) if header else 1
    for line, cells in rows:
        kk = cells[kk_at].strip() if len(cells) > kk_at else ""
        if kk in reasons:
            lines[kk].append(line)
    return [{"line": line, "no_kk": kk, "reason": reasons[kk]} for kk, kk_lines in lines.items() for line in kk_lines]
