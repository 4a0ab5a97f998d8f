"""`berdaya people access-log NIK` and `berdaya people export NIK`: a person's right to know who read their data and
what is held about them (UU 27/2022), for an auditor or an admin at the person's request.

Both are reads of personal data like any other: the registry checks who asks (the role, and the region of the
person) and writes them into its access log, as ``cli.people.access_log`` and ``cli.people.export``.

`berdaya people erase NIK --reason TEXT` and `berdaya people erase-approve REQUEST_ID`: the right to erasure,
maker–checker — one admin asks, another approves (services/registry/erasure.py; docs/privacy.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from rich.table import Table

from berdaya.cli.remote import CliActor, amqp_uri, cli_actor, console, fail
from shared.errors import BerdayaError, NotFound, from_remote

people_app = typer.Typer(help="a person's data: who read it, and everything held about them", no_args_is_help=True)

ACCESS_LOG_PURPOSE = "cli.people.access_log"
EXPORT_PURPOSE = "cli.people.export"
T = TypeVar("T")


def export_person(rpc: Any, actor: CliActor, nik: str) -> dict[str, Any]:
    """Everything held about the person: the registry's record (and its access log), the proposals and grants of
    their KUBE groups (grants), their Family School enrolments, attendance and certificates (training)."""
    registry = rpc.registry.person_export({"actor": actor.on_the_wire(), "purpose": EXPORT_PURPOSE}, nik)
    grants = {group["group_id"]: rpc.grants.group_grants({"actor": actor.on_the_wire(),
                                                           "group_id": group["group_id"]})
              for group in registry["groups"]}
    try:
        training = rpc.training.participant(registry["person"]["person_id"])  # training knows the id only
    except RemoteError as remote:
        if not isinstance(from_remote(remote.exc_type, remote.value), NotFound):
            raise
        training = {"enrolments": [], "attendance": []}  # in no cohort
    return {"nik": nik, "registry": registry, "grants": grants,
            "training": {"enrolments": training["enrolments"], "attendance": training["attendance"]}}


# Who asks: recorded in the access log; only an auditor or an admin of the person's region may.
BY = typer.Option("auditor", help="who asks (recorded in the access log)")
ROLE = typer.Option("auditor", help="auditor or admin: the roles that may ask")
REGION = typer.Option("", help="the region the asker acts for (default: national)")


def asked(by: str, role: str, region: str, ask: Callable[[Any, CliActor], T]) -> T:
    """``ask(rpc, actor)`` as ``by`` in ``role`` for ``region``; a refusal is printed and the command fails."""
    try:
        actor = cli_actor(by, region, role=role)
        with ClusterRpcProxy({"AMQP_URI": amqp_uri()}, timeout=30) as rpc:
            return ask(rpc, actor)
    except (BerdayaError, RemoteError) as refused:
        fail(refused)


@people_app.command("access-log")
def access_log(
    nik: str = typer.Argument(..., help="the person's NIK"),
    as_json: bool = typer.Option(False, "--json", help="print JSON on stdout"),
    by: str = BY, role: str = ROLE, region: str = REGION,
) -> None:
    """Who read this person's data, when, why and through which route (oldest first)."""
    answer = asked(by, role, region, lambda rpc, actor: rpc.registry.access_log(
        {"actor": actor.on_the_wire(), "purpose": ACCESS_LOG_PURPOSE}, nik))
    if as_json:
        print(json.dumps(answer, ensure_ascii=False))
        return
    table = Table("when (UTC)", "user", "role", "region", "purpose", "route", "read", "records",
                  title=f"Reads of this person's data ({len(answer['reads'])})")
    for entry in answer["reads"]:
        table.add_row(entry["read_at"], entry["username"], entry["role"], entry["region"] or "national",
                      entry["purpose"], entry["route"], entry["read"], str(entry["returned"]))
    console.print(table)


@people_app.command("export")
def export(
    nik: str = typer.Argument(..., help="the person's NIK"),
    as_json: bool = typer.Option(False, "--json", help="print JSON on stdout (indented otherwise)"),
    by: str = BY, role: str = ROLE, region: str = REGION,
) -> None:
    """Everything held about the person, as JSON: registry, KUBE groups, grants, Family School, and who read it."""
    exported = asked(by, role, region, lambda rpc, actor: export_person(rpc, actor, nik))
    print(json.dumps(exported, ensure_ascii=False, indent=None if as_json else 2))


ADMIN = typer.Option(..., help="the admin who asks or approves (recorded with the request)")
ADMIN_REGION = typer.Option("", help="the region the admin acts for (default: national)")


def print_request(request: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(request, ensure_ascii=False))
        return
    whom = (f"person {request['person_id']}, household {request['household_id']} staying" if request["person_only"]
            else f"household {request['household_id']}")
    console.print(f"erasure request {request['request_id']} ({whom}): asked by "
                  f"{request['requested_by']} at {request['requested_at']}; "
                  + (f"approved by {request['approved_by']} at {request['approved_at']}: erased"
                     if request["approved_by"] else "waiting for another admin's approval"))


@people_app.command("erase")
def erase(
    nik: str = typer.Argument(..., help="the person's NIK"),
    reason: str = typer.Option(..., "--reason", help="why (never who): kept with the request"),
    whole_household: bool = typer.Option(False, "--household", help="erase the person's whole household (without: "
                                                                      "the person alone, the household staying)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON on stdout"),
    by: str = ADMIN, region: str = ADMIN_REGION,
) -> None:
    """Ask for the erasure of a person (their household staying), or of their whole household with --household (a
    person alone in theirs: always): refused while a legal duty keeps it; another admin approves."""
    request = asked(by, "admin", region, lambda rpc, actor: rpc.registry.request_erasure(
        {"actor": actor.on_the_wire(), "nik": nik, "reason": reason, "whole_household": whole_household}))
    print_request(request, as_json)


@people_app.command("erase-approve")
def erase_approve(
    request_id: str = typer.Argument(..., help="the erasure request's id"),
    as_json: bool = typer.Option(False, "--json", help="print JSON on stdout"),
    by: str = ADMIN, region: str = ADMIN_REGION,
) -> None:
    """Approve another admin's erasure request: the person's (or household's) key is destroyed and their data erased
    for good."""
    request = asked(by, "admin", region, lambda rpc, actor: rpc.registry.approve_erasure(
        {"actor": actor.on_the_wire(), "request_id": request_id}))
    print_request(request, as_json)
