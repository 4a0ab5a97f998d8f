"""The published contracts pass their reference validators, as another team's code generator would run them:
docs/asyncapi.json the official AsyncAPI parser (@asyncapi/parser, pinned in scripts/asyncapi/package.json and
installed by scripts/ensure-asyncapi.sh), the gateway's /openapi.json openapi-spec-validator."""

from __future__ import annotations

import subprocess
from pathlib import Path

from openapi_spec_validator import validate

from services.gateway.openapi import document

ROOT = Path(__file__).resolve().parents[2]
PARSER = ROOT / "scripts" / "asyncapi"


def test_the_asyncapi_document_passes_the_official_parser():
    assert (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir(), "run `make asyncapi` first"
    checked = subprocess.run(["node", str(PARSER / "validate.mjs"), str(ROOT / "docs" / "asyncapi.json")],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_openapi_document_passes_openapi_spec_validator():
    validate(document())  # raises, naming the first error, on a document a generator would refuse
