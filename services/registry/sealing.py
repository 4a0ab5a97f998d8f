"""Personal fields of the registry's stored events, encrypted with the household's data key (``vault``).

The domain never sees this: its events hold plain values in memory. :class:`SealingMapper` encrypts ("seals") the
personal fields when an event becomes a stored event, and opens them when it is read back. Which fields are
personal is decided here, field by field:

- a household's events: KK, DTKS id, address, and each member's NIK, name, birth date, marital status and
  occupation (a member's sex and relation stay plain, as do village codes, decile, BDT status, the list reasons
  of a member change and who recorded it); the free-text reason of a correction or a status change (it is about
  the family, and may name someone);
- a KUBE's events: each member household's KK, representative's NIK and name, the NIKs holding its roles and a
  removed household's KK — each sealed with **that member's** household key, so erasing one household erases it
  from every group it was in, and leaves the group and the other members readable. The group's own name, bank
  account (in the group's name, a rule), decree number and free-text reasons are the group's, and stay plain.

A sealed value is stored as ``{"_type_": "sealed", "_data_": {"h": <household id>, "v": <nonce + ciphertext>}}``:
AES-256-GCM with a fresh 96-bit nonce, over the value's JSON, with (household id, the event's aggregate id, field
path) as associated data, so a ciphertext moved to another household's or group's event, another field or another
member does not open. A stored event without that marker
(written before encryption) is read as it is.

Opening a sealed value whose household key was destroyed gives :data:`ERASED` (a birth date: None), never an
error, so that replay, audit and the relay go on; a value that does not open under an existing key (altered,
moved) is refused: :class:`SealBroken`.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidTag
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder, Transcoding

from services.registry.domain import Group, GroupMember, Household, Member
from services.registry.vault import NONCE_BYTES, Vault

ERASED = "[dihapus]"
ERASED_AS_NONE = frozenset({"birth_date"})  # not a string: an erased date reads as None

MEMBER_FIELDS = frozenset({"nik", "name", "birth_date", "marital_status", "occupation"})
HOUSEHOLD_FIELDS: dict[type, tuple[str, ...]] = {
    Household.Registered: ("kk", "dtks_id", "address"),
    Household.MemberAdded: ("kk",),
    Household.MemberRemoved: ("kk", "nik", "new_head_nik"),
    Household.MemberCorrected: ("kk", "nik", "reason"),
    Household.StatusChanged: ("kk", "reason"),
    Household.DecileChanged: ("kk",),
}
SEALED_MARKER = b'"sealed"'  # in every stored state holding a sealed value (whatever the JSON's spacing)


@dataclasses.dataclass(frozen=True)
class Sealed:
    household_id: uuid.UUID
    box: bytes  # nonce + ciphertext and tag


class SealedAsDict(Transcoding):
    type = Sealed
    name = "sealed"

    def encode(self, obj: Sealed) -> dict:
        return {"h": obj.household_id.hex, "v": base64.b64encode(obj.box).decode("ascii")}

    def decode(self, data: dict) -> Sealed:
        return Sealed(uuid.UUID(data["h"]), base64.b64decode(data["v"]))


class SealBroken(ValueError):
    """A sealed field that does not open under its household's key: altered, or moved from elsewhere."""


def associated_data(household_id: uuid.UUID, originator_id: uuid.UUID, path: str) -> bytes:
    """What a sealed value is bound to: whose key, which aggregate's event, which field."""
    return household_id.bytes + originator_id.bytes + path.encode("utf-8")


