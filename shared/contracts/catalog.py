"""The event catalog, generated from the contracts so it cannot drift: Markdown for people, AsyncAPI for tools."""

from __future__ import annotations

import json
from pathlib import Path

from shared.contracts import CATALOG, ENVELOPE_ID_NAMESPACE, Envelope, dataschema
from shared.topology import event_stream_name

SOURCES = {"registry": "registry.events", "grants": "grants.events", "training": "training.events"}


def data_schema(event_type: str, version: int) -> dict:
    schema = CATALOG[(event_type, version)].model_json_schema(mode="serialization")
    schema["$id"] = dataschema(event_type, version)
    return schema


def markdown() -> str:
    lines = [
        "# Public event catalog",
        "",
        "Generated from `shared/contracts` by `berdaya catalog`; a test fails when this file is out of date.",
        "Every event travels in the envelope below, on the topic exchange `<source>.events` with the event type as",
        "routing key, persistent, JSON. A changed data shape is a new `version` of the same type; old versions stay",
        "readable. Amounts are integer rupiah; times are UTC (RFC 3339).",
        "",
        "Every envelope is signed by its source (Ed25519, `shared/signing.py`): verify it before acting on it. The",
        "signed bytes are the envelope without `keyid` and `signature`, as JSON with sorted keys, no spaces, UTF-8.",
        "A consumer holds each source's public key(s) by key id; during a rotation it accepts both ids. An envelope",
        "that is unsigned, signed by an unknown key or does not verify is not the source's: dead-letter it, never",
        "apply it (docs/security.md).",
        "",
        "## Envelope",
        "",
        "| field | type | meaning |",
        "| --- | --- | --- |",
    ]
    envelope_schema = Envelope.model_json_schema()
    meanings = {
        "id": "uuid5 of (source, position): a republished event keeps its id",
        "source": "the publishing service",
        "type": "event type, e.g. `registry.household.registered` (also the routing key)",
        "specversion": "CloudEvents spec version",
        "time": "when the event happened (UTC)",
        "subject": "the aggregate the event is about (uuid)",
        "version": "version of the data contract",
        "dataschema": "URN of the data's JSON Schema",
        "position": "notification id in the source's log (increasing, not contiguous)",
        "previous_position": "position of the source's previous public event (0: none) — a consumer sees gaps",
        "data": "the event's data, as below",
        "keyid": "id of the source's key that signed the envelope",
        "signature": "Ed25519 signature (base64) of every other field, canonical JSON",
    }
    for name, prop in envelope_schema["properties"].items():
        kind = prop.get("type") or prop.get("format") or "object"
        lines.append(f"| `{name}` | {kind} | {meanings[name]} |")
    for source in SOURCES:
        events = sorted(key for key in CATALOG if key[0].startswith(source + "."))
        lines += ["", f"## {source} (exchange `{SOURCES[source]}`)", ""]
        if not events:
            lines.append("No public events yet.")
        for event_type, version in events:
            model = CATALOG[(event_type, version)]
            lines += [f"### `{event_type}` v{version}", "", (model.__doc__ or "").strip(), "",
                      "| field | type | required |", "| --- | --- | --- |"]
            schema = data_schema(event_type, version)
            for name, prop in schema["properties"].items():
                kind = prop.get("type") or prop.get("$ref", "").rsplit("/", 1)[-1] or "object"
                if kind == "array":
                    kind = f"array of {prop['items'].get('type') or prop['items'].get('$ref', '').rsplit('/', 1)[-1]}"
                lines.append(f"| `{name}` | {kind} | {'yes' if name in schema.get('required', []) else 'no'} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


SCHEMA_PATH = "/api/v1/schemas/{event_type}/{version}"  # where the gateway serves data_schema()
COMPONENT_REF = "#/components/schemas/{model}"
AMQP_BINDING = "0.3.0"


def asyncapi() -> dict:
    """AsyncAPI 3.0 for code generators: the broker, each source's exchange and stream with their AMQP bindings,
    and every message. Data schemas sit in components/schemas (their shared parts beside them, referenced from
    there: the parser resolves every ``$ref`` against this document); each is the one the gateway serves."""
    schemas: dict = {"Envelope": Envelope.model_json_schema()}
    channels, operations, messages = {}, {}, {}
    for source, exchange in SOURCES.items():
        events = sorted(key for key in CATALOG if key[0].startswith(source + "."))
        names = [f"{event_type}.v{version}" for event_type, version in events]
        refs = {name: {"$ref": f"#/components/messages/{name}"} for name in names}
        stream = event_stream_name(source)
        channels[source] = {
            "address": exchange, "messages": refs,
            "description": f"the topic exchange of the {source} service; routing key = event type",
            "bindings": {"amqp": {"is": "routingKey", "bindingVersion": AMQP_BINDING, "exchange": {
                "name": exchange, "type": "topic", "durable": True, "autoDelete": False, "vhost": "/"}}},
        }
        channels[f"{source}Stream"] = {
            "address": stream, "messages": refs,
            "description": f"RabbitMQ stream (x-queue-type: stream) bound to {exchange} with routing key #: every "
                           "event in the log's order, kept (default: all of them) for replay. Consume it with a "
                           "prefetch (basic.qos) and x-stream-offset: first, an offset, or a timestamp "
                           "(docs/consumers.md).",
            "bindings": {"amqp": {"is": "queue", "bindingVersion": AMQP_BINDING, "queue": {
                "name": stream, "durable": True, "exclusive": False, "autoDelete": False, "vhost": "/"}}},
        }
        persistent = {"amqp": {"deliveryMode": 2, "bindingVersion": AMQP_BINDING}}
        operations[f"{source}Publish"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{source}"},
            "summary": f"the {source} relay publishes each event of its log once confirmed stored (at least once)",
            "bindings": {"amqp": {**persistent["amqp"], "cc": sorted({t for t, _ in events})}},
            "messages": [{"$ref": f"#/channels/{source}/messages/{name}"} for name in names],
        }
        operations[f"{source}Stream"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{source}Stream"},
            "summary": f"the same events, kept in {stream} through its binding (or republished there from the log "
                       "by `berdaya streams rebuild`)",
            "bindings": persistent,
            "messages": [{"$ref": f"#/channels/{source}Stream/messages/{name}"} for name in names],
        }
        for (event_type, version), name in zip(events, names, strict=True):
            schema = CATALOG[(event_type, version)].model_json_schema(ref_template=COMPONENT_REF,
                                                                        mode="serialization")
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = {**schema, "$comment": "served as JSON Schema at GET "
                             + SCHEMA_PATH.format(event_type=event_type, version=version)}
            messages[name] = {
                "name": event_type, "title": f"{event_type} v{version}", "contentType": "application/json",
                "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": event_type,
                                      "bindingVersion": AMQP_BINDING}},
                "payload": {"allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {"type": "object", "properties": {"type": {"const": event_type}, "version": {"const": version},
                                                      "data": {"$ref": COMPONENT_REF.format(model=name)}}},
                ]},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "berdaya public events", "version": "1",
            "description": "Every event travels in the Envelope, signed by its source (docs/events.md). Its id is "
                           f'uuid5 of "<source>:<position>" in namespace {ENVELOPE_ID_NAMESPACE}: a consumer can '
                           "check it. Consumers: docs/consumers.md.",
            "x-envelope-id-namespace": str(ENVELOPE_ID_NAMESPACE),
        },
        "servers": {"berdaya": {
            "host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0-9-1", "pathname": "/",
            "description": "an installation's RabbitMQ (make up: here, vhost /; compose: the rabbitmq service); its "
                           "operators give a consumer a user that may read the streams",
        }},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def write_catalog(markdown_path: str | Path) -> list[Path]:
    markdown_path = Path(markdown_path)
    asyncapi_path = markdown_path.with_name("asyncapi.json")
    markdown_path.write_text(markdown(), encoding="utf-8")
    asyncapi_path.write_text(json.dumps(asyncapi(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [markdown_path, asyncapi_path]
