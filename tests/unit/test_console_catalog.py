"""The console says everything in Indonesian: every message of its code and templates has a translation, the
compiled catalog is the one the translators wrote, placeholders survive translation, and every rule a service
refuses with has a sentence of its own."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from services.gateway.console.refusals import SENTENCES
from tests.support.rulebook import raised_rules

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "services" / "gateway" / "console"
PO = CONSOLE / "locale" / "id" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"{(\w+)}")
# Rules only operators' tools, batch jobs and other systems' API (dci) raise: not shown by the console.
NOT_IN_THE_CONSOLE = re.compile(r"^(synth|region|csv|bdt|skip|halt|ledger|regions|module|body|dci)\.")


def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="id")


def extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"trim_blocks": "True", "lstrip_blocks": "True"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(CONSOLE), method_map, options_map=options, keywords=keywords):
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


def test_every_message_has_an_indonesian_translation():
    translated = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog() if m.id}
    missing = sorted(message for message in extracted()
                     if message not in translated or not translated[message].string
                     or "fuzzy" in translated[message].flags)
    assert not missing, f"run `make translations` and translate in {PO.relative_to(ROOT)}: {missing}"


def test_the_compiled_catalog_is_the_written_one():
    def entries(messages) -> dict:
        def hashable(value):
            return tuple(value) if isinstance(value, list | tuple) else value
        return {hashable(m.id): hashable(m.string) for m in messages if m.id}

    with MO.open("rb") as f:
        compiled = entries(read_mo(f))
    assert compiled == entries(m for m in catalog() if m.string), "run `make translations` (pybabel compile)"


def test_placeholders_survive_translation():
    for message in catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= wanted, (message.id, string)
            assert set(PLACEHOLDER.findall(ids[0])) <= set(PLACEHOLDER.findall(string)) | {"n"}, (message.id, string)


def test_every_rule_the_services_refuse_with_has_a_sentence():
    raised = set().union(*(raised_rules(ROOT / folder) for folder in ("services/registry", "services/grants",
                                                                       "services/training", "shared")))
    shown = {rule for rule in raised if not NOT_IN_THE_CONSOLE.match(rule)}
    assert shown - set(SENTENCES) == set(), "give these rules a sentence in console/refusals.py"


def test_every_sentence_is_for_a_rule_that_is_raised():
    raised = raised_rules(ROOT / "services") | raised_rules(ROOT / "shared")
    assert set(SENTENCES) - raised == set(), "a sentence for a rule nobody raises: a typo, or a rule renamed"


def test_the_catalog_reads_as_indonesian():
    from services.gateway.console.i18n import Language

    id_, en = Language("id"), Language("en")
    assert id_.gettext("Tranche {n}", n=2) == "Tahap 2"
    assert en.gettext("Tranche {n}", n=2) == "Tranche 2"
    assert id_.rupiah(20_000_000) == "Rp 20.000.000" and en.rupiah(20_000_000) == "Rp 20,000,000"
    assert id_.date("2026-12-07") == "7 Desember 2026"
    assert id_.moment("2026-12-07T03:04:00+00:00") == "7 Desember 2026, 10.04 WIB"
