"""`berdaya streams rebuild SERVICE`: a service's public stream republished from its log, after a broker loss.

Runs with the service's own configuration and environment (its database, broker and signing key: in compose,
``docker compose run --rm registry berdaya streams rebuild registry``), while the service is stopped: it holds
the relay's lock, so the stream gets exactly the log's sequence (shared/streams.py, docs/consumers.md).
"""

from __future__ import annotations

import typer

from berdaya.audit.replay import APPLICATIONS
from berdaya.cli.remote import console, fail
from shared.config import SERVICES, load_config, service_config_path
from shared.errors import BerdayaError
from shared.signing import signer_from_config
from shared.streams import StreamRebuildRefused, rebuild_stream
from shared.topology import StreamRetention, event_stream_name

streams_app = typer.Typer(help="the services' public streams (<service>.events.stream)", no_args_is_help=True)


@streams_app.command("rebuild")
def rebuild(
    service: str = typer.Argument(..., help=f"whose stream: {', '.join(SERVICES)}"),
    replace: bool = typer.Option(False, "--replace", help="delete a stream that still holds events, then rebuild"),
) -> None:
    """Republish SERVICE's public events from position 1 into its empty stream (refused while it runs)."""
    if service not in SERVICES:
        fail(BerdayaError(f"unknown service {service!r}: one of {', '.join(SERVICES)}"))
    config = load_config(service_config_path(service))
    signer = signer_from_config(config, service)
    app = APPLICATIONS[service](config["DATABASE_URL"], setup_url=config.get("SETUP_DATABASE_URL"))
    try:
        published = rebuild_stream(app, signer, config["AMQP_URI"], config["DATABASE_URL"], replace=replace,
                                   retention=StreamRetention.from_settings(config.get("BACKBONE") or {}))
    except StreamRebuildRefused as refusal:
        fail(refusal)
    finally:
        app.close()
    console.print(f"{event_stream_name(service)}: {published} events republished from position 1")
