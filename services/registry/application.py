"""Registry application: households, people and KUBE groups; the region table; the public registry events.

The registry's own read models (households, individuals, groups, group_members, regions) are written in the same
transaction as the events that change them, so a query never sees a half-applied command, and the primary keys
are the last line of defence of two rules: a NIK belongs to one household, a household to one active KUBE.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from typing import NamedTuple

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from services.registry.commands import (
    AddMember,
    ChangeDecile,
    ChangeGroupMember,
    ChangeStatus,
    CorrectMember,
    DissolveGroup,
    FormGroup,
    ImportRegions,
    MemberIn,
    RegisterHousehold,
    RemoveMember,
)
from services.registry.domain import (
    BankAccount,
    Candidate,
    Group,
    GroupMember,
    Household,
    KubeRules,
    Member,
    age_on,
    check_candidate,
    check_kind,
    eligible_representatives,
)
from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, EventData, grants
from shared.contracts import registry as public
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.ids import NIK_RE, check_kk, check_nik_matches, check_village, jakarta_today
from shared.jsonable import event_record, jsonable
from shared.keys import stable_id
from shared.regions import RegionTable
from shared.store import AuditedTable, ReadModelWrites, ServiceApplication, added_column, in_region
from shared.text import fold
from shared.vocabulary import HEAD_OF_HOUSEHOLD

PERSON_COLUMNS = ("nik", "kk", "name", "name_key", "sex", "birth_date", "relation", "marital_status", "occupation",
                  "village_code")
INSERT_PERSON = """
    INSERT INTO individuals (nik, kk, name, name_key, sex, birth_date, relation, marital_status, occupation,
                             village_code)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""
UPSERT_PERSON = INSERT_PERSON + """
    ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name, name_key = EXCLUDED.name_key, sex = EXCLUDED.sex,
        birth_date = EXCLUDED.birth_date, relation = EXCLUDED.relation, marital_status = EXCLUDED.marital_status,
        occupation = EXCLUDED.occupation"""
COUNT_MEMBERS = "UPDATE households SET member_count = %s WHERE kk = %s"
# A household as the KUBE rules see it: with the name of its active group, if any.
CANDIDATE_HOUSEHOLDS = """
    SELECT h.kk, h.household_id::text, h.village_code, h.bdt_status, h.decile, g.name AS active_group
    FROM households h LEFT JOIN group_members gm ON gm.kk = h.kk LEFT JOIN groups g ON g.group_id = gm.group_id"""
MEMBER_FIELDS = ("nik", "name", "sex", "birth_date", "relation", "marital_status", "occupation")
FOUND_PERSON = "SELECT nik, name, sex, birth_date::text, relation, kk, village_code FROM individuals"


class RegionList(Aggregate):
    """The official region list in force: its rows live in the ``regions`` table, written with these events."""

    ID = stable_id("regions", "kode-wilayah")

    @staticmethod
    def create_id() -> uuid.UUID:
        return RegionList.ID

    @event("Imported")
    def __init__(self, codes: int, sha256: str, source: str, imported_by: str) -> None:
        self.codes = codes

    @event("Reimported")
    def reimport(self, codes: int, sha256: str, source: str, imported_by: str) -> None:
        self.codes = codes


