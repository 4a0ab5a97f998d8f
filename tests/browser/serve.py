"""The system the browser tests drive, in a process of its own: every service and the gateway as `nameko run`
processes on fresh databases and a vhost (tests.support.http_system), the official region list imported, the
staff of tests/browser/staff.py added.

Run by tests/browser/conftest.py as ``python -m tests.browser.serve``: it prints one JSON line (the console's
address, the databases), then keeps the system until its stdin says ``ok`` or ``failed`` or closes — so it never
outlives the tests — and tears it all down (a failed run prints the services' logs).

Why a process of its own: this side needs eventlet's monkey-patching (nameko, the berdaya CLI's helpers), and
Playwright's sync API, driven from a patched process, hangs now and then waiting for its own driver.
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import sys  # noqa: E402

from shared.config import SERVICES  # noqa: E402
from shared.runtime import ensure_green_psycopg  # noqa: E402
from tests.browser.staff import STAFF  # noqa: E402
from tests.support.http_system import HttpSystem  # noqa: E402

ensure_green_psycopg()


def main() -> None:
    system = HttpSystem()
    failed = True
    try:
        system.start()
        system.system.import_regions()
        for username, role, region in STAFF.values():
            system.add_user(username, role, region)
        print(json.dumps({"base": system.base, "gateway_database": system.gateway_url,
                          "databases": {s: system.system.database_url(s) for s in SERVICES}}), flush=True)
        failed = sys.stdin.readline().strip() != "ok"
    finally:
        system.close(failed)


if __name__ == "__main__":
    main()
