"""Evidence attached to proposals and grants, mixed into GrantsApplication: the file is checked and stripped
(``shared.evidence``), stored by its SHA-256 in grants' own database in the transaction that records the event
naming that hash — so the money ledger anchors it — and every download is written to grants' document access log.
"""

from __future__ import annotations

import uuid

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.grants import commands as cmd
from services.grants.domain import GRANT_DOCUMENTS, TIME_AND_PLACE_KEPT, Grant, Proposal
from shared.actor import check_region
from shared.attachments import Attachment, described
from shared.document_store import DOCUMENTS_DDL as FILES_DDL
from shared.document_store import STORE_DOCUMENT, accepted_upload, stored_file, stored_row
from shared.errors import NotFound
from shared.reads import ReadBy
from shared.store import ReadModelWrites

DOCUMENT_READS = "document_reads"
DOCUMENTS_DDL = (
    FILES_DDL,
    # Who downloaded which document, when and why: append-only, like the registry's access log.
    f"""CREATE TABLE IF NOT EXISTS {DOCUMENT_READS} (
        seq bigserial PRIMARY KEY, read_at timestamptz NOT NULL DEFAULT now(), username text NOT NULL,
        role text NOT NULL, region text NOT NULL, purpose text NOT NULL, route text NOT NULL,
        proposal_id uuid NOT NULL, sha256 text NOT NULL, kind text NOT NULL)""",
)


class GrantsAttachments:
    """Uses the application's repository, records and queries, and its ``_proposal`` and ``_grant``."""

    def attach_document(self, command: cmd.AttachDocument) -> dict:
        stored = accepted_upload(command.content_base64, keep_time_and_place=command.kind in TIME_AND_PLACE_KEPT)

        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], dict]:
            if command.kind in GRANT_DOCUMENTS:
                attached_to = self._grant(command.proposal_id)
                attached_to.attach_document(command.kind, stored.sha256, stored.size, stored.media_type,
                                            command.actor, command.payment_id, command.tranche)
            else:
                attached_to = self._proposal(command.proposal_id)
                attached_to.attach_document(command.kind, stored.sha256, stored.size, stored.media_type,
                                            command.actor)
            writes.add(STORE_DOCUMENT, stored_row(stored))
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
        return {**described(found), **stored_file(self.query, found)}

    def _attached(self, proposal_id: str) -> tuple[str, list[Attachment]]:
        proposal: Proposal = self._proposal(proposal_id)
        try:
            grant: Grant | None = self.repository.get(Grant.create_id(uuid.UUID(proposal_id)))
        except AggregateNotFoundError:
            grant = None
        attached = [*proposal.documents, *(grant.documents if grant else ())]
        return proposal.village_code, sorted(attached, key=lambda a: a.attached_at)

