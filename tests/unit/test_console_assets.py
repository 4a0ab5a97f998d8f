"""The console's front-end files are the npm packages' own, at the pinned versions (scripts/vendor-assets.sh wrote
them and their SHA-256), and every static file a template links to is there: nothing is fetched at run time."""

from __future__ import annotations

import hashlib
import json
import re

from services.gateway.console.templating import STATIC, TEMPLATES


def test_vendored_files_are_the_packages_own():
    manifest = json.loads((STATIC / "vendor" / "vendor.json").read_text())
    assert {entry["package"] for entry in manifest} == {"htmx.org@2.0.11", "@picocss/pico@2.1.1"}
    for entry in manifest:
        content = (STATIC / "vendor" / entry["file"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"], entry["file"]


def test_templates_link_only_to_files_that_are_there_and_to_nothing_outside():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for name in re.findall(r"static\('([^']+)'\)", text):
            assert (STATIC / name).is_file(), (template.name, name)
        assert not re.search(r'(?:src|href)="(?:https?:)?//', text), template.name  # no CDN, no other site
