"""Who may do what on the broker: one RabbitMQ user per service, one for the gateway, one for operators' tools.

With one user for everyone, whoever could reach RabbitMQ could publish in any service's name. Each principal now
gets RabbitMQ's three per-vhost permissions (regular expressions over exchange and queue names: *configure* to
declare or delete, *write* to publish or bind a queue, *read* to consume or bind from an exchange) and a topic
permission on the RPC exchange (the routing keys it may publish with):

- a service publishes only on its own ``<service>.events`` and declares its own stream ``<service>.events.stream``
  (bound to that exchange: binding reads it); it consumes its own RPC queue, its own consumer queues and
  dead-letter queue; on ``nameko-rpc`` it may send replies (to a reply queue's uuid) and call its upstreams'
  ``events_after`` only;
- the gateway may only make RPC calls (requests to the services, replies to itself);
- the operators' tools (`berdaya status`, `dlq`, `import-bdt`) make RPC calls and read the dead-letter queues.

A consumer also declares its upstreams' exchanges (so it can bind before the upstream ever ran): configure on
them, but never write. Names come from shared/topology.py and nameko's templates (``rpc-<service>``,
``rpc.reply-<name>-<uuid>``; standalone proxies, used to pull an upstream's log, are named
``standalone_rpc_proxy``).

`python -m shared.broker_access` writes deploy/rabbitmq/users.sh (the compose broker applies it at start) and
scripts/ensure-infra.sh runs it for the local installation; a unit test keeps the script in sync.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from shared.config import SERVICES
from shared.topology import DEAD_LETTER_EXCHANGE, event_stream_name

RPC_EXCHANGE = "nameko-rpc"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UPSTREAMS = {"registry": ("grants",), "grants": ("registry", "training"), "training": ("registry", "grants")}
PRINCIPALS = (*SERVICES, "gateway", "operator")


def _any(*names: str) -> str:
    return "^(" + "|".join(names) + ")$"


def _reply_queue(name: str) -> str:
    return re.escape(f"rpc.reply-{name}-") + UUID


STANDALONE_REPLY = _reply_queue("standalone_rpc_proxy")
SERVICE_METHOD = "(" + "|".join(SERVICES) + r")\.[a-z_]+"


@dataclass(frozen=True)
class Access:
    user: str
    configure: str
    write: str
    read: str
    rpc_routing_keys: str  # topic permission on the RPC exchange: what it may publish with
    rpc_binding_keys: str  # ... and bind its queues with (its RPC queue's ``<service>.*``, its reply queues' uuid)


def broker_user(principal: str) -> str:
    return f"berdaya-{principal}"


def access(principal: str, user: str | None = None) -> Access:
    """``principal``'s rights, for its user (default ``berdaya-<principal>``; tests name theirs apart)."""
    user = user or broker_user(principal)
    if principal in SERVICES:
        return _service_access(principal, user)
    if principal == "gateway":
        own = (re.escape(RPC_EXCHANGE), _reply_queue("gateway"))
        return Access(user, _any(*own), _any(*own), _any(*own), f"^{SERVICE_METHOD}$", f"^{UUID}$")
    if principal == "operator":
        own = (re.escape(RPC_EXCHANGE), STANDALONE_REPLY)
        dead_letters = [re.escape(f"{service}.dead-letter") for service in SERVICES]
        return Access(user, _any(*own), _any(*own), _any(*own, *dead_letters), f"^{SERVICE_METHOD}$",
                      f"^{UUID}$")
    raise ValueError(f"unknown broker principal {principal!r}: one of {', '.join(PRINCIPALS)}")


def _service_access(service: str, user: str) -> Access:
    upstreams = UPSTREAMS[service]
    rpc = (re.escape(RPC_EXCHANGE), re.escape(f"rpc-{service}"), _reply_queue(service), STANDALONE_REPLY)
    queues = (re.escape(f"{service}.from.") + "(" + "|".join(upstreams) + ")", re.escape(f"{service}.dead-letter"))
    upstream_exchanges = tuple(re.escape(f"{upstream}.events") for upstream in upstreams)
    own_exchanges = (re.escape(f"{service}.events"), re.escape(DEAD_LETTER_EXCHANGE))
    own_stream = re.escape(event_stream_name(service))
    replies_and_pulls = "|".join([UUID, *(re.escape(f"{upstream}.events_after") for upstream in upstreams)])
    return Access(
        user=user,
        configure=_any(*rpc, *queues, *own_exchanges, own_stream, *upstream_exchanges),
        write=_any(*rpc, *queues, *own_exchanges, own_stream),
        read=_any(*rpc, *queues, *own_exchanges, *upstream_exchanges),
        rpc_routing_keys=f"^({replies_and_pulls})$",
        rpc_binding_keys=_any(re.escape(f"{service}.*"), UUID),
    )


def rabbitmqctl_commands(principal: str, vhost: str, user: str | None = None) -> list[list[str]]:
    """The rabbitmqctl arguments that give ``principal`` its rights on ``vhost`` (its user must exist)."""
    grant = access(principal, user)
    return [["set_permissions", "-p", vhost, grant.user, grant.configure, grant.write, grant.read],
            ["set_topic_permissions", "-p", vhost, grant.user, RPC_EXCHANGE, grant.rpc_routing_keys,
             grant.rpc_binding_keys]]


def users_script() -> str:
    """deploy/rabbitmq/users.sh: create or update every principal's user and rights (passwords from the
    environment: ``RABBITMQ_<PRINCIPAL>_PASSWORD``) on ``$RABBITMQ_VHOST``."""
    lines = ["#!/bin/bash",
             "# Generated by `python -m shared.broker_access` from shared/broker_access.py: do not edit.",
             "# Each berdaya principal's RabbitMQ user and rights; passwords from RABBITMQ_<PRINCIPAL>_PASSWORD.",
             "set -euo pipefail", 'vhost=${RABBITMQ_VHOST:-/}', "ctl() { rabbitmqctl --quiet \"$@\" >/dev/null; }",
             "user() { # name password: add, or set the password of an existing user",
             '    ctl add_user "$1" "$2" 2>/dev/null || ctl change_password "$1" "$2"', "}"]
    for principal in PRINCIPALS:
        variable = f"RABBITMQ_{principal.upper()}_PASSWORD"
        lines.append(f'user {broker_user(principal)} "${{{variable}:?set {variable}}}"')
        for command in rabbitmqctl_commands(principal, "VHOST"):
            words = [shlex.quote(word) if word != "VHOST" else '"$vhost"' for word in command]
            lines.append("ctl " + " ".join(words))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "deploy" / "rabbitmq" / "users.sh"
    path.write_text(users_script())
    path.chmod(0o755)
    print(f"wrote {path}")
