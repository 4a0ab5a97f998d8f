"""The `berdaya` command: demo, running the services, and operations. Talks to services over RPC only."""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # we know; nameko 2 needs it

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before psycopg/kombu: the RPC proxies are green, like the services

import logging  # noqa: E402

# py-amqp warns about late publisher confirms on channels that RPC proxies close while a service starts.
logging.getLogger("amqp").setLevel(logging.ERROR)

from shared.runtime import ensure_green_psycopg  # noqa: E402  (importing shared selects psycopg's green wait)

ensure_green_psycopg()

from berdaya.cli.main import app  # noqa: E402

__all__ = ["app"]
