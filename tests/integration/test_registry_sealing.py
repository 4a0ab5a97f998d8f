"""Crypto-shredding in the registry's event log, on a real PostgreSQL: the personal fields of a household's stored
events are sealed with its data key, the application reads them back, and once the key is destroyed every read
shows them erased while the events, the rest of their fields and the log stay."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from berdaya.audit.replay import replay
from services.registry.application import RegistryApplication
from services.registry.commands import ImportRegions, RegisterHousehold
from services.registry.domain import Group, Household
from services.registry.sealing import ERASED, SealBroken
from services.registry.vault import KEK_VARIABLE, KeyEncryptionKey, Vault, new_kek
from shared.actor import Actor
from shared.ed25519 import KeyConfigError
from shared.regions import load_region_csv
from shared.store import event_mapper
from tests.support.applications import application_fixture
from tests.support.households import household
from tests.support.system import REGION_FILES
from tests.unit.test_registry_public_events import scenario

pytestmark = pytest.mark.integration

registry = application_fixture(RegistryApplication, "registry")


def register(app: RegistryApplication, number: int) -> tuple[dict, uuid.UUID]:
    """Household ``number`` registered through the application, as the service's edge hands it over."""
    if not app.query("SELECT 1 FROM regions LIMIT 1"):
        rows = [row._asdict() for path in REGION_FILES for row in load_region_csv(path)]
        app.import_regions(ImportRegions(rows=rows, source="wilayah (tests)", actor=Actor("admin", "admin", "")))
    payload = household(number)
    (household_id,) = app.register_households([RegisterHousehold(**{**payload, "actor": Actor(**payload["actor"])})])
    return payload, uuid.UUID(household_id)


def personal_values(payload: dict) -> list[str]:
    return [payload["kk"], payload["dtks_id"], payload["address"],
            *(m[field] for m in payload["members"] for field in ("nik", "name", "birth_date"))]


def dump(app: RegistryApplication) -> str:
    """The whole database as pg_dump writes it (the event log's states as bytea hex, read as text too)."""
    text = subprocess.run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", app.env["POSTGRES_DBNAME"]],
                          capture_output=True, text=True, check=True).stdout
    states = "\n".join(bytes(row["state"]).decode() for row in app.query("SELECT state FROM registry_events"))
    return text + "\n" + states


def forms(value: str) -> list[str]:
    """A value as it could appear: plain, JSON-escaped, in hex (a bytea column), each character \\u-escaped."""
    return [value, json.dumps(value)[1:-1], value.encode().hex(), "".join(f"\\u{ord(c):04x}" for c in value)]


