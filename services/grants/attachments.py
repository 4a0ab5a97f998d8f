"""Evidence attached to proposals and grants, mixed into GrantsApplication: the file is checked and stripped
(``shared.evidence``), stored by its SHA-256 in grants' own database in the transaction that records the event
naming that hash — so the money ledger anchors it — and every download is written to grants' document access log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import asdict

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.grants import commands as cmd
from services.grants.domain import GRANT_DOCUMENTS, TIME_AND_PLACE_KEPT, Attachment, Grant, Proposal
from shared import evidence
from shared.actor import check_region
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.reads import ReadBy
from shared.store import ReadModelWrites

DOCUMENTS = "documents"
DOCUMENT_READS = "document_reads"
DOCUMENTS_DDL = (
    # The files, by the hash of their content: the same scan attached twice is stored once.
    f"""CREATE TABLE IF NOT EXISTS {DOCUMENTS} (
        sha256 text PRIMARY KEY, media_type text NOT NULL, size bigint NOT NULL, content bytea NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now())""",
    # Who downloaded which document, when and why: append-only, like the registry's access log.
    f"""CREATE TABLE IF NOT EXISTS {DOCUMENT_READS} (
        seq bigserial PRIMARY KEY, read_at timestamptz NOT NULL DEFAULT now(), username text NOT NULL,
        role text NOT NULL, region text NOT NULL, purpose text NOT NULL, route text NOT NULL,
        proposal_id uuid NOT NULL, sha256 text NOT NULL, kind text NOT NULL)""",
)
STORE_DOCUMENT = f"""
    INSERT INTO {DOCUMENTS} (sha256, media_type, size, content) VALUES (%s, %s, %s, %s)
    ON CONFLICT (sha256) DO NOTHING"""


class GrantsAttachments:
    """Uses the application's repository, records and queries, and its ``_proposal`` and ``_grant``."""

    def attach_document(self, command: cmd.AttachDocument) -> dict:
        try:
            content = base64.b64decode(command.content_base64, validate=True)
        except binascii.Error:
            raise ValidationFailed("content_base64", "evidence.encoding", "the file is not base64") from None
        stored = evidence.accept(content, keep_time_and_place=command.kind in TIME_AND_PLACE_KEPT)

        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], dict]:
            if command.kind in GRANT_DOCUMENTS:
                attached_to = self._grant(command.proposal_id)
                attached_to.attach_document(command.kind, stored.sha256, stored.size, stored.media_type,
                                            command.actor, command.payment_id, command.tranche)
            else:
                attached_to = self._proposal(command.proposal_id)
                attached_to.attach_document(command.kind, stored.sha256, stored.size, stored.media_type,
                                            command.actor)
            writes.add(STORE_DOCUMENT, (stored.sha256, stored.media_type, stored.size, stored.content))
            return [attached_to], described(attached_to.documents[-1])

        return self.decide_retrying(attempt)

    def documents(self, reader: ReadBy, proposal_id: str) -> list[dict]:
        """What is attached to the proposal and its grant, oldest first (not the files)."""
        village_code, attached = self._attached(proposal_id)
        check_region(reader.actor, village_code, "read this proposal's documents")
        return [described(a) for a in attached]

    def document(self, reader: ReadBy, proposal_id: str, sha256: str) -> dict:
        """One attached file (base64), its download written to the log first; a file that no longer hashes to
        what the ledger names is refused, never handed out as evidence."""
        village_code, attached = self._attached(proposal_id)
        check_region(reader.actor, village_code, "read this proposal's documents")
        found = next((a for a in attached if a.sha256 == sha256), None)
        if found is None:
            raise NotFound(f"no document {sha256} is attached to proposal {proposal_id}", field="sha256")
        actor = reader.actor
        with self.transaction() as cursor:
            cursor.execute(f"INSERT INTO {DOCUMENT_READS} (username, role, region, purpose, route, proposal_id, "
                           "sha256, kind) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                           (actor.user, actor.role, actor.region, reader.purpose, reader.route, proposal_id, sha256,
                            found.kind))
        rows = self.query(f"SELECT content FROM {DOCUMENTS} WHERE sha256 = %s", (sha256,))
        if not rows or hashlib.sha256(rows[0]["content"]).hexdigest() != sha256:
            raise Conflict(f"the stored {found.kind} no longer matches its hash: run berdaya audit verify",
                           rule="evidence.altered", sha256=sha256)
        return {**described(found), "content_base64": base64.b64encode(rows[0]["content"]).decode(),
                "filename": f"{found.kind}-{sha256[:12]}.{evidence.SUFFIXES[found.media_type]}"}

    def _attached(self, proposal_id: str) -> tuple[str, list[Attachment]]:
        proposal: Proposal = self._proposal(proposal_id)
        try:
            grant: Grant | None = self.repository.get(Grant.create_id(uuid.UUID(proposal_id)))
        except AggregateNotFoundError:
            grant = None
        attached = [*proposal.documents, *(grant.documents if grant else ())]
        return proposal.village_code, sorted(attached, key=lambda a: a.attached_at)


def described(attachment: Attachment) -> dict:
    return {**asdict(attachment), "attached_at": attachment.attached_at.isoformat() if attachment.attached_at
            else None}
