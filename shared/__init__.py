"""berdaya's backbone: what every service needs once (store, relay, consumer, contracts, config, ids)."""

import os

# Before anything imports psycopg: its pure-Python select() wait is green under eventlet; wait_c would block
# the hub. shared.runtime.ensure_green_psycopg() refuses to start a service if this did not take.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