class RegistryApplication(ServiceApplication):
    service_name = "registry"
    upstreams = ("grants",)
    value_objects = (Member, GroupMember, BankAccount)
    read_model_ddl = (
        "CREATE TABLE IF NOT EXISTS regions (code text PRIMARY KEY, name text NOT NULL, level int NOT NULL)",
        """CREATE TABLE IF NOT EXISTS households (
            kk text PRIMARY KEY, household_id uuid NOT NULL, dtks_id text NOT NULL, village_code text NOT NULL,
            address text NOT NULL, decile int NOT NULL, bdt_status text NOT NULL, member_count int NOT NULL,
            fingerprint text NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS households_village ON households (village_code, kk)",
        # NIK is unique across the registry: this primary key is the last line of defence against a race.
        """CREATE TABLE IF NOT EXISTS individuals (
            nik text PRIMARY KEY, kk text NOT NULL, name text NOT NULL, name_key text NOT NULL, sex text NOT NULL,
            birth_date date NOT NULL, relation text NOT NULL, marital_status text NOT NULL,
            occupation text NOT NULL, village_code text NOT NULL)""",
        # Each person carries the household's village (a household never moves), so that a search by name within a
        # region reads one table (about twice as fast at a district's size: bench/search.py).
        added_column("individuals", "village_code", "text",
                     "UPDATE individuals i SET village_code = h.village_code FROM households h WHERE h.kk = i.kk"),
        "CREATE INDEX IF NOT EXISTS individuals_kk ON individuals (kk)",
        "CREATE INDEX IF NOT EXISTS individuals_name_key ON individuals (name_key text_pattern_ops)",
        # Any part of a name (find_people): trigrams make LIKE '%fragment%' an index scan. pg_trgm is a trusted
        # extension (PostgreSQL 13+): the database's owner, who runs this set-up, may create it.
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        "CREATE INDEX IF NOT EXISTS individuals_name_trgm ON individuals USING gin (name_key gin_trgm_ops)",
        """CREATE TABLE IF NOT EXISTS groups (
            group_id uuid PRIMARY KEY, name text NOT NULL, village_code text NOT NULL, business_type text NOT NULL,
            kind text NOT NULL, status text NOT NULL, member_count int NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS groups_village ON groups (village_code, status)",
        # Active memberships only: one row per household is the rule "at most one active KUBE per household".
        """CREATE TABLE IF NOT EXISTS group_members (
            kk text PRIMARY KEY, group_id uuid NOT NULL, representative_nik text NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS group_members_group ON group_members (group_id)",
    )

    def __init__(self, database_url: str, kube_rules: KubeRules | None = None, setup_url: str | None = None) -> None:
        super().__init__(database_url, setup_url)
        self.kube_rules = kube_rules or KubeRules()
        self._regions: tuple[int, RegionTable] | None = None

    # --- region table -------------------------------------------------------------------------------------

    def regions(self) -> RegionTable:
        """The region table in force (cached; reloaded when another replica imported a new one)."""
        version = self.query(
            f"SELECT max(originator_version) AS version FROM {self.recorder.events_table_name} "
            "WHERE originator_id = %s", (RegionList.ID,))[0]["version"]
        if version is None:
            raise Conflict("no region table yet: import the official list first (berdaya regions import FILE)",
                           rule="regions.missing")
        if self._regions is None or self._regions[0] != version:
            rows = self.query("SELECT code, name, level FROM regions")
            self._regions = (version, RegionTable((r["code"], r["name"], r["level"]) for r in rows))
        return self._regions[1]

    def import_regions(self, command: ImportRegions) -> dict:
        rows = [(row.code, row.name, row.level) for row in command.rows]
        RegionTable(rows)  # every row checked (format, level, one name per code) before anything is written
        digest = hashlib.sha256("\n".join(f"{c},{n},{lv}" for c, n, lv in sorted(rows)).encode()).hexdigest()
        try:
            regions: RegionList = self.repository.get(RegionList.ID)
            regions.reimport(codes=len(rows), sha256=digest, source=command.source, imported_by=command.imported_by)
        except AggregateNotFoundError:
            regions = RegionList(codes=len(rows), sha256=digest, source=command.source,
                                 imported_by=command.imported_by)
        writes = ReadModelWrites()
        # Codes are added or renamed, never deleted: households may still refer to a code an update dropped.
        for row in rows:
            writes.add("INSERT INTO regions (code, name, level) VALUES (%s, %s, %s) ON CONFLICT (code) DO UPDATE "
                       "SET name = EXCLUDED.name, level = EXCLUDED.level", row)
        self.record(regions, writes=writes)
        return {"codes": len(rows), "sha256": digest, "total_codes": len(self.regions())}

    def region_rows(self) -> list[dict]:
        return self.query("SELECT code, name, level FROM regions ORDER BY code")

    # --- households ---------------------------------------------------------------------------------------

    def register_households(self, commands: list[RegisterHousehold]) -> list[str]:
        """Register households in one transaction: all of them, or none (a clear error says which and why)."""
        regions = self.regions()
        for command in commands:
            check_registration(command, regions)
        households = [household_from(command) for command in commands]
        self._check_unregistered(households)
        try:
            self.record(*households, writes=registration_writes(commands, households))
        except IntegrityError:
            self._check_unregistered(households)  # a concurrent registration won: say which one
            raise
        return [str(household.id) for household in households]

    def import_households(self, commands: list[RegisterHousehold]) -> dict:
        """The BDT import's batch: new households registered, identical ones unchanged, the rest rejected.

        Idempotent: re-importing a file registers nothing twice; a KK registered with different data is
        rejected (an import never overwrites: corrections are explicit commands with a reason).
        """
        regions = self.regions()
        rejected: list[dict] = []
        valid: list[RegisterHousehold] = []
        for command in commands:
            try:
                check_registration(command, regions)
                valid.append(command)
            except ValidationFailed as refused:
                rejected.append({"kk": command.kk, "reason": refused.message})
        known = {row["kk"]: row["fingerprint"] for row in self.query(
            "SELECT kk, fingerprint FROM households WHERE kk = ANY(%s)", ([c.kk for c in valid],))}
        unchanged = [c for c in valid if known.get(c.kk) == fingerprint(c)]
        for command in valid:
            if command.kk in known and known[command.kk] != fingerprint(command):
                rejected.append({"kk": command.kk, "reason": f"KK {command.kk} is already registered with other "
                                                             "data; correct it with a command, not an import"})
        new = [c for c in valid if c.kk not in known]
        clashes = self._nik_clashes(new)
        for command in new:
            if command.kk in clashes:
                rejected.append({"kk": command.kk, "reason": clashes[command.kk]})
        new = [c for c in new if c.kk not in clashes]
        if new:
            try:
                self.register_households(new)
            except (Conflict, IntegrityError):
                # A concurrent writer took a KK or NIK between our checks and our commit: go one by one.
                return self._import_one_by_one(new, rejected, len(unchanged))
        return {"imported": len(new), "individuals": sum(len(c.members) for c in new), "unchanged": len(unchanged),
                "rejected": rejected}

    def _import_one_by_one(self, commands: list[RegisterHousehold], rejected: list[dict], unchanged: int) -> dict:
        imported = individuals = 0
        for command in commands:
            try:
                self.register_households([command])
                imported, individuals = imported + 1, individuals + len(command.members)
            except (Conflict, IntegrityError) as refused:
                rejected.append({"kk": command.kk, "reason": str(getattr(refused, "message", refused))})
        return {"imported": imported, "individuals": individuals, "unchanged": unchanged, "rejected": rejected}

    def _nik_clashes(self, commands: list[RegisterHousehold]) -> dict[str, str]:
        """KK → reason, for households sharing a NIK with a registered household or another in the batch."""
        owner: dict[str, str] = {}
        clashes: dict[str, str] = {}
        for command in commands:
            for member in command.members:
                if member.nik in owner and owner[member.nik] != command.kk:
                    reason = _duplicate_nik(member.nik, owner[member.nik], command.kk).message
                    clashes[command.kk] = clashes[owner[member.nik]] = reason
                owner.setdefault(member.nik, command.kk)
        for row in self.query("SELECT nik, kk FROM individuals WHERE nik = ANY(%s)", (list(owner),)):
            clashes[owner[row["nik"]]] = _duplicate_nik(row["nik"], row["kk"], owner[row["nik"]]).message
        return clashes

    def _check_unregistered(self, households: list[Household]) -> None:
        taken = self.query("SELECT kk FROM households WHERE kk = ANY(%s)", ([h.kk for h in households],))
        if taken:
            raise Conflict(f"KK {taken[0]['kk']} is already registered", field="kk", rule="household.registered",
                           kk=taken[0]["kk"])
        owner_in_batch: dict[str, str] = {}
        for household in households:
            for member in household.members:
                if member.nik in owner_in_batch:
                    raise _duplicate_nik(member.nik, owner_in_batch[member.nik], household.kk)
                owner_in_batch[member.nik] = household.kk
        self._check_niks_free(owner_in_batch)

    def _check_niks_free(self, owners: dict[str, str]) -> None:
        clashes = self.query("SELECT nik, kk FROM individuals WHERE nik = ANY(%s)", (list(owners),))
        if clashes:
            nik, registered_kk = clashes[0]["nik"], clashes[0]["kk"]
            raise _duplicate_nik(nik, registered_kk, owners[nik])

    def add_member(self, command: AddMember) -> None:
        regions = self.regions()
        check_member(command.member, regions)
        self._check_niks_free({command.member.nik: command.kk})

        def change(household: Household, writes: ReadModelWrites) -> None:
            member = Member(**command.member.model_dump())
            household.add_member(member, reason=command.reason, by=command.by)
            writes.add(INSERT_PERSON, person_row(member, household))
            writes.add(COUNT_MEMBERS, (len(household.members), household.kk))

        self._change_household(command.kk, change)

    def remove_member(self, command: RemoveMember) -> None:
        def change(household: Household, writes: ReadModelWrites) -> None:
            household.remove_member(command.nik, reason=command.reason, by=command.by,
                                    new_head_nik=command.new_head_nik)
            writes.add("DELETE FROM individuals WHERE nik = %s", (command.nik,))
            if command.new_head_nik:
                writes.add("UPDATE individuals SET relation = 'Kepala Keluarga' WHERE nik = %s",
                           (command.new_head_nik,))
            writes.add(COUNT_MEMBERS, (len(household.members), household.kk))

        self._change_household(command.kk, change)

    def correct_member(self, command: CorrectMember) -> None:
        changes = command.changed_fields()
        if not changes:
            raise ValidationFailed("changes", "correction.empty", "name at least one field to correct")
        regions = self.regions()

        def change(household: Household, writes: ReadModelWrites) -> None:
            household.correct_member(command.nik, changes, reason=command.reason, by=command.by)
            corrected = household.member(command.nik)
            check_nik_matches(corrected.nik, corrected.sex, corrected.birth_date, regions)
            writes.add(UPSERT_PERSON, person_row(corrected, household))

        self._change_household(command.kk, change)

    def change_status(self, command: ChangeStatus) -> None:
        def change(household: Household, writes: ReadModelWrites) -> None:
            household.change_status(command.status, reason=command.reason, by=command.by)
            writes.add("UPDATE households SET bdt_status = %s WHERE kk = %s", (command.status, household.kk))

        self._change_household(command.kk, change)

    def change_decile(self, command: ChangeDecile) -> None:
        def change(household: Household, writes: ReadModelWrites) -> None:
            household.change_decile(command.decile, by=command.by)
            writes.add("UPDATE households SET decile = %s WHERE kk = %s", (command.decile, household.kk))

        self._change_household(command.kk, change)

    def _change_household(self, kk: str, change: Callable[[Household, ReadModelWrites], None]) -> None:
        self._retrying(lambda: self._load_household(kk), change)

    def _retrying(self, load: Callable[[], Aggregate], change: Callable[[Aggregate, ReadModelWrites], None]) -> None:
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            aggregate = load()
            change(aggregate, writes)
            return [aggregate]

        self.record_retrying(attempt)

    def _load_household(self, kk: str) -> Household:
        try:
            return self.repository.get(Household.create_id(check_kk_shape(kk)))
        except AggregateNotFoundError:
            raise NotFound(f"no household with KK {kk}", field="kk", kk=kk) from None

    # --- KUBE groups --------------------------------------------------------------------------------------

    def form_group(self, command: FormGroup) -> str:
        regions = self.regions()
        check_village(command.village_code, regions)
        members = self._group_members(command.members)
        today = jakarta_today()
        group = Group.form(
            name=command.name, village_code=command.village_code, business_type=command.business_type,
            kind=command.kind, members=members, roles=dict(command.roles),
            bank_account=BankAccount(**command.bank_account.model_dump()), sk_kades=command.sk_kades,
            formed_by=command.formed_by, rules=self.kube_rules,
        )
        for candidate, member in zip(self._candidates(members), members, strict=True):
            check_candidate(candidate, command.village_code, command.kind, self.kube_rules, today,
                            member.representative_nik)
        writes = ReadModelWrites()
        writes.add("INSERT INTO groups (group_id, name, village_code, business_type, kind, status, member_count) "
                   "VALUES (%s, %s, %s, %s, %s, 'formed', %s)",
                   (group.id, group.name, group.village_code, group.business_type, group.kind, len(members)))
        for member in members:
            writes.add("INSERT INTO group_members (kk, group_id, representative_nik) VALUES (%s, %s, %s)",
                       (member.kk, group.id, member.representative_nik))
        try:
            self.record(group, writes=writes)
        except IntegrityError:
            # Another group took one of these households between our check and our commit.
            for candidate, member in zip(self._candidates(members), members, strict=True):
                check_candidate(candidate, command.village_code, command.kind, self.kube_rules, today,
                                member.representative_nik)
            raise
        return str(group.id)

    def change_group_member(self, command: ChangeGroupMember) -> None:
        added = self._group_members([command.added])[0] if command.added else None
        today = jakarta_today()

        def change(group: Group, writes: ReadModelWrites) -> None:
            if added is not None:
                candidate = self._candidates([added])[0]
                check_candidate(candidate, group.village_code, group.kind, self.kube_rules, today,
                                added.representative_nik)
            group.change_member(command.removed_kk, added, reason=command.reason, by=command.by,
                                rules=self.kube_rules)
            if command.removed_kk:
                writes.add("DELETE FROM group_members WHERE kk = %s AND group_id = %s", (command.removed_kk, group.id))
            if added is not None:
                writes.add("INSERT INTO group_members (kk, group_id, representative_nik) VALUES (%s, %s, %s)",
                           (added.kk, group.id, added.representative_nik))
            writes.add("UPDATE groups SET member_count = %s WHERE group_id = %s", (len(group.members), group.id))

        self._retrying(lambda: self._load_group(command.group_id), change)

    def dissolve_group(self, command: DissolveGroup) -> None:
        def change(group: Group, writes: ReadModelWrites) -> None:
            group.dissolve(reason=command.reason, by=command.by)
            writes.add("DELETE FROM group_members WHERE group_id = %s", (group.id,))
            writes.add("UPDATE groups SET status = 'dissolved' WHERE group_id = %s", (group.id,))

        self._retrying(lambda: self._load_group(command.group_id), change)

    def _load_group(self, group_id: str) -> Group:
        try:
            aggregate = self.repository.get(uuid.UUID(group_id))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"no KUBE with id {group_id}", field="group_id", group_id=group_id) from None
        if not isinstance(aggregate, Group):
            raise NotFound(f"no KUBE with id {group_id}", field="group_id", group_id=group_id)
        return aggregate

    def _group_members(self, members_in: Iterable) -> list[GroupMember]:
        members = []
        for member_in in members_in:
            row = self.query("SELECT name FROM individuals WHERE nik = %s AND kk = %s",
                             (member_in.representative_nik, member_in.kk))
            members.append(GroupMember(kk=member_in.kk, representative_nik=member_in.representative_nik,
                                       representative_name=row[0]["name"] if row else ""))
        return members

    def _candidates(self, members: list[GroupMember]) -> list[Candidate]:
        households = {r["kk"]: r for r in self.query(CANDIDATE_HOUSEHOLDS + " WHERE h.kk = ANY(%s)",
                                                     ([m.kk for m in members],))}
        people = {r["nik"]: r for r in self.query(
            f"SELECT kk, {', '.join(MEMBER_FIELDS)} FROM individuals WHERE nik = ANY(%s)",
            ([m.representative_nik for m in members],))}
        candidates = []
        for member in members:
            household = households.get(member.kk)
            if household is None:
                raise NotFound(f"no household with KK {member.kk}", field="kk", kk=member.kk)
            person = people.get(member.representative_nik)
            candidates.append(candidate(household, member_of(person) if person and person["kk"] == member.kk
                                        else None))
        return candidates

    def group_candidates(self, village_code: str, kind: str = "perempuan") -> list[dict]:
        """Every household of a village for forming a KUBE of this kind: who may represent it today, or the rule
        that keeps it out."""
        check_village(village_code, self.regions())
        check_kind(kind)
        today = jakarta_today()
        members: dict[str, list[Member]] = {}
        for row in self.query(f"SELECT kk, {', '.join(MEMBER_FIELDS)} FROM individuals WHERE village_code = %s "
                              "ORDER BY kk, relation <> %s, birth_date, nik", (village_code, HEAD_OF_HOUSEHOLD)):
            members.setdefault(row["kk"], []).append(member_of(row))
        listed = []
        for household in self.query(CANDIDATE_HOUSEHOLDS + " WHERE h.village_code = %s ORDER BY h.kk",
                                    (village_code,)):
            people = members[household["kk"]]
            eligible, refusal = eligible_representatives(candidate(household, None), people, village_code, kind,
                                                         self.kube_rules, today)
            listed.append({
                "kk": household["kk"], "household_id": household["household_id"], "decile": household["decile"],
                "bdt_status": household["bdt_status"], "active_group": household["active_group"],
                "members": [{"nik": m.nik, "name": m.name, "sex": m.sex, "birth_date": m.birth_date.isoformat(),
                             "age": age_on(m.birth_date, today), "relation": m.relation,
                             "occupation": m.occupation} for m in people],
                "eligible": [{"nik": m.nik, "name": m.name, "age": age_on(m.birth_date, today)} for m in eligible],
                "excluded": None if refusal is None else {"rule": refusal.rule, "message": refusal.message,
                                                          "details": refusal.details},
            })
        return listed

    # --- grants events ------------------------------------------------------------------------------------

    @handles("grants.proposal.approved")
    def on_proposal_approved(self, data: grants.ProposalApprovedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        group: Group = unit.get(data.group_id)
        group.mark_funded(proposal_id=data.proposal_id, amount_rp=data.amount_rp)
        unit.writes.add("UPDATE groups SET status = 'funded' WHERE group_id = %s", (data.group_id,))

    # --- queries ------------------------------------------------------------------------------------------

    def household(self, kk: str) -> dict | None:
        try:
            household = self._load_household(kk)
        except NotFound:
            return None
        group = self.query("SELECT g.group_id::text, g.name FROM group_members gm JOIN groups g USING (group_id) "
                           "WHERE gm.kk = %s", (kk,))
        return {
            "household_id": str(household.id), "kk": household.kk, "dtks_id": household.dtks_id,
            "village_code": household.village_code, "address": household.address, "decile": household.decile,
            "bdt_status": household.bdt_status, "members": jsonable(household.members),
            "active_group": group[0] if group else None,
        }

    def household_history(self, kk: str) -> list[dict]:
        household_id = self._load_household(kk).id
        return [event_record(e) for e in self.events.get(household_id)]

    def person(self, nik: str) -> dict | None:
        rows = self.query("SELECT i.nik, i.name, i.sex, i.birth_date::text, i.relation, i.marital_status, "
                          "i.occupation, i.kk, h.village_code, h.bdt_status, h.decile FROM individuals i "
                          "JOIN households h USING (kk) WHERE i.nik = %s", (nik,))
        return rows[0] if rows else None

    def households_in(self, village_code: str, page: int = 1, size: int = 50) -> dict:
        return self.page("SELECT kk, household_id::text, dtks_id, village_code, address, decile, bdt_status, "
                         "member_count FROM households WHERE village_code = %s ORDER BY kk", (village_code,),
                         page, size)

    def search_people(self, name_prefix: str, village_code: str | None = None, page: int = 1,
                      size: int = 50) -> dict:
        key = fold(name_prefix)
        if len(key) < 2:
            raise ValidationFailed("name", "search.prefix", "give at least two letters of the name")
        sql = ("SELECT i.nik, i.name, i.sex, i.birth_date::text, i.relation, i.kk, h.village_code FROM individuals i "
               "JOIN households h USING (kk) WHERE i.name_key LIKE %s")
        params: tuple = (like_escaped(key) + "%",)
        if village_code:
            sql, params = sql + " AND h.village_code = %s", (*params, village_code)
        return self.page(sql + " ORDER BY i.name_key, i.nik", params, page, size)

    def find_people(self, query: str, region: str | None = None, page: int = 1, size: int = 20) -> dict:
        """The desk's search: a NIK or KK (16 digits: the household's every member), else any part of a name.
        The households of the page's people only are read, after ranking."""
        search = people_search(query, region)
        found = self.page(search.sql, search.params, page, size, search.order, search.order_params)
        households = {row["kk"]: row for row in self.query(
            "SELECT kk, decile, bdt_status, household_id::text FROM households WHERE kk = ANY(%s)",
            ([person["kk"] for person in found["items"]],))}
        found["items"] = [{**person, **households[person["kk"]]} for person in found["items"]]
        return found

    def group(self, group_id: str) -> dict:
        group = self._load_group(group_id)
        return {
            "group_id": str(group.id), "name": group.name, "village_code": group.village_code,
            "business_type": group.business_type, "kind": group.kind, "status": group.status,
            "members": jsonable(group.members), "roles": group.roles, "bank_account": jsonable(group.bank_account),
            "sk_kades": group.sk_kades,
        }

    def groups(self, village_code: str | None = None, status: str | None = None, page: int = 1,
               size: int = 50) -> dict:
        where, params = in_region("village_code", village_code)
        sql = ("SELECT group_id::text, name, village_code, business_type, kind, status, member_count FROM groups "
               f"WHERE {where}")
        if status:
            sql, params = sql + " AND status = %s", (*params, status)
        return self.page(sql + " ORDER BY village_code, name", params, page, size)

    def counts(self) -> dict:
        row = self.query("SELECT (SELECT count(*) FROM households) AS households, "
                         "(SELECT count(*) FROM individuals) AS individuals, "
                         "(SELECT count(*) FROM groups WHERE status <> 'dissolved') AS active_groups")[0]
        return {key: int(value) for key, value in row.items()}

    def dashboard(self, region: str | None = None) -> list[dict]:
        """Per village of the region with a household or a group: its households, and its groups by status."""
        where, params = in_region("village_code", region)
        villages: dict[str, dict] = {}

        def village(code: str) -> dict:
            return villages.setdefault(code, {"village_code": code, "households": 0, "groups": {}})

        for row in self.query(f"SELECT village_code, count(*) AS n FROM households WHERE {where} "
                              "GROUP BY village_code", params):
            village(row["village_code"])["households"] = row["n"]
        for row in self.query(f"SELECT village_code, status, count(*) AS n FROM groups WHERE {where} "
                              "GROUP BY village_code, status", params):
            village(row["village_code"])["groups"][row["status"]] = row["n"]
        return [villages[code] for code in sorted(villages)]

    # --- public events ------------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        mapper = PUBLIC_EVENTS.get(type(domain_event))
        if mapper is None:
            raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
        return mapper(self, domain_event)


def check_kk_shape(kk: str) -> str:
    if not isinstance(kk, str) or len(kk) != 16 or not kk.isdigit():
        raise ValidationFailed("kk", "kk.format", f"KK {kk!r} must be exactly 16 digits", kk=kk)
    return kk


def like_escaped(text: str) -> str:
    """Text matched literally inside a LIKE pattern (backslash is LIKE's default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Search(NamedTuple):
    sql: str
    params: tuple
    order: str
    order_params: tuple


def people_search(query: str, region: str | None) -> Search:
    """find_people's query. A name fragment is folded like name_key and matched anywhere in it (LIKE '%…%', which
    the trigram index serves); ranked: the whole name, its start, a word's start, elsewhere — then by trigram
    similarity, name and NIK."""
    where, region_params = in_region("village_code", region)
    number = "".join(query.split())
    if NIK_RE.fullmatch(number):
        return Search(f"{FOUND_PERSON} WHERE (nik = %s OR kk = %s) AND {where}", (number, number, *region_params),
                      "ORDER BY kk, relation <> %s, birth_date, nik", (HEAD_OF_HOUSEHOLD,))
    key = fold(query)
    if len(key) < 2:
        # Not the query in the message: refusals are logged, and a name is personal data.
        raise ValidationFailed("q", "search.too_short", "give at least two letters of the name, or a 16-digit NIK "
                                                        "or KK", min_length=2)
    escaped = like_escaped(key)
    return Search(f"{FOUND_PERSON} WHERE name_key LIKE %s AND {where}", (f"%{escaped}%", *region_params),
                  "ORDER BY CASE WHEN name_key = %s THEN 0 WHEN name_key LIKE %s THEN 1 WHEN name_key LIKE %s THEN 2 "
                  "ELSE 3 END, similarity(name_key, %s) DESC, name, nik", (key, f"{escaped}%", f"% {escaped}%", key))


def member_of(row: dict) -> Member:
    return Member(**{field: row[field] for field in MEMBER_FIELDS})


def candidate(household: dict, representative: Member | None) -> Candidate:
    return Candidate(kk=household["kk"], village_code=household["village_code"], bdt_status=household["bdt_status"],
                     decile=household["decile"], representative=representative,
                     active_group=household["active_group"])


def check_registration(command: RegisterHousehold, regions: RegionTable) -> None:
    """Identifiers against the region table: the KK's region, the village, every NIK with its sex and birth."""
    check_kk(command.kk, regions)
    check_village(command.village_code, regions)
    for member in command.members:
        check_member(member, regions)


