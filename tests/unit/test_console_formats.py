"""How the console writes what it shows, in each language: a file's size (a KB of 1,024 bytes, one decimal, the
language's decimal mark)."""

from __future__ import annotations

import pytest

from services.gateway.console.i18n import Language


@pytest.mark.parametrize(("code", "size", "shown"), [
    ("id", 501, "501 B"), ("id", 12_600, "12,3 KB"), ("id", 2048, "2 KB"), ("id", 1_250_000, "1,2 MB"),
    ("en", 12_600, "12.3 KB"), ("en", 10 * 1024 * 1024, "10 MB"), ("id", None, "—"),
])
def test_a_file_size_reads_as_people_write_it(code: str, size: int | None, shown: str):
    assert Language(code).size(size) == shown
