"""A newer DTSEN/DTKS file applied to the households the registry knows, and the review queue of the changes held
for a person (``updates`` decides which).

Each known household that the file lists otherwise is changed in its own transaction: the changes that apply at
once as the household's own events (the same events as a change at the desk, ``by`` the importing operator, a
correction's, move's or status change's reason naming the file), the held ones as :class:`HeldChange` aggregates,
its read-model rows, and its registration fingerprint set to the file's — so the same file again finds it
unchanged. A household whose changes the domain refuses (a new head arriving from outside, a NIK registered
elsewhere) is reported and left as it was. Each batch ends with the file's ``BdtFile.Applied``: which households
changed, and how.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

from eventsourcing.application import AggregateNotFoundError

from services.registry.commands import BdtSource, DecideHeldChange, ListedHousehold
from services.registry.domain import Household, Member, check_keeper
from services.registry.readmodel import COUNT_MEMBERS, INSERT_PERSON, UPSERT_PERSON, fingerprint, person_row
from services.registry.updates import (
    BdtFile,
    Change,
    HeldChange,
    KubeStanding,
    Listing,
    Source,
    apply,
    change_of,
    differences,
    held_because,
    held_detail,
)
from shared.actor import Actor
from shared.errors import Conflict, NotFound, RuleViolated, ValidationFailed
from shared.reads import ReadBy
from shared.store import ReadModelWrites, in_region

HELD_CHANGES_DDL = (
    """CREATE TABLE IF NOT EXISTS held_changes (
        change_id uuid PRIMARY KEY, household_id uuid NOT NULL, kk text NOT NULL, village_code text NOT NULL,
        kind text NOT NULL, detail jsonb NOT NULL, rule text NOT NULL, file_name text NOT NULL,
        file_date date NOT NULL, held_at timestamptz NOT NULL, decision text, decided_by text)""",
    "CREATE INDEX IF NOT EXISTS held_changes_pending ON held_changes (village_code) WHERE decision IS NULL",
)
KUBE_STANDINGS = """
    SELECT gm.kk, g.name, gm.representative_nik FROM group_members gm JOIN groups g USING (group_id)
    WHERE gm.kk = ANY(%s)"""
PENDING = """
    SELECT c.change_id::text, c.household_id::text, c.kk, c.village_code, c.kind, c.detail, c.rule, c.file_name,
           c.file_date::text, c.held_at, h.decile, h.bdt_status, g.name AS group_name, i.name AS person_name
    FROM held_changes c JOIN households h USING (household_id)
    LEFT JOIN group_members gm ON gm.kk = c.kk LEFT JOIN groups g ON g.group_id = gm.group_id
    LEFT JOIN individuals i ON i.person_id = (c.detail->>'person_id')::uuid
    WHERE c.decision IS NULL AND {where} ORDER BY c.held_at, c.change_id"""
REFUSALS = (RuleViolated, Conflict, ValidationFailed, NotFound)


class RegistryUpdates:
    """The DTSEN/DTKS update commands and the review queue, mixed into RegistryApplication."""

    def update_households(self, commands: list[ListedHousehold], source: BdtSource, actor: Actor) -> dict:
        """Apply the file's differences to these known households; answers the batch's report."""
        file = Source(source.name, source.file_date, source.sha256)
        standings = {row["kk"]: KubeStanding(row["name"], row["representative_nik"])
                     for row in self.query(KUBE_STANDINGS, ([c.kk for c in commands],))}
        report = {"households_changed": 0, "changes": Counter(), "held_for_review": 0, "unchanged": 0, "rejected": []}
        changed: dict[str, list[str]] = {}
        held: dict[str, list[str]] = {}
        for command in commands:
            try:
                household_id, applied, waiting = self.decide_retrying(
                    lambda writes, command=command: self._update_household(
                        command, actor, file, standings.get(command.kk, KubeStanding(None, None)), writes))
            except REFUSALS as refused:
                report["rejected"].append({"kk": command.kk, "reason": refused.message})
                continue
            if applied:
                changed[household_id] = applied
                report["changes"].update(applied)
            if waiting:
                held[household_id] = waiting
                report["held_for_review"] += len(waiting)
            report["households_changed" if applied or waiting else "unchanged"] += 1
        if changed or held:
            self._file_applied(file, changed, held, actor.user)
        return report

    def _update_household(self, command: ListedHousehold, actor: Actor, file: Source, standing: KubeStanding,
                          writes: ReadModelWrites) -> tuple[list, tuple[str, list[str], list[str]]]:
        household = self._load_household(command.kk)
        check_keeper(actor, household.village_code, "update a household from a DTSEN file")
        check_keeper(actor, command.village_code, "move a household into this village")
        listing = Listing(kk=command.kk, village_code=command.village_code, address=command.address,
                          decile=command.decile, status=command.status, status_reason=command.status_reason,
                          members=tuple(Member(**m.model_dump()) for m in command.members))
        applied: list[str] = []
        holds: list[HeldChange] = []
        for change in differences(household, listing):
            rule = held_because(change, standing, self.kube_rules)
            if rule is None:
                if change.kind == "member_added":
                    self._check_niks_free({change.nik: household.kk}, actor)
                apply(household, change, file, by=actor.user)
                change_writes(change, household, writes)
                applied.append(change.kind)
                continue
            detail = held_detail(change, household)
            change_id = HeldChange.create_id(file.sha256, household.id, change.kind, detail)
            if change_id not in self.repository:
                holds.append(self._hold(change, detail, rule, household, file, actor.user, writes))
        writes.add("UPDATE households SET fingerprint = %s WHERE kk = %s", (fingerprint(command), household.kk))
        return [household, *holds], (str(household.id), applied, [h.kind for h in holds])

    def _hold(self, change: Change, detail: dict, rule: str, household: Household, file: Source, by: str,
              writes: ReadModelWrites) -> HeldChange:
        held = HeldChange(sha256=file.sha256, household_id=household.id, kind=change.kind, detail=detail, rule=rule,
                          file_name=file.name, file_date=file.file_date, village_code=household.village_code, by=by)
        writes.add("INSERT INTO held_changes (change_id, household_id, kk, village_code, kind, detail, rule, "
                   "file_name, file_date, held_at) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, now())",
                   (held.id, household.id, household.kk, household.village_code, held.kind,
                    json.dumps(detail, sort_keys=True), rule, file.name, file.file_date))
        return held

    def _file_applied(self, file: Source, changed: dict, held: dict, by: str) -> None:
        def attempt(writes: ReadModelWrites) -> list[BdtFile]:
            try:
                record: BdtFile = self.repository.get(BdtFile.create_id(file.sha256))
            except AggregateNotFoundError:
                record = BdtFile(sha256=file.sha256, name=file.name, file_date=file.file_date)
            record.applied(changes=changed, held=held, by=by)
            return [record]

        self.record_retrying(attempt)

    # --- the review queue ---------------------------------------------------------------------------------

    def held_changes(self, reader: ReadBy, region: str | None = None) -> list[dict]:
        """The changes waiting for a person in the reader's region (or the part of it asked for), oldest first."""
        scope = region if region and reader.actor.covers(region) else reader.actor.region
        where, params = in_region("c.village_code", scope)
        rows = self.query(PENDING.format(where=where), params)
        self.access_log.record(reader, "held_changes", households=[row["household_id"] for row in rows],
                               returned=len(rows))
        return [{**row, "held_at": row["held_at"].isoformat()} for row in rows]

    def decide_held_change(self, command: DecideHeldChange) -> dict:
        """Confirm (the change applies to the household as it is now) or reject (nothing changes) a held change."""
        actor = command.actor

        def attempt(writes: ReadModelWrites) -> list:
            held = self._load_held(command.change_id)
            check_keeper(actor, held.village_code, "decide a held DTSEN change")
            held.decide(command.decision, by=actor.user)
            writes.add("UPDATE held_changes SET decision = %s, decided_by = %s WHERE change_id = %s",
                       (command.decision, actor.user, held.id))
            if command.decision == "rejected":
                return [held]
            household: Household = self.repository.get(held.household_id)
            change = change_of(held.kind, held.detail, household)
            apply(household, change, Source(held.file_name, held.file_date, held.sha256), by=actor.user)
            change_writes(change, household, writes)
            return [held, household]

        self.record_retrying(attempt)
        return {"change_id": str(command.change_id), "decision": command.decision}

    def _load_held(self, change_id: str) -> HeldChange:
        try:
            held = self.repository.get(uuid.UUID(str(change_id)))
        except (ValueError, AggregateNotFoundError):
            held = None
        if not isinstance(held, HeldChange):
            raise NotFound(f"no held change {change_id}", field="change_id", change_id=str(change_id))
        return held


