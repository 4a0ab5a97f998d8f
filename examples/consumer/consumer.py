"""A stand-alone consumer of berdaya's public streams: replays every event from the first, follows live, and
survives being killed — with kombu and its own SQLite file, nothing of berdaya (docs/consumers.md).

What it keeps: the number of KUBE funded per village (from registry.group.formed / funded / dissolved), a journal
of every event it applied, and per source the stream offset and log position it applied last. Each event is
applied in one SQLite transaction with that offset, so a kill loses nothing and applies nothing twice: it resumes
after the stored offset, and skips an event whose position it has already applied (a republished duplicate).

    pip install kombu pynacl      # PyNaCl only to verify signatures (--public-keys)
    python consumer.py --amqp amqp://user:password@broker:5672/ --db kube.sqlite3 \\
        --public-keys "registry:k1:<base64> grants:k1:<base64> training:k1:<base64>"
"""

import argparse
import base64
import json
import sqlite3

from kombu import Connection, Consumer, Queue

TABLES = """
CREATE TABLE IF NOT EXISTS offsets (source TEXT PRIMARY KEY, stream_offset INTEGER, position INTEGER);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT, position INTEGER,
                                    id TEXT, type TEXT, version INTEGER, data TEXT);
CREATE TABLE IF NOT EXISTS kube (group_id TEXT PRIMARY KEY, village_code TEXT, funded INTEGER DEFAULT 0);
"""


class Gap(Exception):
    """An event is missing before this one (previous_position says which position came before it)."""


def public_keys(text):
    """EVENT_PUBLIC_KEYS' format: '<source>:<key id>:<base64 public key>' entries, separated by spaces."""
    from nacl.signing import VerifyKey
    entries = (entry.split(":", 2) for entry in text.replace(",", " ").split())
    return {(source, key_id): VerifyKey(base64.b64decode(key)) for source, key_id, key in entries}


def verify(keys, envelope):
    """The signature covers the envelope without keyid and signature, as JSON: sorted keys, no spaces, UTF-8."""
    signed = {name: value for name, value in envelope.items() if name not in ("keyid", "signature")}
    data = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    keys[(envelope["source"], envelope["keyid"])].verify(data, base64.b64decode(envelope["signature"]))


def apply(db, offset, envelope):
    source, position, data = envelope["source"], envelope["position"], envelope["data"]
    with db:  # one transaction: the effect, the journal and the offset together
        row = db.execute("SELECT position FROM offsets WHERE source = ?", (source,)).fetchone()
        applied = row[0] if row else 0
        if position > applied:
            if envelope["previous_position"] != applied:
                raise Gap(f"{source}: applied up to {applied}, next event follows {envelope['previous_position']}")
            db.execute("INSERT INTO journal (source, position, id, type, version, data) VALUES (?, ?, ?, ?, ?, ?)",
                       (source, position, envelope["id"], envelope["type"], envelope["version"], json.dumps(data)))
            if envelope["type"] == "registry.group.formed":
                db.execute("INSERT INTO kube (group_id, village_code) VALUES (?, ?)",
                           (data["group_id"], data["village_code"]))
            elif envelope["type"] in ("registry.group.funded", "registry.group.dissolved"):
                funded = int(envelope["type"] == "registry.group.funded")
                db.execute("UPDATE kube SET funded = ? WHERE group_id = ?", (funded, data["group_id"]))
        db.execute("INSERT INTO offsets VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
                   "stream_offset = excluded.stream_offset, position = excluded.position",
                   (source, offset, max(position, applied)))


def stream_queue(db, source):
    """The source's stream, read from after the offset applied last, or from the first event."""
    row = db.execute("SELECT stream_offset FROM offsets WHERE source = ?", (source,)).fetchone()
    start = row[0] + 1 if row else "first"
    # no_declare: a reader has no right to declare it; berdaya's relay did (x-queue-type: stream)
    return Queue(f"{source}.events.stream", no_declare=True, consumer_arguments={"x-stream-offset": start})


def run(amqp_uri, db, sources, keys):
    def on_message(body, message):
        envelope = json.loads(body) if isinstance(body, (str, bytes)) else body
        if keys is not None:
            verify(keys, envelope)  # raises: never apply an event that is not its source's
        apply(db, message.headers["x-stream-offset"], envelope)
        message.ack()  # a stream takes acks as credit for the next deliveries (nothing is removed)

    with Connection(amqp_uri) as connection:
        # a stream consumer must have a prefetch (basic.qos): RabbitMQ refuses it otherwise
        with Consumer(connection, [stream_queue(db, source) for source in sources], callbacks=[on_message],
                      accept=["json"], prefetch_count=200):
            while True:
                connection.drain_events()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--db", default="kube.sqlite3")
    parser.add_argument("--sources", nargs="+", default=["registry", "grants", "training"])
    parser.add_argument("--public-keys", help="verify every event's signature (EVENT_PUBLIC_KEYS' format)")
    args = parser.parse_args()
    db = sqlite3.connect(args.db)
    db.executescript(TABLES)
    run(args.amqp, db, args.sources, public_keys(args.public_keys) if args.public_keys else None)


if __name__ == "__main__":
    main()
