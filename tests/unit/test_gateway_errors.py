"""A domain refusal's HTTP status follows its type (one table, services/gateway/errors.py), also after it crossed
nameko RPC as a RemoteError."""

import pytest
from nameko.exceptions import RemoteError

from services.gateway.errors import from_remote_error
from shared.errors import Conflict, NotFound, NotYours, RuleViolated, ValidationFailed


@pytest.mark.parametrize(("error", "status"), [
    (ValidationFailed("kk", "kk.format", "a KK has 16 digits"), 400),
    (NotFound("no household with KK 1801060101200001", field="kk"), 404),
    (NotYours("proposal.maker_checker", "you took the previous step"), 403),
    (NotYours("region.scope", "another region"), 403),
    (RuleViolated("tranche.lpj", "tranche 2 needs an accepted LPJ"), 409),
    (Conflict("the record kept changing", rule="concurrency"), 409),
])
def test_a_refusal_keeps_its_status_rule_and_field_across_rpc(error, status):
    answer = from_remote_error(RemoteError(type(error).__name__, str(error)))
    assert answer.status == status
    assert answer.body()["error"].get("rule") == getattr(error, "rule", None) or error.details.get("rule")
    assert answer.body()["error"]["message"] == error.message


def test_a_rule_named_like_a_forbidden_one_is_not_forbidden_unless_its_type_says_so():
    # The status is the type's, not the rule name's: a RuleViolated that happens to end in maker_checker is a 409.
    answer = from_remote_error(RemoteError("RuleViolated", str(RuleViolated("x.maker_checker", "not now"))))
    assert answer.status == 409
