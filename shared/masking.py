"""Masking by need: a NIK or KK in full only to the roles whose work needs it (issue 16, item 6).

The operator registers and corrects households, the verifier checks them against the KK: both compare the number
with the card in front of them. Every other role reads the programme, its money or its classes, and sees
``1801 06•• •••• 0001`` — the regency and district (the first 6 digits: where the card was issued) and the last 4
(enough to tell two people of a list apart), never the birth date and serial in between.
"""

from __future__ import annotations

FULL_VIEW_ROLES = frozenset({"operator", "verifier"})
BULLET = "•"
NUMBER_LENGTH = 16  # a NIK and a KK alike
KEPT_HEAD, KEPT_TAIL = 6, 4


# Who sees the names behind the ids other services keep (a class's participants, a KUBE's representatives): the roles
# that work with the people of their region face to face or check their files. Not the treasurer (money) nor the
# auditor (who reads the access log, not the people).
NAME_VIEW_ROLES = frozenset({"operator", "verifier", "facilitator", "province", "ministry", "head", "admin"})


def sees_in_full(role: str | None) -> bool:
    return role in FULL_VIEW_ROLES


def mask(number: str) -> str:
    """A NIK or KK as a role without the need sees it, grouped by four for reading. Anything that is not 16 digits
    (a wrongly typed number in an import's rejected row, ``[dihapus]``) keeps no digit at all."""
    if len(number) == NUMBER_LENGTH and number.isascii() and number.isdigit():
        hidden = number[:KEPT_HEAD] + BULLET * (NUMBER_LENGTH - KEPT_HEAD - KEPT_TAIL) + number[-KEPT_TAIL:]
        return " ".join(hidden[i:i + 4] for i in range(0, NUMBER_LENGTH, 4))
    return "".join(BULLET if char.isdigit() else char for char in number)


def shown_to(role: str | None, number: str) -> str:
    """The number as ``role`` may see it: in full, or masked."""
    return number if sees_in_full(role) else mask(number)
