"""Budget ceilings: integer rupiah, never negative, from a known source."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.grants.domain import BUDGET_SOURCES, Budget
from shared.errors import ValidationFailed


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(BUDGET_SOURCES))
def test_a_ceiling_in_whole_non_negative_rupiah_is_accepted(amount, source):
    budget = Budget(fiscal_year=2026, source=source, ceiling_rp=amount, set_by="kemensos")
    assert budget.ceiling_rp == amount and budget.id == Budget.create_id(2026, source)


@given(st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.booleans(), st.text(), st.none()))
def test_anything_but_whole_non_negative_rupiah_is_refused(amount):
    with pytest.raises(ValidationFailed) as refused:
        Budget(fiscal_year=2026, source="APBN", ceiling_rp=amount, set_by="kemensos")
    assert refused.value.field == "ceiling_rp"


def test_changing_a_ceiling_keeps_the_rule():
    budget = Budget(fiscal_year=2026, source="APBN", ceiling_rp=100, set_by="kemensos")
    budget.set_ceiling(ceiling_rp=250, set_by="kemensos")
    assert budget.ceiling_rp == 250
    with pytest.raises(ValidationFailed):
        budget.set_ceiling(ceiling_rp=-5, set_by="kemensos")
    assert budget.ceiling_rp == 250


def test_an_unknown_source_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        Budget(fiscal_year=2026, source="APBDes", ceiling_rp=1, set_by="kemensos")
    assert refused.value.rule == "budget.source"
