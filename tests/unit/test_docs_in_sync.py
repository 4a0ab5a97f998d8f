"""Generated documents cannot drift from the code they describe."""

import json
from pathlib import Path

from services.gateway.openapi import api_doc_with_table
from shared.contracts.catalog import asyncapi, markdown
from tests.support.rulebook import document_with_table

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_event_catalog_matches_the_contracts():
    assert (DOCS / "events.md").read_text(encoding="utf-8") == markdown(), "run `berdaya catalog`"


def test_asyncapi_document_matches_the_contracts():
    assert json.loads((DOCS / "asyncapi.json").read_text(encoding="utf-8")) == asyncapi(), "run `berdaya catalog`"


def test_the_api_resources_table_matches_the_route_table():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    assert api_doc_with_table(text) == text, "run `python -m services.gateway.openapi`"


def test_the_rulebook_in_domain_md_matches_the_rules_and_their_tests():
    text = (DOCS / "domain.md").read_text(encoding="utf-8")
    assert document_with_table(text) == text, "run `python -m tests.support.rulebook`"
