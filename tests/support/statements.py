"""Bank statements as a bank would send them, for the reconciliation tests: MT940 of the office's account."""

from __future__ import annotations


def mt940(*transactions: tuple[str, int, str, str, str]) -> bytes:
    """A one-day statement; each transaction (D or C, rupiah, our reference, bank reference, text)."""
    body = [":20:BERDAYA", ":25:0206010000123", ":28C:1/1", ":60F:C261201IDR500000000,00"]
    for status, amount_rp, reference, bank_reference, text in transactions:
        body += [f":61:2612021202{status}{amount_rp},00NTRF{reference}//{bank_reference}", f":86:{text}"]
    body.append(":62F:C261202IDR500000000,00")
    return ("\r\n".join(body) + "\r\n").encode()
