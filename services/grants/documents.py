"""Grants' printouts' anchors: the code of the event a printout stands on (the verification of a proposal, the
approval, a payment's confirmation or its handover), and what a code shows anyone who checks a paper — only the
non-personal essentials: the KUBE, the amount, the date, the status now.
"""

from __future__ import annotations

from services.grants.domain import Grant, Proposal
from shared.document_codes import parse_code
from shared.errors import NotFound
from shared.ids import WIB
from shared.jsonable import jsonable


class GrantsDocuments:
    """Mixed into GrantsApplication (with ``shared.anchors.DocumentAnchors``, ``_proposal`` and ``_grant``)."""

    def document_code(self, proposal_id: str, aggregate: str, events: list[str], payment_id: str | None = None) -> dict:
        """The code of the latest of ``events`` (class names, e.g. ``Confirmed``) on the proposal or its grant,
        for ``payment_id`` if given; NotFound when nothing of the kind is recorded (yet)."""
        found = self._proposal(proposal_id) if aggregate == "proposal" else self._grant(proposal_id)
        matching = [event for event in self.events.get(found.id) if type(event).__name__ in events
                    and (payment_id is None or getattr(event, "payment_id", None) == payment_id)]
        if not matching:
            raise NotFound(f"nothing to print yet: no {' or '.join(events)} is recorded", rule="document.not_yet")
        event = matching[-1]
        return {"code": self.anchor_code(event.originator_id, event.originator_version),
                "at": event.timestamp.astimezone(WIB).isoformat()}

    def check_document(self, code: str) -> dict:
        event = self.anchored_event(parse_code(code))
        if isinstance(event, Proposal.Event):
            proposal, payment = self._proposal(str(event.originator_id)), None
        elif isinstance(event, Grant.Event):
            grant: Grant = self.repository.get(event.originator_id)
            proposal, payment = self._proposal(str(grant.proposal_id)), grant.payments.get(
                getattr(event, "payment_id", None))
        else:  # a budget's or the seal's: no printout stands on them
            raise NotFound(f"no document has the code {code}", field="code", rule="document.unknown")
        # what the paper states: the event's own amount (an approval, a payment), else the amount proposed
        amount = getattr(event, "amount_rp", None) or (payment or {}).get("amount_rp") or proposal.requested_rp
        return jsonable({
            "code": code.strip().upper(), "matches": True, "event": type(event).__qualname__,
            "group": proposal.group_name, "village_code": proposal.village_code, "amount_rp": amount,
            "tranche": (payment or {}).get("tranche"), "date": event.timestamp.astimezone(WIB).date(),
            "status": (payment or {}).get("status") or proposal.status,
        })