class SealingMapper(Mapper):
    """The library's mapper, sealing personal fields on the way to the store and opening them on the way back."""

    def __init__(self, transcoder: Transcoder, vault: Vault) -> None:
        transcoder.register(SealedAsDict())
        super().__init__(transcoder=transcoder)
        self.vault = vault

    def to_stored_event(self, domain_event: DomainEventProtocol) -> StoredEvent:
        state = self._sealed_state(domain_event)
        if state is None:
            return super().to_stored_event(domain_event)
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol:
        domain_event = super().to_domain_event(stored_event)
        if SEALED_MARKER in stored_event.state:
            state = vars(domain_event)
            for name, value in state.items():
                state[name] = self._open(value, domain_event.originator_id, name)
        return domain_event

    # --- sealing: which fields, with whose key ------------------------------------------------------------

    def _sealed_state(self, event: DomainEventProtocol) -> dict[str, Any] | None:
        state, event_of = dict(vars(event)), event.originator_id
        if isinstance(event, Household.Event):
            seal = self._sealer(event_of, event_of)
            for name in HOUSEHOLD_FIELDS.get(type(event), ()):
                state[name] = seal(name, state[name])
            if isinstance(state.get("member"), Member):
                state["member"] = _sealed_member(seal, "member", state["member"])
            if "members" in state:
                state["members"] = [_sealed_member(seal, f"members.{i}", m) for i, m in enumerate(state["members"])]
            if "changes" in state:
                state["changes"] = {field: seal(f"changes.{field}", value) if field in MEMBER_FIELDS else value
                                    for field, value in state["changes"].items()}
            return state
        if isinstance(event, Group.Event) and {"members", "added", "removed_kk", "roles"} & state.keys():
            members = [*(state.get("members") or ()), *([state["added"]] if state.get("added") else ())]
            household_of = {m.representative_nik: Household.create_id(m.kk) for m in members}
            if state.get("members") is not None:
                state["members"] = [self._sealed_group_member(event_of, f"members.{i}", m)
                                    for i, m in enumerate(state["members"])]
            if state.get("added") is not None:
                state["added"] = self._sealed_group_member(event_of, "added", state["added"])
            if state.get("removed_kk") is not None:
                kk = state["removed_kk"]
                state["removed_kk"] = self._sealer(Household.create_id(kk), event_of)("removed_kk", kk)
            if "roles" in state:
                state["roles"] = {role: self._sealer(household_of[nik], event_of)(f"roles.{role}", nik)
                                  for role, nik in state["roles"].items()}
            return state
        return None

    def _sealed_group_member(self, event_of: uuid.UUID, path: str, member: GroupMember) -> GroupMember:
        seal = self._sealer(Household.create_id(member.kk), event_of)
        return GroupMember(kk=seal(f"{path}.kk", member.kk),
                           representative_nik=seal(f"{path}.representative_nik", member.representative_nik),
                           representative_name=seal(f"{path}.representative_name", member.representative_name))

    def _sealer(self, household_id: uuid.UUID, event_of: uuid.UUID) -> Callable[[str, Any], Any]:
        """Seals values with ``household_id``'s key, bound to the event of aggregate ``event_of``."""
        def seal(path: str, value: Any) -> Any:
            if value is None:
                return None
            key = self.vault.key_creating(household_id)
            if key is None:  # destroyed: what is written about an erased household is erased at once
                return ERASED if path.rsplit(".", 1)[-1] not in ERASED_AS_NONE else None
            nonce = os.urandom(NONCE_BYTES)
            box = key.encrypt(nonce, self.transcoder.encode(value), associated_data(household_id, event_of, path))
            return Sealed(household_id, nonce + box)

        return seal

    # --- opening: wherever a sealed value is -------------------------------------------------------------

    def _open(self, value: Any, event_of: uuid.UUID, path: str) -> Any:
        if isinstance(value, Sealed):
            return self._unsealed(value, event_of, path)
        if isinstance(value, list):
            return [self._open(item, event_of, f"{path}.{i}") for i, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self._open(item, event_of, f"{path}.{key}") for key, item in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{field.name: self._open(getattr(value, field.name), event_of,
                                                                        f"{path}.{field.name}")
                                                 for field in dataclasses.fields(value)})
        return value

    def _unsealed(self, sealed: Sealed, event_of: uuid.UUID, path: str) -> Any:
        key = self.vault.key(sealed.household_id)
        if key is None:
            return None if path.rsplit(".", 1)[-1] in ERASED_AS_NONE else ERASED
        try:
            plain = key.decrypt(sealed.box[:NONCE_BYTES], sealed.box[NONCE_BYTES:],
                                associated_data(sealed.household_id, event_of, path))
        except InvalidTag:
            raise SealBroken(f"the sealed field {path} does not open under household {sealed.household_id}'s key: "
                             "altered, or moved from another household or field") from None
        return self.transcoder.decode(plain)


def _sealed_member(seal: Callable[[str, Any], Any], path: str, member: Member) -> Member:
    return dataclasses.replace(member, **{field: seal(f"{path}.{field}", getattr(member, field))
                                          for field in MEMBER_FIELDS})
