"""Commands of the `berdaya` CLI."""

from __future__ import annotations

import json
import os
import sys

import typer
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.table import Table

from services.cli.demo import Demo
from services.cli.processes import pid_file, running_pid, start_service, stop_pid, wait_until_ready
from shared.config import DEFAULT_AMQP_URI, SERVICES
from shared.contracts.catalog import write_catalog

app = typer.Typer(help="berdaya — KUBE programme administration (Dinas Sosial Kabupaten Lampung Selatan)",
                  no_args_is_help=True)
console = Console(stderr=True)


def amqp_uri() -> str:
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
    households: int = typer.Option(12, min=1, max=5000, help="synthetic households to register"),
    seed: int = typer.Option(2019, help="seed of the synthetic data"),
    admin_url: str = typer.Option("postgresql://postgres@127.0.0.1:5432/postgres", envvar="BERDAYA_ADMIN_URL",
                                  help="a PostgreSQL superuser URL: the demo recreates its own databases"),
    broker: str = typer.Option("127.0.0.1:5672", envvar="BERDAYA_DEMO_BROKER", help="RabbitMQ host:port"),
) -> None:
    """Start the services, register households, show what grants and training learnt, stop the services."""
    say = (lambda text: console.print(f"[dim]demo:[/] {text}")) if as_json else (lambda text: console.print(text))
    run = Demo(admin_url, broker, say)
    run.reset()
    run.start()
    try:
        summary = run.run(households, seed)
    finally:
        run.stop()
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        show_summary(summary)


def show_summary(summary: dict) -> None:
    out = Console()
    out.print(f"\n[bold]Registry[/]: {summary['registry']['households_registered']} households, "
              f"{summary['registry']['individuals_registered']} people registered")
    grants = summary["grants"]["households"]
    out.print(f"[bold]Grants[/] knows {grants['households']} households ({grants['members']} members, "
              f"{grants['decile_1_to_4']} in deciles 1–4 — eligible for KUBE)")
    table = Table("village", "households", title="Grants' read model by village")
    for village, count in summary["grants"]["by_village"].items():
        table.add_row(village, str(count))
    out.print(table)
    training = summary["training"]["individuals"]
    out.print(f"[bold]Training[/] knows {training['individuals']} people ({training['women']} women) "
              f"in {training['households']} households")
    backbone = Table("service", "log position", "relay position", "consumes (tracked position)",
                     title="Backbone")
    for service, status in summary["backbone"].items():
        consumers = ", ".join(f"{up} @{c['position']}" + (" HALTED" if c["halt"] else "")
                              for up, c in status["consumers"].items()) or "—"
        backbone.add_row(service, str(status["last_position"]), str(status["relay_position"]), consumers)
    out.print(backbone)
    out.print(f"registered in {summary['seconds']['register']}s; every event projected in grants and training "
              f"{summary['seconds']['register_to_projected']}s after the first registration")


@app.command()
def up() -> None:
    """Start every service in the background (logs and pids under .run/)."""
    started = []
    for service in SERVICES:
        if running_pid(service):
            console.print(f"{service}: already running (pid {running_pid(service)})")
            continue
        process = start_service(service, {})
        pid_file(service).write_text(str(process.process.pid))
        started.append(process)
    wait_until_ready(amqp_uri(), processes=started)
    for process in started:
        console.print(f"{process.service}: running (pid {process.process.pid}, log {process.log_path})")


@app.command()
def down() -> None:
    """Stop the services started by `berdaya up`."""
    for service in reversed(SERVICES):
        pid = running_pid(service)
        if pid is None:
            console.print(f"{service}: not running")
        else:
            stop_pid(pid)
            console.print(f"{service}: stopped (pid {pid})")
        pid_file(service).unlink(missing_ok=True)


@app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Each service's log position, relay position and consumer positions (halts included)."""
    result = {}
    with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=5) as rpc:
        for service in SERVICES:
            try:
                result[service] = rpc[service].backbone_status()
            except Exception as exc:
                result[service] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result, indent=2)) if as_json else Console().print_json(data=result)
    if any("error" in value for value in result.values()):
        sys.exit(1)


@app.command()
def catalog(out: str = typer.Option("docs/events.md", help="where to write the event catalog")) -> None:
    """Regenerate the public event catalog (Markdown) and the AsyncAPI document from the contracts."""
    for path in write_catalog(out):
        console.print(f"wrote {path}")
