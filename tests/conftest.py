"""Test process set-up: eventlet first (as `nameko run` does), before anything imports psycopg or kombu."""

import eventlet

eventlet.monkey_patch()

import shared  # noqa: E402,F401  (selects psycopg's green wait function)
