"""Personal fields of the registry's stored events, encrypted with the data key (``vault``) of whom they are about.

The domain never sees this: its events hold plain values in memory. :class:`SealingMapper` encrypts ("seals") the
personal fields when an event becomes a stored event, and opens them when it is read back. Which fields are
personal, and whose key seals each, is decided here, field by field:

- a household's events: KK, DTKS id and address, the free-text reason of a status change or a move and the address
  a household moved to, with the **household's** key; each member's NIK, name, birth date, marital status and
  occupation with **that person's** key — so one member can be erased while the household stays (a member's sex and
  relation stay plain, as do village codes, decile, BDT status, the listed reasons of a member change and who
  recorded it). A removal's NIK and new head's NIK, and a correction's NIK, changes and free-text reason (it is
  about that person, and may name them), with the person's key;
- a KUBE's events: each member household's KK and a removed household's KK with **that household's** key; its
  representative's NIK and name, and the NIKs holding its roles, with **that representative's** key — so erasing a
  household or a person erases them from every group they were in, and leaves the group and the other members
  readable. The group's own name, bank account (in the group's name, a rule), decree number and free-text reasons
  are the group's, and stay plain;
- a grievance's events: the resident's name and contact, the description, each note and the resolution, sealed
  with the grievance's own key (``household_keys`` holds it under the grievance's id): a grievance may name no
  household, and its key can be destroyed by itself. The category, village, links and dates stay plain.

A key's holder is a household or a person (``vault``). Events sealed before per-person keys hold their members'
fields in the household's box: they are read as they are (a box names its holder), and such a household is erased
whole (``erasure``, docs/privacy.md).

Sealed once per (stored event, key holder): the event's personal values that belong to one holder go, as one JSON
list, in one AES-256-GCM box under that holder's key, with a fresh 96-bit nonce; their places in the state hold
None, and the stored state lists its boxes under ``"_sealed_"``: ``{"h": <holder id>, "p": [<paths>],
"v": <nonce + ciphertext>}``. The associated data is (holder id, the event's aggregate id and version, the paths), so
a box moved to another holder's, aggregate's or event's state, or given other paths, does not open. A group's event
holds one box per member household and one per representative. A stored event without boxes (written before
encryption) is read as it is. (The first sealed format, a box per field, was never deployed and is not read:
docs/security.md says how to reset a development installation that holds it.)

Opening a box whose key was destroyed puts :data:`ERASED` at its paths (a birth date: None), never an
error, so that replay, audit and the relay go on; a box that does not open under an existing key (altered, moved)
is refused: :class:`SealBroken`. Decoding a batch of stored events (:meth:`SealingMapper.prefetch`) reads the keys
of all the batch's holders in one query.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent, Transcoder

from services.registry.domain import Group, GroupMember, Household, Member
from services.registry.grievance import Grievance
from services.registry.vault import NONCE_BYTES, Vault
from shared.batches import ServiceMapper
from shared.keys import legacy_household_id, legacy_person_id

ERASED = "[dihapus]"
ERASED_AS_NONE = frozenset({"birth_date"})  # not a string: an erased date reads as None

MEMBER_FIELDS = frozenset({"nik", "name", "birth_date", "marital_status", "occupation"})
HOUSEHOLD_FIELDS: dict[type, tuple[str, ...]] = {  # sealed with the household's key
    Household.Registered: ("kk", "dtks_id", "address"),
    Household.MemberAdded: ("kk",),
    Household.MemberRemoved: ("kk",),
    Household.MemberCorrected: ("kk",),
    Household.StatusChanged: ("kk", "reason"),
    Household.DecileChanged: ("kk",),
    Household.Moved: ("kk", "address", "reason"),
}
# A grievance's resident and every word of it, under the grievance's own key (it may name no household).
GRIEVANCE_FIELDS = frozenset({"description", "complainant_name", "complainant_contact", "text", "resolution"})
BOXES = "_sealed_"  # the stored state's list of boxes
# A box's holder, found in the stored bytes without decoding them (to fetch a batch's keys at once): a JSON
# string holds no unescaped quote, so no plain value can look like it; a miss would only cost a key query later.
BOX_HOLDER = re.compile(rb'\{"h":\s*"([0-9a-f]{32})"')


class SealBroken(ValueError):
    """A box that does not open under its holder's key: altered, or moved from elsewhere."""


def associated_data(holder: uuid.UUID, event_of: uuid.UUID, version: int, paths: list[str]) -> bytes:
    """What a box is bound to: whose key, which aggregate's event (its version), which fields."""
    return holder.bytes + event_of.bytes + version.to_bytes(8, "big") + "\n".join(paths).encode("utf-8")