def test_a_registered_household_is_sealed_in_the_log_read_back_and_erased_with_its_key(registry):
    payload, household_id = register(registry, 1)
    states = b"\n".join(bytes(row["state"]) for row in registry.query("SELECT state FROM registry_events"))
    for value in personal_values(payload):
        for form in forms(value):
            assert form.encode() not in states, f"a personal value is in the log as {form!r}"
    assert b'"village_code":"' + payload["village_code"].encode() in states  # non-identifying fields stay plain

    stored: Household = registry.repository.get(household_id)
    assert (stored.kk, stored.address) == (payload["kk"], payload["address"])
    assert [(m.nik, m.name, m.birth_date.isoformat()) for m in stored.members] == [
        (m["nik"], m["name"], m["birth_date"]) for m in payload["members"]]
    (envelope,) = registry.public_events_after(1, 10)  # after the region list: the relay reads it too
    # The relay opened the boxes to map the event; what it publishes names the members by their ids only.
    assert envelope.data["members"] == [{"person_id": str(m.person_id), "sex": m.sex, "relation": m.relation}
                                        for m in stored.members]

    wrapped = registry.query("SELECT wrapped_key FROM household_keys WHERE household_id = %s", (household_id,))
    data_key = registry.vault.kek.unwrap(household_id, bytes(wrapped[0]["wrapped_key"]))
    assert registry.vault.destroy(household_id)
    assert not registry.vault.destroy(household_id)  # nothing left to destroy
    # The household's key seals the household's fields; each member's are sealed with the member's own key.
    kept: Household = registry.repository.get(household_id)
    assert (kept.kk, kept.dtks_id, kept.address) == (ERASED, ERASED, ERASED)
    assert [m.name for m in kept.members] == [m["name"] for m in payload["members"]]
    first, *others = stored.members
    assert registry.vault.destroy(first.id)
    alone: Household = registry.repository.get(household_id)
    assert [m.name for m in alone.members] == [ERASED, *(m.name for m in others)]
    for member in others:
        assert registry.vault.destroy(member.id)

    erased: Household = registry.repository.get(household_id)
    assert (erased.kk, erased.dtks_id, erased.address) == (ERASED, ERASED, ERASED)
    assert [(m.nik, m.name, m.birth_date, m.sex, m.relation) for m in erased.members] == [
        (ERASED, ERASED, None, m["sex"], m["relation"]) for m in payload["members"]]
    assert (erased.village_code, erased.decile, erased.bdt_status) == (payload["village_code"], 2, "active")
    # The pseudonymous ids stay: what other services keep still refers to someone, no longer to who.
    assert [m.person_id for m in erased.members] == [m.person_id for m in stored.members]
    assert registry.query("SELECT wrapped_key, destroyed_at IS NOT NULL AS destroyed FROM household_keys "
                          "WHERE household_id = %s", (household_id,)) == [{"wrapped_key": None, "destroyed": True}]
    everything = dump(registry)
    for form in (data_key.hex(), bytes(wrapped[0]["wrapped_key"]).hex(), data_key.decode("latin-1")):
        assert form not in everything
    # A fresh process (no cached key) reads the same: the key is gone from the database, not just from memory.
    again = RegistryApplication(_url(registry))
    try:
        assert again.repository.get(household_id).members[0].name == ERASED
    finally:
        again.close()


def _url(app: RegistryApplication) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{app.env['POSTGRES_DBNAME']}"


def test_every_kind_of_registry_event_round_trips_sealed(registry):
    for event in scenario():
        stored = registry.mapper.to_stored_event(event)
        assert vars(registry.mapper.to_domain_event(stored)) == vars(event), type(event).__qualname__


def test_a_groups_members_are_sealed_with_their_own_households_and_representatives_keys(registry):
    formed = next(e for e in scenario() if isinstance(e, Group.Formed))
    stored = registry.mapper.to_stored_event(formed)
    for member in formed.members:
        for value in (member.kk, member.representative_nik, member.representative_name):
            assert value.encode() not in stored.state
    assert b"KUBE Mawar Jondong" in stored.state  # the group's own name is not personal

    leaver = formed.members[3]
    registry.vault.destroy(leaver.representative)  # the representative erased, their household staying
    read = registry.mapper.to_domain_event(stored)
    assert read.members[3] == dataclasses.replace(leaver, representative_nik=ERASED, representative_name=ERASED)
    registry.vault.destroy(leaver.household)
    read = registry.mapper.to_domain_event(stored)
    assert read.members[3] == dataclasses.replace(leaver, kk=ERASED, representative_nik=ERASED,
                                                  representative_name=ERASED)
    assert read.members[:3] + read.members[4:] == formed.members[:3] + formed.members[4:]
    assert read.roles == formed.roles  # the role holders keep their keys


