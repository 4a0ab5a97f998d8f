"""The ledger's hash path, as the audit walks it (shared/ledger.py): the canonical JSON written out by hand is exactly
json.dumps' (the definition the chain was hashed with since the first entry), and a walk over chained rows names
exactly the entry whose event was edited or deleted, wherever it is and whatever text it holds."""

from __future__ import annotations

import hashlib
import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared import ledger

PREFIX = "services.grants.domain:"
texts = st.text()  # any Unicode a row can hold: quotes, backslashes, control characters, emoji, tabs, newlines
stored_events = st.lists(st.builds(
    lambda originator_id, version, topic, state: (originator_id, version, PREFIX + topic, state.encode("utf-8")),
    st.uuids(), st.integers(min_value=1, max_value=2**63 - 1), texts, texts), min_size=1, max_size=30)


def reference_hash(previous_hash: str, originator_id: str, version: int, topic: str, state: bytes) -> str:
    """The chain's definition: SHA-256 of json.dumps of the five fields, keys sorted, compact, not ASCII-escaped."""
    canonical = json.dumps({"previous": previous_hash, "id": originator_id, "version": version, "topic": topic,
                            "state": state.decode("utf-8")}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Stored:
    def __init__(self, originator_id: uuid.UUID, version: int, topic: str, state: bytes) -> None:
        self.originator_id, self.originator_version, self.topic, self.state = originator_id, version, topic, state


def joined_rows(events: list[tuple]) -> list[list]:
    """The audit's join of ledger and events, as COPY's rows arrive: the id as text, positions 1, 2, …"""
    chained = ledger.chain(ledger.GENESIS, [Stored(*event) for event in events])
    return [[seq, str(originator_id), version, topic, previous, digest, seq, state]
            for seq, ((originator_id, version, topic, previous, digest), (*_, state))
            in enumerate(zip(chained, events, strict=True), start=1)]


@given(previous=texts, originator_id=st.uuids(), version=st.integers(min_value=0, max_value=2**63 - 1),
       topic=texts, state=texts)
def test_the_canonical_json_is_json_dumps(previous, originator_id, version, topic, state):
    assert ledger.entry_hash(previous, str(originator_id), version, topic, state.encode("utf-8")) == reference_hash(
        previous, str(originator_id), version, topic, state.encode("utf-8"))


@given(events=stored_events)
def test_an_untouched_chain_walks_clean_to_its_head(events):
    rows = joined_rows(events)
    assert ledger.verify(iter(rows)) == (len(events), [], rows[-1][5])


@given(events=stored_events, data=st.data())
def test_an_edited_event_is_named_at_its_position(events, data):
    rows = joined_rows(events)
    edited = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    state = rows[edited][7]
    rows[edited][7] = data.draw(st.binary().map(lambda b: b.decode("utf-8", "replace").encode("utf-8"))
                                .filter(lambda new: new != state))
    checked, problems, _ = ledger.verify(iter(rows))
    assert checked == len(rows)
    assert [(p.position, p.kind) for p in problems] == [(edited + 1, "event_altered")]
    assert problems[0].detail.startswith(f"ledger entry {edited + 1} (")


@given(events=stored_events, data=st.data())
def test_a_deleted_event_is_named(events, data):
    rows = joined_rows(events)
    deleted = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
    rows[deleted][6] = rows[deleted][7] = None  # the join finds no event row
    _, problems, head = ledger.verify(iter(rows))
    assert [(p.position, p.kind) for p in problems] == [(None, "event_missing")]
    assert problems[0].detail.endswith(": its event row is gone (deleted)")
    assert head == rows[-1][5]
