"""One logging setup for every process: structlog key=value lines on stderr, timestamps in UTC."""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


def get_logger(name: str):
    global _configured
    if not _configured:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
                structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event", "logger"]),
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            cache_logger_on_first_use=True,
        )
        _configured = True
    return structlog.get_logger(name).bind(logger=name)
