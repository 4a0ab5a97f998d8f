"""A grievance (pengaduan) about the programme: recorded by an operator (at the desk, or through the API) on behalf
of a resident — or anonymously, for a misuse report — assigned to a verifier of its region, noted, and resolved
with an outcome before its deadline. Pure: no I/O.

The resident's name and contact and every free text (the description, the notes, the resolution) are personal:
they stay in the registry, sealed in the stored events (services/registry/sealing.py); the public events carry ids,
the category, the village code and dates only (services/registry/public.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from eventsourcing.domain import Aggregate, event

from shared.actor import Actor, check_region, check_role
from shared.errors import Conflict, NotYours, ValidationFailed
from shared.vocabulary import ANONYMOUS_CATEGORIES, GRIEVANCE_CATEGORIES, GRIEVANCE_OUTCOMES

RECORDERS = ("operator",)  # at the desk, or a resident's letter or message typed in through the API
ASSIGNERS = ("operator", "head")  # the desk that recorded it, or the head of the office
ASSIGNEES = ("verifier",)  # the head's delegate of the region looks into it
NOTERS = ("operator", "verifier", "head")


DEADLINE_VARIABLE = "GRIEVANCE_DEADLINE_DAYS"


@dataclass(frozen=True)
class GrievanceRules:
    deadline_days: int = 14  # a grievance is overdue when not resolved this many days after it was received

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> GrievanceRules:
        """The office's setting (``GRIEVANCE_DEADLINE_DAYS``, docs/operations.md), else the default; a value that is
        not a whole number of days from 1 to 365 stops the registry from starting rather than running on a guess."""
        text = (os.environ if environ is None else environ).get(DEADLINE_VARIABLE, "").strip()
        if not text:
            return cls()
        if not text.isdigit() or not 1 <= int(text) <= 365:
            raise ValueError(f"{DEADLINE_VARIABLE} must be a whole number of days from 1 to 365, not {text!r}")
        return cls(deadline_days=int(text))


def check_acts_on(actor: Actor, allowed: tuple[str, ...], village_code: str, action: str) -> None:
    check_role(actor, allowed, action)
    check_region(actor, village_code, action)


def due_on(received_on: date, rules: GrievanceRules) -> date:
    return received_on + timedelta(days=rules.deadline_days)


@dataclass(frozen=True)
class Note:
    by: str
    on: date
    text: str


class Grievance(Aggregate):
    """One grievance: its category, what it is about (a household, a KUBE group, a grant, where known), who looks
    into it, the notes on the way and the outcome."""

    @event("Recorded")
    def __init__(self, village_code: str, category: str, description: str, complainant_name: str | None,
                 complainant_contact: str | None, household_id: uuid.UUID | None, group_id: uuid.UUID | None,
                 proposal_id: uuid.UUID | None, recorded_by: str, received_on: date, due_on: date) -> None:
        self.village_code = village_code
        self.category = category
        self.description = description
        self.complainant_name = complainant_name
        self.complainant_contact = complainant_contact
        self.household_id = household_id
        self.group_id = group_id
        self.proposal_id = proposal_id
        self.recorded_by = recorded_by
        self.received_on = received_on
        self.due_on = due_on
        self.assigned_to: str | None = None
        self.notes: list[Note] = []
        self.outcome: str | None = None
        self.resolution: str | None = None
        self.resolved_on: date | None = None
        self.resolved_by: str | None = None

    @classmethod
    def record(cls, *, actor: Actor, village_code: str, category: str, description: str,
               complainant_name: str | None, complainant_contact: str | None = None,
               household_id: uuid.UUID | None = None, group_id: uuid.UUID | None = None,
               proposal_id: uuid.UUID | None = None, received_on: date | None = None, today: date,
               rules: GrievanceRules) -> Grievance:
        """``received_on``: the day the office received it — today at the desk, a letter's or message's day of
        receipt when it is typed in later; the deadline runs from it."""
        check_acts_on(actor, RECORDERS, village_code, "record a grievance")
        received_on = received_on or today
        if received_on > today:
            raise ValidationFailed("received_on", "grievance.received_on", "a grievance is not received in the future")
        if category not in GRIEVANCE_CATEGORIES:
            raise ValidationFailed("category", "grievance.category", f"no grievance category {category!r}")
        if not description.strip():
            raise ValidationFailed("description", "grievance.description", "say what the grievance is about")
        name = (complainant_name or "").strip() or None
        if name is None and category not in ANONYMOUS_CATEGORIES:
            raise ValidationFailed("complainant_name", "grievance.anonymous",
                                   "only a misuse report may be anonymous: name the resident this grievance is for")
        return cls(village_code=village_code, category=category, description=description.strip(),
                   complainant_name=name, complainant_contact=(complainant_contact or "").strip() or None,
                   household_id=household_id, group_id=group_id, proposal_id=proposal_id, recorded_by=actor.user,
                   received_on=received_on, due_on=due_on(received_on, rules))

    @property
    def anonymous(self) -> bool:
        return self.complainant_name is None

    @property
    def status(self) -> str:
        return "resolved" if self.outcome else "assigned" if self.assigned_to else "recorded"

    def overdue(self, today: date) -> bool:
        return self.outcome is None and today > self.due_on

    def assign(self, actor: Actor, assignee: Actor) -> None:
        """To a verifier whose region covers the grievance's village (the gateway tells who the assignee is)."""
        check_acts_on(actor, ASSIGNERS, self.village_code, "assign a grievance")
        self.check_open()
        if assignee.role not in ASSIGNEES or not assignee.covers(self.village_code):
            raise NotYours("grievance.assignee", f"{assignee.user} is not a verifier of {self.village_code}: "
                           "a grievance is assigned to a verifier of its region",
                           grievance_id=str(self.id), assignee=assignee.user)
        self._assigned(to=assignee.user, by=actor.user, village_code=self.village_code)

    @event("Assigned")
    def _assigned(self, to: str, by: str, village_code: str) -> None:
        self.assigned_to = to

    def note(self, actor: Actor, text: str, today: date) -> None:
        check_acts_on(actor, NOTERS, self.village_code, "note on a grievance")
        self.check_open()
        if not text.strip():
            raise ValidationFailed("text", "grievance.note", "a note needs its text")
        self._noted(by=actor.user, on=today, text=text.strip(), village_code=self.village_code)

    @event("Noted")
    def _noted(self, by: str, on: date, text: str, village_code: str) -> None:
        self.notes.append(Note(by=by, on=on, text=text))

    def resolve(self, actor: Actor, outcome: str, resolution: str, today: date) -> None:
        """By the verifier it is assigned to, with the outcome and what was done."""
        check_acts_on(actor, ASSIGNEES, self.village_code, "resolve a grievance")
        self.check_open()
        if actor.user != self.assigned_to:
            raise NotYours("grievance.not_assigned", f"{actor.user} is not assigned this grievance: "
                           f"{self.assigned_to or 'nobody yet'} resolves it", grievance_id=str(self.id))
        if outcome not in GRIEVANCE_OUTCOMES:
            raise ValidationFailed("outcome", "grievance.outcome", f"no grievance outcome {outcome!r}")
        if not resolution.strip():
            raise ValidationFailed("resolution", "grievance.resolution", "say how the grievance was resolved")
        self._resolved(outcome=outcome, resolution=resolution.strip(), by=actor.user, on=today,
                       village_code=self.village_code, received_on=self.received_on, due_on=self.due_on)

    @event("Resolved")
    def _resolved(self, outcome: str, resolution: str, by: str, on: date, village_code: str, received_on: date,
                  due_on: date) -> None:
        self.outcome, self.resolution, self.resolved_by, self.resolved_on = outcome, resolution, by, on

    def check_open(self) -> None:
        if self.outcome is not None:
            raise Conflict(f"grievance {self.id} was resolved already ({self.outcome})", rule="grievance.resolved",
                           grievance_id=str(self.id))
