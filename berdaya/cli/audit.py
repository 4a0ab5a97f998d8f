"""`berdaya audit …`: for auditors — verify, replay and report from the event logs alone (the engine is
berdaya.audit), the ledger's head, and a seal of it published as an event."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path

import typer
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.table import Table

from berdaya.audit import replay, verify
from berdaya.cli.processes import use_development_data_key
from berdaya.cli.remote import amqp_uri, fail
from shared.document_codes import parse_code
from shared.errors import BerdayaError
from shared.keytext import KeyConfigError

audit_app = typer.Typer(help="for auditors: verify, replay and report from the event logs alone",
                        no_args_is_help=True)


def parse_moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise typer.BadParameter("give a timezone, e.g. 2026-06-30T23:59:59+07:00")
    return moment


@audit_app.callback()
def audit_keys() -> None:
    use_development_data_key()


def refused_without_keys(command):
    """An audit command that cannot read the registry's log (no key-encryption key, or the wrong one) answers with
    the reason, not a traceback."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyConfigError as refused:
            fail(BerdayaError(f"the registry's log cannot be read: {refused}"))

    return run


@audit_app.command("verify")
@refused_without_keys
def audit_verify(
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    as_of: str | None = typer.Option(None, "--as-of", help="only events up to this moment (ISO 8601 with zone)"),
) -> None:
    """Check the ledger's hash chain, rebuild every read model from the events and compare, cross-check services.

    Exit code 1 when anything is wrong. Database URLs: <SERVICE>_AUDIT_DATABASE_URL or the service configs.
    """
    result = verify.verify(parse_moment(as_of))
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        show_verification(result)
    if not result["ok"]:
        raise typer.Exit(1)


def show_verification(result: dict) -> None:
    out = Console()
    verdict = "[green]OK[/]" if result["ok"] else f"[red]{len(result['problems'])} problem(s)[/]"
    out.print(f"audit verify: {verdict} — {result['events_checked']:,} events replayed, "
              f"{result['ledger_entries_checked']:,} ledger entries and {result['documents_checked']:,} documents "
              f"checked; ledger head {result['ledger_head']}")
    if result["problems"]:
        table = Table("service", "position", "kind", "detail", title="Problems")
        for problem in result["problems"]:
            table.add_row(problem["service"], str(problem["position"] or "—"), problem["kind"], problem["detail"])
        out.print(table)
    if result["skipped"]:
        table = Table("service", "upstream event", "skipped at (UTC)", "by", "reason", "halted because",
                      title="Upstream events skipped by an operator")
        for skip in result["skipped"]:
            table.add_row(skip["service"], f"{skip['upstream']} @{skip['position']} {skip['event_type']} "
                          f"v{skip['event_version']}", skip["skipped_at"], skip["by"], skip["reason"],
                          skip["halt_reason"])
        out.print(table)


@audit_app.command("replay")
@refused_without_keys
def audit_replay(as_of: str = typer.Option(..., "--as-of", help="the moment, e.g. 2026-06-30T23:59:59+07:00")) -> None:
    """Every grant, budget and group as it was at that moment, from the events alone (JSON)."""
    print(json.dumps(replay.state_as_of(parse_moment(as_of)), ensure_ascii=False, indent=2))


@audit_app.command("seal")
def audit_seal(by: str = typer.Option("auditor", help="who seals")) -> None:
    """Publish the ledger's head as an event (grants.ledger.sealed), e.g. daily from cron."""
    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=30) as rpc:
        try:
            print(json.dumps(rpc.grants.seal_ledger(by)))
        except RemoteError as remote:
            fail(remote)


@audit_app.command("head")
def audit_head() -> None:
    """Today's head of the money ledger's hash chain: keep it somewhere the database administrator cannot reach."""
    print(json.dumps(verify.ledger_head()))


@audit_app.command("check-document")
def audit_check_document(
    code: str = typer.Argument(..., help="the verification code printed on the paper, e.g. L42-9F3A2C1B7D"),
    as_json: bool = typer.Option(False, "--json", help="print the answer as JSON"),
) -> None:
    """Whether a printout's code matches what berdaya recorded (the ledger, or the event log), with the non-personal
    essentials to compare with the paper: the KUBE or cohort, the amount, the date, the status now.

    Exit code 2 when no document has this code (forged, or what it records was changed since)."""
    try:
        parsed = parse_code(code)
    except BerdayaError as refused:
        fail(refused)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=30) as rpc:
        try:
            answer = rpc[parsed.service].check_document(str(parsed))
        except RemoteError as remote:
            fail(remote)
    if as_json:
        print(json.dumps(answer, ensure_ascii=False))
        return
    table = Table("", "", title=f"{answer['code']}: matches what berdaya recorded", show_header=False)
    for key in ("event", "group", "village_code", "amount_rp", "tranche", "certificate", "date", "status"):
        if answer.get(key) is not None:
            table.add_row(key, f"Rp {answer[key]:,}".replace(",", ".") if key == "amount_rp" else str(answer[key]))
    Console().print(table)


@audit_app.command("report")
@refused_without_keys
def audit_report(
    out: Path = typer.Option(..., "--out", help="folder for the CSV files and report.html (created if needed)"),
    as_of: str | None = typer.Option(None, "--as-of", help="only events up to this moment (ISO 8601 with zone)"),
) -> None:
    """CSV files and an HTML report with charts, each disbursement with who proposed, verified, recommended,
    approved, instructed and confirmed it, and when. Prints the paths written."""
    from berdaya.audit.report_files import write_report  # matplotlib: loaded only for the report

    for path in write_report(out, parse_moment(as_of)):
        print(path)