def erased(path: str) -> str | None:
    return None if path.rsplit(".", 1)[-1] in ERASED_AS_NONE else ERASED


class SealingMapper(ServiceMapper):
    """The library's mapper, sealing personal fields on the way to the store and opening them on the way back."""

    def __init__(self, transcoder: Transcoder, vault: Vault,
                 published_unopened: Callable[[DomainEventProtocol], bool] = lambda event: False) -> None:
        super().__init__(transcoder=transcoder)
        self.vault = vault
        self.published_unopened = published_unopened  # an event whose public contract reads no sealed value

    def to_stored_event(self, domain_event: DomainEventProtocol) -> StoredEvent:
        boxes = _Boxes(self.vault)
        state = self._emptied_state(domain_event, boxes)
        if state is None:
            return super().to_stored_event(domain_event)
        sealed_boxes = boxes.sealed(self.transcoder, domain_event.originator_id, domain_event.originator_version)
        if sealed_boxes:
            state[BOXES] = sealed_boxes
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def prefetch(self, stored_events: Iterable[StoredEvent]) -> None:
        self.vault.prefetch({uuid.UUID(hex=found.decode("ascii")) for stored_event in stored_events
                             for found in BOX_HOLDER.findall(stored_event.state)})

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol:
        domain_event = super().to_domain_event(stored_event)
        self._open_all(domain_event, vars(domain_event).pop(BOXES, ()))
        return domain_event

    def to_published_events(self, stored_events: Sequence[StoredEvent]) -> list[DomainEventProtocol]:
        """The relay's page: an event whose public contract reads no sealed value (``published_unopened``: a
        registration publishes ids, sex and relation) is decoded with its boxes left closed — nobody's key is read,
        no personal value is decrypted for it; the others are opened, their keys fetched in one query."""
        decoded = [(stored_event, super(SealingMapper, self).to_domain_event(stored_event))
                   for stored_event in stored_events]
        opened = [(stored_event, event) for stored_event, event in decoded if not self.published_unopened(event)]
        self.prefetch([stored_event for stored_event, _ in opened])
        for _, event in decoded:
            boxes = vars(event).pop(BOXES, ())
            if not self.published_unopened(event):
                self._open_all(event, boxes)
        return [event for _, event in decoded]

    # --- sealing: which fields, with whose key ------------------------------------------------------------

    def _emptied_state(self, event: DomainEventProtocol, boxes: _Boxes) -> dict[str, Any] | None:
        """The event's state with its personal values taken into ``boxes``; None when it has none."""
        state, event_of = dict(vars(event)), event.originator_id
        if isinstance(event, Household.Event):
            take = boxes.taker(event_of)
            for name in HOUSEHOLD_FIELDS.get(type(event), ()):
                state[name] = take(name, state[name])
            if isinstance(state.get("member"), Member):
                state["member"] = _emptied_member(boxes, "member", state["member"])
            if "members" in state:
                state["members"] = [_emptied_member(boxes, f"members.{i}", m)
                                    for i, m in enumerate(state["members"])]
            if isinstance(event, Household.MemberRemoved):
                state["nik"] = boxes.taker(event.person_id or legacy_person_id(event.nik))("nik", event.nik)
                if event.new_head_nik is not None:
                    new_head = event.new_head_id or legacy_person_id(event.new_head_nik)
                    state["new_head_nik"] = boxes.taker(new_head)("new_head_nik", event.new_head_nik)
            if isinstance(event, Household.MemberCorrected):
                take_person = boxes.taker(event.member.id if event.member else legacy_person_id(event.nik))
                state["nik"], state["reason"] = take_person("nik", event.nik), take_person("reason", event.reason)
                state["changes"] = {field: take_person(f"changes.{field}", value) if field in MEMBER_FIELDS
                                    else value for field, value in state["changes"].items()}
            return state
        if isinstance(event, Grievance.Event):
            take = boxes.taker(event_of)
            for name in GRIEVANCE_FIELDS & state.keys():
                state[name] = take(name, state[name])
            return state
        if isinstance(event, Group.Event) and {"members", "added", "removed_kk", "roles"} & state.keys():
            members = [*(state.get("members") or ()), *([state["added"]] if state.get("added") else ())]
            person_of = {m.representative_nik: m.representative for m in members}
            if state.get("members") is not None:
                state["members"] = [_emptied_group_member(boxes, f"members.{i}", m)
                                    for i, m in enumerate(state["members"])]
            if state.get("added") is not None:
                state["added"] = _emptied_group_member(boxes, "added", state["added"])
            if state.get("removed_kk") is not None:
                kk = state["removed_kk"]
                removed = state.get("removed_household_id") or legacy_household_id(kk)
                state["removed_kk"] = boxes.taker(removed)("removed_kk", kk)
            if "roles" in state:
                state["roles"] = {role: boxes.taker(person_of[nik])(f"roles.{role}", nik)
                                  for role, nik in state["roles"].items()}
            return state
        return None

    # --- opening: each box once, its values put back -------------------------------------------------------

    def _open_all(self, event: DomainEventProtocol, boxes: Iterable[dict[str, Any]]) -> None:
        for box in boxes:
            self._open(box, vars(event), event.originator_id, event.originator_version)

    def _open(self, box: dict[str, Any], state: dict[str, Any], event_of: uuid.UUID, version: int) -> None:
        holder, paths = uuid.UUID(hex=box["h"]), box["p"]
        key = self.vault.key(holder)
        if key is None:
            values = [erased(path) for path in paths]
        else:
            sealed = base64.b64decode(box["v"])
            try:
                plain = key.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:],
                                    associated_data(holder, event_of, version, paths))
            except InvalidTag:
                raise SealBroken(f"the sealed fields {', '.join(paths)} do not open under the key of {holder}: "
                                 "altered, or moved from another household, person or event") from None
            values = self.transcoder.decode(plain)
        _put_back(state, paths, values)


