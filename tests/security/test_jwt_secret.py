"""No built-in JWT secret: a gateway without JWT_SECRET, or with one shorter than 32 bytes, does not start — it
says why, naming JWT_SECRET, and serves nothing (issue 15, item 5). Before, it signed tokens with a development
secret written in its source, and anyone who read the source could forge an admin's token."""

from __future__ import annotations

import socket

import pytest
from nameko.containers import ServiceContainer

from berdaya.cli.processes import start_service
from services.gateway.auth import MissingSecret
from services.gateway.service import GatewayService
from tests.integration.test_gateway import free_port

pytestmark = pytest.mark.integration

AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
SHORT = "only-31-bytes-of-a-jwt-secret!!"
# Never reached by a gateway that refuses to start (and no real database, should one start anyway).
UNUSED_DATABASE = "postgresql://postgres@127.0.0.1:5432/berdaya_no_such_database"


def serves(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("secret", [None, "", SHORT], ids=["unset", "empty", "31 bytes"])
def test_a_gateway_without_a_strong_secret_refuses_to_start(secret):
    assert len(SHORT.encode()) == 31
    port = free_port()
    config = {"AMQP_URI": AMQP_URI, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "DATABASE_URL": UNUSED_DATABASE}
    if secret is not None:
        config["JWT_SECRET"] = secret
    container = ServiceContainer(GatewayService, config)
    try:
        with pytest.raises(MissingSecret, match="JWT_SECRET must be set to at least 32"):
            container.start()
        assert not serves(port)
    finally:
        container.kill()


def test_nameko_run_exits_naming_the_missing_secret():
    port = free_port()
    env = {"AMQP_URI": AMQP_URI, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "GATEWAY_DATABASE_URL": UNUSED_DATABASE,
           "JWT_SECRET": ""}
    process = start_service("gateway", env, log_name=f"secret-test-{port}")
    try:
        assert process.process.wait(timeout=60) != 0
        log = process.log_path.read_text()
        assert "gateway.jwt_secret_missing" in log and "JWT_SECRET must be set" in log, log[-2000:]
        assert not serves(port)
    finally:
        if process.process.poll() is None:
            process.process.kill()
        process.log_path.unlink(missing_ok=True)
