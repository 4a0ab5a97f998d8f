"""Aggregate ids derived from natural keys (a KK number; a fiscal year and a budget source).

Deterministic ids make a duplicate impossible by construction (the second insert collides on the id) and let a
lookup by natural key go straight to the aggregate.
"""

from __future__ import annotations

import uuid


def stable_id(kind: str, *natural_key: object) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "berdaya:" + kind + ":" + ":".join(str(part) for part in natural_key))
