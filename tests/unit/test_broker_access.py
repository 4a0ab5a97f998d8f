"""The broker rights (shared/broker_access.py) agree with the services and with the script the compose broker runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.grants.application import GrantsApplication
from services.registry.application import RegistryApplication
from services.training.application import TrainingApplication
from shared.broker_access import PRINCIPALS, UPSTREAMS, access, users_script

ROOT = Path(__file__).resolve().parents[2]


def test_each_service_s_rights_follow_the_upstreams_it_consumes():
    for app in (RegistryApplication, GrantsApplication, TrainingApplication):
        assert UPSTREAMS[app.service_name] == app.upstreams


def test_the_compose_broker_s_script_is_generated_from_the_rights():
    assert (ROOT / "deploy" / "rabbitmq" / "users.sh").read_text() == users_script(), \
        "run: python -m shared.broker_access"


def allowed(pattern: str, name: str) -> bool:
    return re.fullmatch(pattern, name) is not None


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_only_a_service_writes_to_its_own_events_exchange(principal):
    grant = access(principal)
    for service in ("registry", "grants", "training"):
        assert allowed(grant.write, f"{service}.events") == (principal == service)


def test_replies_are_routed_by_uuid_and_calls_by_service_and_method():
    reply = "0b8d8c8e-6a3e-4d3f-9a5e-2f7c1c9d0a11"
    assert allowed(access("grants").rpc_routing_keys, reply)
    assert allowed(access("grants").rpc_routing_keys, "training.events_after")
    assert not allowed(access("grants").rpc_routing_keys, "training.record_attendance")
    assert not allowed(access("gateway").rpc_routing_keys, reply)
    assert allowed(access("gateway").rpc_routing_keys, "grants.approve")
