"""Registry queries: what the RPC reads answer — the region table, households, people, KUBE groups, counts, the
dashboard and the candidates for a new KUBE — from the read model, or from an aggregate where history matters.

Reads only: the commands (application.py) reuse the aggregate loading defined here; what they read of the read model
is behind their port (facts.py), which group_candidates shares.
"""

from __future__ import annotations

import re
import uuid
from typing import NamedTuple

from eventsourcing.application import AggregateNotFoundError

from services.registry.access_log import AccessLog
from services.registry.domain import (
    Group,
    Household,
    KubeRules,
    Member,
    age_on,
    check_kind,
    eligible_representatives,
)
from services.registry.facts import CANDIDATE_HOUSEHOLDS, MEMBER_FIELDS, RegistryFacts, member_of, standing_of
from shared.actor import check_region, check_role, covers
from shared.edge import UUID_PATTERN
from shared.errors import NotFound, ValidationFailed
from shared.ids import NIK_RE, check_village, jakarta_today
from shared.jsonable import event_record, jsonable
from shared.masking import NAME_VIEW_ROLES
from shared.reads import ReadBy
from shared.store import in_region
from shared.text import fold
from shared.vocabulary import HEAD_OF_HOUSEHOLD

DATA_AUDITORS = ("auditor", "admin")  # who may read a person's access log and export their data
# What households_where may sort by (a column of its own answer, never text of a caller's): and in which direction.
SORTABLE = {"village_code": "village_code", "decile": "decile", "member_count": "member_count"}
DIRECTIONS = {"asc": "ASC", "desc": "DESC"}
# How household_identified finds a household by an identifier type (its value is a parameter, never SQL text).
HOUSEHOLD_EVENTS = "registry.household."  # the public events household_changes follows
IDENTIFIED_BY = {"KK": "kk = %s", "NIK": "kk = (SELECT kk FROM individuals WHERE nik = %s)"}
FOUND_PERSON = "SELECT nik, name, sex, birth_date::text, relation, kk, village_code FROM individuals"


