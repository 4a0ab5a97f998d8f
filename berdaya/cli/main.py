"""Commands of the `berdaya` CLI."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

import typer
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.progress import Progress, TextColumn
from rich.table import Table

from berdaya.cli.audit import audit_app
from berdaya.cli.bdt_import import import_bdt
from berdaya.cli.demo import CONSOLE_URL, USERS_FILE, Demo, demo_users
from berdaya.cli.devsecret import development_jwt_secret
from berdaya.cli.dlq import dlq_app
from berdaya.cli.keys import keys_app
from berdaya.cli.people import people_app
from berdaya.cli.processes import (
    PROCESSES,
    ROOT,
    development_actor_keys,
    development_broker_uri,
    development_data_key,
    development_dci_key,
    development_event_keys,
    pid_file,
    running_pid,
    start_service,
    stop_pid,
    wait_until_ready,
)
from berdaya.cli.remote import amqp_uri, cli_actor, console, fail
from berdaya.cli.streams import streams_app
from berdaya.cli.users import users_app
from services.registry.bdt import DEFAULT_LAYOUT, read_layout
from services.registry.synth import write_synthetic_bdt
from shared.actor_assertion import actor_process_environment
from shared.config import SERVICES
from shared.contracts.catalog import write_catalog
from shared.errors import BerdayaError
from shared.regions import builtin_lampung_selatan, load_region_csv, load_region_table

app = typer.Typer(help="berdaya — KUBE programme administration (Dinas Sosial Kabupaten Lampung Selatan)",
                  no_args_is_help=True)
regions_app = typer.Typer(help="the official region table (kode wilayah)", no_args_is_help=True)
app.add_typer(regions_app, name="regions")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(dlq_app, name="dlq")
app.add_typer(keys_app, name="keys")
app.add_typer(people_app, name="people")
app.add_typer(streams_app, name="streams")


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
    households: int = typer.Option(2000, min=50, max=50_000, help="households in the generated DTKS file"),
    seed: int = typer.Option(2019, help="seed of the synthetic data"),
    admin_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/postgres", envvar="BERDAYA_ADMIN_URL",
                                  help="a PostgreSQL superuser URL: the demo recreates its own databases"),
    broker: str = typer.Option("127.0.0.1:5672", envvar="BERDAYA_DEMO_BROKER", help="RabbitMQ host:port"),
) -> None:
    """Start the services, register households, show what grants and training learnt, stop the services."""
    say = (lambda text: console.print(f"[dim]demo:[/] {text}")) if as_json else (lambda text: console.print(text))
    run = Demo(admin_url, broker, say)
    # A terminated demo still stops the services it started (they run in sessions of their own).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run.reset()
    try:
        run.start()
        summary = run.run(households, seed)
    finally:
        run.stop()
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        show_summary(summary)


def show_summary(summary: dict) -> None:
    out = Console()
    registry = summary["registry"]
    imported = registry["import"]
    out.print(f"\n[bold]Registry[/]: {registry['households']} households, {registry['individuals']} people, "
              f"{registry['active_groups']} active KUBE")
    out.print(f"  import: {imported['households_imported']} households imported, {imported['households_rejected']} "
              f"rejected ({imported['rejected_rows']} rows); re-import: {imported['reimport_unchanged']} unchanged, "
              f"{imported['reimport_imported']} imported")
    refusals = Table("case", "rule", "message", title="Refused, as the rules require")
    for refusal in registry["refusals"]:
        refusals.add_row(refusal["case"], str(refusal["rule"]), refusal["message"])
    out.print(refusals)
    grants = summary["grants"]["households"]
    out.print(f"[bold]Grants[/] knows {grants['households']} households ({grants['members']} members, "
              f"{grants['decile_1_to_4']} in deciles 1–4 — eligible for KUBE) in "
              f"{len(summary['grants']['by_village'])} villages")
    money = summary["grants"]
    out.print(f"[bold]Grants[/]: {money['approved']} approved, {money['returned']} returned and resubmitted, "
              f"{money['rejected']} rejected; approved Rp {money['approved_rp']:,}, disbursed Rp "
              f"{money['disbursed_rp']:,} ({money['failed_then_retried']} tranche failed at the bank, then retried)")
    training = summary["training"]
    people = training["individuals"]
    out.print(f"[bold]Training[/] knows {people['individuals']} people ({people['women']} women) "
              f"in {people['households']} households")
    out.print(f"[bold]Family School[/]: {training['completed']} completed, {training['not_completed']} not yet; "
              f"gate open for {training['gate_open_groups']} group(s), closed for {training['gate_closed_groups']}")
    backbone = Table("service", "log position", "relay position", "consumes (tracked position)",
                     title="Backbone")
    for service, status in summary["backbone"].items():
        consumers = ", ".join(f"{up} @{c['position']}" + (" HALTED" if c["halt"] else "")
                              for up, c in status["consumers"].items()) or "—"
        backbone.add_row(service, str(status["last_position"]), str(status["relay_position"]), consumers)
    out.print(backbone)
    out.print(f"from the first import to every event projected in grants and training: "
              f"{summary['seconds']['import_to_projected']}s")
    checked = summary["audit"]
    out.print(f"[bold]Audit[/]: {'[green]ok[/]' if checked['ok'] else '[red]NOT OK[/]'} — "
              f"{checked['events_checked']:,} events replayed and every read model rebuilt, "
              f"{checked['ledger_entries_checked']} money events in an intact hash chain (head "
              f"{checked['ledger_head'][:16]}…)")
    console_ = summary["console"]
    users = Table("username", "role", "region", "password", title="Console users (one per role)")
    for username, role, region, password in demo_users():
        users.add_row(username, role, region, password)
    out.print(users)
    out.print(f"[bold]Console[/]: run [bold]{console_['start']}[/], then open {console_['url']} and log in as one of "
              f"the users above (Indonesian first; English is a switch at the bottom of each page). The passwords are "
              f"also in {console_['users_file']}; `make down` stops the services.")


@app.command()
def up(
    demo_data: bool = typer.Option(False, "--demo", help="serve what `berdaya demo` left (its databases, vhost and "
                                                         "console users) instead of the local installation"),
    admin_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/postgres", envvar="BERDAYA_ADMIN_URL",
                                  help="with --demo: a PostgreSQL superuser URL (the demo's databases)"),
    broker: str = typer.Option("127.0.0.1:5672", envvar="BERDAYA_DEMO_BROKER", help="with --demo: RabbitMQ host:port"),
) -> None:
    """Start every service and the gateway in the background (logs and pids under .run/)."""
    env, broker_uri, actor_keys = {**development_event_keys(), **development_data_key()}, amqp_uri(), \
        development_actor_keys()
    if demo_data:
        demo_run = Demo(admin_url, broker, console.print)
        if not demo_run.exists():
            fail(BerdayaError("no demo to serve: run `make demo` first"))
        env, broker_uri = demo_run.environment(), demo_run.amqp_uri
    if not os.environ.get("JWT_SECRET"):  # the gateway refuses to start without one: this set-up keeps its own
        env["JWT_SECRET"] = development_jwt_secret()
    started = []
    for service in PROCESSES:
        if running_pid(service):
            console.print(f"{service}: already running (pid {running_pid(service)})")
            continue
        own_user = {} if demo_data else {"AMQP_URI": development_broker_uri(service, broker_uri)}
        dci_key = development_dci_key() if service == "gateway" else {}  # its own secret: the gateway's only
        process = start_service(service, {**env, **actor_process_environment(service, actor_keys), **dci_key,
                                          **own_user})
        pid_file(service).write_text(str(process.process.pid))
        started.append(process)
    wait_until_ready(broker_uri, processes=started)
    for process in started:
        console.print(f"{process.service}: running (pid {process.process.pid}, log {process.log_path})")
    users = f"the users in {USERS_FILE.relative_to(ROOT)}" if demo_data else "a user of `berdaya users add`"
    console.print(f"console: {CONSOLE_URL} (log in as {users})")


@app.command()
def down() -> None:
    """Stop the services started by `berdaya up`."""
    for service in reversed(PROCESSES):
        pid = running_pid(service)
        if pid is None:
            console.print(f"{service}: not running")
        else:
            stop_pid(pid)
            console.print(f"{service}: stopped (pid {pid})")
        pid_file(service).unlink(missing_ok=True)


@app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Each service's log position, relay position and consumer positions, each consumer's state: caught up,
    behind its upstream's log (by how many positions), or halted."""
    result = {}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=5) as rpc:
        for service in SERVICES:
            try:
                result[service] = rpc[service].backbone_status()
            except Exception as exc:
                result[service] = {"error": f"{type(exc).__name__}: {exc}"}
    result = with_consumer_states(result)
    print(json.dumps(result, indent=2)) if as_json else Console().print_json(data=result)
    if any("error" in value for value in result.values()):
        sys.exit(1)


