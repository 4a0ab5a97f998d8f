"""Service configuration: one YAML file per service with ``${ENV:default}`` values (nameko's convention)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from nameko.cli.main import setup_yaml_parser
from psycopg.conninfo import conninfo_to_dict

SERVICES = ("registry", "grants", "training")
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a service config exactly as ``nameko run --config`` does (environment substitution included)."""
    setup_yaml_parser()
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def service_config_path(service: str) -> Path:
    return Path(__file__).resolve().parent.parent / "services" / service / "config.yaml"


def eventsourcing_env(database_url: str) -> dict[str, str]:
    """Translate a PostgreSQL URL into the environment the eventsourcing library reads."""
    parts = conninfo_to_dict(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(parts["dbname"]),
        "POSTGRES_HOST": str(parts.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(parts.get("port", "5432")),
        "POSTGRES_USER": str(parts.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(parts.get("password", "")),
        "POSTGRES_POOL_SIZE": "4",
        "POSTGRES_MAX_OVERFLOW": "8",
        "POSTGRES_PRE_PING": "y",  # each connection checked before use: shared.store.check_unbroken
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # Serialise writers briefly rather than forever: a stuck lock becomes an error the caller sees.
        "POSTGRES_LOCK_TIMEOUT": "10",
        "CREATE_TABLE": "y",
    }