class RegistryQueries:
    """The reads, mixed into RegistryApplication (a ServiceApplication: ``query``, ``page``, ``repository``,
    ``facts``)."""

    kube_rules: KubeRules
    facts: RegistryFacts
    access_log: AccessLog

    # --- region table -------------------------------------------------------------------------------------

    def region_rows(self) -> list[dict]:
        return self.query("SELECT code, name, level FROM regions ORDER BY code")

    # --- aggregates ---------------------------------------------------------------------------------------

    def _load_household(self, key: str) -> Household:
        """A household by its KK, or by its id (what links and other services name it by). Its id is random: the
        registry's own read model knows which one a KK is."""
        by_id = bool(UUID_RE.fullmatch(str(key)))
        household_id = key if by_id else self.facts.household_id(check_kk_shape(key))
        try:
            household = None if household_id is None else self.repository.get(uuid.UUID(household_id))
        except AggregateNotFoundError:
            household = None
        if not isinstance(household, Household):
            raise NotFound(f"no household {key}" if by_id else f"no household with KK {key}", field="kk", kk=key)
        return household

    def _load_group(self, group_id: str) -> Group:
        try:
            aggregate = self.repository.get(uuid.UUID(group_id))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"no KUBE with id {group_id}", field="group_id", group_id=group_id) from None
        if not isinstance(aggregate, Group):
            raise NotFound(f"no KUBE with id {group_id}", field="group_id", group_id=group_id)
        return aggregate

    # --- households and people: every read checks the reader's region and is written into the access log ----

    def household(self, reader: ReadBy, key: str) -> dict | None:
        """The household (by KK or id); None when there is none, or it lies outside the reader's region (the same
        answer)."""
        try:
            household = self._load_household(key)
        except NotFound:
            return None
        return self.household_answer(reader, household)

    def household_answer(self, reader: ReadBy, household: Household) -> dict | None:
        """A household in hand (e.g. as a command just recorded it) answered as :meth:`household` answers it."""
        if not reader.actor.covers(household.village_code):
            return None
        group = self.query("SELECT g.group_id::text, g.name FROM group_members gm JOIN groups g USING (group_id) "
                           "WHERE gm.kk = %s", (household.kk,))
        self.access_log.record(reader, "household", households=[household.id])
        return {
            "household_id": str(household.id), "kk": household.kk, "dtks_id": household.dtks_id,
            "village_code": household.village_code, "address": household.address, "decile": household.decile,
            "bdt_status": household.bdt_status, "members": [member_answer(m) for m in household.members],
            "active_group": group[0] if group else None,
        }

    def household_history(self, reader: ReadBy, key: str) -> list[dict]:
        household = self._load_household(key)
        if not reader.actor.covers(household.village_code):
            raise NotFound(f"no household with KK {key}", field="kk", kk=key)  # as a missing one
        self.access_log.record(reader, "household_history", households=[household.id])
        return [event_record(e) for e in self.events.get(household.id)]

    def person(self, reader: ReadBy, nik: str) -> dict | None:
        """The person; None when there is none, or outside the reader's region (the same answer)."""
        found = self._person(nik)
        if found is None or not reader.actor.covers(found["village_code"]):
            return None
        self.access_log.record(reader, "person", households=[found["household_id"]], niks=[nik])
        return found

    def _person(self, nik: str) -> dict | None:
        rows = self.query("SELECT i.nik, i.person_id::text, i.name, i.sex, i.birth_date::text, i.relation, "
                          "i.marital_status, i.occupation, i.kk, h.village_code, h.bdt_status, h.decile, "
                          "h.household_id::text FROM individuals i JOIN households h USING (kk) WHERE i.nik = %s",
                          (nik,))
        return rows[0] if rows else None

    def names(self, reader: ReadBy, person_ids: list[str]) -> dict[str, dict]:
        """Who is behind these person ids (what other services keep): name and NIK (the gateway masks it by need),
        for a role that works with people (``NAME_VIEW_ROLES``) and only for those of the reader's region; the
        others are left out, as unknown ones are."""
        check_role(reader.actor, tuple(sorted(NAME_VIEW_ROLES)), "read people's names")
        ids = [str(uuid.UUID(person_id)) for person_id in person_ids]
        rows = [row for row in self.query(
            "SELECT i.person_id::text, i.nik, i.name, i.village_code, h.household_id::text FROM individuals i "
            "JOIN households h USING (kk) WHERE i.person_id = ANY(%s::uuid[])", (ids,))
            if reader.actor.covers(row["village_code"])]
        self._searched(reader, "names", rows)
        return {row["person_id"]: {"name": row["name"], "nik": row["nik"]} for row in rows}

    def households_in(self, reader: ReadBy, village_code: str, page: int = 1, size: int = 50) -> dict:
        check_region(reader.actor, village_code, "read the households of this village")
        found = self.page("SELECT kk, household_id::text, dtks_id, village_code, address, decile, bdt_status, "
                          "member_count FROM households WHERE village_code = %s ORDER BY kk", (village_code,),
                          page, size)
        self._searched(reader, "households_in", found["items"], people=False)
        return found

    def households_where(self, reader: ReadBy, region: str, deciles: list[int], statuses: list[str],
                         sort: list[list[str]], page: int = 1, size: int = 50) -> dict:
        """Households of a region with one of these deciles and BDT statuses, for another system (the DCI search):
        the registry's ids and the facts a programme selects by — no KK, NIK, name or address."""
        check_region(reader.actor, region, "read the households of this region")
        where, region_params = in_region("village_code", region)
        if any(column not in SORTABLE or direction not in DIRECTIONS for column, direction in sort):
            raise ValidationFailed("sort", "dci.sort", f"sort by {', '.join(SORTABLE)}, asc or desc")
        order = ", ".join(f"{SORTABLE[column]} {DIRECTIONS[direction]}" for column, direction in sort)
        found = self.page(f"SELECT household_id::text, village_code, decile, bdt_status, member_count FROM households "
                          f"WHERE {where} AND decile = ANY(%s) AND bdt_status = ANY(%s)",
                          (*region_params, list(deciles), list(statuses)), page, size,
                          f"ORDER BY {order + ', ' if order else ''}village_code, household_id")
        self._searched(reader, "households_where", found["items"], people=False)
        return found

    def household_identified(self, reader: ReadBy, id_type: str, value: str) -> list[dict]:
        """The household of a KK, or of the person with a NIK, for another system entitled to ask (the DCI search by
        identifier): as households_where answers it — no KK, NIK, name or address back. One or none: none when
        there is no such household or it lies outside the reader's region (the same answer)."""
        if id_type not in IDENTIFIED_BY or not NIK_RE.fullmatch(str(value)):
            raise ValidationFailed("identifier", "dci.identifier", "an identifier is a NIK or a KK of 16 digits")
        rows = [row for row in self.query(
            "SELECT household_id::text, village_code, decile, bdt_status, member_count FROM households "
            f"WHERE {IDENTIFIED_BY[id_type]}", (value,)) if reader.actor.covers(row["village_code"])]
        self.access_log.record(reader, "household_identified", households=[row["household_id"] for row in rows],
                               niks=[value] if rows and id_type == "NIK" else (), returned=len(rows))
        return rows

    def household_changes(self, reader: ReadBy, region: str, after: int, limit: int = 100) -> dict:
        """The registry's household events after position ``after`` of its public log, each with the household as
        it now stands — as households_where answers it, no KK, NIK, name or address — for the households of
        ``region`` (the DCI notify); one of another region, or erased, is left out. ``last_position``: where the
        next pull starts."""
        check_region(reader.actor, region, "follow the households of this region")
        items: list[dict] = []
        while not items:  # past the other events (groups, imports, other regions) to the next ones, or the end
            envelopes = self.public_events_after(after, limit)
            if not envelopes:
                break
            after = envelopes[-1].position
            items = self._households_changed(region, envelopes)
        self._searched(reader, "household_changes", items, people=False)
        return {"items": items, "last_position": after}

    def _households_changed(self, region: str, envelopes: list) -> list[dict]:
        changed = [e for e in envelopes if e.type.startswith(HOUSEHOLD_EVENTS) and "household_id" in e.data]
        now = {row["household_id"]: row for row in self.query(
            "SELECT household_id::text, village_code, decile, bdt_status, member_count FROM households "
            "WHERE household_id = ANY(%s::uuid[])", (list({e.data["household_id"] for e in changed}),))}
        return [{"position": e.position, "event_type": e.type, "time": e.time.isoformat(),
                 **now[e.data["household_id"]]} for e in changed
                if e.data["household_id"] in now and covers(region, now[e.data["household_id"]]["village_code"])]

    def search_people(self, reader: ReadBy, name_prefix: str, village_code: str | None = None, page: int = 1,
                      size: int = 50) -> dict:
        key = fold(name_prefix)
        if len(key) < 2:
            raise ValidationFailed("name", "search.prefix", "give at least two letters of the name")
        where, region_params = in_region("h.village_code", reader_scope(reader, village_code))
        sql = ("SELECT i.nik, i.name, i.sex, i.birth_date::text, i.relation, i.kk, h.village_code, "
               f"h.household_id::text FROM individuals i JOIN households h USING (kk) WHERE i.name_key LIKE %s "
               f"AND {where}")
        found = self.page(sql + " ORDER BY i.name_key, i.nik", (like_escaped(key) + "%", *region_params), page,
                          size)
        self._searched(reader, "search_people", found["items"])
        return found

    def find_people(self, reader: ReadBy, query: str, region: str | None = None, page: int = 1,
                    size: int = 20) -> dict:
        """The desk's search: a NIK or KK (16 digits: the household's every member), else any part of a name.
        The households of the page's people only are read, after ranking."""
        search = people_search(query, reader_scope(reader, region))
        found = self.page(search.sql, search.params, page, size, search.order, search.order_params)
        households = {row["kk"]: row for row in self.query(
            "SELECT kk, decile, bdt_status, household_id::text FROM households WHERE kk = ANY(%s)",
            ([person["kk"] for person in found["items"]],))}
        found["items"] = [{**person, **households[person["kk"]]} for person in found["items"]]
        self._searched(reader, "find_people", found["items"])
        return found

    def _searched(self, reader: ReadBy, read: str, shown: list[dict], people: bool = True) -> None:
        """A search or a list in the access log: every household it showed, and each person it showed."""
        self.access_log.record(reader, read, households=[row["household_id"] for row in shown],
                               niks=[row["nik"] for row in shown] if people else (), returned=len(shown))

    # --- the data subject's rights: who read their data, and everything held about them ----------------------

    def access_log_of(self, reader: ReadBy, nik: str) -> dict:
        """Every read of the person's data (the access log's entries), for an auditor or an admin of their region."""
        found = self._data_subject(reader, nik, "read who accessed a person's data")
        reads = self.access_log.of_person(nik, found["household_id"])
        self.access_log.record(reader, "access_log", households=[found["household_id"]], niks=[nik])
        return {"nik": nik, "village_code": found["village_code"], "reads": reads}

    def person_export(self, reader: ReadBy, nik: str) -> dict:
        """Everything the registry holds about the person: their record, their household as far as it is theirs,
        its history as far as it concerns them, their KUBE groups and who read their data. (Grants and training
        answer for what they hold: ``berdaya people export`` asks them.)"""
        found = self._data_subject(reader, nik, "export a person's data")
        household = self._load_household(found["kk"])
        groups = []
        for row in self.query("SELECT group_id::text, representative_nik FROM group_members WHERE kk = %s",
                              (household.kk,)):
            group = self._load_group(row["group_id"])
            groups.append({"group_id": row["group_id"], "name": group.name, "village_code": group.village_code,
                           "status": group.status, "representative": row["representative_nik"] == nik,
                           "roles": sorted(role for role, holder in group.roles.items() if holder == nik)})
        reads = self.access_log.of_person(nik, found["household_id"])
        self.access_log.record(reader, "person_export", households=[household.id], niks=[nik])
        return {
            "person": member_answer(household.member(nik)),
            "household": {"household_id": str(household.id), "kk": household.kk, "dtks_id": household.dtks_id,
                          "village_code": household.village_code, "address": household.address,
                          "decile": household.decile, "bdt_status": household.bdt_status},
            "history": [own for own in (own_part(event_record(e), nik) for e in self.events.get(household.id))
                        if own is not None],
            "groups": groups,
            "reads": reads,
        }

    def _data_subject(self, reader: ReadBy, nik: str, action: str) -> dict:
        check_role(reader.actor, DATA_AUDITORS, action)
        found = self._person(nik)
        if found is None or not reader.actor.covers(found["village_code"]):
            raise NotFound("no person with this NIK in your region", field="nik")  # a NIK is personal: not named
        return found

    # --- KUBE groups --------------------------------------------------------------------------------------

    def group(self, reader: ReadBy, group_id: str) -> dict:
        group = self._load_group(group_id)
        if not reader.actor.covers(group.village_code):
            raise NotFound(f"no KUBE with id {group_id}", field="group_id", group_id=group_id)  # as a missing one
        households = self.query("SELECT household_id::text FROM households WHERE kk = ANY(%s)",
                                ([member.kk for member in group.members],))
        self.access_log.record(reader, "group", households=[row["household_id"] for row in households],
                               niks=[*(m.representative_nik for m in group.members), *group.roles.values()])
        return {
            "group_id": str(group.id), "name": group.name, "village_code": group.village_code,
            "business_type": group.business_type, "kind": group.kind, "status": group.status,
            "members": [{**jsonable(m), "household_id": str(m.household), "representative_id": str(m.representative)}
                        for m in group.members], "roles": group.roles, "bank_account": jsonable(group.bank_account),
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

    def group_candidates(self, reader: ReadBy, village_code: str, kind: str = "perempuan") -> list[dict]:
        """Every household of a village for forming a KUBE of this kind: who may represent it today, or the rule
        that keeps it out."""
        check_region(reader.actor, village_code, "read the households of this village")
        check_village(village_code, self.facts.regions())
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
            eligible, refusal = eligible_representatives(standing_of(household).candidate(None), people,
                                                         village_code, kind, self.kube_rules, today)
            listed.append({
                "kk": household["kk"], "household_id": household["household_id"], "decile": household["decile"],
                "bdt_status": household["bdt_status"], "active_group": household["active_group"],
                "members": [{"nik": m.nik, "name": m.name, "sex": m.sex, "birth_date": m.birth_date.isoformat(),
                             "age": age_on(m.birth_date, today), "relation": m.relation,
                             "occupation": m.occupation} for m in people],
                "eligible": [{"nik": m.nik, "person_id": str(m.id), "name": m.name,
                              "age": age_on(m.birth_date, today)} for m in eligible],
                "excluded": None if refusal is None else {"rule": refusal.rule, "message": refusal.message,
                                                          "details": refusal.details},
            })
        self._searched(reader, "group_candidates", listed, people=False)
        return listed

    # --- totals -------------------------------------------------------------------------------------------

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


def member_answer(member: Member) -> dict:
    """A member as the registry's reads answer them: with the id other services know them by."""
    return {**jsonable(member), "person_id": str(member.id)}


def own_part(record: dict, nik: str) -> dict | None:
    """A household's history entry as far as it concerns one member: a registration shows only them; another
    member's change is left out (when they became head as another left, not who left); a change of the
    household's own (status, decile) is theirs too."""
    details = record["details"]
    if "members" in details:
        return {**record, "details": {**details, "members": [m for m in details["members"] if m["nik"] == nik]}}
    concerned = {details.get("nik"), details.get("new_head_nik"), (details.get("member") or {}).get("nik")} - {None}
    if concerned and nik not in concerned:
        return None
    if details.get("new_head_nik") == nik and details.get("nik") != nik:  # they became head: not who left
        return {**record, "details": {k: v for k, v in details.items() if k != "nik"}}
    return record


def reader_scope(reader: ReadBy, region: str | None) -> str:
    """The region a search covers: the one asked for, which the reader's must cover; else the reader's."""
    if region:
        check_region(reader.actor, region, "search this region")
        return region
    return reader.actor.region


UUID_RE = re.compile(UUID_PATTERN)  # a household's id, as links name it


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
