"""Verification codes of printouts: which recorded event a paper stands on, short enough to type from the paper.

A code is ``<log><position>-<hash prefix>``, e.g. ``L42-9F3A2C1B7D``:

- ``L``: the money ledger of grants (``shared.ledger``): the position is the entry's sequence number, the hash its
  chained entry hash, so a money document is anchored where the ledger's seal anchors every rupiah;
- ``G`` / ``T``: the event log of grants / training, for documents with no money event of their own (the proposal
  letter, the Family School certificate): the position is the event's notification id, the hash :func:`event_digest`
  of the event as stored.

The prefix is 10 hex digits (40 bits): a code cannot be guessed for a position (the gateway throttles wrong codes,
as it throttles wrong passwords), and a paper whose event was altered in the database no longer matches it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from shared.errors import ValidationFailed

PREFIX_DIGITS = 10
LOGS = {"L": "grants", "G": "grants", "T": "training"}  # the service that holds each log
CODE_RE = re.compile(rf"^([LGT])([1-9][0-9]{{0,11}})-([0-9A-F]{{{PREFIX_DIGITS}}})$")


@dataclass(frozen=True)
class DocumentCode:
    log: str  # a key of LOGS
    position: int
    prefix: str  # upper-case hex

    def __str__(self) -> str:
        return f"{self.log}{self.position}-{self.prefix}"

    @property
    def service(self) -> str:
        return LOGS[self.log]

    @property
    def ledger(self) -> bool:
        return self.log == "L"

    def matches(self, digest: str) -> bool:
        return hmac.compare_digest(digest[:PREFIX_DIGITS].upper(), self.prefix)


def code_for(log: str, position: int, digest: str) -> DocumentCode:
    return DocumentCode(log, position, digest[:PREFIX_DIGITS].upper())


def parse_code(text: str) -> DocumentCode:
    """A code as typed or scanned (case and surrounding spaces do not matter); refused when it is not one."""
    found = CODE_RE.match(text.strip().upper())
    if found is None:
        raise ValidationFailed("code", "document.code_format", "a verification code looks like L42-9F3A2C1B7D: "
                                                               "a letter, a number, a dash and 10 hex digits")
    return DocumentCode(found[1], int(found[2]), found[3])


def event_digest(originator_id: str, originator_version: int, topic: str, state: bytes) -> str:
    """SHA-256 of a stored event as the ledger hashes one (``shared.ledger.entry_hash``), without a chain."""
    canonical = json.dumps({"id": str(originator_id), "version": originator_version, "topic": topic,
                            "state": bytes(state).decode("utf-8")},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
