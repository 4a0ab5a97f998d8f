"""A document attached to what it proves — a proposal, a grant, a KUBE — named by the SHA-256 of its content, and
the rule every attachment follows, whichever service owns the thing. Pure: the file is stored by its owner
(``shared.document_store``), its type and metadata decided by ``shared.evidence``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from shared.actor import Actor, check_region, check_role
from shared.errors import Conflict, ValidationFailed


@dataclass(frozen=True)
class Attachment:
    kind: str
    sha256: str
    size: int
    media_type: str
    by: str
    attached_at: datetime | None = None
    payment_id: str | None = None  # a grant's: the equipment delivery a BAST or its photo proves
    tranche: int | None = None  # a grant's: the LPJ a receipt belongs to


def check_attachment(kind: str, kinds: dict[str, tuple[str, ...]], actor: Actor, village_code: str,
                     attached: list[Attachment], sha256: str) -> None:
    """A kind attached here, by a role that may, in the actor's region; the same file of a kind once."""
    if kind not in kinds:
        raise ValidationFailed("kind", "evidence.kind", f"a {kind!r} is not attached here: one of {tuple(kinds)}")
    check_role(actor, kinds[kind], f"attach a {kind}")
    check_region(actor, village_code, f"attach a {kind}")
    if any(a.sha256 == sha256 and a.kind == kind for a in attached):
        raise Conflict(f"this {kind} is attached already", rule="evidence.attached", sha256=sha256)


def described(attachment: Attachment) -> dict:
    return {**asdict(attachment), "attached_at": attachment.attached_at.isoformat() if attachment.attached_at
            else None}
