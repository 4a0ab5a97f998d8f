"""A forged event on the broker is never applied: today's attack was a `training.gate.changed` published with
training's next position, which opened a funded group's tranche-2 gate in grants (and the real event at that
position was then dropped as a duplicate). Every public event is now signed by its source (shared/signing.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from kombu import Connection
from nameko.containers import ServiceContainer

from services.grants.service import GrantsService
from shared.contracts import make_envelope, parse_envelope
from shared.contracts.training import GateChangedV1
from shared.publishing import ConfirmingPublisher, envelope_message
from shared.signing import KeyConfigError, Signer, new_signing_key
from shared.topology import dead_letter_queue_name, events_exchange
from tests.integration.test_grants_training import (
    VILLAGE,
    approved_proposal,
    complete_family_school,
    complete_family_school_late,
    running,  # noqa: F401  (the fixture)
)
from tests.support.households import person_id
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


def publish_as_training(system: System, *envelopes) -> None:
    """What anyone holding broker credentials can do: publish on training's exchange."""
    with Connection(system.amqp_uri) as connection:
        publisher = ConfirmingPublisher(connection, events_exchange("training").name)
        publisher.publish([envelope_message(envelope) for envelope in envelopes])


def dead_letters(system: System, consumer: str, count: int) -> list:
    taken: list = []
    eventually(lambda: taken.extend(system.drain_queue(dead_letter_queue_name(consumer))) or len(taken) >= count)
    assert len(taken) == count, [m.headers["x-berdaya-reason"] for m in taken]
    return taken


def forged_gate(group_id: str, position: int):
    data = GateChangedV1(group_id=group_id, open=True, completed=7, representatives=7, threshold_percent=80)
    return make_envelope(source="training", position=position, previous_position=position - 1, subject=group_id,
                         time=datetime.now(UTC), data=data)


def test_forged_gate_events_are_dead_lettered_and_the_real_one_is_still_applied(running: System):  # noqa: F811
    with running.rpc() as rpc:
        group_id, members, proposal_id = approved_proposal(rpc, start=600)
        cohort_id = eventually(lambda: rpc.training.cohorts(village_code=VILLAGE)["items"])[0][
            "cohort_id"]
        eventually(lambda: len(rpc.training.cohort(cohort_id)["participants"]) == 7)
        last = rpc.training.backbone_status()["last_position"]
        eventually(lambda: rpc.grants.backbone_status()["consumers"]["training"]["position"] == last)

        real_signed = parse_envelope(rpc.training.events_after(0, 1)[0])
        stranger = Signer.parse(new_signing_key(real_signed.keyid), "training")  # the real key id, another key
        forgeries = [
            forged_gate(group_id, last + 1),  # unsigned
            stranger.sign(forged_gate(group_id, last + 1)),  # signed, by someone else's key
            real_signed.model_copy(update={**forged_gate(group_id, last + 1).model_dump(exclude={"id"}),
                                           "keyid": real_signed.keyid, "signature": real_signed.signature}),
        ]
        publish_as_training(running, *forgeries)

        dead = dead_letters(running, "grants", 3)
        reasons = [m.headers["x-berdaya-reason"] for m in dead]
        assert any("unsigned training event" in r for r in reasons)
        assert sum("signature does not match" in r for r in reasons) == 2
        # Nothing applied: the gate is closed, grants tracks training where it was, and it is not halted.
        status = rpc.grants.backbone_status()["consumers"]["training"]
        assert status == {"position": last, "halt": None}
        assert rpc.grants.grant(proposal_id)["family_school_gate_open"] is False

        # The real course: six of seven representatives complete it; training's real gate event opens the gate.
        representatives = [person_id(rpc, m["representative_nik"]) for m in members]  # training knows their ids
        complete_family_school(rpc, cohort_id, representatives[:5], representatives[5:], present_at=5)
        complete_family_school_late(rpc, cohort_id, representatives[5])
        eventually(lambda: rpc.grants.grant(proposal_id)["family_school_gate_open"])
        final = rpc.training.backbone_status()["last_position"]
        eventually(lambda: rpc.grants.backbone_status()["consumers"]["training"]["position"] == final)
        assert json.loads(dead[0].body)["position"] == last + 1


def test_a_service_without_its_signing_key_does_not_start(system: System):
    config = system.config("grants")
    for broken in ({**config, "EVENT_SIGNING_KEY": ""},
                   {**config, "EVENT_PUBLIC_KEYS": running_keys_without(system, "training")}):
        container = ServiceContainer(GrantsService, broken)
        with pytest.raises(KeyConfigError):
            container.start()
        container.kill()


def running_keys_without(system: System, source: str) -> str:
    return " ".join(entry for entry in system.key_environment()["EVENT_PUBLIC_KEYS"].split()
                    if not entry.startswith(f"{source}:"))
