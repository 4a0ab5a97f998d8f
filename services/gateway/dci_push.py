"""The DCI notify, pushed: the gateway POSTs each subscription's household changes to the ``sender_uri`` the
subscriber gave when it subscribed (docs/dci.md), in the standard's ``notify`` message.

A nameko timer runs :func:`push_due` in a gateway worker every ``DCI_PUSH_INTERVAL_S``. For each live pushed
subscription it reads the registry's changes after the subscription's position — the pull's read: the same
ids-only records of the same region, on the registry's access log — at most ``DCI_PUSH_MAX_EVENTS`` to a message,
and POSTs them; only a 2xx answer moves the position past them. An attempt that fails is tried again after a
growing wait (tenacity), a few times; a message still undelivered stays where it was, and the next round sends it
again, from the same position: nothing is skipped. A redelivered message carries the same events (their
``reference_id`` is the registry's log position), so a subscriber drops one it already has.

One process pushes a subscription at a time (dci_push_claim: an advisory lock), so two gateways never send it
twice; a pulled subscription is never pushed, nor a pushed one pulled (dci.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests
from nameko.timer import Timer
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from services.gateway.core import Gateway
from services.gateway.dci import REG_RECORD_TYPE, REG_TYPE, VERSION, answer_header, records_of
from services.gateway.jobs import DciPush
from shared.log import get_logger

log = get_logger("gateway.dci_push")
PURPOSE = "api.dci_notify_push"  # the registry's access log: these reads serve the pushed notify


class PushTimer(Timer):
    """A nameko timer whose interval is the gateway's ``DCI_PUSH_INTERVAL_S`` (default 2 s)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(interval=2.0, **kwargs)

    def setup(self) -> None:
        self.interval = float(self.container.config.get("DCI_PUSH_INTERVAL_S", self.interval))


class Undelivered(Exception):
    """The subscriber did not take a message (no answer, or not a 2xx)."""


def push_due(gateway: Gateway, rpc: Callable[..., Any]) -> None:
    """One round: every pushed subscription brought up to date, as far as its subscriber takes the messages."""
    for subscription in gateway.store.dci_push_subscriptions():
        try:
            push(gateway, rpc, subscription)
        except Exception as failure:  # one subscriber (or a service down) holds up no other subscription
            # The code and the reason only: the URI may carry the subscriber's own tokens, the error a record.
            log.warning("dci.push_failed", subscription=subscription["subscription_code"],
                        error=type(failure).__name__, reason=str(failure)[:200] if isinstance(failure, Undelivered)
                        else None)


def push(gateway: Gateway, rpc: Callable[..., Any], subscription: dict) -> None:
    """Send the subscription's changes after its position, a message at a time, each moving it past what it
    carried once the subscriber took it."""
    code, settings = subscription["subscription_code"], gateway.jobs.dci_push
    client = gateway.user(subscription["client"])
    if client is None or client.disabled:  # a disabled client is sent nothing; its changes wait for it
        return
    with gateway.store.dci_push_claim(code) as position:
        while position is not None:
            reader = {"actor": gateway.actors.sign(client.actor()), "purpose": PURPOSE}
            changes = rpc("registry", "household_changes", reader, subscription["region"], position,
                          settings.max_events)
            if changes["items"]:
                deliver(subscription["notify_uri"], notify_message(code, client.username, changes["items"],
                                                                   records_of(rpc, changes["items"])), settings)
            if changes["last_position"] == position or not gateway.store.advance_dci_subscription(
                    code, changes["last_position"]):
                return  # nothing more, or unsubscribed meanwhile
            position = changes["last_position"]


def notify_message(code: str, client_id: str, rows: list[dict], records: list[dict]) -> dict:
    """The standard's notify (NotifyEventRequest): one event per change, its record as the household now stands."""
    return {"signature": "",
            "header": answer_header(client_id, "notify", len(rows), len(rows)),
            "message": {"transaction_id": str(uuid.uuid4()), "subscription_code": code, "notify_event": [
                {"reference_id": str(row["position"]), "timestamp": row["time"], "event_type": row["event_type"],
                 "data": {"version": VERSION, "reg_type": REG_TYPE, "reg_record_type": REG_RECORD_TYPE,
                          "reg_records": [record]}, "locale": "id"}
                for row, record in zip(rows, records, strict=True)]}}


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
