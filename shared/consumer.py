"""The consumer: one upstream's public events → this service's store, exactly once in effect.

RabbitMQ is the fast path; the upstream's log is the truth. For each event, by position:
- ``position <= tracked``: already applied (a redelivery or a republish) → dropped;
- ``previous_position == tracked``: next in line → applied;
- ``previous_position > tracked``: something was lost or overtaken → pull the gap from the upstream's
  ``events_after`` RPC and apply it in order first.
Effects (read-model rows, new domain events) and the tracking position commit in one transaction. On start the
consumer pulls until the upstream has nothing newer — so a consumer that was down, or whose queue did not exist yet,
converges. Whenever the queue has been idle a while it pulls again, but only what the upstream's relay has recorded
as published: that finds a lost LAST message (which no later one reveals as a gap) without building and signing a
second time what a relay that is merely behind is about to publish.

A poison event (unknown version, invalid data, a handler bug) is dead-lettered with its reason and the consumer
HALTS for that upstream at that position (recorded in ``consumer_halts``): money is never skipped silently.
Other upstreams keep flowing. An unparseable message, or one whose signature does not verify (shared/signing.py),
is dead-lettered without halting and never applied: it is not the upstream's, and if a real event was lost in its
place the next one reveals the gap, which is pulled from the log.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Tracking
from kombu import Connection
from kombu import Consumer as KombuConsumer

from shared.contracts import Envelope, PoisonMessage, parse_data, parse_envelope
from shared.log import get_logger
from shared.publishing import ConfirmingPublisher, persistent_message
from shared.signing import Verifier
from shared.store import PullEvents, ReadModelWrites, ServiceApplication
from shared.topology import DEAD_LETTER_EXCHANGE, consumer_queue, consumer_queue_name, declare_consumer_topology

_HANDLES = "_berdaya_handles"
_READS = "_berdaya_reads"
ENVELOPE_IDENTITY = ("source", "position", "previous_position", "type", "version", "id")


def handles(event_type: str, *, reads: bool = False):
    """Mark an application method as the handler of an upstream public event type.

    The handler is called as ``handler(data, envelope, unit)`` and records its effects through ``unit``.
    ``reads``: it queries the read model, which holds only what is committed (a batch's writes apply at its commit),
    so the consumer commits the events before it in its batch first.
    """

    def mark(function):
        setattr(function, _HANDLES, event_type)
        setattr(function, _READS, reads)
        return function

    return mark


def handlers_of(app: ServiceApplication) -> dict[str, Callable]:
    found = {}
    for name in dir(type(app)):
        event_type = getattr(getattr(type(app), name), _HANDLES, None)
        if event_type:
            found[event_type] = getattr(app, name)
    return found


class UnitOfWork:
    """What one batch of upstream events does, committed atomically with the batch's tracking position."""

    def __init__(self, app: ServiceApplication) -> None:
        self.app = app
        self.writes = ReadModelWrites()
        self._aggregates: dict[Any, Any] = {}

    def get(self, aggregate_id):
        """An aggregate as this batch has left it (later events in a batch see earlier ones' changes)."""
        if aggregate_id not in self._aggregates:
            self._aggregates[aggregate_id] = self.app.repository.get(aggregate_id)
        return self._aggregates[aggregate_id]

    def add(self, aggregate) -> None:
        self._aggregates[aggregate.id] = aggregate

    def find(self, matches: Callable[[Any], bool]):
        """An aggregate this batch already holds (e.g. one it created), or None."""
        return next((a for a in self._aggregates.values() if matches(a)), None)

    def commit(self, upstream: str, position: int) -> None:
        self.app.record(*self._aggregates.values(), writes=self.writes, tracking=Tracking(upstream, position))


class Halted(Exception):
    """The consumer stopped at a poison event; an operator must retry or skip it."""


class NotYet(Exception):
    """A handler needs a fact that another upstream has not delivered yet (upstreams are not ordered with each other,
    e.g. grants' approval of a group can overtake registry's news of that group). Not poison: the consumer stops
    before the event, waits and tries it again, as long as it takes — it never halts or skips for this."""


class Consumer:
    def __init__(
        self,
        app: ServiceApplication,
        upstream: str,
        amqp_uri: str,
        pull: PullEvents,
        *,
        verifier: Verifier,
        batch_size: int = 500,
        pull_limit: int = 1000,
        idle_catch_up: float = 5.0,
        retry_wait: float = 1.0,
    ) -> None:
        self.app = app
        self.upstream = upstream
        self.amqp_uri = amqp_uri
        self.pull = pull
        self.verifier = verifier
        self.batch_size = batch_size
        self.pull_limit = pull_limit
        self.idle_catch_up = idle_catch_up
        self.retry_wait = retry_wait
        self.handlers = handlers_of(app)
        self.queue_name = consumer_queue_name(app.service_name, upstream)
        self.log = get_logger(f"{app.service_name}.consumer.{upstream}")
        self.position = 0
        self._dead_letters: ConfirmingPublisher | None = None
        self._trouble: str | None = None  # the outage or wait being logged, until the flow resumes

    # --- running ----------------------------------------------------------------------------------------

    def run(self, stopping: threading.Event) -> None:
        """Consume until ``stopping``; through outages and waits, logging one line when each starts and ends."""
        while not stopping.is_set():
            try:
                if self.app.consumer_halt(self.upstream) is not None:
                    stopping.wait(self.retry_wait)
                    continue
                with Connection(self.amqp_uri, connect_timeout=5, heartbeat=30) as connection:
                    connection.ensure_connection(max_retries=1)
                    self._consume(connection, stopping)
            except Halted:
                continue
            except NotYet as waiting:
                self._troubled("consumer.waiting", reason=str(waiting), position=self.position)
                stopping.wait(self.retry_wait)
            except Exception as exc:
                self._troubled("consumer.interrupted", error=f"{type(exc).__name__}: {exc}")
                stopping.wait(self.retry_wait)

    def _troubled(self, event: str, **fields) -> None:
        if self._trouble != event:
            self.log.warning(event, **fields)
        self._trouble = event

    def _flowing(self) -> None:
        if self._trouble is not None:
            self.log.info("consumer.recovered", position=self.position, after=self._trouble)
        self._trouble = None

    def _consume(self, connection: Connection, stopping: threading.Event) -> None:
        channel = connection.channel()
        declare_consumer_topology(channel, self.app.service_name, [self.upstream])
        self._dead_letters = ConfirmingPublisher(connection, DEAD_LETTER_EXCHANGE)
        self.position = self.app.tracked_position(self.upstream)
        self._try_catch_up()
        buffer: list = []
        channel.basic_qos(prefetch_size=0, prefetch_count=self.batch_size * 2, a_global=False)
        queue = consumer_queue(self.app.service_name, self.upstream)(channel)
        with KombuConsumer(channel, queues=[queue], on_message=buffer.append, no_ack=False):
            last_activity = time.monotonic()
            while not stopping.is_set():
                connection.heartbeat_check()  # an idle consumer's connection must not look dead to the broker
                self._fill(connection, buffer)
                if buffer:
                    self.process_messages(buffer)
                    buffer[-1].ack(multiple=True)
                    buffer.clear()
                    self._flowing()
                    last_activity = time.monotonic()
                elif time.monotonic() - last_activity > self.idle_catch_up:
                    # A lost LAST message reveals no gap by itself: ask the log now and then for what was relayed.
                    self._try_catch_up(relayed_only=True)
                    last_activity = time.monotonic()

    def _try_catch_up(self, *, relayed_only: bool = False) -> None:
        """Catch up if the upstream answers; if it does not, the queue still flows and a gap is pulled later."""
        try:
            self.catch_up(relayed_only=relayed_only)
            self._flowing()
        except (Halted, NotYet, OperationalError, InterfaceError):
            raise
        except Exception as exc:
            self.log.warning("consumer.catch_up_unavailable", error=f"{type(exc).__name__}: {exc}")
            self.position = self.app.tracked_position(self.upstream)

    def _fill(self, connection: Connection, buffer: list) -> None:
        timeout = 0.2 if not buffer else 0.02
        while len(buffer) < self.batch_size:
            try:
                connection.drain_events(timeout=timeout)
            except TimeoutError:
                return
            timeout = 0.02

    # --- applying ---------------------------------------------------------------------------------------

    def catch_up(self, *, relayed_only: bool = False) -> int:
        """Pull from the upstream's log until nothing is newer than what we applied (``relayed_only``: than what its
        relay recorded as published); returns how many."""
        self.position = self.app.tracked_position(self.upstream)
        applied = 0
        while True:
            page = self.pull(self.position, self.pull_limit, relayed_only)
            if not page:
                return applied
            envelopes = []
            for raw in page:
                try:
                    envelopes.append(self.verifier.verify(parse_envelope(raw)))
                except PoisonMessage as poison:
                    self._halt(raw if isinstance(raw, (bytes, str)) else json.dumps(raw, default=str), None,
                               poison.reason)
            if envelopes[0].previous_position != self.position:
                self._halt(envelopes[0].model_dump_json(), envelopes[0].position,
                           f"upstream log does not continue from tracked position {self.position}")
            self.apply(envelopes)
            applied += len(envelopes)
            if len(page) < self.pull_limit:
                return applied

    def process_messages(self, messages: list) -> None:
        """Apply a batch of delivered messages in order, dropping duplicates and pulling gaps."""
        pending: list[Envelope] = []
        expected = self.position
        for message in messages:
            try:
                envelope = parse_envelope(message.body)
                if envelope.source != self.upstream:
                    raise PoisonMessage(f"event from {envelope.source} arrived on the {self.upstream} queue")
                self.verifier.verify(envelope)
            except PoisonMessage as poison:
                self._dead_letter(message.body, None, poison.reason)
                continue
            if envelope.position <= expected:
                continue
            if envelope.previous_position == expected:
                pending.append(envelope)
                expected = envelope.position
            elif envelope.previous_position > expected:
                self.apply(pending)
                pending = []
                self.catch_up()
                expected = self.position
                if envelope.position > expected:
                    # It was published after its commit, so the log must have it: this message is not from
                    # that log (a forged message, or one left from a previous incarnation of the upstream).
                    self._dead_letter(message.body, envelope.position,
                                      f"position {envelope.position} is not in the upstream's log (last {expected})")
            else:
                self.apply(pending)
                self._halt(message.body, envelope.position,
                           f"previous_position {envelope.previous_position} < tracked {expected} < "
                           f"position {envelope.position}: upstream history changed")
        self.apply(pending)

    def apply(self, envelopes: list[Envelope]) -> None:
        """Apply in-order envelopes, one transaction per stretch that ends before a handler that reads."""
        start = 0
        for index in range(1, len(envelopes) + 1):
            if index == len(envelopes) or self._reads(envelopes[index]):
                self._apply_together(envelopes[start:index])
                start = index

    def _reads(self, envelope: Envelope) -> bool:
        return getattr(self.handlers.get(envelope.type), _READS, False)

    def _apply_together(self, envelopes: list[Envelope]) -> None:
        """Run the handlers of in-order envelopes and commit their effects with the tracking position, in ONE
        transaction; if that commit fails, apply them one at a time: those before the poison are kept, it halts."""
        if not envelopes:
            return
        unit = self._handled(envelopes)
        try:
            self._commit(unit, envelopes[-1])
        except (OperationalError, InterfaceError, IntegrityError):
            raise  # the database, or a write that raced ours: nothing of this batch is kept; retried later
        except Exception as exc:
            if len(envelopes) == 1:
                self._halt(envelopes[0].model_dump_json(), envelopes[0].position, failure(exc, "writes failed"))
            for envelope in envelopes:
                self.apply([envelope])

    def _handled(self, envelopes: list[Envelope]) -> UnitOfWork:
        """The envelopes' effects, not yet committed; a handler's failure halts, keeping what came before it."""
        unit = UnitOfWork(self.app)
        for index, envelope in enumerate(envelopes):
            handler = self.handlers.get(envelope.type)
            if handler is None:
                continue  # an event type this service does not need: tracked, nothing to do
            try:
                handler(parse_data(envelope), envelope, unit)
            except (OperationalError, InterfaceError, NotYet):
                raise  # the database or another upstream, not the event: nothing of this batch is kept; retry later
            except Exception as exc:
                self.apply(envelopes[:index])  # keep what came before, without the poisoned unit's changes
                self._halt(envelope.model_dump_json(), envelope.position, failure(exc))
        return unit

    def _commit(self, unit: UnitOfWork, last: Envelope) -> None:
        try:
            unit.commit(self.upstream, last.position)
        except IntegrityError:
            # Another replica applied these first (fail-over overlap): re-read where we are and go on.
            self.position = self.app.tracked_position(self.upstream)
            if self.position < last.position:
                raise
            return
        self.position = last.position

    # --- poison -----------------------------------------------------------------------------------------

    def _dead_letter(self, body: bytes | str, position: int | None, reason: str) -> None:
        """Queue what identifies the message and why it failed, not the message: its data may name a person, and
        the upstream's log keeps the event (a retry pulls it from there by position)."""
        self.log.error("consumer.dead_lettered", position=position, reason=reason)
        headers = {"x-berdaya-reason": reason, "x-berdaya-upstream": self.upstream,
                   "x-berdaya-consumer": self.app.service_name,
                   "x-berdaya-dead-lettered-at": datetime.now(UTC).isoformat()}
        if position is not None:
            headers["x-berdaya-position"] = position
        message = persistent_message(identity(body), message_id=f"{self.queue_name}:{position}", kind="dead-letter",
                                     headers=headers)
        assert self._dead_letters is not None
        self._dead_letters.publish([(self.queue_name, message)])

    def _halt(self, body: bytes | str, position: int | None, reason: str) -> None:
        self._dead_letter(body, position, reason)
        self.app.halt_consumer(self.upstream, position if position is not None else self.position, reason)
        self.log.error("consumer.halted", position=position, reason=reason)
        raise Halted(reason)


def failure(exc: Exception, what: str = "handler failed") -> str:
    """Why a handler (or the commit of its writes) failed, as the halt, the dead letter and the log keep it: a poison
    message's reason, or the exception's type and the rule it names — never its text, which may name the person the
    event is about."""
    if isinstance(exc, PoisonMessage):
        return exc.reason
    rule = getattr(exc, "rule", None)
    return f"{what}: {type(exc).__name__}" + (f" ({rule})" if isinstance(rule, str) else "")


def identity(body: bytes | str) -> str:
    """A dead letter's body: the envelope's identity (source, position, type, version, id) and the SHA-256 of the
    message as it came — enough to find the event in the upstream's log and to tell it is the same message."""
    raw = body.encode() if isinstance(body, str) else body
    kept: dict[str, Any] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    try:
        envelope = json.loads(raw)
        kept.update({field: envelope[field] for field in ENVELOPE_IDENTITY if field in envelope})
    except (ValueError, TypeError):  # not JSON, or not an object: its hash and length are all there is
        pass
    return json.dumps(kept, sort_keys=True)