def check_member(member: MemberIn, regions: RegionTable) -> None:
    if member.birth_date > jakarta_today():
        raise ValidationFailed("birth_date", "member.birth_date_future",
                               f"birth date {member.birth_date} of NIK {member.nik} is in the future", nik=member.nik)
    check_nik_matches(member.nik, member.sex, member.birth_date, regions)


def fingerprint(command: RegisterHousehold) -> str:
    """What an import compares to decide 'unchanged': the registration's data, not who sent it."""
    data = command.model_dump(mode="json", exclude={"registered_by"})
    data["members"] = sorted(data["members"], key=lambda member: member["nik"])
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def household_from(command: RegisterHousehold) -> Household:
    return Household.register(
        kk=command.kk, dtks_id=command.dtks_id, village_code=command.village_code, address=command.address,
        decile=command.decile, members=[Member(**member.model_dump()) for member in command.members],
        registered_by=command.registered_by,
    )


def person_row(member: Member, household: Household) -> tuple:
    return (member.nik, household.kk, member.name, fold(member.name), member.sex, member.birth_date, member.relation,
            member.marital_status, member.occupation, household.village_code)


def registration_writes(commands: list[RegisterHousehold], households: list[Household]) -> ReadModelWrites:
    writes = ReadModelWrites()
    for household in households:
        for member in household.members:
            writes.insert("individuals", dict(zip(PERSON_COLUMNS, person_row(member, household), strict=True)))
    for command, household in zip(commands, households, strict=True):
        writes.insert("households", {
            "kk": household.kk, "household_id": household.id, "dtks_id": household.dtks_id,
            "village_code": household.village_code, "address": household.address, "decile": household.decile,
            "bdt_status": "active", "member_count": len(household.members), "fingerprint": fingerprint(command)})
    return writes


