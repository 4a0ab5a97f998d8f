"""`berdaya users add|list|disable|enable`, and of DCI clients `add-client|client-key|identifier-search`: the
gateway's users, in its own database (GATEWAY_DATABASE_URL). Every change is on its users' change log."""

from __future__ import annotations

import getpass
import json
import os
import secrets
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from services.gateway.auth import check_user_fields, hash_password
from services.gateway.dci_signatures import client_keys
from services.gateway.store import DEFAULT_URL, DuplicateUser, GatewayStore, UnknownUser
from shared.keytext import KeyConfigError
from shared.vocabulary import ROLES

users_app = typer.Typer(help="users of the HTTP API (roles and regions), stored in the gateway's database",
                        no_args_is_help=True)
console = Console(stderr=True)


def operator() -> str:
    """Who the change is recorded as: the account that ran the command on this machine."""
    return f"cli:{getpass.getuser()}"


def store() -> GatewayStore:
    gateway = GatewayStore(os.environ.get("GATEWAY_DATABASE_URL", DEFAULT_URL), pool_size=1)
    gateway.ensure_schema()
    return gateway


@users_app.command("add")
def add(
    username: str = typer.Argument(..., help="login name, e.g. op.kalianda"),
    role: str = typer.Option(..., help=f"one of: {', '.join(ROLES)}"),
    region: str = typer.Option(..., help="region code the user acts for: '18.01' a regency, '18' a province, "
                                         "'' national"),
    password: str = typer.Option(None, help="the password (asked for when not given)"),
    # Whoever runs this on the server is in general not the person the account is for (an operator setting up
    # the office's admin), and the password passed through their terminal: like an account an admin adds in the
    # console, it must be replaced at the first login. --no-must-change is for an account its own user sets up
    # (a script's test identities, an operator's own account).
    must_change: bool = typer.Option(True, "--must-change/--no-must-change",
                                     help="the user must change this password at the first login"),
) -> None:
    """Add a user (the password is stored as an argon2 hash; by default to be changed at the first login)."""
    try:
        check_user_fields(username, role, region)
    except ValueError as bad:
        console.print(f"[red]refused:[/] {bad}")
        raise typer.Exit(2) from None
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        console.print("[red]refused:[/] a password has at least 8 characters")
        raise typer.Exit(2)
    stored(username, password, role, region, must_change)
    console.print(f"added {username} ({role}, region {region or 'national'})"
                  + ("; the password must be changed at the first login" if must_change else ""))


@users_app.command("add-client")
def add_client(
    client_id: str = typer.Argument(..., help="the other system's client id, e.g. bansos.lampung"),
    region: str = typer.Option(..., help="the region it may search: '18.01' a regency, '18' a province, "
                                         "'' national"),
    # Off by default: an answer to a NIK tells that the person is in the registry, and where — for a programme
    # whose legal basis to check its own applicants the office has seen.
    identifier_search: bool = typer.Option(False, "--identifier-search",
                                           help="entitled to search by NIK or KK (idtype-value)"),
) -> None:
    """Add another system's client credential for the DCI social-registry API (docs/dci.md): role dci_client, a
    random secret printed once on stdout (as JSON) and stored only as its argon2 hash."""
    try:
        check_user_fields(client_id, "dci_client", region)
    except ValueError as bad:
        console.print(f"[red]refused:[/] {bad}")
        raise typer.Exit(2) from None
    secret = secrets.token_urlsafe(32)
    # No one typed the secret, so there is none to replace: it goes to the other system's operators, once.
    stored(client_id, secret, "dci_client", region, must_change=False, identifier_search=identifier_search)
    print(json.dumps({"client_id": client_id, "client_secret": secret, "role": "dci_client", "region": region,
                      "identifier_search": identifier_search}))
    console.print(f"added client {client_id} (region {region or 'national'}): hand its secret over securely; it "
                  "is not shown again (POST /api/v1/auth/token with client id and secret gives its token)")


@users_app.command("client-key")
def client_key(
    client_id: str = typer.Argument(..., help="the DCI client's id"),
    public_key: str = typer.Argument(..., help="its Ed25519 public key as '<key id>:<base64 of its 32 bytes>'"),
) -> None:
    """Register a DCI client's public key, or replace the one it had: from then on each of its messages must be
    signed with the matching private key (docs/dci.md), which stays with the client."""
    try:
        client_keys(client_id, public_key)
    except KeyConfigError as bad:
        console.print(f"[red]refused:[/] {bad}")
        raise typer.Exit(2) from None
    changed(lambda gateway: gateway.set_dci_public_key(client_id, public_key.strip(), by=operator()),
            f"no DCI client {client_id}")
    console.print(f"{client_id}: public key {public_key.split(':', 1)[0]} registered; its messages must be signed "
                  "with it (within seconds)")


@users_app.command("identifier-search")
def identifier_search(
    client_id: str = typer.Argument(..., help="the DCI client's id"),
    grant: bool = typer.Option(..., "--grant/--revoke", help="entitle it to search by NIK or KK, or take that back"),
) -> None:
    """Grant or revoke a DCI client's search by NIK or KK (on the users' change log, with who and when)."""
    done = changed(lambda gateway: gateway.set_identifier_search(client_id, grant, by=operator()),
                   f"no DCI client {client_id}")
    state = "may search by NIK or KK" if grant else "may no longer search by NIK or KK"
    console.print(f"{client_id}: {state}" + ("" if done else " (it already was so: nothing changed)"))


def changed(change: Callable[[GatewayStore], Any], unknown: str) -> Any:
    """``change`` applied to the gateway's database; refused, saying ``unknown``, when there is no such user."""
    gateway = store()
    try:
        return change(gateway)
    except UnknownUser:
        console.print(f"[red]refused:[/] {unknown}")
        raise typer.Exit(2) from None
    finally:
        gateway.close()


def stored(username: str, password: str, role: str, region: str, must_change: bool,
           identifier_search: bool = False) -> None:
    gateway = store()
    try:
        gateway.add_user(username, hash_password(password), role, region, by=operator(),
                         must_change_password=must_change, identifier_search=identifier_search)
    except DuplicateUser:
        console.print(f"[red]refused:[/] user {username} exists")
        raise typer.Exit(2) from None
    finally:
        gateway.close()


@users_app.command("list")
def list_users(as_json: bool = typer.Option(False, "--json", help="print JSON on stdout")) -> None:
    """List the users."""
    gateway = store()
    try:
        users = gateway.users()
    finally:
        gateway.close()
    rows = [{"username": u.username, "role": u.role, "region": u.region, "disabled": u.disabled,
             "must_change_password": u.must_change_password, "identifier_search": u.identifier_search,
             "public_key_id": u.dci_public_key.split(":", 1)[0] if u.dci_public_key else None}
            for u in users]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("username", "role", "region", "disabled", "must change password")
    for row in rows:
        table.add_row(row["username"], row["role"], row["region"] or "(national)", "yes" if row["disabled"] else "",
                      "yes" if row["must_change_password"] else "")
    Console().print(table)


def _set_disabled(username: str, disabled: bool) -> None:
    changed(lambda gateway: gateway.set_disabled(username, disabled, by=operator()), f"no user {username}")
    console.print(f"{username}: {'disabled' if disabled else 'enabled'} (its tokens stop or start working within "
                  "seconds)")


@users_app.command("disable")
def disable(username: str = typer.Argument(...)) -> None:
    """Disable a user: no new tokens, and existing tokens are refused."""
    _set_disabled(username, True)


@users_app.command("enable")
def enable(username: str = typer.Argument(...)) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False)