def with_consumer_states(statuses: dict[str, dict]) -> dict[str, dict]:
    """Each consumer's position set against its upstream's log, so that one that waits for another upstream or is
    stuck shows as behind instead of as a bare number. A moment's lag is normal while events flow."""
    for service in statuses.values():
        for upstream, consumer in service.get("consumers", {}).items():
            upstream_position = statuses.get(upstream, {}).get("last_position")
            consumer["upstream_position"] = upstream_position
            if consumer["halt"] is not None:
                consumer["state"] = "halted"
            elif upstream_position is None:
                consumer["state"] = f"unknown: {upstream} did not answer"
            elif consumer["position"] >= upstream_position:
                consumer["state"] = "caught up"
            else:
                consumer["state"] = f"behind by {upstream_position - consumer['position']} positions"
    return statuses


@app.command()
def catalog(out: str = typer.Option("docs/events.md", help="where to write the event catalog")) -> None:
    """Regenerate the public event catalog (Markdown) and the AsyncAPI document from the contracts."""
    for path in write_catalog(out):
        console.print(f"wrote {path}")


@regions_app.command("import")
def regions_import(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="code,name,level CSV files"),
    by: str = typer.Option("admin", help="who imports (recorded in the event)"),
) -> None:
    """Import an official region list into the registry (codes are added or renamed, never deleted)."""
    try:
        actor = cli_actor(by, role="admin").on_the_wire()  # the region table is the admin's, national: see cli_actor
        rows = [row._asdict() for path in files for row in load_region_csv(path)]
    except BerdayaError as refused:
        fail(refused)
    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=120) as rpc:
        try:
            result = rpc.registry.import_regions({"rows": rows, "source": ", ".join(p.name for p in files),
                                                  "actor": actor})
        except RemoteError as remote:
            fail(remote)
    console.print(f"imported {result['codes']} region codes (sha256 {result['sha256'][:16]}…); "
                  f"the registry now knows {result['total_codes']}")


