"""The demo's erasure (docs/privacy.md): an erasure refused while the household's KUBE still accounts for a grant,
then a household erased for good — one admin asks, another approves — and one member of another household erased
alone, the household and its other members staying; the money they never touched unchanged."""

from __future__ import annotations

from nameko.exceptions import RemoteError
from rich.markup import escape

from shared.errors import from_remote

ADMIN = {"user": "admin.berdaya", "role": "admin", "region": ""}
ADMIN_2 = {"user": "admin2.berdaya", "role": "admin", "region": ""}  # maker–checker: never the one who asked
REASON = "permintaan penghapusan oleh subjek data (UU 27/2022)"
READER = {"actor": ADMIN, "purpose": "cli.demo.erasure"}


def ask(rpc, nik: str, whole_household: bool = True) -> dict:
    return rpc.registry.request_erasure({"actor": ADMIN, "nik": nik, "reason": REASON,
                                         "whole_household": whole_household})


def refused_under_hold(rpc, say, nik: str) -> dict:
    """Ask to erase the household of a member of a KUBE whose grant is not accounted for: the registry refuses."""
    try:
        ask(rpc, nik)
    except RemoteError as remote:
        error = from_remote(remote.exc_type, remote.value)
        say(escape(f"erasure refused — a household of a funded KUBE: [{error.rule}] {error.message}"))
        return {"refused": True, "rule": error.rule}
    say("erasure of a household of a funded KUBE was accepted (unexpected)")
    return {"refused": False, "rule": None}


def erase_household(rpc, say, nik: str) -> dict:
    """Erase the household of the person with ``nik``: asked by one admin, approved by another."""
    approved = approve(rpc, ask(rpc, nik))
    held = rpc.registry.person(READER, nik) is not None
    say(f"household {approved['household_id'][:8]}… erased (asked by {ADMIN['user']}, approved by "
        f"{approved['approved_by']}): its key destroyed; the registry {'STILL holds' if held else 'holds nothing of'} "
        "its members")
    return {"household_id": approved["household_id"], "request_id": approved["request_id"],
            "approved_by": approved["approved_by"], "still_held": held}


def erase_person(rpc, say, nik: str, stays: str) -> dict:
    """Erase the person with ``nik`` alone: their key destroyed, their household (``stays``, another member's NIK)
    and its other members still read."""
    approved = approve(rpc, ask(rpc, nik, whole_household=False))
    held = rpc.registry.person(READER, nik) is not None
    others = rpc.registry.person(READER, stays) is not None
    say(f"one member of household {approved['household_id'][:8]}… erased alone (approved by "
        f"{approved['approved_by']}): the registry {'STILL holds' if held else 'holds nothing of'} them; the "
        f"household's other members {'still read' if others else 'are GONE'}")
    return {"household_id": approved["household_id"], "request_id": approved["request_id"],
            "person_only": approved["person_only"], "still_held": held, "others_read": others}


def approve(rpc, asked: dict) -> dict:
    return rpc.registry.approve_erasure({"actor": ADMIN_2, "request_id": asked["request_id"]})
