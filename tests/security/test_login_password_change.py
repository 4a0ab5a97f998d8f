"""A password an administrator chose is the user's only until they replace it (issue 15, item 4): a user added or
reset by an admin gets no token (403 password_change_required) — and a token from before the reset stops working
— until they change it with POST /api/v1/auth/password. `berdaya users add` does the same unless told the account
is its runner's own. Before, the admin's password was the user's for good: whoever set it could log in as them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from berdaya.cli.main import app
from tests.integration.test_gateway import PASSWORD, Client, GatewaySystem
from tests.support.system import System

pytestmark = pytest.mark.integration

GIVEN, OWN = "sandi-dari-admin-2026", "sandi-pilihan-sendiri"


@pytest.fixture
def gateway(system: System):
    gateway = GatewaySystem(system).start()  # no service is needed: users and tokens are the gateway's own
    try:
        yield gateway
    finally:
        gateway.close()


def token(gateway: GatewaySystem, username: str, password: str) -> tuple[int, dict]:
    return Client(gateway.base).post("/api/v1/auth/token", {"username": username, "password": password})


def change(gateway: GatewaySystem, username: str, password: str, new_password: str) -> tuple[int, dict]:
    return Client(gateway.base).post("/api/v1/auth/password", {"username": username, "password": password,
                                                               "new_password": new_password})


def refused_until_changed(answer: tuple[int, dict]) -> bool:
    status, body = answer
    return status == 403 and body["error"]["code"] == "password_change_required"


def test_a_user_an_admin_added_or_reset_changes_the_password_before_anything_else(gateway: GatewaySystem):
    admin = gateway.user_client("admin", "", "admin.pusat")
    added = admin.ok("POST", "/api/v1/users", {"username": "op.natar", "password": GIVEN, "role": "operator",
                                               "region": "18.01"})
    assert added["must_change_password"] is True

    refused = token(gateway, "op.natar", GIVEN)
    assert refused_until_changed(refused) and refused[1]["error"]["rule"] == "password.change_required", refused
    # Changing needs the current password (a wrong one is a failed login), and a new one that differs.
    assert change(gateway, "op.natar", "bukan-sandinya", OWN)[0] == 401
    status, body = change(gateway, "op.natar", GIVEN, GIVEN)
    assert status == 400 and body["error"]["rule"] == "password.unchanged", body
    assert change(gateway, "op.natar", GIVEN, "pendek")[0] == 400
    assert refused_until_changed(token(gateway, "op.natar", GIVEN))  # re-read: nothing changed
    status, body = change(gateway, "op.natar", GIVEN, OWN)
    assert status == 200 and body["must_change_password"] is False, body

    assert token(gateway, "op.natar", GIVEN)[0] == 401
    status, body = token(gateway, "op.natar", OWN)
    assert status == 200
    operator = Client(gateway.base, body["access_token"])
    assert operator.ok("GET", "/api/v1/me")["username"] == "op.natar"

    # Reset by the admin: the token the user holds stops working, and the new password must be changed too.
    admin.ok("POST", "/api/v1/users/op.natar/password", {"password": GIVEN})
    assert refused_until_changed(operator.get("/api/v1/me"))  # (within the user cache's 0.2 s in this test)
    assert refused_until_changed(token(gateway, "op.natar", GIVEN))
    assert next(u for u in admin.ok("GET", "/api/v1/users") if u["username"] == "op.natar")["must_change_password"]
    assert change(gateway, "op.natar", GIVEN, OWN)[0] == 200
    assert token(gateway, "op.natar", OWN)[0] == 200

    changes = admin.ok("GET", "/api/v1/users/changes", params={"username": "op.natar"})
    assert [(c["change"], c["by"]) for c in changes] == [
        ("password_changed", "op.natar"), ("password_reset", "admin.pusat"), ("password_changed", "op.natar"),
        ("added", "admin.pusat")]


def test_the_operations_cli_adds_users_who_change_their_password_unless_told_otherwise(gateway: GatewaySystem,
                                                                                         monkeypatch):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", gateway.database_url)
    runner = CliRunner()
    for username, flags in (("admin.kantor", []), ("uji.skrip", ["--no-must-change"])):
        result = runner.invoke(app, ["users", "add", username, "--role", "admin", "--region", "",
                                     "--password", PASSWORD, *flags])
        assert result.exit_code == 0, result.output
    assert refused_until_changed(token(gateway, "admin.kantor", PASSWORD))
    assert token(gateway, "uji.skrip", PASSWORD)[0] == 200
    changes = {c.username: c.by for c in gateway.store.user_changes()}
    assert changes["admin.kantor"].startswith("cli:")
