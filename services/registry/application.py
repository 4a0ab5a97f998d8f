"""Registry application: the commands on households, people, KUBE groups and the region table — each loads what
it needs, lets the domain decide, and records the new events with their read-model rows in one transaction.

What a command reads besides the aggregate it changes (the region table, registered KKs and NIKs, a household's
standing) comes through ``self.facts`` (the port in ``facts``), so the commands also run in memory.

RegistryApplication is also what the service reads and consumes through: it inherits the erasure commands
(``erasure.RegistryErasure``), the grievances (``grievances.RegistryGrievances``), the reads
(``queries.RegistryQueries``) and the projections of upstream events (``readmodel.RegistryReadModel``); the tables
are in ``readmodel``, the public contracts of its events in ``public``.

Longer than ~400 lines because registration is one thing: the single command, the BDT import's batch with its
one-by-one fallback and the KK/NIK clash checks both share, and the data keys the batch's events are sealed with.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable

import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Transcoder

from services.registry.access_log import ACCESS_LOG_DDL, AccessLog
from services.registry.access_log import TABLE as ACCESS_LOG
from services.registry.commands import (
    AddMember,
    ChangeDecile,
    ChangeGroupMember,
    ChangeStatus,
    CorrectMember,
    DissolveGroup,
    FormGroup,
    GraduateGroup,
    HouseholdIn,
    ImportHouseholds,
    ImportRegions,
    ListedHousehold,
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
    RegionList,
    check_candidate,
    check_keeper,
    check_region_table_keeper,
)
from services.registry.dtsen import HELD_CHANGES_DDL, RegistryUpdates
from services.registry.erasure import RegistryErasure
from services.registry.facts import Person, SqlRegistryFacts
from services.registry.grievance import GrievanceRules
from services.registry.grievances import GRIEVANCES_DDL, RegistryGrievances
from services.registry.group_documents import RegistryGroupDocuments
from services.registry.public import PUBLIC_EVENTS, reads_no_sealed_value
from services.registry.queries import RegistryQueries
from services.registry.readmodel import (
    AUDITED_TABLES,
    COUNT_MEMBERS,
    INSERT_PERSON,
    READ_MODEL_DDL,
    UPSERT_PERSON,
    RegistryReadModel,
    fingerprint,
    person_row,
    registration_writes,
)
from services.registry.sealing import SealingMapper
from services.registry.vault import VAULT_DDL, KeyEncryptionKey, Vault
from shared.actor import Actor
from shared.batches import ServiceMapper
from shared.contracts import EventData
from shared.document_store import DOCUMENTS, DOCUMENTS_DDL
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.ids import check_kk, check_nik_matches, check_village, jakarta_today
from shared.regions import RegionTable
from shared.store import ReadModelWrites, ServiceApplication


class RegistryApplication(RegistryUpdates, RegistryErasure, RegistryGrievances, RegistryGroupDocuments,
                          RegistryReadModel, RegistryQueries, ServiceApplication):
    service_name = "registry"
    upstreams = ("grants",)
    value_objects = (Member, GroupMember, BankAccount)
    read_model_ddl = (*READ_MODEL_DDL, *VAULT_DDL, *ACCESS_LOG_DDL, *HELD_CHANGES_DDL, *GRIEVANCES_DDL, DOCUMENTS_DDL)
    append_only_tables = (ACCESS_LOG, DOCUMENTS)
    audited_tables = AUDITED_TABLES
    facts_class = SqlRegistryFacts

    def __init__(self, database_url: str | None, kube_rules: KubeRules | None = None,
                 setup_url: str | None = None, data_key: KeyEncryptionKey | None = None) -> None:
        # On a database, the key-encryption key first (REGISTRY_DATA_KEY unless given): without it, nothing is set up
        # or started. In memory (application tests) nothing is stored, so nothing is sealed.
        self.vault = None if database_url is None else Vault(data_key or KeyEncryptionKey.from_environment(),
                                                             lambda: self.datastore.transaction(commit=True))
        super().__init__(database_url, setup_url)
        if self.vault is not None:
            self.vault.check()
            self.access_log = AccessLog(self.vault.kek, self.transaction)
        self.kube_rules = kube_rules or KubeRules()
        self.grievance_rules = GrievanceRules.from_environment()

    def construct_mapper(self) -> ServiceMapper:
        if self.vault is None:
            return super().construct_mapper()
        return SealingMapper(self.construct_transcoder(), self.vault, published_unopened=reads_no_sealed_value)

    @classmethod
    def reading_mapper(cls, transcoder: Transcoder, conn: psycopg.Connection) -> ServiceMapper:
        # An auditor's replay reads the same secret as the service, and the household keys on its own connection.
        return SealingMapper(transcoder, Vault(KeyEncryptionKey.from_environment(), conn.cursor))

    # --- region table -------------------------------------------------------------------------------------

    def import_regions(self, command: ImportRegions) -> dict:
        check_region_table_keeper(command.actor)
        rows = [(row.code, row.name, row.level) for row in command.rows]
        RegionTable(rows)  # every row checked (format, level, one name per code) before anything is written
        digest = hashlib.sha256("\n".join(f"{c},{n},{lv}" for c, n, lv in sorted(rows)).encode()).hexdigest()
        try:
            regions: RegionList = self.repository.get(RegionList.ID)
            regions.reimport(codes=len(rows), sha256=digest, source=command.source, imported_by=command.actor.user)
        except AggregateNotFoundError:
            regions = RegionList(codes=len(rows), sha256=digest, source=command.source,
                                 imported_by=command.actor.user)
        writes = ReadModelWrites()
        # Codes are added or renamed, never deleted: households may still refer to a code an update dropped.
        for row in rows:
            writes.add("INSERT INTO regions (code, name, level) VALUES (%s, %s, %s) ON CONFLICT (code) DO UPDATE "
                       "SET name = EXCLUDED.name, level = EXCLUDED.level", row)
        self.record(regions, writes=writes)
        return {"codes": len(rows), "sha256": digest, "total_codes": len(self.facts.regions())}

    # --- households ---------------------------------------------------------------------------------------

    def register_households(self, commands: list[RegisterHousehold]) -> list[str]:
        """Register households in one transaction: all of them, or none (a clear error says which and why)."""
        for command in commands:
            check_keeper(command.actor, command.village_code, "register a household")
        regions = self.facts.regions()
        for command in commands:
            check_registration(command, regions)
        actor = commands[0].actor if commands else None  # one caller's batch
        return self._register(commands, [fingerprint(command) for command in commands], actor)

    def _register(self, checked: list[HouseholdIn], fingerprints: list[str], actor: Actor | None) -> list[str]:
        """Households whose identifiers were checked against the region table: registered in one transaction."""
        registrations = [registered_from(data, actor.user) for data in checked]
        self._check_unregistered(registrations, actor)
        if self.vault is not None:
            # One statement for the batch's data keys: each household's and each member's.
            self.vault.prepare(holder for registered in registrations
                               for holder in (registered.originator_id, *(member.id for member in registered.members)))
        try:
            self.record(*registrations, writes=registration_writes(registrations, fingerprints))
        except IntegrityError:
            self._check_unregistered(registrations, actor)  # a concurrent registration won: say which one
            raise
        return [str(registered.originator_id) for registered in registrations]

    def import_households(self, command: ImportHouseholds) -> dict:
        """The BDT import's batch: new households registered, identical ones unchanged, the rest rejected — or,
        from a file named by ``command.source``, its differences applied to the known ones (``dtsen``).

        Each household's identifiers are checked once, here (the client's file is never trusted), and its
        fingerprint computed once. Idempotent: re-importing a file registers nothing twice and changes nothing
        twice. Without a source a KK registered with different data is rejected (nothing says which file the change
        would come from).
        """
        actor, source = command.actor, command.source
        for listed in command.households:  # refused whole if any household is not the actor's to register
            check_keeper(actor, listed.village_code, "import a household")
        regions = self.facts.regions()
        rejected: list[dict] = []
        valid: list[ListedHousehold] = []
        for listed in command.households:
            try:
                check_registration(listed, regions)
                valid.append(listed)
            except ValidationFailed as refused:
                rejected.append({"kk": listed.kk, "reason": refused.message})
        prints = {id(listed): fingerprint(listed) for listed in valid}  # by listing: a file may list a KK twice
        known = self.facts.registrations([c.kk for c in valid])
        unchanged = [c for c in valid if known.get(c.kk) == prints[id(c)]]
        differing = [c for c in valid if c.kk in known and known[c.kk] != prints[id(c)]]
        if source is None:
            rejected += [{"kk": c.kk, "reason": f"KK {c.kk} is already registered with other data; correct it with "
                                                "a command, or import the file as an update"} for c in differing]
        updated = self.update_households(differing, source, actor) if source is not None and differing else {}
        rejected += updated.get("rejected", [])
        for listed in valid:
            if listed.kk not in known and listed.status != "active":
                rejected.append({"kk": listed.kk, "reason": f"KK {listed.kk} is not registered and the file lists "
                                                            f"it as {listed.status}: nothing to register"})
        new = [c for c in valid if c.kk not in known and c.status == "active"]
        clashes = self._nik_clashes(new, actor)
        for listed in new:
            if listed.kk in clashes:
                rejected.append({"kk": listed.kk, "reason": clashes[listed.kk]})
        new = [c for c in new if c.kk not in clashes]
        unchanged_count = len(unchanged) + updated.get("unchanged", 0)  # a known household the file says as it is
        if new:
            try:
                self._register(new, [prints[id(c)] for c in new], actor)
            except (Conflict, IntegrityError):
                # A concurrent writer took a KK or NIK between our checks and our commit: go one by one.
                return self._import_one_by_one(new, prints, actor, rejected, unchanged_count) | _update_report(updated)
        return {"imported": len(new), "individuals": sum(len(c.members) for c in new), "unchanged": unchanged_count,
                "rejected": rejected} | _update_report(updated)

    def _import_one_by_one(self, checked: list[ListedHousehold], prints: dict[int, str], actor: Actor,
                           rejected: list[dict], unchanged: int) -> dict:
        imported = individuals = 0
        for listed in checked:
            try:
                self._register([listed], [prints[id(listed)]], actor)
                imported, individuals = imported + 1, individuals + len(listed.members)
            except (Conflict, IntegrityError) as refused:
                rejected.append({"kk": listed.kk, "reason": str(getattr(refused, "message", refused))})
        return {"imported": imported, "individuals": individuals, "unchanged": unchanged, "rejected": rejected}

    def _nik_clashes(self, listed: list[HouseholdIn], actor: Actor) -> dict[str, str]:
        """KK → reason, for households sharing a NIK with a registered household or another in the batch."""
        owner: dict[str, str] = {}
        clashes: dict[str, str] = {}
        for household in listed:
            for member in household.members:
                if member.nik in owner and owner[member.nik] != household.kk:
                    reason = _duplicate_nik(member.nik, owner[member.nik], household.kk).message
                    clashes[household.kk] = clashes[owner[member.nik]] = reason
                owner.setdefault(member.nik, household.kk)
        registered = self.facts.people(list(owner))
        for nik in owner:
            if nik in registered:
                clashes[owner[nik]] = _registered_nik(registered[nik], owner[nik], actor).message
        return clashes

    def _check_unregistered(self, households: list[Household.Registered], actor: Actor | None) -> None:
        registered = self.facts.registrations([h.kk for h in households])
        taken = [h.kk for h in households if h.kk in registered]
        if taken:
            raise Conflict(f"KK {taken[0]} is already registered", field="kk", rule="household.registered",
                           kk=taken[0])
        owner_in_batch: dict[str, str] = {}
        for household in households:
            for member in household.members:
                if member.nik in owner_in_batch:
                    raise _duplicate_nik(member.nik, owner_in_batch[member.nik], household.kk)
                owner_in_batch[member.nik] = household.kk
        self._check_niks_free(owner_in_batch, actor)

    def _check_niks_free(self, owners: dict[str, str], actor: Actor | None) -> None:
        registered = self.facts.people(list(owners))
        clash = next((nik for nik in owners if nik in registered), None)
        if clash is not None:
            raise _registered_nik(registered[clash], owners[clash], actor)

    def add_member(self, command: AddMember) -> Household:
        regions = self.facts.regions()
        check_member(command.member, regions)

        def change(household: Household, writes: ReadModelWrites) -> None:
            self._check_niks_free({command.member.nik: household.kk}, command.actor)
            member = Member(**command.member.model_dump())
            household.add_member(member, reason=command.reason, by=command.actor.user)
            writes.add(INSERT_PERSON, person_row(member, household))
            writes.add(COUNT_MEMBERS, (len(household.members), household.kk))

        return self._change_household(command.kk, command.actor, "add a member", change)

    def remove_member(self, command: RemoveMember) -> Household:
        def change(household: Household, writes: ReadModelWrites) -> None:
            household.remove_member(command.nik, reason=command.reason, by=command.actor.user,
                                    new_head_nik=command.new_head_nik)
            writes.add("DELETE FROM individuals WHERE nik = %s", (command.nik,))
            if command.new_head_nik:
                writes.add("UPDATE individuals SET relation = 'Kepala Keluarga' WHERE nik = %s",
                           (command.new_head_nik,))
            writes.add(COUNT_MEMBERS, (len(household.members), household.kk))

        return self._change_household(command.kk, command.actor, "remove a member", change)

    def correct_member(self, command: CorrectMember) -> Household:
        changes = command.changed_fields()
        if not changes:
            raise ValidationFailed("changes", "correction.empty", "name at least one field to correct")
        regions = self.facts.regions()

        def change(household: Household, writes: ReadModelWrites) -> None:
            household.correct_member(command.nik, changes, reason=command.reason, by=command.actor.user)
            corrected = household.member(command.nik)
            check_nik_matches(corrected.nik, corrected.sex, corrected.birth_date, regions)
            writes.add(UPSERT_PERSON, person_row(corrected, household))

        return self._change_household(command.kk, command.actor, "correct a member", change)

    def change_status(self, command: ChangeStatus) -> Household:
        def change(household: Household, writes: ReadModelWrites) -> None:
            household.change_status(command.status, reason=command.reason, by=command.actor.user)
            writes.add("UPDATE households SET bdt_status = %s WHERE kk = %s", (command.status, household.kk))

        return self._change_household(command.kk, command.actor, "change a household's status", change)

    def change_decile(self, command: ChangeDecile) -> Household:
        def change(household: Household, writes: ReadModelWrites) -> None:
            household.change_decile(command.decile, by=command.actor.user)
            writes.add("UPDATE households SET decile = %s WHERE kk = %s", (command.decile, household.kk))

        return self._change_household(command.kk, command.actor, "change a household's decile", change)

    def _change_household(self, kk: str, actor: Actor, action: str,
                          change: Callable[[Household, ReadModelWrites], None]) -> Household:
        def checked(household: Household, writes: ReadModelWrites) -> None:
            check_keeper(actor, household.village_code, action)
            change(household, writes)

        return self._retrying(lambda: self._load_household(kk), checked)

    def _retrying(self, load: Callable[[], Aggregate],
                  change: Callable[[Aggregate, ReadModelWrites], None]) -> Aggregate:
        """The aggregate changed and recorded: the state the command produced (of the attempt that was recorded)."""
        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], Aggregate]:
            aggregate = load()
            change(aggregate, writes)
            return [aggregate], aggregate

        return self.decide_retrying(attempt)

    # --- KUBE groups --------------------------------------------------------------------------------------

    def form_group(self, command: FormGroup) -> str:
        check_keeper(command.actor, command.village_code, "form a KUBE")
        regions = self.facts.regions()
        check_village(command.village_code, regions)
        members = self._group_members(command.members)
        today = jakarta_today()
        group = Group.form(
            name=command.name, village_code=command.village_code, business_type=command.business_type,
            kind=command.kind, members=members, roles=dict(command.roles),
            bank_account=BankAccount(**command.bank_account.model_dump()), sk_kades=command.sk_kades,
            formed_by=command.actor.user, rules=self.kube_rules,
        )
        for proposed, member in zip(self._candidates(members, command.actor), members, strict=True):
            check_candidate(proposed, command.village_code, command.kind, self.kube_rules, today,
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
            for proposed, member in zip(self._candidates(members, command.actor), members, strict=True):
                check_candidate(proposed, command.village_code, command.kind, self.kube_rules, today,
                                member.representative_nik)
            raise
        return str(group.id)

    def change_group_member(self, command: ChangeGroupMember) -> None:
        added = self._group_members([command.added])[0] if command.added else None
        today = jakarta_today()

        def change(group: Group, writes: ReadModelWrites) -> None:
            check_keeper(command.actor, group.village_code, "change a KUBE's members")
            if added is not None:
                proposed = self._candidates([added], command.actor)[0]
                check_candidate(proposed, group.village_code, group.kind, self.kube_rules, today,
                                added.representative_nik)
            group.change_member(command.removed_kk, added, reason=command.reason, by=command.actor.user,
                                rules=self.kube_rules)
            if command.removed_kk:
                writes.add("DELETE FROM group_members WHERE kk = %s AND group_id = %s", (command.removed_kk, group.id))
            if added is not None:
                writes.add("INSERT INTO group_members (kk, group_id, representative_nik) VALUES (%s, %s, %s)",
                           (added.kk, group.id, added.representative_nik))
            writes.add("UPDATE groups SET member_count = %s WHERE group_id = %s", (len(group.members), group.id))

        self._retrying(lambda: self._load_group(command.group_id), change)

    def dissolve_group(self, command: DissolveGroup) -> None:
        self._end_group(command.group_id, command.actor, "dissolve a KUBE", "dissolved",
                        lambda group: group.dissolve(reason=command.reason, by=command.actor.user))

    def graduate_group(self, command: GraduateGroup) -> None:
        self._end_group(command.group_id, command.actor, "graduate a KUBE", "graduated",
                        lambda group: group.graduate(reason=command.reason, by=command.actor.user))

    def _end_group(self, group_id: str, actor: Actor, action: str, status: str, end: Callable[[Group], None]) -> None:
        """A KUBE's programme ends (dissolved, or graduated: mandiri): its households are free for another."""
        def change(group: Group, writes: ReadModelWrites) -> None:
            check_keeper(actor, group.village_code, action)
            end(group)
            writes.add("DELETE FROM group_members WHERE group_id = %s", (group.id,))
            writes.add("UPDATE groups SET status = %s WHERE group_id = %s", (status, group.id))

        self._retrying(lambda: self._load_group(group_id), change)

    def _group_members(self, members_in: Iterable) -> list[GroupMember]:
        """The proposed members with their names and ids; one not registered as proposed keeps empty ones, and
        check_candidate refuses it."""
        members_in = list(members_in)
        people = self.facts.people([member_in.representative_nik for member_in in members_in])
        households = self.facts.households([member_in.kk for member_in in members_in])
        members = []
        for member_in in members_in:
            person = people.get(member_in.representative_nik)
            person = person if person and person.kk == member_in.kk else None
            household = households.get(member_in.kk)
            members.append(GroupMember(kk=member_in.kk, representative_nik=member_in.representative_nik,
                                       representative_name=person.member.name if person else "",
                                       household_id=uuid.UUID(household.household_id) if household else None,
                                       representative_id=person.member.id if person else None))
        return members

    def _candidates(self, members: list[GroupMember], actor: Actor) -> list[Candidate]:
        """The households to check for a group; one outside the actor's region is answered as one that does not
        exist (a refusal of its eligibility would say that it is registered, and in which village)."""
        households = self.facts.households([m.kk for m in members])
        people = self.facts.people([m.representative_nik for m in members])
        candidates = []
        for member in members:
            household = households.get(member.kk)
            if household is None or not actor.covers(household.village_code):
                raise NotFound(f"no household with KK {member.kk}", field="kk", kk=member.kk)
            person = people.get(member.representative_nik)
            candidates.append(household.candidate(person.member if person and person.kk == member.kk else None))
        return candidates

    # --- public events ------------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        mapper = PUBLIC_EVENTS.get(type(domain_event))
        if mapper is None:
            raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
        return mapper(self, domain_event)