@app.command("synth-bdt")
def synth_bdt(
    out: Path = typer.Argument(..., dir_okay=False, help="the CSV file to write"),
    households: int = typer.Option(1000, min=1, help="how many households"),
    regency: str = typer.Option("18.01", help="regency code whose villages they live in"),
    seed: int = typer.Option(1, help="the same seed writes the same file"),
    error_share: float = typer.Option(0.0, min=0.0, max=1.0, help="share of households given one typical error"),
    regions_csv: list[Path] = typer.Option([], "--regions", exists=True, help="region CSVs (default: built-in)"),
) -> None:
    """Write a realistic synthetic DTKS/BDT file (Faker id_ID names, real village codes, valid NIKs)."""
    regions = load_region_table(*regions_csv) if regions_csv else builtin_lampung_selatan()
    try:
        summary = write_synthetic_bdt(out, households, regency, regions, seed, error_share)
    except BerdayaError as refused:
        fail(refused)
    console.print(f"wrote {out}: {summary.households} households, {summary.individuals} people, "
                  f"{len(summary.injected_errors)} injected errors")


@app.command("import-bdt")
def import_bdt_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="DTKS/BDT CSV, one row per individual"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    by: str = typer.Option("operator", help="who imports (recorded on every household)"),
    region: str = typer.Option("", help="the region the importing operator acts for (default: national)"),
    layout: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                       help="the file's column layout (YAML; default: the standard header)"),
    file_date: datetime | None = typer.Option(None, formats=["%Y-%m-%d"],
                                              help="the file's date, what its changes are attributed to "
                                                   "(default: today)"),
) -> None:
    """Import a DTKS/BDT file: new households registered, known ones updated (what touches money held for
    review), every rejected row reported with its reason."""
    show_progress = not as_json and console.is_terminal
    try:
        actor = cli_actor(by, region)  # an operator, national unless --region: see cli_actor
        options = {"layout": read_layout(layout) if layout else DEFAULT_LAYOUT,
                   "file_date": file_date.date() if file_date else None}
        if show_progress:
            with Progress(*Progress.get_default_columns(), TextColumn("{task.completed:,} households"),
                          console=console) as bar:
                task = bar.add_task(f"importing {file.name}", total=None)
                report = import_bdt(file, amqp_uri(), actor, **options,
                                    progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            report = import_bdt(file, amqp_uri(), actor, **options)
    except (BerdayaError, RemoteError) as refused:
        fail(refused)
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    console.print(f"households imported: {report.households_imported} ({report.individuals_imported} people); "
                  f"changed: {report.households_changed} ({', '.join(f'{k} {n}' for k, n in report.changes.items())}"
                  f"); held for review: {report.held_for_review}; unchanged: {report.unchanged}; "
                  f"rejected: {report.households_rejected}")
    if report.rejected_rows:
        table = Table("line", "no_kk", "reason", title="Rejected rows")
        for row in report.rejected_rows[:50]:
            table.add_row(str(row["line"]), row["no_kk"], row["reason"])
        console.print(table)
        if len(report.rejected_rows) > 50:
            console.print(f"… and {len(report.rejected_rows) - 50} more (use --json for all)")
