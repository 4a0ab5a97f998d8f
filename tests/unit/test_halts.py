"""An operator's decisions about a halted consumer, as events: what every service publishes, what it refuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import amqp
import pytest

from shared.actor import Actor
from shared.config import SERVICES
from shared.dead_letters import DeadLetter
from shared.edge import parse_command
from shared.errors import ValidationFailed
from shared.halts import ConsumerRetry, ConsumerSkip, RetryUpstream, SkipUpstreamEvent, public_event

HALTED_AT = datetime(2026, 11, 30, 4, 52, 11, tzinfo=UTC)
SKIPPED_ID = uuid.uuid4()
KABID = Actor(user="kabid.lamsel", role="admin", region="")  # built in-process: trusted as it is


def skip(service: str, position: int = 4711) -> ConsumerSkip:
    return ConsumerSkip(service=service, upstream="registry", position=position,
                        skipped_type="registry.household.registered", skipped_version=1, skipped_id=SKIPPED_ID,
                        halt_reason="handler failed", reason="entered by mistake", by="kabid.lamsel")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_publishes_a_skip_with_what_was_skipped_why_and_by_whom(service):
    [skipped] = skip(service).collect_events()
    data = public_event(service, skipped)
    assert (data.event_type, data.event_version) == (f"{service}.consumer.skipped", 1)
    assert data.model_dump() == {"upstream": "registry", "position": 4711,
                                 "skipped_type": "registry.household.registered", "skipped_version": 1,
                                 "skipped_id": SKIPPED_ID, "halt_reason": "handler failed",
                                 "reason": "entered by mistake", "by": "kabid.lamsel"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_publishes_a_retry_also_of_a_halt_before_anything_was_applied(service):
    retry = ConsumerRetry(service=service, upstream="grants", position=0, halted_at=HALTED_AT,
                          halt_reason="not a berdaya event envelope", reason="", by="ops.lamsel")
    [retried] = retry.collect_events()
    data = public_event(service, retried)
    assert (data.event_type, data.position, data.reason, data.by) == (f"{service}.consumer.retried", 0, "",
                                                                     "ops.lamsel")


def test_other_events_are_left_to_the_service():
    assert public_event("grants", object()) is None


def test_one_event_is_skipped_once_and_one_halt_retried_once():
    assert skip("grants").id == skip("grants").id != skip("grants", 4712).id != skip("training").id
    ids = {ConsumerRetry.create_id("grants", "registry", 4711, at) for at in (HALTED_AT, HALTED_AT)}
    assert len(ids) == 1 and ConsumerRetry.create_id("grants", "registry", 4711, datetime.now(UTC)) not in ids


@pytest.mark.parametrize(("payload", "field"), [
    ({"upstream": "registry", "position": 3, "reason": "   ", "actor": KABID}, "reason"),
    ({"upstream": "registry", "position": 3, "reason": "why"}, "actor"),
    ({"upstream": "registry", "position": 0, "reason": "why", "actor": KABID}, "position"),
    ({"upstream": "registry", "reason": "why", "actor": KABID}, "position"),
])
def test_a_skip_names_the_position_a_reason_and_who(payload, field):
    with pytest.raises(ValidationFailed) as refused:
        parse_command(SkipUpstreamEvent, payload)
    assert refused.value.field == field


def test_a_retry_needs_who_but_not_a_reason():
    assert parse_command(RetryUpstream, {"upstream": "registry", "actor": KABID}).reason == ""
    with pytest.raises(ValidationFailed):
        parse_command(RetryUpstream, {"upstream": "registry"})


def test_a_dead_letter_that_is_not_an_event_still_shows_its_reason():
    message = amqp.Message(b"not json", application_headers={"x-berdaya-reason": "not a berdaya event envelope",
                                                             "x-berdaya-upstream": "registry",
                                                             "x-berdaya-dead-lettered-at": "2026-11-30T02:00:00+00:00"})
    assert DeadLetter.of(message).as_dict() == {"upstream": "registry", "position": None,
                                                "reason": "not a berdaya event envelope", "event_type": None,
                                                "event_id": None, "dead_lettered_at": "2026-11-30T02:00:00+00:00"}


def test_a_decision_settles_the_dead_letters_of_its_upstream_up_to_its_position_made_before_it():
    decided_at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    def letter(upstream: str, position: int | None, stamped: str | None) -> DeadLetter:
        return DeadLetter(upstream=upstream, position=position, reason="handler failed", event_type=None,
                          event_id=None, dead_lettered_at=stamped)

    before, after = "2026-11-30T01:59:59.999000+00:00", "2026-11-30T02:00:00.001000+00:00"
    assert letter("registry", 7, before).resolved_by("registry", 7, decided_at)
    assert letter("registry", 5, before).resolved_by("registry", 7, decided_at)
    assert letter("registry", 7, None).resolved_by("registry", 7, decided_at)  # from before stamps existed
    assert not letter("registry", 7, after).resolved_by("registry", 7, decided_at)  # a retry that failed again
    assert not letter("registry", 8, before).resolved_by("registry", 7, decided_at)
    assert not letter("training", 7, before).resolved_by("registry", 7, decided_at)
    assert not letter("registry", None, before).resolved_by("registry", 7, decided_at)
