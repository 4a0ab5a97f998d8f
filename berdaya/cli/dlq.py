"""`berdaya dlq list | retry | skip`: poison messages — the consumers they halted and the dead letters they left.

Halts live in each service's database and decisions go into each service's own log, so everything but reading the
dead-letter queues goes through the owning service's RPCs (``backbone_status``, ``retry_upstream``,
``skip_upstream_event``); nothing here writes to a service's database.
"""

from __future__ import annotations

import getpass
import json
from typing import Any

import typer
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.table import Table

from berdaya.cli.remote import amqp_uri, cli_actor, console, fail
from shared.config import SERVICES
from shared.dead_letters import peek
from shared.errors import BerdayaError

dlq_app = typer.Typer(help="poison messages: halted consumers and dead letters; retry after a fix, or skip",
                      no_args_is_help=True)

SHOWN_PER_SERVICE = 100


def overview(uri: str) -> dict[str, dict[str, Any]]:
    """Per service: its halted consumers, and the dead letters waiting in its queue (left there)."""
    result: dict[str, dict[str, Any]] = {}
    with ClusterRpcProxy({"AMQP_URI": uri}, timeout=5) as rpc, Connection(uri, connect_timeout=5) as connection:
        for service in SERVICES:
            waiting, letters = peek(connection, service, SHOWN_PER_SERVICE)
            entry: dict[str, Any] = {"dead_letters_waiting": waiting,
                                     "dead_letters": [letter.as_dict() for letter in letters]}
            try:
                consumers = rpc[service].backbone_status()["consumers"]
            except Exception as exc:  # a service down: its dead letters still show
                entry["error"] = f"{service} does not answer ({type(exc).__name__}: {exc})"
            else:
                event_at = {(letter.upstream, letter.position): letter.event_type for letter in letters}
                entry["halts"] = [{"upstream": upstream, "position": c["halt"]["position"],
                                   "event_type": event_at.get((upstream, c["halt"]["position"])),
                                   "reason": c["halt"]["reason"], "since": c["halt"]["halted_at"],
                                   "applied_up_to": c["position"]}
                                  for upstream, c in consumers.items() if c["halt"]]
            result[service] = entry
    return result


@dlq_app.command("list")
def list_poison(as_json: bool = typer.Option(False, "--json", help="print JSON on stdout")) -> None:
    """Halted consumers (upstream, position, reason, since) and the dead letters, left on their queues.

    Exit code 1 when a service does not answer (its dead letters are still listed)."""
    try:
        found = overview(amqp_uri())
    except Exception as exc:  # the broker itself: nothing can be listed
        fail(BerdayaError(f"RabbitMQ does not answer ({type(exc).__name__}: {exc})"))
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        show(found)
    if any("error" in entry for entry in found.values()):
        raise typer.Exit(1)


def show(found: dict[str, dict[str, Any]]) -> None:
    out = Console()
    halts = Table("service", "upstream", "halted at", "event", "since (UTC)", "reason", title="Halted consumers")
    for service, entry in found.items():
        for halt in entry.get("halts", []):
            halts.add_row(service, halt["upstream"], str(halt["position"]), halt["event_type"] or "—",
                          halt["since"], halt["reason"])
    letters = Table("queue", "upstream", "position", "event", "when (UTC)", "reason",
                    title="Dead letters (left on the queue)")
    for service, entry in found.items():
        for letter in entry["dead_letters"]:
            letters.add_row(f"{service}.dead-letter", letter["upstream"] or "—", str(letter["position"] or "—"),
                            letter["event_type"] or "(not an event)", letter["dead_lettered_at"] or "—",
                            letter["reason"])
    for table in (halts, letters):
        out.print(table if table.row_count else f"{table.title}: none")
    for service, entry in found.items():
        if entry["dead_letters_waiting"] > len(entry["dead_letters"]):
            out.print(f"{service}.dead-letter: {entry['dead_letters_waiting']} waiting, the first "
                      f"{len(entry['dead_letters'])} shown")
        if "error" in entry:
            out.print(f"[red]{entry['error']}[/]")
    if halts.row_count:
        out.print("After a fix: [bold]berdaya dlq retry SERVICE UPSTREAM[/]. Never to be applied: "
                  "[bold]berdaya dlq skip SERVICE UPSTREAM --position N --reason TEXT[/].")


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (some containers)
        return "operator"


ServiceArgument = typer.Argument(..., help=f"the service whose consumer halted: {', '.join(SERVICES)}")
UpstreamArgument = typer.Argument(..., help="the upstream it halted on (as `berdaya dlq list` shows)")
ByOption = typer.Option(None, "--by", help="who decides (recorded in the event; default: your login name)")


def decider(by: str | None) -> dict:
    """Who decides, signed: the operator, acting for operations (admin) nationally — as the services require."""
    try:
        return cli_actor(by or login_name(), role="admin").on_the_wire()
    except BerdayaError as refused:
        fail(refused)


def decide(service: str, rpc_name: str, payload: dict) -> dict:
    if service not in SERVICES:
        fail(BerdayaError(f"no service {service!r}: one of {', '.join(SERVICES)}"))
    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=60) as rpc:
            return getattr(rpc[service], rpc_name)(payload)
    except RemoteError as refused:
        fail(refused)
    except Exception as exc:  # not running, broker away: say so, without a traceback
        fail(BerdayaError(f"{service} does not answer ({type(exc).__name__}: {exc}); is it running?"))


def removed_note(result: dict) -> str:
    removed = result["dead_letters_removed"]
    if removed is None:
        return "its dead letters could not be removed (the broker did not answer); they stay on the queue"
    return f"{removed} dead letter(s) of {result['upstream']} up to that position removed from the queue"


@dlq_app.command("retry")
def retry(
    service: str = ServiceArgument,
    upstream: str = UpstreamArgument,
    by: str | None = ByOption,
    reason: str = typer.Option("", "--reason", help="what changed, e.g. the fix deployed (recorded in the event)"),
) -> None:
    """After a fix: resume a halted consumer.

    It pulls the halted event from the upstream's log again and applies it, in order. Recorded in the service's
    own log as <service>.consumer.retried."""
    result = decide(service, "retry_upstream", {"upstream": upstream, "actor": decider(by), "reason": reason})
    console.print(f"{service} resumes consuming {upstream} at position {result['position']}; "
                  f"{removed_note(result)}. `berdaya dlq list` shows whether it halted again.")


@dlq_app.command("skip")
def skip(
    service: str = ServiceArgument,
    upstream: str = UpstreamArgument,
    position: int = typer.Option(..., "--position", min=1, help="the halted position, as `berdaya dlq list` shows"),
    reason: str = typer.Option(..., "--reason", help="why this event must never be applied here (for auditors)"),
    by: str | None = ByOption,
) -> None:
    """Never apply the event a consumer halted on, and go on after it.

    Recorded in the service's own log as <service>.consumer.skipped, with the reason and who decided; `berdaya
    audit verify` lists it. Only the halted position can be skipped."""
    result = decide(service, "skip_upstream_event",
                    {"upstream": upstream, "position": position, "reason": reason, "actor": decider(by)})
    console.print(f"{service} skipped {upstream} @{result['position']} ({result['event_type']} "
                  f"v{result['event_version']}, event {result['event_id']}) by {result['by']}: {result['reason']}; "
                  f"{removed_note(result)}.")
