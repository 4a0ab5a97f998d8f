"""A bank's MT940 statement of the office's disbursement account, written as the bank sends it: the demo's bank
answers its bulk-transfer file with one, and the tests reconcile them (docs/treasury.md)."""

from __future__ import annotations


def mt940(*transactions: tuple[str, int, str, str, str]) -> bytes:
    """A one-day statement; each transaction is (D or C, rupiah, our reference, the bank's reference, its text)."""
    body = [":20:BERDAYA", ":25:0206010000123", ":28C:1/1", ":60F:C261201IDR500000000,00"]
    for status, amount_rp, reference, bank_reference, text in transactions:
        body += [f":61:2612021202{status}{amount_rp},00NTRF{reference}//{bank_reference}", f":86:{text}"]
    body.append(":62F:C261202IDR500000000,00")
    return ("\r\n".join(body) + "\r\n").encode()
