"""Training's printouts' anchors: the code of a participant's completion (the Family School certificate stands on
it), and what a certificate's code shows anyone who checks it — the cohort, its village, the certificate's number,
the date and whether it still stands; never who holds it.
"""

from __future__ import annotations

from services.training.domain import Cohort
from shared.document_codes import parse_code
from shared.errors import NotFound
from shared.ids import WIB
from shared.jsonable import jsonable


class TrainingDocuments:
    """Mixed into TrainingApplication (with ``shared.anchors.DocumentAnchors`` and ``_cohort``)."""

    def document_code(self, cohort_id: str, participant: str) -> dict:
        """The code of the participant's completion of the cohort (``participant``: the cohort's key for them)."""
        cohort = self._cohort(cohort_id)
        completions = [event for event in self.events.get(cohort.id)
                       if isinstance(event, Cohort.Completed) and event.person_id == participant]
        if not completions:
            raise NotFound("nothing to print yet: the participant has not completed the Family School",
                           rule="document.not_yet")
        event = completions[-1]
        return {"code": self.anchor_code(event.originator_id, event.originator_version),
                "at": event.timestamp.astimezone(WIB).isoformat()}

    def check_document(self, code: str) -> dict:
        event = self.anchored_event(parse_code(code))
        if not isinstance(event, Cohort.Completed):  # no printout stands on any other training event
            raise NotFound(f"no document has the code {code}", field="code", rule="document.unknown")
        cohort: Cohort = self.repository.get(event.originator_id)
        return jsonable({
            "code": code.strip().upper(), "matches": True, "event": type(event).__qualname__,
            "group": cohort.name, "village_code": cohort.village_code, "certificate": event.certificate,
            "date": event.timestamp.astimezone(WIB).date(),
            "status": cohort.participants.get(event.person_id, {}).get("status"),
        })
