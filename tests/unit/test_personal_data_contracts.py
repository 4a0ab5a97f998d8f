"""Only the registry knows who a person is: every public event a service publishes now (each type's newest version)
carries ids, never a NIK, KK, name or birth date; and the older versions that did mark each such field personal,
so the catalog (docs/events.md) lists it."""

from __future__ import annotations

import pytest

from shared.contracts import CATALOG, current_versions
from shared.contracts.catalog import data_schema, personal_fields
from shared.edge import NIK_PATTERN

PERSONAL_NAMES = {"nik", "kk", "birth_date", "dtks_id", "address"}
OWN_NAME = ("registry.group.", "training.cohort.")  # a KUBE's or a class's own name is not a person's


def identifying(event_type: str, schema: dict) -> list[str]:
    """The paths of the fields that say who a person is, by their name or their type (a 16-digit number)."""
    definitions = schema.get("$defs", {})

    def walk(node: dict, path: str) -> list[str]:
        if "$ref" in node:
            return walk(definitions[node["$ref"].rsplit("/", 1)[-1]], path)
        found = [f for option in node.get("anyOf", ()) for f in walk(option, path)]
        if node.get("pattern") == NIK_PATTERN or node.get("propertyNames", {}).get("pattern") == NIK_PATTERN:
            found.append(path)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found += walk(node[key], f"{path}[]")
        for name, prop in node.get("properties", {}).items():
            field = f"{path}.{name}" if path else name
            own_name = field == "name" and event_type.startswith(OWN_NAME)
            named = (name in PERSONAL_NAMES or name.endswith(("_nik", "_kk", "_name")) or name == "name"
                     # free text about a family (a list of reasons is not)
                     or name == "reason" and "enum" not in prop and event_type.startswith("registry.household."))
            if named and not own_name:
                found.append(field)
            found += walk(prop, field)
        return sorted(set(found))

    return walk(schema, "")


@pytest.mark.parametrize("event_type", sorted(current_versions()))
def test_what_every_service_publishes_now_names_nobody(event_type):
    version = current_versions()[event_type]
    schema = data_schema(event_type, version)
    assert identifying(event_type, schema) == [], f"{event_type} v{version}"
    assert personal_fields(schema) == [], f"{event_type} v{version}"


def test_the_registry_and_training_publish_version_2_of_every_event_that_named_someone():
    named_before = sorted(t for (t, v) in CATALOG if v == 1 and (identifying(t, data_schema(t, 1))
                                                                  or personal_fields(data_schema(t, 1))))
    assert named_before == [
        "registry.group.formed", "registry.group.member_changed", "registry.household.decile_changed",
        "registry.household.member_added", "registry.household.member_corrected",
        "registry.household.member_removed", "registry.household.registered", "registry.household.status_changed",
        "training.attendance.corrected", "training.attendance.recorded", "training.participant.completed",
        "training.participant.enrolled", "training.participant.withdrawn"]
    assert all(current_versions()[t] == 2 for t in named_before)


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_field_that_names_someone_is_marked_personal_for_the_catalog(key):
    schema = data_schema(*key)
    marked = personal_fields(schema)
    # A marked field covers what is inside it (a member's NIK inside a marked list, a NIK-keyed map).
    assert [path for path in identifying(key[0], schema)
            if not any(path == m or path.startswith((m + ".", m + "[")) for m in marked)] == []
