"""The relay (transactional outbox): a service's event log → public events on ``<service>.events``.

At-least-once by construction: publish a batch, wait for the broker's confirms, THEN record the position. A crash
in between republishes the same events with the same ids and positions, which consumers drop by position. The
next batch is read and published while the previous one awaits its confirms (two in flight at most); positions are
recorded in order, a batch's only once every message up to its last was confirmed. Exactly one relay per service
publishes at a time: it holds a PostgreSQL advisory lock on a connection of its own, so when its process dies the
lock goes with the connection and a standby takes over.
"""

from __future__ import annotations

import threading
from collections import deque

import psycopg
from eventsourcing.persistence import Tracking
from kombu import Connection

from shared.log import get_logger
from shared.publishing import ConfirmingPublisher, envelope_message
from shared.signing import Signer
from shared.store import ServiceApplication, advisory_key
from shared.topology import StreamRetention, declare_event_topology, events_exchange

RELAY_TRACKING_NAME = "__relay__"
# Batches published and awaiting their confirms at once: the next batch is read and sent while the broker stores
# the previous one. Positions are still recorded one batch at a time, oldest first, each once its confirms came.
IN_FLIGHT = 2


def relay_lock_name(service: str) -> str:
    return f"berdaya:relay:{service}"


class Leadership:
    """Holds the relay's advisory lock on a dedicated connection; also where we LISTEN for new events."""

    def __init__(self, conninfo: str, lock_name: str, channel: str) -> None:
        self._conninfo = conninfo
        self._key = advisory_key(lock_name)
        self._channel = channel
        self._conn: psycopg.Connection | None = None

    def acquire(self) -> bool:
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        if conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()[0]:
            conn.execute(f'LISTEN "{self._channel}"')
            self._conn = conn
            return True
        conn.close()
        return False

    def confirm(self) -> None:
        """Raise if the lock's connection is gone (then someone else may hold the lock)."""
        assert self._conn is not None
        self._conn.execute("SELECT 1")

    def wait_for_news(self, timeout: float) -> None:
        assert self._conn is not None
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            pass

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class Relay:
    def __init__(
        self,
        app: ServiceApplication,
        amqp_uri: str,
        *,
        signer: Signer,
        conninfo: str,
        batch_size: int = 500,
        idle_wait: float = 1.0,
        retry_wait: float = 1.0,
        stream_retention: StreamRetention = StreamRetention(),
    ) -> None:
        self.app = app
        self.amqp_uri = amqp_uri
        self.signer = signer
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.retry_wait = retry_wait
        self.stream_retention = stream_retention
        self.log = get_logger(f"{app.service_name}.relay")
        self.leadership = Leadership(
            conninfo, lock_name=relay_lock_name(app.service_name), channel=app.recorder.channel_name
        )
        self.is_leader = False

    def run(self, stopping: threading.Event) -> None:
        """Publish until ``stopping`` is set; stand by while another relay holds the lock; survive outages."""
        outage = False
        while not stopping.is_set():
            try:
                if not self.leadership.acquire():
                    stopping.wait(self.retry_wait)
                    continue
                self.is_leader = True
                self.log.info("relay.leading", position=self.app.tracked_position(RELAY_TRACKING_NAME))
                self._lead(stopping)
            except Exception as exc:  # every failure: drop leadership, wait, start over from the recorded position
                if not outage:
                    self.log.warning("relay.interrupted", error=f"{type(exc).__name__}: {exc}")
                outage = True
                stopping.wait(self.retry_wait)
            else:
                outage = False
            finally:
                self.is_leader = False
                self.leadership.release()

    def _lead(self, stopping: threading.Event) -> None:
        with Connection(self.amqp_uri, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            exchange = events_exchange(self.app.service_name)
            publisher = ConfirmingPublisher(connection, exchange.name)
            declare_event_topology(publisher.channel, self.app.service_name, self.stream_retention)
            read = self.app.tracked_position(RELAY_TRACKING_NAME)
            # Batches published and not yet recorded, oldest first: (last position, last delivery tag).
            in_flight: deque[tuple[int, int]] = deque()
            while not stopping.is_set():
                self.leadership.confirm()
                envelopes = self.app.public_events_after(read, self.batch_size) if len(in_flight) < IN_FLIGHT else []
                if envelopes:
                    messages = [envelope_message(envelope) for envelope in self.signer.sign_all(envelopes)]
                    in_flight.append((envelopes[-1].position, publisher.send(messages)))
                    read = envelopes[-1].position
                    if len(in_flight) < IN_FLIGHT:
                        continue  # read the next batch while the broker stores this one
                if in_flight:
                    position, tag = in_flight.popleft()
                    publisher.wait_for(tag)  # raises if the broker refused any of the batch, or before it
                    # Refuses a position <= the recorded one: a second relay that somehow ran loses here.
                    self.app.recorder.insert_tracking(Tracking(RELAY_TRACKING_NAME, position))
                else:
                    self.leadership.wait_for_news(self.idle_wait)