def _duplicate_nik(nik: str, first_kk: str, second_kk: str) -> Conflict:
    return Conflict(
        f"NIK {nik} is in household {first_kk} and in household {second_kk}: a NIK belongs to one household",
        field="nik", nik=nik, kks=[first_kk, second_kk],
    )


def _public_member(member: Member) -> public.MemberV1:
    return public.MemberV1(nik=member.nik, name=member.name, sex=member.sex, birth_date=member.birth_date,
                           relation=member.relation)


def _public_group_member(member: GroupMember) -> public.GroupMemberV1:
    return public.GroupMemberV1(kk=member.kk, representative_nik=member.representative_nik,
                                representative_name=member.representative_name)


def _household_at(app: RegistryApplication, domain_event) -> Household:
    """The household as this event left it (its KK and village travel with every household event)."""
    return app.repository.get(domain_event.originator_id, version=domain_event.originator_version)


def _group_at(app: RegistryApplication, domain_event) -> Group:
    return app.repository.get(domain_event.originator_id, version=domain_event.originator_version)


def _member_corrected(app: RegistryApplication, e) -> EventData:
    household = _household_at(app, e)
    return public.HouseholdMemberCorrectedV1(household_id=e.originator_id, kk=household.kk,
                                             member=_public_member(household.member(e.nik)),
                                             corrected_fields=sorted(e.changes), reason=e.reason, by=e.by)


