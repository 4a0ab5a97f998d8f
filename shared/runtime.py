"""Start-up guard: psycopg must wait on the eventlet hub, not in C.

psycopg's binary build waits in C (``wait_c``) unless told otherwise, and that blocks the whole process (measured:
ten concurrent 0.5 s queries took 5.3 s instead of 0.5 s; tests/integration/test_green_wait.py shows it each run).
``shared/__init__.py`` selects the pure-Python ``wait_select`` before psycopg is imported; every process that runs
eventlet calls this at start and refuses to run if that did not take.
"""

from __future__ import annotations


def ensure_green_psycopg() -> None:
    from psycopg import waiting

    if waiting.wait.__name__ == "wait_c":
        raise RuntimeError(
            "psycopg uses its C wait function, which blocks the eventlet hub: import shared before psycopg so "
            "PSYCOPG_WAIT_FUNC=wait_select applies (and do not set PSYCOPG_WAIT_FUNC=wait_c)"
        )
