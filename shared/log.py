"""One logging setup for every process: structlog key=value lines on stderr, timestamps in UTC, no personal data.

Logs carry codes and ids, never a NIK, a KK, a name, a birth date or an address: every call says what happened by
its event, codes and ids. Behind that, as a defence in depth, whatever is logged is redacted on its way out — the
structlog processor for our own lines, the logging filter for every line of the libraries (nameko, kombu, eventlet).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from shared.errors import BerdayaError

_configured = False

REDACTED = "[redacted]"
# Two rules, because each misses what the other catches. A key that names personal data (nik=…, nama=…) is
# redacted whatever its value looks like: a name or an address has no shape to recognise. A 16-digit number is
# redacted wherever it stands — a NIK or a KK inside a message, an exception's text, a traceback, a URL — because
# there it has no key to go by.
PERSONAL_KEY_PARTS = frozenset({
    "nik", "niks", "kk", "name", "names", "fullname", "nama", "birth", "birthdate", "born", "lahir", "address",
    "alamat", "dusun", "phone", "telepon", "email", "holder", "receiver",
    # a grievance's resident and words (services/registry/grievance.py)
    "complainant", "contact", "description", "resolution",
})
SIXTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")


def names_personal_data(key: str) -> bool:
    """``nik``, ``representative_nik``, ``nama_lengkap``, ``birth_date``, ``tanggal_lahir``, ``Address`` …"""
    return any(part in PERSONAL_KEY_PARTS for part in re.split(r"[^a-z]+", key.lower()))


def redact(value: Any) -> Any:
    """``value`` with every 16-digit number, and every value under a key naming personal data, redacted."""
    if isinstance(value, dict):
        return {key: REDACTED if names_personal_data(str(key)) else redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return SIXTEEN_DIGITS.sub(REDACTED, value)
    if isinstance(value, int) and not isinstance(value, bool) and SIXTEEN_DIGITS.fullmatch(str(abs(value))):
        return REDACTED
    return value


def redact_personal_data(logger: Any, method_name: str, event_dict: dict) -> dict:
    """structlog processor: the event's keys and values through ``redact`` (after format_exc_info, so that a
    traceback is redacted too)."""
    return redact(event_dict)


class RedactPersonalData(logging.Filter):
    """The same redaction for every stdlib record a handler writes: its message, and its traceback (formatted
    here, before the handler's formatter would, which then uses it as it is)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def get_logger(name: str):
    global _configured
    if not _configured:
        if not logging.getLogger().handlers:  # a process without the services' LOGGING config (the CLI, tools)
            handler = logging.StreamHandler(sys.stderr)
            handler.addFilter(RedactPersonalData())
            logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[handler])
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
                redact_personal_data,
                structlog.processors.KeyValueRenderer(key_order=["timestamp", "level", "event", "logger"]),
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            cache_logger_on_first_use=True,
        )
        _configured = True
    return structlog.get_logger(name).bind(logger=name)


def refusal_codes(refusal: BerdayaError) -> str:
    """A domain refusal as the log may say it: its type and codes. Its message and details are the caller's answer,
    and name NIKs, KKs and people."""
    codes = {"code": refusal.code, "rule": refusal.details.get("rule"), "field": refusal.details.get("field")}
    return " ".join([type(refusal).__name__] + [f"{key}={value}" for key, value in codes.items() if value])


class OneLineWarnings(logging.Filter):
    """Warnings that are not bugs, on one line, without their traceback (services' LOGGING config, as a filter):

    - nameko's ``(expected) error handling worker …``: a domain refusal is an answer to the caller, not a crash;
      it is logged by its codes (``refusal_codes``), not by its message;
    - kombu's ``Connection to broker lost …`` / ``Broker connection error …`` while RabbitMQ is away: an outage,
      already named by the exception's message, which is kept.
    Errors keep their tracebacks.
    """

    LOGGERS = ("nameko.containers", "kombu.mixins")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.exc_info and record.name in self.LOGGERS:
            _, exc, _ = record.exc_info
            if isinstance(exc, BerdayaError) and isinstance(record.args, tuple):
                record.args = tuple(refusal_codes(exc) if arg is exc else arg for arg in record.args)
            message = record.getMessage()
            if exc is not None and not isinstance(exc, BerdayaError) and str(exc) not in message:
                message = f"{message} ({type(exc).__name__}: {exc})"
            record.msg, record.args, record.exc_info, record.exc_text = message, None, None, None
        return True
