"""`berdaya audit report`, its data: the rows of the auditor's CSV files and page, from the event logs alone (up to
``--as-of``); ``berdaya.audit.report_files`` writes them.

Grants, registry and training are replayed with :func:`berdaya.audit.replay.replay`; every figure and every name in
the report comes from the events, except the names of regions, which come from registry's ``regions`` table (the
official list: reference data, not history). Times are shown in Asia/Jakarta (WIB); money as whole rupiah.

Files written to the output folder:

- ``disbursements.csv``: every paid tranche (a confirmed transfer or a delivered BAST) with its provenance: who
  drafted, verified, recommended, approved, instructed and confirmed/delivered it, and when;
- ``disbursed_by_district_month.csv``, ``proposals_by_stage.csv``, ``approval_level_durations.csv``,
  ``family_school_completion.csv``, ``grievances_by_district.csv`` (recorded, open, overdue at the report's moment,
  resolved, mean days to resolve: counts only, never who complained or what was said);
- ``report.html``: one self-contained page, its charts embedded as PNG (matplotlib, Agg backend).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from berdaya.audit import replay as audit
from berdaya.audit import verify as audit_verify
from services.grants.domain import Grant, Proposal
from services.registry.domain import Group
from services.registry.grievance import Grievance
from services.training.domain import Cohort
from shared import ledger

WIB = ZoneInfo("Asia/Jakarta")
STAGES = ("draft", "submitted", "returned", "verified", "recommended", "approved", "rejected", "cancelled")
STAGE_LABELS = {"draft": "draf", "submitted": "diajukan", "returned": "dikembalikan", "verified": "diverifikasi",
                "recommended": "direkomendasikan", "approved": "disetujui", "rejected": "ditolak",
                "cancelled": "dibatalkan"}
# (column, from step, to step, who acts at that level)
LEVELS = (("submitted_to_verified_h", "submitted", "verified", "Kabupaten (verifikasi)"),
          ("verified_to_recommended_h", "verified", "recommended", "Provinsi (rekomendasi)"),
          ("recommended_to_approved_h", "recommended", "approved", "Kementerian (persetujuan)"))
STEPS = ("drafted", "verified", "recommended", "approved", "instructed", "confirmed_delivered")
DISBURSEMENT_COLUMNS = (
    "proposal_id", "payment_id", "group_name", "village_code", "village_name", "district", "district_name",
    "tranche", "amount_rp", "kind", "bank_reference", "receiver",
    *(f"{step}_{part}" for step in STEPS for part in ("by", "at")),
)


def rupiah(amount: int) -> str:
    """Rp 1.234.567: the Indonesian thousands separator."""
    return f"Rp {amount:,}".replace(",", ".")


def decimal_id(number: float, places: int = 1) -> str:
    """1234.5 → 1.234,5 (Indonesian separators)."""
    return f"{number:,.{places}f}".translate(str.maketrans(",.", ".,"))


def wib(moment: datetime | None) -> str:
    return moment.astimezone(WIB).isoformat(timespec="seconds") if moment else ""


def district_of(village_code: str) -> str:
    return village_code[:8]


@dataclass
class Step:
    by: str
    at: datetime


@dataclass
class Report:
    """What the report is made of: the rows of every CSV, and what the page says about its sources."""

    as_of: datetime | None
    generated_at: datetime
    disbursements: list[dict] = field(default_factory=list)
    by_district_month: list[dict] = field(default_factory=list)
    by_stage: list[dict] = field(default_factory=list)
    durations: list[dict] = field(default_factory=list)
    family_school: list[dict] = field(default_factory=list)
    grievances: list[dict] = field(default_factory=list)
    sources: dict[str, dict] = field(default_factory=dict)  # service → events read, last position
    ledger: dict[str, Any] = field(default_factory=dict)
    ledger_as_of: dict[str, Any] | None = None
    verification: dict[str, Any] | None = None
    verification_error: str | None = None


# --- from the events to rows ---------------------------------------------------------------------------------

def proposal_steps(events: Iterable) -> dict[str, Step]:
    """The last time each step happened (a returned proposal is verified again: the final pass is the one that
    counts); ``submitted`` is the last submission or resubmission."""
    steps: dict[str, Step] = {}
    for event in events:
        name = type(event).__name__
        if name == "Drafted":
            steps["drafted"] = Step(event.drafted_by, event.timestamp)
        elif name in ("Submitted", "Resubmitted"):
            steps["submitted"] = Step(event.by, event.timestamp)
            for later in ("verified", "recommended", "approved"):  # a new pass starts
                steps.pop(later, None)
        elif name in ("Verified", "Recommended", "Approved"):
            steps[name.lower()] = Step(event.by, event.timestamp)
    return steps


def payment_steps(events: Iterable) -> dict[str, dict[str, Any]]:
    """Per payment id: who instructed it and who confirmed it (or recorded a delivery's BAST and who accepted the
    handover), and when."""
    payments: dict[str, dict[str, Any]] = defaultdict(dict)
    for event in events:
        name = type(event).__name__
        if name in ("Instructed", "DeliveryRecorded"):
            payments[event.payment_id]["instructed"] = Step(event.by, event.timestamp)
        elif name == "Confirmed":
            payments[event.payment_id]["confirmed_delivered"] = Step(event.by, event.timestamp)
            payments[event.payment_id]["bank_reference"] = event.bank_reference
        elif name == "Delivered":
            payments[event.payment_id]["confirmed_delivered"] = Step(event.by, event.timestamp)
            payments[event.payment_id]["receiver"] = event.receiver
    return payments


def disbursement_rows(grants: audit.ServiceHistory, group_names: dict, region_names: dict[str, str]) -> list[dict]:
    proposals = {p.id: p for p in grants.aggregates.values() if isinstance(p, Proposal)}
    rows = []
    for grant in (g for g in grants.aggregates.values() if isinstance(g, Grant)):
        proposal = proposals.get(grant.proposal_id)
        steps = proposal_steps(grants.events.get(grant.proposal_id, [])) if proposal else {}
        paid = payment_steps(grants.events[grant.id])
        for payment_id, payment in grant.payments.items():
            if payment["status"] not in ("confirmed", "delivered"):
                continue
            done = {**steps, **paid[payment_id]}
            district = district_of(grant.village_code)
            row = {
                "proposal_id": str(grant.proposal_id), "payment_id": payment_id,
                "group_name": group_names.get(grant.group_id) or (proposal.group_name if proposal else ""),
                "village_code": grant.village_code, "village_name": region_names.get(grant.village_code, ""),
                "district": district, "district_name": region_names.get(district, ""),
                "tranche": payment["tranche"], "amount_rp": payment["amount_rp"], "kind": payment["kind"],
                "bank_reference": done.get("bank_reference", ""), "receiver": done.get("receiver", ""),
            }
            for step in STEPS:
                row[f"{step}_by"] = done[step].by if step in done else ""
                row[f"{step}_at"] = wib(done[step].at) if step in done else ""
            row["_paid_at"] = done["confirmed_delivered"].at if "confirmed_delivered" in done else None
            rows.append(row)
    rows.sort(key=lambda r: (r["_paid_at"] or datetime.min.replace(tzinfo=UTC), r["proposal_id"], r["tranche"]))
    return rows


def district_month_rows(disbursements: list[dict]) -> list[dict]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    names = {}
    for row in disbursements:
        month = row["_paid_at"].astimezone(WIB).strftime("%Y-%m") if row["_paid_at"] else ""
        totals[(row["district"], month)] += row["amount_rp"]
        names[row["district"]] = row["district_name"]
    return [{"district": district, "district_name": names[district], "month": month, "amount_rp": amount}
            for (district, month), amount in sorted(totals.items())]


def stage_rows(grants: audit.ServiceHistory) -> list[dict]:
    counts = Counter(p.status for p in grants.aggregates.values() if isinstance(p, Proposal))
    stages = [*STAGES, *sorted(set(counts) - set(STAGES))]
    return [{"stage": stage, "label": STAGE_LABELS.get(stage, stage), "count": counts.get(stage, 0)}
            for stage in stages]


def hours(start: Step | None, end: Step | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end.at - start.at).total_seconds() / 3600, 2)


def duration_rows(grants: audit.ServiceHistory) -> list[dict]:
    rows = []
    for proposal in (p for p in grants.aggregates.values() if isinstance(p, Proposal)):
        steps = proposal_steps(grants.events[proposal.id])
        if "submitted" not in steps:
            continue
        row = {"proposal_id": str(proposal.id), "group_name": proposal.group_name, "status": proposal.status,
               "times_returned": proposal.times_returned, "last_submitted_at": wib(steps["submitted"].at)}
        for column, start, end, _ in LEVELS:
            row[column] = hours(steps.get(start), steps.get(end))
        rows.append(row)
    rows.sort(key=lambda r: r["last_submitted_at"])
    return rows


def family_school_rows(training: audit.ServiceHistory, region_names: dict[str, str]) -> list[dict]:
    """Per village, over its cohorts; withdrawn participants (moved, died) are not failures: the rate is completed
    over participants who were not withdrawn."""
    villages: dict[str, Counter] = defaultdict(Counter)
    for cohort in (c for c in training.aggregates.values() if isinstance(c, Cohort)):
        counts = villages[cohort.village_code]
        for participant in cohort.participants.values():
            counts["participants"] += 1
            counts[participant["status"]] += 1
    rows = []
    for village, counts in sorted(villages.items()):
        remaining = counts["participants"] - counts["withdrawn"]
        rows.append({"village_code": village, "village_name": region_names.get(village, ""),
                     "participants": counts["participants"], "completed": counts["completed"],
                     "withdrawn": counts["withdrawn"],
                     "rate": round(counts["completed"] / remaining, 4) if remaining else None})
    return rows


def grievance_rows(registry: audit.ServiceHistory, region_names: dict[str, str], on: date) -> list[dict]:
    """Per district (kecamatan): grievances recorded, resolved, open and overdue on ``on``, and the mean days a
    resolved one took."""
    districts: dict[str, Counter] = defaultdict(Counter)
    for grievance in (g for g in registry.aggregates.values() if isinstance(g, Grievance)):
        counts = districts[district_of(grievance.village_code)]
        counts["recorded"] += 1
        if grievance.resolved_on is not None:
            counts["resolved"] += 1
            counts["days"] += (grievance.resolved_on - grievance.received_on).days
        else:
            counts["open"] += 1
            counts["overdue"] += grievance.overdue(on)
    return [{"district": district, "district_name": region_names.get(district, ""), "recorded": c["recorded"],
             "resolved": c["resolved"], "open": c["open"], "overdue": c["overdue"],
             "mean_days_to_resolve": round(c["days"] / c["resolved"], 1) if c["resolved"] else None}
            for district, c in sorted(districts.items())]


# --- reading the databases -------------------------------------------------------------------------------------

def region_names(conn: psycopg.Connection) -> dict[str, str]:
    try:
        return dict(conn.execute("SELECT code, name FROM regions WHERE level >= 3"))
    except psycopg.Error:  # no region table (or no right to read it): codes without names
        return {}


def ledger_head_as_of(conn: psycopg.Connection, grants: audit.ServiceHistory) -> dict[str, Any]:
    """The last ledger entry whose event is within the replayed history: the head as it stood at ``as_of``."""
    with conn.transaction(), conn.cursor(name="report_ledger") as cursor:
        cursor.itersize = 5000
        cursor.execute("SELECT seq, originator_id, originator_version, entry_hash, recorded_at FROM ledger "
                       "ORDER BY seq DESC")
        for seq, originator_id, version, entry_hash, recorded_at in cursor:
            if (originator_id, version) in grants.positions:
                return {"seq": seq, "hash": entry_hash, "recorded_at": recorded_at.isoformat()}
    return {"seq": 0, "hash": ledger.GENESIS, "recorded_at": None}


def collect(as_of: datetime | None = None, urls: dict[str, str] | None = None) -> Report:
    report = Report(as_of=as_of, generated_at=datetime.now(UTC))
    histories: dict[str, audit.ServiceHistory] = {}
    names: dict[str, str] = {}
    for service in ("grants", "registry", "training"):
        with psycopg.connect(audit.audit_url(service, urls), autocommit=True) as conn:
            histories[service] = audit.replay(service, conn, as_of)
            if service == "registry":
                names = region_names(conn)
            if service == "grants" and as_of is not None:
                report.ledger_as_of = ledger_head_as_of(conn, histories[service])
        report.sources[service] = {"events": sum(len(e) for e in histories[service].events.values()),
                                   "last_position": histories[service].last_position}
    groups = {g.id: g.name for g in histories["registry"].aggregates.values() if isinstance(g, Group)}
    report.disbursements = disbursement_rows(histories["grants"], groups, names)
    report.by_district_month = district_month_rows(report.disbursements)
    report.by_stage = stage_rows(histories["grants"])
    report.durations = duration_rows(histories["grants"])
    report.family_school = family_school_rows(histories["training"], names)
    moment = (as_of or report.generated_at).astimezone(WIB).date()  # overdue as the office saw it then
    report.grievances = grievance_rows(histories["registry"], names, moment)
    report.ledger = audit_verify.ledger_head(urls)
    # verify rebuilds the read models and compares them with the live tables: that only makes sense over the whole
    # log (the live tables are today's), so the integrity check is of everything, as it stands now.
    try:
        report.verification = audit_verify.verify(urls=urls)
    except Exception as exc:  # the report is still worth having; the page says verify could not run
        report.verification_error = f"{type(exc).__name__}: {exc}"
    return report
