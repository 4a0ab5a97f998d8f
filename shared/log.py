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


class OneLineWarnings(logging.Filter):
    """Warnings that are not bugs, on one line, without their traceback (services' LOGGING config, as a filter):

    - nameko's ``(expected) error handling worker …``: a domain refusal is an answer to the caller, not a crash;
    - kombu's ``Connection to broker lost …`` / ``Broker connection error …`` while RabbitMQ is away: an outage,
      already named by the exception's message, which is kept.
    Errors keep their tracebacks.
    """

    LOGGERS = ("nameko.containers", "kombu.mixins")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.exc_info and record.name in self.LOGGERS:
            _, exc, _ = record.exc_info
            message = record.getMessage()
            if exc is not None and str(exc) not in message:
                message = f"{message} ({type(exc).__name__}: {exc})"
            record.msg, record.args, record.exc_info, record.exc_text = message, None, None, None
        return True