def change_writes(change: Change, household: Household, writes: ReadModelWrites) -> None:
    """The read-model rows a change of ``household`` (already applied to it) rewrites."""
    kk = household.kk
    if change.kind == "member_removed":
        writes.add("DELETE FROM individuals WHERE nik = %s", (change.nik,))
        if change.new_head_nik:
            writes.add("UPDATE individuals SET relation = 'Kepala Keluarga' WHERE nik = %s", (change.new_head_nik,))
    elif change.kind == "member_added":
        writes.add(INSERT_PERSON, person_row(household.member(change.nik), household))
    elif change.kind == "member_corrected":
        writes.add(UPSERT_PERSON, person_row(household.member(change.nik), household))
    elif change.kind == "household_moved":
        writes.add("UPDATE households SET village_code = %s, address = %s WHERE kk = %s",
                   (household.village_code, household.address, kk))
        writes.add("UPDATE individuals SET village_code = %s WHERE kk = %s", (household.village_code, kk))
    elif change.kind == "decile_changed":
        writes.add("UPDATE households SET decile = %s WHERE kk = %s", (household.decile, kk))
    else:
        writes.add("UPDATE households SET bdt_status = %s WHERE kk = %s", (household.bdt_status, kk))
    if change.kind in ("member_removed", "member_added"):
        writes.add(COUNT_MEMBERS, (len(household.members), kk))
