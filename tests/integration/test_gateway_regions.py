"""The region table as the gateway shows it (issue 17, item 5): read from the registry once and kept — a list imported
through this gateway shows at once, and the names stay readable while the registry is down. Real PostgreSQL and
RabbitMQ."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_console_audit_users import CONSOLE, browser
from tests.integration.test_gateway import gateway_running
from tests.support.system import System

pytestmark = pytest.mark.integration

KALIANDA = "18.01.06"


def test_the_region_table_is_kept_a_new_list_shows_at_once_and_it_answers_without_the_registry(system: System):
    with gateway_running(system) as gateway:
        reader = gateway.user_client("auditor", "", "aud.regions")
        admin = gateway.user_client("admin", "", "admin.regions")

        def kalianda() -> list[dict]:
            return reader.ok("GET", "/api/v1/regions", params={"prefix": KALIANDA, "size": "1"})["items"]

        assert kalianda() == [{"code": KALIANDA, "name": "Kalianda", "level": 3}]
        # A new list imported through the gateway (a district renamed): shown from the next question on.
        admin.ok("POST", "/api/v1/regions/import", {"rows": [{"code": KALIANDA, "name": "Kalianda Baru", "level": 3}],
                                                    "source": "Kepmendagri (tests)"})
        assert kalianda() == [{"code": KALIANDA, "name": "Kalianda Baru", "level": 3}]

        system.stop("registry")
        assert kalianda() == [{"code": KALIANDA, "name": "Kalianda Baru", "level": 3}]
        # What the registry alone answers is unavailable meanwhile, as before.
        assert reader.get("/api/v1/households/1801062001000001")[0] == 503


def test_a_new_region_list_shows_in_the_consoles_labels_from_the_next_page(system: System):
    """The console labels places with the gateway's kept table: no older copy of its own outlives an import."""
    with gateway_running(system, CONSOLE_SECURE_COOKIES="false") as gateway:  # plain http: cookies sent back
        operator = browser(gateway, gateway.add_user("op.kalianda.labels", "operator", KALIANDA))
        admin = gateway.user_client("admin", "", "admin.labels")

        def own_region() -> str:  # every page's header: who is logged in, as what, where
            return re.search(r"op\.kalianda\.labels · [^<]*", operator.page(f"{CONSOLE}/")).group(0)

        assert own_region() == f"op.kalianda.labels · Operator · {KALIANDA} Kalianda"
        admin.ok("POST", "/api/v1/regions/import", {"rows": [{"code": KALIANDA, "name": "Kalianda Baru", "level": 3}],
                                                    "source": "Kepmendagri (tests)"})
        assert own_region() == f"op.kalianda.labels · Operator · {KALIANDA} Kalianda Baru"