def test_a_tampered_or_moved_box_is_refused_not_read(registry):
    first, second = (next(e for e in scenario() if isinstance(e, Household.Registered) and e.kk.endswith(n))
                     for n in ("1", "2"))
    one, two = (json.loads(registry.mapper.to_stored_event(e).state) for e in (first, second))
    topic = registry.mapper.to_stored_event(first).topic
    box, *member_boxes = one["_sealed_"]  # the household's, then one per member under the member's own key
    assert (box["h"], box["p"]) == (first.originator_id.hex, ["kk", "dtks_id", "address"])
    assert [(b["h"], set(b["p"]) >= {f"members.{i}.{field}" for field in ("nik", "name", "birth_date")})
            for i, b in enumerate(member_boxes)] == [(m.person_id.hex, True) for m in first.members]
    assert one["kk"] is None and one["members"][0]["_data_"]["nik"] is None  # their places hold nothing

    def read(state: dict, version: int = 1) -> Household.Registered:
        return registry.mapper.to_domain_event(StoredEvent(first.originator_id, version, topic,
                                                           json.dumps(state).encode()))

    def with_box(**changed) -> dict:
        return {**one, "_sealed_": [{**box, **changed}, *member_boxes]}

    value = box["v"]
    with pytest.raises(SealBroken, match="address.* do not open"):
        read(with_box(v=value[:-4] + ("AAAA" if value[-4:] != "AAAA" else "BBBB")))
    with pytest.raises(SealBroken):  # household 2's box, sealed with its own key
        read({**one, "_sealed_": two["_sealed_"]})
    with pytest.raises(SealBroken):  # the same box, its values given to other fields
        read(with_box(p=[box["p"][1], box["p"][0], *box["p"][2:]]))
    with pytest.raises(SealBroken):  # the same box in another event of the same household
        read(one, version=2)
    assert read(one).address == first.address  # the untouched state still reads


def test_a_batch_of_events_of_many_households_reads_their_keys_in_one_query(registry):
    events = scenario()
    registry.events.put(events)
    households = {e.originator_id for e in events if isinstance(e, Household.Event)} | {
        m.household for e in events if isinstance(e, Group.Formed) for m in e.members}
    group_id = next(e.originator_id for e in events if isinstance(e, Group.Formed))
    group_as_of_its_events = None
    for event in events:
        if event.originator_id == group_id:
            group_as_of_its_events = event.mutate(group_as_of_its_events)
    assert len(households) > 10

    again = RegistryApplication(_url(registry))  # another registry process: no key in its cache
    try:
        key_reads = []
        source = again.mapper.vault
        again.mapper.vault = Vault(source.kek, lambda: counted(key_reads, again.datastore.transaction(commit=True)))
        assert len(again.public_events_after(0, 1000)) == len(events)  # the relay's page
        assert len(key_reads) == 1
        again.mapper.vault = Vault(source.kek, lambda: counted(key_reads, again.datastore.transaction(commit=True)))
        assert again.repository.get(group_id).members == group_as_of_its_events.members
        assert len(key_reads) == 2  # a group's history: its member households' keys, at once
    finally:
        again.close()

    with psycopg.connect(_url(registry), autocommit=True, cursor_factory=KeyReadsCounted) as conn:
        history = replay("registry", conn)  # an auditor's
    assert history.events_read == len(events) and KeyReadsCounted.reads == 1


def test_the_relay_publishes_a_registration_without_reading_a_key_or_decrypting_a_personal_value(registry):
    payload, household_id = register(registry, 1)
    members = registry.repository.get(household_id).members
    relay = RegistryApplication(_url(registry))  # another registry process: no key in its cache
    try:
        key_reads = []
        reading = lambda: counted(key_reads, relay.datastore.transaction(commit=True))  # noqa: E731
        relay.mapper.vault = Vault(relay.vault.kek, reading)
        (stored,) = [n for n in relay.recorder.select_notifications(1, 10) if n.topic.endswith("Registered")]
        (event,) = relay.mapper.to_published_events([stored])
        assert [m.nik for m in event.members] == [None] * len(members) and event.kk is None  # left sealed
        (published,) = [e for e in relay.public_events_after(0, 10) if e.type == "registry.household.registered"]
        assert key_reads == []
        assert [str(m["person_id"]) for m in published.data["members"]] == [str(m.person_id) for m in members]
        assert not set(personal_values(payload)) & set(json.dumps(published.data, default=str).split('"'))
        assert relay.repository.get(household_id).members == members  # a command's read still opens them all
        assert len(key_reads) == 1
    finally:
        relay.close()


