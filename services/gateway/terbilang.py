"""Rupiah in Indonesian words, as a kuitansi writes its amount (``terbilang``): 9800000 → "sembilan juta delapan
ratus ribu rupiah"."""

from __future__ import annotations

UNITS = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas")
SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (1000, "ribu"))


def words(number: int) -> str:
    """0 ≤ number < 10^15, in words (no "rupiah")."""
    if number < 12:
        return UNITS[number] or "nol"
    if number < 20:
        return f"{UNITS[number - 10]} belas"
    if number < 100:
        return _join(f"{UNITS[number // 10]} puluh", number % 10)
    if number < 1000:
        hundreds = "seratus" if number // 100 == 1 else f"{UNITS[number // 100]} ratus"
        return _join(hundreds, number % 100)
    for scale, name in SCALES:
        if number >= scale:
            count = number // scale
            head = "seribu" if scale == 1000 and count == 1 else f"{words(count)} {name}"
            return _join(head, number % scale)
    raise ValueError(number)


def _join(head: str, rest: int) -> str:
    return f"{head} {words(rest)}" if rest else head


def rupiah_words(amount: int) -> str:
    return f"{words(amount)} rupiah"
