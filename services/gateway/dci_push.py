"""The DCI notify, pushed: the gateway POSTs each subscription's household changes to the ``sender_uri`` the
subscriber gave when it subscribed (docs/dci.md), in the standard's ``notify`` message.

A nameko timer runs :func:`push_due` in a gateway worker every ``DCI_PUSH_INTERVAL_S``. For each live pushed
subscription it reads the registry's changes after the subscription's position — the pull's read: the same
ids-only records of the same region, on the registry's access log — at most ``DCI_PUSH_MAX_EVENTS`` to a message,
and POSTs them; only a 2xx answer moves the position past them. An attempt that fails is tried again after a
growing wait (tenacity), a few times; a message still undelivered is held, and a later round — after a wait that
keeps doubling, up to ``MAX_ROUND_WAIT_S`` — sends it again as it is, from the same position: nothing is skipped,
and a subscriber down for a day does not have the registry read (and its access log written) at every round. A
redelivered message carries the same events (their ``reference_id`` is the registry's log position), so a
subscriber drops one it already has.

One process pushes a subscription at a time (dci_push_claim: an advisory lock), so two gateways never send it
twice; a pulled subscription is never pushed, nor a pushed one pulled (dci.py).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from nameko.extensions import DependencyProvider
from nameko.timer import Timer
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from services.gateway.auth import User
from services.gateway.core import Gateway
from services.gateway.dci import REG_RECORD_TYPE, REG_TYPE, VERSION, answer_header, records_of
from services.gateway.dci_signatures import DciSigner
from services.gateway.jobs import DciPush
from shared.log import get_logger

log = get_logger("gateway.dci_push")
PURPOSE = "api.dci_notify_push"  # the registry's access log: these reads serve the pushed notify
MAX_ROUND_WAIT_S = 600.0  # the longest wait between two rounds' sending of a message a subscriber did not take


class PushTimer(Timer):
    """A nameko timer whose interval is the gateway's ``DCI_PUSH_INTERVAL_S`` (default 2 s)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(interval=2.0, **kwargs)

    def setup(self) -> None:
        self.interval = float(self.container.config.get("DCI_PUSH_INTERVAL_S", self.interval))


class Undelivered(Exception):
    """The subscriber did not take a message (no answer, or not a 2xx)."""


@dataclass
class Held:
    """A message its subscriber has not taken: sent again as it is, once ``not_before`` has come."""

    after: int  # the subscription's position the message starts after
    last_position: int  # where the subscription moves once it is taken
    message: dict
    failed_rounds: int = 0
    not_before: float = 0.0  # time.monotonic()


class HeldMessages(DependencyProvider):
    """This gateway process's undelivered messages, by subscription code (lost with the process: the next one
    reads the registry again, from the same position)."""

    def setup(self) -> None:
        self.held: dict[str, Held] = {}

    def get_dependency(self, worker_ctx) -> dict[str, Held]:
        return self.held


def push_due(gateway: Gateway, rpc: Callable[..., Any], held: dict[str, Held]) -> None:
    """One round: every pushed subscription brought up to date, as far as its subscriber takes the messages."""
    subscriptions = gateway.store.dci_push_subscriptions()
    for ended in set(held) - {subscription["subscription_code"] for subscription in subscriptions}:
        del held[ended]  # unsubscribed: its held message is never sent
    for subscription in subscriptions:
        try:
            push(gateway, rpc, held, subscription)
        except Exception as failure:  # one subscriber (or a service down) holds up no other subscription
            # The code and the reason only: the URI may carry the subscriber's own tokens, the error a record.
            log.warning("dci.push_failed", subscription=subscription["subscription_code"],
                        error=type(failure).__name__, reason=str(failure)[:200] if isinstance(failure, Undelivered)
                        else None)