PUBLIC_EVENTS: dict[type, Callable[[RegistryApplication, object], EventData]] = {
    RegionList.Imported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                 imported_by=e.imported_by),
    RegionList.Reimported: lambda app, e: public.RegionsImportedV1(codes=e.codes, sha256=e.sha256, source=e.source,
                                                                   imported_by=e.imported_by),
    Household.Registered: lambda app, e: public.HouseholdRegisteredV1(
        household_id=e.originator_id, kk=e.kk, dtks_id=e.dtks_id, village_code=e.village_code, decile=e.decile,
        bdt_status="active", members=[_public_member(m) for m in e.members], registered_by=e.registered_by),
    Household.MemberAdded: lambda app, e: public.HouseholdMemberAddedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, village_code=_household_at(app, e).village_code,
        member=_public_member(e.member), reason=e.reason, by=e.by),
    Household.MemberRemoved: lambda app, e: public.HouseholdMemberRemovedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, nik=e.nik, reason=e.reason,
        new_head_nik=e.new_head_nik, by=e.by),
    Household.MemberCorrected: _member_corrected,
    Household.StatusChanged: lambda app, e: public.HouseholdStatusChangedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, bdt_status=e.status, reason=e.reason, by=e.by),
    Household.DecileChanged: lambda app, e: public.HouseholdDecileChangedV1(
        household_id=e.originator_id, kk=_household_at(app, e).kk, decile=e.decile, by=e.by),
    Group.Formed: lambda app, e: public.GroupFormedV1(
        group_id=e.originator_id, name=e.name, village_code=e.village_code, business_type=e.business_type,
        kind=e.kind, members=[_public_group_member(m) for m in e.members], roles=e.roles, formed_by=e.formed_by),
    Group.MemberChanged: lambda app, e: public.GroupMemberChangedV1(
        group_id=e.originator_id, removed_kk=e.removed_kk,
        added=_public_group_member(e.added) if e.added else None,
        members=[_public_group_member(m) for m in _group_at(app, e).members], roles=e.roles, reason=e.reason,
        by=e.by),
    Group.Funded: lambda app, e: public.GroupFundedV1(group_id=e.originator_id, proposal_id=e.proposal_id,
                                                      amount_rp=e.amount_rp),
    Group.Dissolved: lambda app, e: public.GroupDissolvedV1(group_id=e.originator_id, reason=e.reason, by=e.by),
}



RegistryApplication.audited_tables = (
    AuditedTable("households", ("kk", "household_id", "village_code", "decile", "bdt_status", "member_count"),
                 lambda aggregates: ((h.kk, h.id, h.village_code, h.decile, h.bdt_status, len(h.members))
                                     for h in aggregates if isinstance(h, Household))),
    AuditedTable("individuals", ("nik", "kk", "name", "relation"),
                 lambda aggregates: ((m.nik, h.kk, m.name, m.relation)
                                     for h in aggregates if isinstance(h, Household) for m in h.members)),
    AuditedTable("groups", ("group_id", "name", "status", "member_count"),
                 lambda aggregates: ((g.id, g.name, g.status, len(g.members))
                                     for g in aggregates if isinstance(g, Group))),
    AuditedTable("group_members", ("kk", "group_id", "representative_nik"),
                 lambda aggregates: ((m.kk, g.id, m.representative_nik)
                                     for g in aggregates if isinstance(g, Group) and g.is_active for m in g.members)),
)
