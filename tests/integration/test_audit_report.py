"""`berdaya audit report` against a real system: the paid tranche with its provenance, the charts, --as-of."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from berdaya.audit.report_files import write_report
from berdaya.cli.grievance_story import resolve_a_grievance
from berdaya.cli.main import app
from shared.config import SERVICES
from tests.integration.test_grants_training import (
    MINISTRY,
    PROVINCE,
    TREASURER,
    TREASURER_2,
    VERIFIER,
    VILLAGE,
    approved_proposal,
    pay,
)
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration



@pytest.fixture(scope="module")
def paid() -> Iterator[tuple[System, str, datetime]]:
    """One approved grant whose first tranche was paid, everything projected; and a moment between the approval
    and the payment. A report writes nothing to the services, so this module's tests share the system."""
    system = System()
    try:
        yield build(system)
    finally:
        system.close()


def build(system: System) -> tuple[System, str, datetime]:
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    with system.rpc() as rpc:
        group_id, _, proposal_id = approved_proposal(rpc, start=950)
        time.sleep(0.05)
        before_payment = datetime.now(UTC)
        time.sleep(0.05)
        pay(rpc, proposal_id, 1, "report-tranche-1")
        grievance = resolve_a_grievance(rpc, lambda _: None, VILLAGE, group_id, proposal_id)  # the demo's step
        assert (grievance["status"], grievance["outcome"], grievance["overdue"]) == ("resolved", "not_upheld", False)
        eventually(lambda: all(
            c["position"] >= rpc[up].backbone_status()["last_position"]
            for s in SERVICES for up, c in rpc[s].backbone_status()["consumers"].items()))
    return system, proposal_id, before_payment


def urls(system: System) -> dict[str, str]:
    return {service: system.database_url(service) for service in SERVICES}


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_report_shows_the_paid_tranche_with_its_provenance_and_charts(paid, tmp_path):
    system, proposal_id, _ = paid
    written = write_report(tmp_path, urls=urls(system))
    assert {p.name for p in written} == {
        "disbursements.csv", "disbursed_by_district_month.csv", "proposals_by_stage.csv",
        "approval_level_durations.csv", "family_school_completion.csv", "grievances_by_district.csv", "report.html"}

    [row] = read_csv(tmp_path / "disbursements.csv")
    assert row["proposal_id"] == proposal_id
    assert (row["tranche"], row["amount_rp"], row["kind"]) == ("1", "9800000", "cash")  # 70 % of Rp 14,000,000
    assert row["bank_reference"] == "BRI-report-tranche-1"
    assert (row["village_code"], row["district"], row["district_name"]) == (VILLAGE, "18.01.06", "Kalianda")
    assert row["group_name"] == "KUBE Mawar"
    assert (row["verified_by"], row["recommended_by"], row["approved_by"]) == (
        VERIFIER["user"], PROVINCE["user"], MINISTRY["user"])
    assert (row["instructed_by"], row["confirmed_delivered_by"]) == (TREASURER["user"], TREASURER_2["user"])
    moments = [datetime.fromisoformat(row[f"{step}_at"]) for step in (
        "drafted", "verified", "recommended", "approved", "instructed", "confirmed_delivered")]
    assert moments == sorted(moments) and all(m.utcoffset().total_seconds() == 7 * 3600 for m in moments)

    [month] = read_csv(tmp_path / "disbursed_by_district_month.csv")
    assert (month["district"], month["amount_rp"]) == ("18.01.06", "9800000")
    assert month["month"] == moments[-1].strftime("%Y-%m")
    stages = {r["stage"]: int(r["count"]) for r in read_csv(tmp_path / "proposals_by_stage.csv")}
    assert stages["approved"] == 1 and sum(stages.values()) == 1
    [durations] = read_csv(tmp_path / "approval_level_durations.csv")
    assert all(float(durations[c]) >= 0 for c in (
        "submitted_to_verified_h", "verified_to_recommended_h", "recommended_to_approved_h"))

    [grievances] = read_csv(tmp_path / "grievances_by_district.csv")
    assert grievances == {"district": "18.01.06", "district_name": "Kalianda", "recorded": "1", "resolved": "1",
                          "open": "0", "overdue": "0", "mean_days_to_resolve": "0.0"}

    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "pengaduan per kecamatan" in page and "Ketua KUBE" not in page and "rekening kelompok" not in page
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)) >= 3
    assert "Rp 9.800.000" in page and VERIFIER["user"] in page and "BRI-report-tranche-1" in page
    assert "audit verify: OK" in page


def test_as_of_before_the_payment_leaves_it_out(paid, tmp_path):
    system, proposal_id, before_payment = paid
    write_report(tmp_path, as_of=before_payment, urls=urls(system))
    assert read_csv(tmp_path / "disbursements.csv") == []
    assert read_csv(tmp_path / "disbursed_by_district_month.csv") == []
    stages = {r["stage"]: int(r["count"]) for r in read_csv(tmp_path / "proposals_by_stage.csv")}
    assert stages["approved"] == 1  # approved before that moment, paid after it
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Rp 9.800.000" not in page and "BRI-report-tranche-1" not in page
    assert page.count("data:image/png;base64,") >= 3


def test_the_command_prints_the_paths_it_wrote(paid, tmp_path, monkeypatch):
    system, _, before_payment = paid
    for service, url in urls(system).items():
        monkeypatch.setenv(f"{service.upper()}_AUDIT_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["audit", "report", "--out", str(tmp_path / "out"),
                                      "--as-of", before_payment.isoformat()])
    assert result.exit_code == 0, result.output
    printed = [Path(line) for line in result.stdout.splitlines()]
    assert len(printed) == 7 and all(p.exists() for p in printed)
    assert read_csv(tmp_path / "out" / "disbursements.csv") == []