class _Boxes:
    """One event's personal values, taken out of its state by key holder, then sealed: one box per holder."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._boxes: dict[uuid.UUID, _Box] = {}

    def taker(self, holder: uuid.UUID) -> Callable[[str, Any], Any]:
        """Takes a value at a path into ``holder``'s box (a household's or a person's); answers what stays in its
        place in the state."""
        box = self._boxes.get(holder)
        if box is None:
            box = self._boxes[holder] = _Box(holder, self._vault.key_creating(holder))
        return box.take

    def sealed(self, transcoder: Transcoder, event_of: uuid.UUID, version: int) -> list[dict[str, Any]]:
        return [box.sealed(transcoder, event_of, version) for box in self._boxes.values() if box.paths]


class _Box:
    def __init__(self, holder: uuid.UUID, key: AESGCM | None) -> None:
        self.holder, self.key = holder, key
        self.paths: list[str] = []
        self.values: list[Any] = []

    def take(self, path: str, value: Any) -> Any:
        if value is None:
            return None
        if self.key is None:  # destroyed: what is written about an erased household or person is erased at once
            return erased(path)
        self.paths.append(path)
        self.values.append(value)
        return None

    def sealed(self, transcoder: Transcoder, event_of: uuid.UUID, version: int) -> dict[str, Any]:
        nonce = os.urandom(NONCE_BYTES)
        box = self.key.encrypt(nonce, transcoder.encode(self.values),
                               associated_data(self.holder, event_of, version, self.paths))
        return {"h": self.holder.hex, "p": self.paths, "v": base64.b64encode(nonce + box).decode("ascii")}


def _emptied_member(boxes: _Boxes, path: str, member: Member) -> Member:
    # A copy, its personal fields emptied into the person's box: dataclasses.replace would run __init__ again.
    take = boxes.taker(member.id)
    emptied = object.__new__(Member)
    vars(emptied).update(vars(member), **{field: take(f"{path}.{field}", getattr(member, field))
                                          for field in MEMBER_FIELDS})
    return emptied


def _emptied_group_member(boxes: _Boxes, path: str, member: GroupMember) -> GroupMember:
    take_household, take_person = boxes.taker(member.household), boxes.taker(member.representative)
    return GroupMember(kk=take_household(f"{path}.kk", member.kk),
                       representative_nik=take_person(f"{path}.representative_nik", member.representative_nik),
                       representative_name=take_person(f"{path}.representative_name", member.representative_name),
                       household_id=member.household_id, representative_id=member.representative_id)


def _put_back(state: dict[str, Any], paths: list[str], values: list[Any]) -> None:
    """Put each value at its path ("kk", "members.0.nik", "changes.name", "roles.ketua") of a state just decoded."""
    by_holder: dict[str, dict[str, Any]] = {}
    for path, value in zip(paths, values, strict=True):
        where, _, name = path.rpartition(".")
        by_holder.setdefault(where, {})[name] = value
    for where, named in by_holder.items():
        holder: Any = state
        for step in where.split(".") if where else ():
            holder = holder[int(step)] if isinstance(holder, list) else holder[step] if isinstance(holder, dict) \
                else getattr(holder, step)
        # A dict of the state, or a value object decoded just now, that nothing else holds yet.
        (holder if isinstance(holder, dict) else vars(holder)).update(named)
