"""NIK and KK masked by role in both of the gateway's channels: the JSON API's answers (services/gateway/masking.py:
every number of an answer, at any depth, masked for a role that does not need it in full; the operator's and the
verifier's answers unchanged) and the console's pages (the ``id_number`` filter)."""

from __future__ import annotations

import copy
import typing

from pydantic import BaseModel

from services.gateway.auth import User
from services.gateway.console.templating import Templates
from services.gateway.masking import NUMBER_FIELDS, NUMBER_VALUES, masked_for
from services.gateway.routes import ROUTES
from shared.vocabulary import ROLES

KK, NIK, WIFE = "1801060101200001", "1801064506900001", "1801065107920002"
MASKED_KK, MASKED_NIK, MASKED_WIFE = "1801 06•• •••• 0001", "1801 06•• •••• 0001", "1801 06•• •••• 0002"

HOUSEHOLD = {
    "household_id": "0b5d2a3e-8c1f-4d2a-9e3b-5f6a7b8c9d0e", "kk": KK, "village_code": "18.01.06.2001",
    "members": [{"nik": NIK, "name": "Siti", "relation": "Kepala Keluarga"},
                {"nik": WIFE, "name": "Ani", "relation": "Anak"}],
    "active_group": {"group_id": "g-1", "representative_nik": NIK},
}
GROUP = {"group_id": "g-1", "members": [{"kk": KK, "representative_nik": NIK, "representative_name": "Siti"}],
         "roles": {"ketua": NIK, "bendahara": WIFE}, "bank_account": {"number": "1234567890123456"}}
HISTORY = [{"event": "MemberRemoved", "details": {"kk": KK, "nik": WIFE, "new_head_nik": None, "reason": "death"}}]
REPORT = {"rejected_rows": [{"line": 3, "no_kk": "18010601012000011", "reason": "no_kk.length"}]}
MASKED_ROLES = sorted(set(ROLES) - {"operator", "verifier"})


def test_a_role_without_the_need_sees_every_number_masked_at_any_depth() -> None:
    for role in MASKED_ROLES:
        household = masked_for(role, HOUSEHOLD)
        assert household["kk"] == MASKED_KK
        assert [m["nik"] for m in household["members"]] == [MASKED_NIK, MASKED_WIFE]
        assert [m["name"] for m in household["members"]] == ["Siti", "Ani"]  # names are not numbers
        assert household["active_group"]["representative_nik"] == MASKED_NIK

        group = masked_for(role, GROUP)
        assert group["members"] == [{"kk": MASKED_KK, "representative_nik": MASKED_NIK,
                                     "representative_name": "Siti"}]
        assert group["roles"] == {"ketua": MASKED_NIK, "bendahara": MASKED_WIFE}
        assert group["bank_account"] == {"number": "1234567890123456"}  # the treasurer pays into it

        details = masked_for(role, HISTORY)[0]["details"]
        assert details == {"kk": MASKED_KK, "nik": MASKED_WIFE, "new_head_nik": None, "reason": "death"}
        assert masked_for(role, REPORT)["rejected_rows"][0]["no_kk"] == "•" * 17


def test_the_operator_and_the_verifier_see_the_answer_unchanged() -> None:
    for role in ("operator", "verifier"):
        for body in (HOUSEHOLD, GROUP, HISTORY, REPORT):
            before = copy.deepcopy(body)
            assert masked_for(role, body) == before


def test_masking_leaves_the_answer_it_was_given_unchanged() -> None:
    before = copy.deepcopy(HOUSEHOLD)
    masked_for("treasurer", HOUSEHOLD)
    assert HOUSEHOLD == before


def fields_of(annotation: typing.Any, seen: set[type]) -> set[str]:
    """Every field name of a response model, of the models it nests, and of Page[...] items."""
    names: set[str] = set()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in seen:
        seen.add(annotation)
        for name, field in annotation.model_fields.items():
            names.add(name)
            names |= fields_of(field.annotation, seen)
    for argument in typing.get_args(annotation):
        names |= fields_of(argument, seen)
    return names


def test_every_response_field_that_holds_a_nik_or_kk_is_masked() -> None:
    names: set[str] = set()
    for route in ROUTES:
        names |= fields_of(route.response, set())
    holding = {name for name in names if "nik" in name or "kk" in name} | ({"roles"} & names)
    assert holding and holding <= NUMBER_FIELDS | NUMBER_VALUES, holding - NUMBER_FIELDS - NUMBER_VALUES


def test_the_consoles_filter_shows_a_number_as_the_signed_in_role_may_see_it() -> None:
    shown = Templates().env.from_string("{{ number | id_number }}")
    for role in ROLES:
        expected = "1801 0645 0690 0001" if role in ("operator", "verifier") else MASKED_NIK
        assert shown.render(user=User("someone", role, "18.01"), number=NIK) == expected, role
    assert shown.render(user=None, number=NIK) == MASKED_NIK
    assert shown.render(user=User("someone", "treasurer", "18.01"), number=None) == "—"
