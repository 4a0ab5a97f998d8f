"""Masking by need (shared/masking.py): the mask keeps the first 6 and the last 4 digits of a NIK or KK and nothing
else; only the operator and the verifier see the number in full."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.masking import mask, shown_to
from shared.vocabulary import ROLES

NUMBERS = st.text(alphabet="0123456789", min_size=16, max_size=16)


def test_the_mask_groups_the_first_six_and_the_last_four_digits() -> None:
    assert mask("1801060101200001") == "1801 06•• •••• 0001"


@given(NUMBERS)
def test_the_mask_keeps_exactly_the_first_six_and_the_last_four_digits(number: str) -> None:
    masked = mask(number)
    digits = "".join(char for char in masked if char.isdigit())
    assert digits == number[:6] + number[-4:]
    assert masked.replace(" ", "") == number[:6] + "••••••" + number[-4:]


@given(NUMBERS, st.integers(min_value=6, max_value=11), st.sampled_from("0123456789"))
def test_the_hidden_digits_change_nothing_in_the_mask(number: str, position: int, digit: str) -> None:
    other = number[:position] + digit + number[position + 1:]
    assert mask(other) == mask(number)


@given(st.text(max_size=40).filter(lambda text: not (len(text) == 16 and text.isascii() and text.isdigit())))
def test_anything_but_sixteen_digits_keeps_no_digit(text: str) -> None:
    assert not any(char.isdigit() for char in mask(text))


def test_only_the_operator_and_the_verifier_see_the_number_in_full() -> None:
    number = "1801064506900001"
    full = {role for role in ROLES if shown_to(role, number) == number}
    assert full == {"operator", "verifier"}
    assert {shown_to(role, number) for role in set(ROLES) - full} == {"1801 06•• •••• 0001"}
    assert shown_to(None, number) == "1801 06•• •••• 0001"