def test_a_batch_of_households_gets_its_keys_in_two_queries_and_caches_them_as_stored(registry):
    key_reads = []
    vault = Vault(registry.vault.kek, lambda: counted(key_reads, registry.datastore.transaction(commit=True)))
    households = [uuid.uuid4() for _ in range(50)]
    vault.prepare(households)
    assert len(key_reads) == 2  # the keys that exist, then the missing ones made in one statement
    other_process = Vault(registry.vault.kek, lambda: registry.datastore.transaction(commit=True))
    for household_id in households:
        sealed = vault.key(household_id).encrypt(bytes(12), b"ok", None)
        assert other_process.key(household_id).decrypt(bytes(12), sealed, None) == b"ok"
    assert len(key_reads) == 2


def test_a_full_key_cache_stays_small_in_memory(registry):
    """A registry that imported a district holds up to ``cache_size`` keys: their bytes, not a cipher object each
    (~5 KB of native memory apiece, which took a registry to ~300 MB after a 20,000-household import)."""
    reads = []
    vault = Vault(registry.vault.kek, lambda: counted(reads, registry.datastore.transaction(commit=True)),
                  cache_size=20_000)
    households = [uuid.uuid4() for _ in range(20_000)]
    before = resident_mb()
    vault.prepare(households)  # made, and every one cached
    assert resident_mb() - before < 25  # their cipher objects took 60–100 MB
    assert all(vault.key(household) is not None for household in households[::1000]) and len(reads) == 2  # cached


def resident_mb() -> float:
    status = open("/proc/self/status").read()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_an_auditor_lists_the_events_whose_key_does_not_unwrap_and_reads_the_others(registry):
    (_, broken), (payload, readable) = register(registry, 4), register(registry, 5)
    with registry.transaction() as cursor:
        cursor.execute("UPDATE household_keys SET wrapped_key = %s WHERE household_id = %s", (bytes(60), broken))
    problems = []
    with psycopg.connect(_url(registry), autocommit=True) as conn:
        history = replay("registry", conn, problems=problems)
    assert [(p.kind, "does not unwrap" in p.detail) for p in problems] == [("event_unreadable", True)]
    assert broken not in history.aggregates and history.aggregates[readable].kk == payload["kk"]


@contextmanager
def counted(reads: list, transaction: AbstractContextManager) -> Iterator:
    reads.append(1)
    with transaction as cursor:
        yield cursor


class KeyReadsCounted(psycopg.Cursor):
    reads = 0

    def execute(self, query, params=None, **kwargs):
        if "household_keys" in str(query):
            type(self).reads += 1
        return super().execute(query, params, **kwargs)


def test_a_registry_given_another_kek_refuses_to_start(registry):
    register(registry, 2)
    with pytest.raises(KeyConfigError, match="does not unwrap"):
        RegistryApplication(_url(registry), data_key=KeyEncryptionKey.parse(new_kek("test1"), KEK_VARIABLE))
    with pytest.raises(KeyConfigError, match="key id other"):
        RegistryApplication(_url(registry), data_key=KeyEncryptionKey.parse(new_kek("other"), KEK_VARIABLE))


def test_an_auditor_reads_with_the_same_secret_and_is_refused_without_it(registry, monkeypatch):
    payload, household_id = register(registry, 3)
    with psycopg.connect(_url(registry), autocommit=True) as conn:
        mapper = event_mapper(RegistryApplication, conn)
        row = conn.execute("SELECT originator_id, originator_version, topic, state FROM registry_events "
                           "WHERE originator_id = %s", (household_id,)).fetchone()
        assert mapper.to_domain_event(StoredEvent(row[0], row[1], row[2], bytes(row[3]))).kk == payload["kk"]
        monkeypatch.delenv(KEK_VARIABLE)
        with pytest.raises(KeyConfigError, match=f"{KEK_VARIABLE} \\(or"):
            event_mapper(RegistryApplication, conn)
