"""Text helpers for search: names compared without case or diacritics ("Nur'aini" ~ "nuraini", "É" ~ "e")."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) and (c.isalnum() or c.isspace()))
    return " ".join(kept.casefold().split())
