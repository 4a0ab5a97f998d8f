"""A service application on a database of its own, for tests that need a real store but no running service."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from shared.store import ServiceApplication
from tests.support.system import ADMIN_URL


@contextmanager
def fresh_database() -> Iterator[str]:
    """A database of its own (its URL), dropped afterwards."""
    name = "t" + uuid.uuid4().hex[:10]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@contextmanager
def fresh_application(application: type[ServiceApplication]) -> Iterator[ServiceApplication]:
    """The application on a database of its own, dropped afterwards."""
    with fresh_database() as url:
        app = application(url)
        try:
            yield app
        finally:
            app.close()


def application_fixture(application: type[ServiceApplication], name: str) -> Callable:
    """A pytest fixture called ``name``: the application on a database of its own (``fresh_application``). A test
    module makes it its own by assigning it: ``grants = application_fixture(GrantsApplication, "grants")``."""

    @pytest.fixture(name=name)
    def fixture() -> Iterator[ServiceApplication]:
        with fresh_application(application) as app:
            yield app

    return fixture
