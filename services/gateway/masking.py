"""The JSON API's answers as the caller's role may see them: every NIK and KK masked (shared/masking.py) for a role
that does not need them in full, wherever it sits in the answer — a field of the response model, or of a nested
object the services add (a household's members, a KUBE's members and officers, a cohort's participants, the details
of a history entry, an import's rejected rows).

The fields are found by name: the names below are every name under which a service answers a NIK or KK
(tests/unit/test_gateway_masking.py holds the response models to them).
"""

from __future__ import annotations

from typing import Any

from shared.masking import mask, sees_in_full

# Fields whose value is a NIK or KK.
NUMBER_FIELDS = frozenset({"nik", "kk", "representative_nik", "new_head_nik", "removed_kk", "no_kk"})
# Fields whose value maps to NIKs: a KUBE's officers, {"ketua": NIK, …}.
NUMBER_VALUES = frozenset({"roles"})


def masked_for(role: str | None, body: Any) -> Any:
    """``body`` as ``role`` may see it (unchanged for a role that sees numbers in full)."""
    return body if sees_in_full(role) else _masked(body)


def _masked(value: Any) -> Any:
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _field(key, item) for key, item in value.items()}
    return value


def _field(name: str, value: Any) -> Any:
    if name in NUMBER_FIELDS and isinstance(value, str):
        return mask(value)
    if name in NUMBER_VALUES and isinstance(value, dict):
        return {key: mask(item) if isinstance(item, str) else _masked(item) for key, item in value.items()}
    return _masked(value)
