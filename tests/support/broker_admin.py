"""A test's own RabbitMQ vhost, made and dropped through the management API (``make infra`` enables it).

rabbitmqctl would do the same, but each call starts an Erlang VM (~1 s, three calls per test); an HTTP call takes
milliseconds. The per-principal users of ``System(broker_users=True)`` are still made with rabbitmqctl, from the
commands the deployment runs (shared/broker_access.py)."""

from __future__ import annotations

from urllib.parse import quote

import requests

MANAGEMENT_URL = "http://127.0.0.1:15672/api"
AUTH = ("guest", "guest")


def _call(method: str, path: str, **kwargs) -> None:
    try:
        answer = requests.request(method, f"{MANAGEMENT_URL}/{path}", auth=AUTH, timeout=30, **kwargs)
    except requests.ConnectionError as exc:
        raise RuntimeError(f"RabbitMQ's management API at {MANAGEMENT_URL} does not answer "
                           "(`make infra` enables the rabbitmq_management plugin)") from exc
    if answer.status_code not in (201, 204):
        raise RuntimeError(f"RabbitMQ management API: {method} {path} answered {answer.status_code}: {answer.text}")


def add_vhost(vhost: str) -> None:
    """A new vhost where guest may do everything (the development set-up's rights)."""
    _call("PUT", f"vhosts/{quote(vhost, safe='')}")
    _call("PUT", f"permissions/{quote(vhost, safe='')}/guest", json={"configure": ".*", "write": ".*", "read": ".*"})


def delete_vhost(vhost: str) -> None:
    _call("DELETE", f"vhosts/{quote(vhost, safe='')}")
