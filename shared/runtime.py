"""Start-up guard: psycopg must wait on the eventlet hub, not in C.

The C wait function blocks the whole process (measured: ten concurrent 0.5 s queries took 5.3 s instead of 0.5 s).
``shared/__init__.py`` selects the pure-Python wait before psycopg is imported; this refuses to start if it did not.
"""

from __future__ import annotations


def ensure_green_psycopg() -> None:
    from psycopg import waiting

    if waiting.wait.__name__ == "wait_c":
        raise RuntimeError(
            "psycopg uses its C wait function, which blocks the eventlet hub: install pure-Python psycopg "
            "(no [binary]/[c] extra) and import shared before psycopg so PSYCOPG_WAIT_FUNC=wait_select applies"
        )