def push(gateway: Gateway, rpc: Callable[..., Any], held: dict[str, Held], subscription: dict) -> None:
    """Send the subscription's changes after its position, a message at a time, each moving it past what it
    carried once the subscriber took it."""
    code, settings = subscription["subscription_code"], gateway.jobs.dci_push
    client = gateway.user(subscription["client"])
    if client is None or client.disabled:  # a disabled client is sent nothing; its changes wait for it
        return
    with gateway.store.dci_push_claim(code) as position:
        while position is not None:
            waiting = held.pop(code, None)
            if waiting is None or waiting.after != position:  # (a held one another gateway delivered meanwhile)
                waiting = next_message(gateway, rpc, client, subscription, position)
                if waiting is None:
                    return  # nothing new
            elif time.monotonic() < waiting.not_before:
                held[code] = waiting
                return
            if waiting.message["message"]["notify_event"]:  # (none: the read went past other regions' changes)
                try:
                    deliver(subscription["notify_uri"], waiting.message, settings)
                except Undelivered:
                    waiting.failed_rounds += 1  # the wait goes on doubling from the round's last attempt's
                    waiting.not_before = time.monotonic() + min(
                        settings.backoff_s * 2 ** (settings.attempts + waiting.failed_rounds - 2), MAX_ROUND_WAIT_S)
                    held[code] = waiting
                    raise
            if not gateway.store.advance_dci_subscription(code, waiting.last_position):
                return  # unsubscribed meanwhile
            position = waiting.last_position


def next_message(gateway: Gateway, rpc: Callable[..., Any], client: User, subscription: dict,
                 position: int) -> Held | None:
    """The subscription's next changes after ``position``, read from the registry as the pull reads them (on its
    access log, the client as reader), as a notify message; None when there are none."""
    reader = {"actor": gateway.actors.sign(client.actor()), "purpose": PURPOSE}
    changes = rpc("registry", "household_changes", reader, subscription["region"], position,
                  gateway.jobs.dci_push.max_events)
    if changes["last_position"] == position:
        return None
    message = notify_message(gateway.dci_signer, subscription["subscription_code"], client.username,
                             changes["items"], records_of(rpc, changes["items"]))
    return Held(position, changes["last_position"], message)


def notify_message(signer: DciSigner, code: str, client_id: str, rows: list[dict], records: list[dict]) -> dict:
    """The standard's notify (NotifyEventRequest): one event per change, its record as the household now stands;
    signed as the gateway's answers are, so the subscriber can tell it from a forgery."""
    header = answer_header(client_id, "notify", len(rows), len(rows))
    message = {"transaction_id": str(uuid.uuid4()), "subscription_code": code, "notify_event": [
        {"reference_id": str(row["position"]), "timestamp": row["time"], "event_type": row["event_type"],
         "data": {"version": VERSION, "reg_type": REG_TYPE, "reg_record_type": REG_RECORD_TYPE,
                  "reg_records": [record]}, "locale": "id"}
        for row, record in zip(rows, records, strict=True)]}
    return {"signature": signer.sign(header, message), "header": header, "message": message}


def deliver(uri: str, message: dict, settings: DciPush) -> None:
    """POST the message until the subscriber takes it (2xx), ``settings.attempts`` times at most, waiting
    ``backoff_s``, then twice as long, … between attempts; raises :class:`Undelivered` after the last."""
    retrying = Retrying(retry=retry_if_exception_type(Undelivered), stop=stop_after_attempt(settings.attempts),
                        wait=wait_exponential(multiplier=settings.backoff_s, max=60), reraise=True)
    retrying(post, uri, message, settings.timeout_s)


def post(uri: str, message: dict, timeout_s: float) -> None:
    try:
        # No redirects: a subscriber's answer must not send the records to a host nobody allowed.
        answer = requests.post(uri, json=message, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as failure:
        raise Undelivered(f"no answer: {type(failure).__name__}") from None
    if not 200 <= answer.status_code < 300:
        raise Undelivered(f"HTTP {answer.status_code}")