def _update_report(updated: dict) -> dict:
    return {"households_changed": updated.get("households_changed", 0), "changes": dict(updated.get("changes", {})),
            "held_for_review": updated.get("held_for_review", 0)}


def check_registration(command: HouseholdIn, regions: RegionTable) -> None:
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


def registered_from(data: HouseholdIn, registered_by: str) -> Household.Registered:
    return Household.registered(
        kk=data.kk, dtks_id=data.dtks_id, village_code=data.village_code, address=data.address,
        decile=data.decile, members=[Member(**member.model_dump()) for member in data.members],
        registered_by=registered_by,
    )


def _registered_nik(registered: Person, own_kk: str, actor: Actor | None) -> Conflict:
    """A NIK already in a registered household: named to a user whose region covers that household; to anyone else
    the refusal says only that the NIK is registered, never the other household's KK (nor that it is elsewhere)."""
    nik = registered.member.nik
    if actor is not None and actor.covers(registered.village_code):
        return _duplicate_nik(nik, registered.kk, own_kk)
    return Conflict(f"NIK {nik} is registered already: a NIK belongs to one household", field="nik",
                    nik=nik, kks=[own_kk])


def _duplicate_nik(nik: str, first_kk: str, second_kk: str) -> Conflict:
    return Conflict(
        f"NIK {nik} is in household {first_kk} and in household {second_kk}: a NIK belongs to one household",
        field="nik", nik=nik, kks=[first_kk, second_kk],
    )
