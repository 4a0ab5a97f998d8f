"""A KUBE's own papers (the SK Kades forming it, the village meeting's minutes), mixed into RegistryApplication:
the file is checked and stripped (``shared.evidence``), stored by its SHA-256 in the registry's own database in the
transaction that records ``Group.DocumentAttached`` naming that hash, and every download is on the access log (the
scans name the group's people).
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from services.registry.commands import AttachGroupDocument
from services.registry.domain import Group
from shared.actor import Actor
from shared.attachments import described
from shared.document_store import STORE_DOCUMENT, accepted_upload, stored_file, stored_row
from shared.errors import NotFound
from shared.reads import ReadBy
from shared.store import ReadModelWrites


class RegistryGroupDocuments:
    """Uses the application's ``_load_group``, records, queries and access log."""

    def attach_group_document(self, command: AttachGroupDocument) -> dict:
        stored = accepted_upload(command.content_base64)

        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], dict]:
            group = self._region_group(command.actor, command.group_id)
            group.attach_document(command.kind, stored.sha256, stored.size, stored.media_type, command.actor)
            writes.add(STORE_DOCUMENT, stored_row(stored))
            return [group], described(group.documents[-1])

        return self.decide_retrying(attempt)

    def group_documents(self, reader: ReadBy, group_id: str) -> list[dict]:
        """What is attached to the KUBE, oldest first (not the files)."""
        group = self._region_group(reader.actor, group_id)
        return [described(a) for a in group.documents]

    def group_document(self, reader: ReadBy, group_id: str, sha256: str) -> dict:
        """One attached file (base64), its download written to the access log first."""
        group = self._region_group(reader.actor, group_id)
        found = next((a for a in group.documents if a.sha256 == sha256), None)
        if found is None:
            raise NotFound(f"no document {sha256} is attached to KUBE {group_id}", field="sha256")
        self.access_log.record(reader, f"group_document:{found.kind}:{sha256}",
                               households=[m.household for m in group.members])
        return {**described(found), **stored_file(self.query, found)}

    def _region_group(self, actor: Actor, group_id: str) -> Group:
        """The group, answered as one that does not exist outside the actor's region."""
        group = self._load_group(group_id)
        if not actor.covers(group.village_code):
            raise NotFound(f"no KUBE with id {group_id}", field="group_id", group_id=group_id)
        return group
