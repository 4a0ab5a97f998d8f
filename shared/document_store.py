"""Attached files stored by their owner, content-addressed in its own database (backed up with its events): the
``documents`` table, written in the transaction that records the event naming the file's hash, append-only, and
read back only when the bytes still hash to that name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable

from shared import evidence
from shared.attachments import Attachment
from shared.errors import Conflict, ValidationFailed

DOCUMENTS = "documents"
# The files, by the hash of their content: the same scan attached twice is stored once.
DOCUMENTS_DDL = f"""CREATE TABLE IF NOT EXISTS {DOCUMENTS} (
    sha256 text PRIMARY KEY, media_type text NOT NULL, size bigint NOT NULL, content bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now())"""
STORE_DOCUMENT = f"""
    INSERT INTO {DOCUMENTS} (sha256, media_type, size, content) VALUES (%s, %s, %s, %s)
    ON CONFLICT (sha256) DO NOTHING"""
SELECT_CONTENT = f"SELECT content FROM {DOCUMENTS} WHERE sha256 = %s"


def accepted_upload(content_base64: str, keep_time_and_place: bool = False) -> evidence.Evidence:
    """An uploaded file as it is stored (the RPC carries bytes as base64), or a refusal."""
    try:
        content = base64.b64decode(content_base64, validate=True)
    except binascii.Error:
        raise ValidationFailed("content_base64", "evidence.encoding", "the file is not base64") from None
    return evidence.accept(content, keep_time_and_place)


def stored_row(stored: evidence.Evidence) -> tuple:
    """STORE_DOCUMENT's parameters for an accepted file."""
    return stored.sha256, stored.media_type, stored.size, stored.content


def stored_file(query: Callable[[str, tuple], list[dict]], attached: Attachment) -> dict:
    """The attached file as a download (base64 is the RPC's way with bytes); one that no longer hashes to what its
    event names is refused, never handed out as evidence."""
    rows = query(SELECT_CONTENT, (attached.sha256,))
    if not rows or hashlib.sha256(rows[0]["content"]).hexdigest() != attached.sha256:
        raise Conflict(f"the stored {attached.kind} no longer matches its hash: run berdaya audit verify",
                       rule="evidence.altered", sha256=attached.sha256)
    return {"content_base64": base64.b64encode(rows[0]["content"]).decode(),
            "filename": evidence.download_name(attached.kind, attached.sha256, attached.media_type)}

