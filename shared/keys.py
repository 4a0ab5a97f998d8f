"""Aggregate ids derived from natural keys (a fiscal year and a budget source; a group's gate).

Deterministic ids make a duplicate impossible by construction (the second insert collides on the id) and let a
lookup by natural key go straight to the aggregate. Never for a person or household: their ids are random,
assigned by the registry, so nobody computes one from a NIK or KK — except for those registered before, whose ids
were derived (the legacy ids below, which every service reads its old events with).
"""

from __future__ import annotations

import uuid


def stable_id(kind: str, *natural_key: object) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "berdaya:" + kind + ":" + ":".join(str(part) for part in natural_key))


def legacy_person_id(nik: str) -> uuid.UUID:
    """The id of a person registered before the registry assigned random ids (their stored events name them by NIK
    only): derived from the NIK, so guessable — docs/privacy.md says what such a log keeps."""
    return stable_id("person", nik)


def legacy_household_id(kk: str) -> uuid.UUID:
    """The id of a household registered before random ids: it was derived from the KK (guessable)."""
    return stable_id("household", kk)
