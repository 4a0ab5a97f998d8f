"""The public contract: what a consumer accepts, and what it refuses with a reason."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from shared.contracts import CATALOG, PoisonMessage, envelope_id, make_envelope, parse_data, parse_envelope
from shared.contracts.grants import BudgetCeilingSetV1

NOW = datetime(2026, 7, 30, 3, 0, tzinfo=UTC)


def ceiling_envelope(position: int = 7, previous: int = 3):
    data = BudgetCeilingSetV1(budget_id=uuid.uuid4(), fiscal_year=2026, source="APBN", ceiling_rp=5_000_000_000,
                              set_by="kemensos.pusat")
    return make_envelope(source="grants", position=position, previous_position=previous, subject="s", time=NOW,
                         data=data)


def test_an_envelope_round_trips_through_json_with_its_data():
    envelope = ceiling_envelope()
    again = parse_envelope(envelope.model_dump_json())
    assert again == envelope
    data = parse_data(again)
    assert isinstance(data, BudgetCeilingSetV1) and data.ceiling_rp == 5_000_000_000
    assert again.type == "grants.budget.ceiling_set" and again.version == 1
    assert again.dataschema == "urn:berdaya:event:grants.budget.ceiling_set:v1"


def test_a_republished_event_keeps_its_id():
    assert ceiling_envelope(position=7).id == ceiling_envelope(position=7).id == envelope_id("grants", 7)
    assert envelope_id("grants", 7) != envelope_id("registry", 7) != envelope_id("grants", 8)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not a berdaya event envelope"),
        (b"{}", "not a berdaya event envelope: id: Field required"),
        (json.dumps({**json.loads(ceiling_envelope().model_dump_json()), "time": "2026-07-30T03:00:00"}),
         "time: Input should have timezone info"),
        (json.dumps({**json.loads(ceiling_envelope().model_dump_json()), "position": 0}), "position"),
    ],
)
def test_a_malformed_envelope_is_poison_with_its_reason(body, reason):
    with pytest.raises(PoisonMessage) as poison:
        parse_envelope(body)
    assert reason in poison.value.reason


def test_an_unknown_version_is_poison_naming_the_known_ones():
    envelope = ceiling_envelope().model_copy(update={"version": 3})
    with pytest.raises(PoisonMessage) as poison:
        parse_data(envelope)
    assert poison.value.reason == ("grants.budget.ceiling_set version 3 is not a known contract (known versions: "
                                   "[1, 2])")


def test_data_that_breaks_its_contract_is_poison():
    envelope = ceiling_envelope()
    broken = envelope.model_copy(update={"data": {**envelope.data, "ceiling_rp": -1}})
    with pytest.raises(PoisonMessage, match="ceiling_rp"):
        parse_data(broken)


def test_money_in_contracts_is_integer_rupiah():
    envelope = ceiling_envelope()
    fractional = envelope.model_copy(update={"data": {**envelope.data, "ceiling_rp": 1.5}})
    with pytest.raises(PoisonMessage):
        parse_data(fractional)


def test_every_contract_has_a_type_prefixed_by_its_source_and_a_docstring():
    for (event_type, version), model in CATALOG.items():
        assert event_type.split(".")[0] in {"registry", "grants", "training"}
        assert version >= 1 and (model.__doc__ or "").strip(), event_type
