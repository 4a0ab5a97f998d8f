"""The route table: every endpoint of the HTTP API, declared once.

Each row says the method and path, the request models, the response model, the roles allowed, how to find the
region of the resource it acts on, and what it calls. From this table come the dispatch (service.py), the OpenAPI
document (openapi.py), docs/api.md's list, and the authorization matrix tests. A route without roles or without a
scope cannot be built (``core.route`` refuses it).

Longer than ~400 lines because it is one table of every route, read top to bottom; splitting it would hide the
authorization matrix it exists to show.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any

from eventlet import tpool
from pydantic import Field

from services.gateway import audit, dci, printouts
from services.gateway import dci_models as dm
from services.gateway import models as m
from services.gateway.auth import User, hash_password, verify_password
from services.gateway.bdt import CsvRegions, run_bdt_import
from services.gateway.core import (
    PUBLIC,
    BodyRegion,
    Call,
    EachInService,
    File,
    Lookup,
    National,
    QueryRegion,
    Route,
    Unscoped,
    route,
)
from services.gateway.dashboard import dashboard
from services.gateway.errors import ApiError, invalid, password_change_required
from services.gateway.printouts import PDF
from services.gateway.store import DuplicateUser, UnknownUser
from shared.config import SERVICES
from shared.contracts import CATALOG
from shared.contracts.catalog import data_schema
from shared.errors import NotFound
from shared.masking import NAME_VIEW_ROLES
from shared.vocabulary import BUDGET_OWNERS, STAFF_ROLES

API = "/api/v1"
SCHEMA_MEDIA_TYPE = "application/schema+json"
# Reads: every role of the office's people (the auditor reads everything; the admin may read). Another system's
# role (dci_client) is in no set here: it reaches only the routes that name it.
EVERYONE = frozenset(STAFF_ROLES)
DCI_CLIENT = frozenset({"dci_client"})
OPERATOR = frozenset({"operator"})
REVIEWERS = frozenset({"verifier", "province", "ministry"})  # the domain checks which level, by the status
TREASURER = frozenset({"treasurer"})
BUDGET_OWNER_ROLES = frozenset(BUDGET_OWNERS.values())  # whoever pays: the domain checks which, by the source
FACILITATOR = frozenset({"facilitator"})
# The audit is the independent check of what every role did, the ministry's approvals included, and replays every
# log: the auditor runs it, the admin may (operations); the ministry follows the programme through the reads.
AUDITORS = frozenset({"auditor", "admin"})
GRIEVANCE_ASSIGNERS = frozenset({"operator", "head"})  # the desk that recorded it, or the head of the office
GRIEVANCE_NOTERS = frozenset({"operator", "verifier", "head"})
# Who works on grievances; the auditor who reads everything and the admin who may read (as every GET route)
GRIEVANCE_READERS = GRIEVANCE_NOTERS | {"auditor", "admin"}
ADMIN = frozenset({"admin"})  # erasure, maker–checker: the registry checks that two different admins act

PATH_TYPES: dict[str, Any] = {
    "kk": m.HouseholdKey, "nik": m.Nik, "group_id": m.Uuid, "proposal_id": m.Uuid, "payment_id": m.Uuid,
    "cohort_id": m.Uuid, "session_id": m.Uuid, "person_id": m.Uuid, "n": m.Tranche, "fiscal_year": m.FiscalYear,
    "request_id": m.Uuid, "change_id": m.Uuid, "grievance_id": m.Uuid, "source": m.BudgetSource,
    "event_type": m.EventType, "version": m.ContractVersion,
    "code": Annotated[str, Field(min_length=1, max_length=40)], "digest": m.Sha256,
    "username": Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._@-]{1,63}$")],
}


def r(method: str, path: str, name: str, summary: str, **options: Any) -> Route:
    return route(method, API + path, name, summary, path_types=PATH_TYPES, **options)


# --- lookups: the resource a route acts on, fetched to learn its region -------------------------------------

def household(c: Call) -> Any:
    return c.rpc("registry", "household", c.reader(), c.path.kk)


def person(c: Call) -> Any:
    return c.rpc("registry", "person", c.reader(), c.path.nik)


def access_log(c: Call) -> Any:
    return c.rpc("registry", "access_log", c.reader(), c.path.nik)


def group(c: Call) -> Any:
    return c.rpc("registry", "group", c.reader(), c.path.group_id)


def proposal(c: Call) -> Any:
    return c.rpc("grants", "proposal", c.path.proposal_id)


def grant(c: Call) -> Any:
    return c.rpc("grants", "grant", c.path.proposal_id)


def cohort(c: Call) -> Any:
    return c.rpc("training", "cohort", c.path.cohort_id)


def named(c: Call, people: list[dict]) -> list[dict]:
    """People other services name by id, with the name and NIK (masked by need) the registry tells a reader whose
    role works with people (and logs): for another role, or someone outside the reader's region, none."""
    names = (c.rpc("registry", "names", c.reader(), [p["person_id"] for p in people])
             if people and c.user.role in NAME_VIEW_ROLES else {})
    return [{**p, **names.get(p["person_id"], {"name": None, "nik": None})} for p in people]


def cohort_named(c: Call) -> dict:
    return {**c.resource, "participants": named(c, c.resource["participants"])}


def participant_region(found: dict, c: Call) -> str | None:
    """The person's village; for someone who has left the registry, the village of their first cohort."""
    if found.get("person"):
        return found["person"]["village_code"]
    return c.rpc("training", "cohort", found["enrolments"][0]["cohort_id"])["village_code"]


def grievance(c: Call) -> Any:
    return c.rpc("registry", "grievance_row", c.path.grievance_id)  # no personal data: only where it is


HOUSEHOLD = Lookup(household, "household")
GROUP = Lookup(group, "group")
ACCESS_LOG = Lookup(access_log, "person")  # the registry reads the log only for a person of the user's region
PROPOSAL = Lookup(proposal, "proposal")
GRANT = Lookup(grant, "grant")
COHORT = Lookup(cohort, "cohort")
GRIEVANCE = Lookup(grievance, "grievance")


# --- auth, users, operations ---------------------------------------------------------------------------------

def logged_in(c: Call, username: str, password: str) -> User:
    """The user whose password this is. Refused alike whether the username, the password or the user's state was
    wrong (401); throttled (429, throttle.py) before the password is hashed."""
    throttle = c.gateway.throttle
    wait_s = throttle.wait_s(username, c.request.client)
    if wait_s:
        raise ApiError(429, "too_many_attempts", f"too many failed logins: try again in {wait_s} s",
                       rule="login.throttled", headers={"Retry-After": str(wait_s)},
                       details={"retry_after_s": wait_s})
    found = c.gateway.store.user(username)
    password_hash = found[1] if found else None
    if not tpool.execute(verify_password, password_hash, password) or found is None or found[0].disabled:
        throttle.failed(username, c.request.client)
        raise ApiError(401, "unauthenticated", "wrong username or password, or the user is disabled")
    throttle.succeeded(username)
    return found[0]


def issue_token(c: Call) -> dict:
    user = logged_in(c, c.body.username, c.body.password)
    if user.must_change_password:
        raise password_change_required()
    token, ttl = c.gateway.tokens.issue(user)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl, "role": user.role,
            "region": user.region}


def change_password(c: Call) -> dict:
    """One's own password, changed with the current one (throttled as a login is): how a user whose password an
    administrator set gets their first token."""
    body: m.PasswordChange = c.body
    user = logged_in(c, body.username, body.password)
    if body.new_password == body.password:
        raise invalid("new_password", "password.unchanged", "the new password must differ from the current one")
    c.gateway.store.set_password(user.username, tpool.execute(hash_password, body.new_password), by=user.username,
                                 reset=False)
    c.gateway.forget_user(user.username)
    return user_out(c.gateway.store.user(user.username)[0])


def add_user(c: Call) -> dict:
    """The new user chooses their own password at the first login: the admin who typed this one knows it."""
    body: m.UserIn = c.body
    try:
        c.gateway.store.add_user(body.username, tpool.execute(hash_password, body.password), body.role, body.region,
                                 by=c.username, must_change_password=True)
    except DuplicateUser:
        raise ApiError(409, "conflict", f"user {body.username} exists", field="username",
                       rule="user.exists") from None
    return user_out(User(body.username, body.role, body.region, must_change_password=True))


def user_change(change: Callable[[Call], None]):
    """A change to an existing user (by the caller, recorded); the user as it is afterwards."""
    def run(c: Call) -> dict:
        try:
            change(c)
        except UnknownUser:
            raise ApiError(404, "not_found", f"no user {c.path.username}") from None
        c.gateway.forget_user(c.path.username)  # in force at once here (other replicas: within USER_CACHE_S)
        return user_out(c.gateway.store.user(c.path.username)[0])
    return run


def set_disabled(disabled: bool):
    return user_change(lambda c: c.gateway.store.set_disabled(c.path.username, disabled, by=c.username))


reset_password = user_change(lambda c: c.gateway.store.set_password(
    c.path.username, tpool.execute(hash_password, c.body.password), by=c.username, reset=True))


def user_changes(c: Call) -> list[dict]:
    return [{**vars(change), "at": change.at.isoformat()} for change in c.gateway.store.user_changes(c.query.username)]


def user_out(user: User) -> dict:
    return {"username": user.username, "role": user.role, "region": user.region, "disabled": user.disabled,
            "must_change_password": user.must_change_password}


def health(c: Call) -> dict:
    from eventlet import GreenPool

    def check(name: str) -> tuple[str, dict]:
        started = _now()
        try:
            if name == "database":
                c.gateway.store.ping()
                return name, {"ok": True, "ms": _ms(started)}
            status = c.rpc(name, "backbone_status", timeout=3)
            halted = [up for up, consumer in status.get("consumers", {}).items() if consumer.get("halt")]
            return name, {"ok": not halted, "ms": _ms(started), "last_position": status.get("last_position"),
                          **({"halted_upstreams": halted} if halted else {})}
        except Exception as exc:  # any failure is this dependency's status, not the health endpoint's
            return name, {"ok": False, "ms": _ms(started), "error": f"{type(exc).__name__}: {exc}"[:300]}

    results = dict(GreenPool(4).imap(check, (*SERVICES, "database")))
    ok = all(result["ok"] for result in results.values())
    if not ok:
        raise HealthDegraded({"status": "degraded", "dependencies": results})
    return {"status": "ok", "dependencies": results}


class HealthDegraded(ApiError):
    """Health answers 503 with the same body shape as 200, so monitors read both."""

    def __init__(self, payload: dict) -> None:
        super().__init__(503, "degraded", "a dependency is down")
        self.payload = payload

    def body(self) -> dict:
        return self.payload


def _now() -> float:
    import time
    return time.monotonic()


def _ms(started: float) -> float:
    return round((_now() - started) * 1000, 1)


def openapi(c: Call) -> dict:
    from services.gateway.openapi import document
    return document()


def event_schema(c: Call) -> File:
    """A file, not a JSON answer: a schema is no one's data (nothing in it is masked), and served as itself."""
    event_type, version = c.path.event_type, c.path.version
    if (event_type, version) not in CATALOG:
        known = sorted(v for (t, v) in CATALOG if t == event_type)
        raise NotFound(f"{event_type} has no version {version} (its versions: {known})")
    schema = json.dumps(data_schema(event_type, version), indent=2, ensure_ascii=False)
    return File(schema.encode(), f"{event_type}.v{version}.schema.json")


# --- registry ------------------------------------------------------------------------------------------------

def register_household(c: Call) -> dict:
    household_id = c.rpc("registry", "register_household", c.payload(actor=c.actor()))
    return {"household_id": household_id, "kk": c.body.kk}


def search_households(c: Call) -> dict:
    q: m.HouseholdSearch = c.query
    if q.name:
        return c.rpc("registry", "search_people", c.reader(), q.name, c.region, q.page, q.size)
    if c.region is None:
        raise ApiError(400, "invalid", "give village (or name) to search households", field="village",
                       rule="village.required")
    return c.rpc("registry", "households_in", c.reader(), c.region, q.page, q.size)


def household_benefits(c: Call) -> dict:
    """The KUBE groups and grants of the household the lookup found (grants knows it by id only)."""
    household_id = c.resource["household_id"]
    return {"household_id": household_id, "village_code": c.resource["village_code"], "programme": "KUBE",
            **c.rpc("grants", "household_benefits", household_id)}


def find_people(c: Call) -> dict:
    q: m.PeopleQuery = c.query
    return c.rpc("registry", "find_people", c.reader(), q.q, c.region, q.page, q.size)


def household_then(method: str, **fixed: Any):
    """A household command, answered with the household as it left it: the registry's answer, read by this user
    for this route as GET /households/{kk} would read it (no second call)."""
    def run(c: Call) -> dict:
        return c.rpc("registry", method, c.payload(kk=c.path.kk, actor=c.actor(), **{k: getattr(c.path, v) for k, v
                                                                                     in fixed.items()}), c.reader())
    return run


def request_erasure(c: Call) -> dict:
    return c.rpc("registry", "request_erasure", c.payload(nik=c.path.nik, actor=c.actor()))


def approve_erasure(c: Call) -> dict:
    return c.rpc("registry", "approve_erasure", {"request_id": str(c.path.request_id), "actor": c.actor()})


# --- grievances (pengaduan) -------------------------------------------------------------------------------------

def record_grievance(c: Call) -> dict:
    return {"grievance_id": c.rpc("registry", "record_grievance", c.payload(actor=c.actor()))}


def grievance_detail(c: Call) -> dict:
    return c.rpc("registry", "grievance", c.reader(), c.path.grievance_id)


def list_grievances(c: Call) -> list[dict]:
    q: m.GrievanceQuery = c.query
    return c.rpc("registry", "grievances", c.region, q.status, q.overdue, q.assigned_to)


def assign_grievance(c: Call) -> dict:
    """To a user of the gateway's store: the registry checks they are a verifier of the grievance's region, told
    who they are as the actor is (signed). An unknown or disabled user is refused here, by name."""
    found = c.gateway.store.user(c.body.assignee)
    if found is None or found[0].disabled:
        raise invalid("assignee", "grievance.assignee_unknown", f"no active user {c.body.assignee}")
    assignee = c.gateway.actors.sign(found[0].actor(), c.request_id)
    c.rpc("registry", "assign_grievance", {"grievance_id": str(c.path.grievance_id), "actor": c.actor(),
                                           "assignee": assignee})
    return grievance_detail(c)


def grievance_then(method: str):
    def run(c: Call) -> dict:
        c.rpc("registry", method, c.payload(grievance_id=str(c.path.grievance_id), actor=c.actor()))
        return grievance_detail(c)
    return run


def import_regions(c: Call) -> dict:
    imported = c.rpc("registry", "import_regions", c.payload(actor=c.actor()), timeout=120)
    c.gateway.regions.forget()  # the names this gateway shows are the new list's from now on
    return imported


def search_regions(c: Call) -> dict:
    q: m.RegionQuery = c.query
    rows = [row for row in c.gateway.regions.rows(c.rpc)
            if q.prefix is None or row["code"] == q.prefix or row["code"].startswith(q.prefix + ".")]
    start = (q.page - 1) * q.size
    return {"items": rows[start:start + q.size], "page": q.page, "size": q.size, "total": len(rows)}


def form_group(c: Call) -> dict:
    return {"group_id": c.rpc("registry", "form_group", c.payload(actor=c.actor()))}


def group_then(method: str):
    def run(c: Call) -> dict:
        c.rpc("registry", method, c.payload(group_id=c.path.group_id, actor=c.actor()))
        return group(c)
    return run


def group_candidates(c: Call) -> list:
    return c.rpc("registry", "group_candidates", c.reader(), c.query.village, c.query.kind)


def list_groups(c: Call) -> dict:
    q: m.GroupQuery = c.query
    return c.rpc("registry", "groups", c.region, q.status, q.page, q.size)


# --- grants --------------------------------------------------------------------------------------------------

def draft(c: Call) -> dict:
    return {"proposal_id": c.rpc("grants", "draft_proposal", c.payload(actor=c.actor()))}


def proposal_then(method: str):
    def run(c: Call) -> dict:
        c.rpc("grants", method, c.payload(actor=c.actor(), proposal_id=c.path.proposal_id))
        return proposal(c)
    return run


def list_proposals(c: Call) -> dict:
    q: m.ProposalQuery = c.query
    if q.order == "oldest":
        return c.rpc("grants", "proposals", q.status, c.region, q.page, q.size, oldest_first=True)
    return c.rpc("grants", "proposals", q.status, c.region, q.page, q.size)


def set_ceiling(c: Call) -> dict:
    c.rpc("grants", "set_budget_ceiling", c.payload(actor=c.actor(), fiscal_year=c.path.fiscal_year,
                                                    source=c.path.source))
    return next(b for b in c.rpc("grants", "budgets", c.path.fiscal_year)
                if (b["source"], b["region"]) == (c.path.source, c.body.region))


def list_budgets(c: Call) -> list:
    return c.rpc("grants", "budgets", c.query.fiscal_year)


def idempotency_key(c: Call) -> str:
    """The request's Idempotency-Key, which the pipeline requires of the route (a payment pays once per key)."""
    return c.request.headers["idempotency-key"]


def disburse(c: Call) -> dict:
    return c.rpc("grants", "instruct", c.payload(actor=c.actor(), proposal_id=c.path.proposal_id,
                                                 tranche=c.path.n, idempotency_key=idempotency_key(c)))


def deliver(c: Call) -> dict:
    return c.rpc("grants", "deliver", c.payload(actor=c.actor(), proposal_id=c.path.proposal_id,
                                                tranche=c.path.n, idempotency_key=idempotency_key(c)))


def take_batch(c: Call) -> dict:
    return c.rpc("grants", "take_batch", c.payload(actor=c.actor()))


def reconcile_statement(c: Call) -> dict:
    return c.rpc("grants", "reconcile_statement", {"actor": c.actor(), "format": c.query.format,
                                                   "content_base64": base64.b64encode(c.body).decode()})


def grant_then(method: str, tranche: bool = False, payment: bool = False):
    def run(c: Call) -> dict:
        extra: dict[str, Any] = {"actor": c.actor(), "proposal_id": c.path.proposal_id}
        if tranche:
            extra["tranche"] = c.path.n
        if payment:
            extra["payment_id"] = c.path.payment_id
        c.rpc("grants", method, c.payload(**extra))
        return grant(c)
    return run


def attach_document(c: Call) -> dict:
    q: m.AttachTo = c.query
    return c.rpc("grants", "attach_document", {
        "actor": c.actor(), "proposal_id": c.path.proposal_id, "kind": q.kind, "payment_id": q.payment_id,
        "tranche": q.tranche, "content_base64": base64.b64encode(c.body).decode()})


def download_document(c: Call) -> File:
    return as_file(c.rpc("grants", "document", c.reader(), c.path.proposal_id, c.path.digest))


def attach_group_document(c: Call) -> dict:
    return c.rpc("registry", "attach_group_document", {
        "actor": c.actor(), "group_id": c.path.group_id, "kind": c.query.kind,
        "content_base64": base64.b64encode(c.body).decode()})


def download_group_document(c: Call) -> File:
    return as_file(c.rpc("registry", "group_document", c.reader(), c.path.group_id, c.path.digest))


def as_file(found: dict) -> File:
    """A stored document as the service handed it out (base64 over RPC), in its own media type."""
    return File(base64.b64decode(found["content_base64"]), found["filename"], media_type=found["media_type"])


# --- training ------------------------------------------------------------------------------------------------

def open_cohort(c: Call) -> dict:
    return {"cohort_id": c.rpc("training", "open_cohort", c.payload(actor=c.actor()))}


def list_cohorts(c: Call) -> dict:
    q: m.CohortQuery = c.query
    return c.rpc("training", "cohorts", c.region, q.page, q.size)


def enrol(c: Call) -> dict:
    c.rpc("training", "enrol", c.payload(cohort_id=c.path.cohort_id, actor=c.actor()))
    return cohort_after(c)


def assign_facilitator(c: Call) -> dict:
    c.rpc("training", "assign_facilitator", c.payload(cohort_id=c.path.cohort_id, actor=c.actor()))
    return cohort_after(c)


def cohort_after(c: Call) -> dict:
    """The cohort as this request left it (``c.resource`` is as it was before), its people named."""
    found = cohort(c)
    return {**found, "participants": named(c, found["participants"])}


def schedule(c: Call) -> dict:
    return {"session_id": c.rpc("training", "schedule_session", c.payload(cohort_id=c.path.cohort_id,
                                                                          actor=c.actor()))}


def attendance(method: str):
    def run(c: Call) -> dict:
        completed = c.rpc("training", method, c.payload(cohort_id=c.path.cohort_id, session_id=c.path.session_id,
                                                        actor=c.actor()))
        return {"completed": completed}
    return run


def participant(c: Call) -> Any:
    return c.rpc("training", "participant", c.path.person_id)


def bdt_import(c: Call) -> dict:
    return run_bdt_import(c)


def decide_held_change(decision: str):
    def run(c: Call) -> dict:
        return c.rpc("registry", "decide_held_change", {"change_id": str(c.path.change_id), "decision": decision,
                                                        "actor": c.actor()})
    return run


# --- the table -----------------------------------------------------------------------------------------------

ROUTES: tuple[Route, ...] = (
    # operations (outside /api/v1)
    route("GET", "/health", "health", "Health of the gateway and its dependencies", roles=PUBLIC, scope=Unscoped(),
          run=health, path_types={}, response=m.Health, tag="operations"),
    route("GET", "/openapi.json", "openapi", "This API's OpenAPI 3.1 document", roles=PUBLIC, scope=Unscoped(),
          run=openapi, path_types={}, response=dict, tag="operations"),
    r("GET", "/schemas/{event_type}/{version}", "event_schema", "The JSON Schema of a public event's data, by type "
      "and version (docs/asyncapi.json's components; docs/consumers.md)", roles=PUBLIC, scope=Unscoped(),
      run=event_schema, media_type=SCHEMA_MEDIA_TYPE, tag="events"),
    # auth and users
    r("POST", "/auth/token", "issue_token", "Get a token", roles=PUBLIC, scope=Unscoped(), run=issue_token,
      body=m.TokenRequest, response=m.TokenOut, tag="auth"),
    r("POST", "/auth/password", "change_password", "Change one's own password, with the current one (a password "
      "an administrator set must be changed before a token is issued)", roles=PUBLIC, scope=Unscoped(),
      run=change_password, body=m.PasswordChange, response=m.UserOut, tag="auth"),
    r("GET", "/users", "list_users", "List users", roles={"admin", "auditor"}, scope=National(),
      run=lambda c: [user_out(u) for u in c.gateway.store.users()], response=list[m.UserOut], tag="auth"),
    r("POST", "/users", "add_user", "Add a user", roles={"admin"}, scope=National(), run=add_user, body=m.UserIn,
      response=m.UserOut, status=201, tag="auth"),
    r("POST", "/users/{username}/disable", "disable_user", "Disable a user", roles={"admin"}, scope=National(),
      run=set_disabled(True), response=m.UserOut, tag="auth"),
    r("POST", "/users/{username}/enable", "enable_user", "Enable a user", roles={"admin"}, scope=National(),
      run=set_disabled(False), response=m.UserOut, tag="auth"),
    r("POST", "/users/{username}/password", "reset_password", "Set a user's new password (ends their console "
      "sessions; they must change it at their next login)", roles={"admin"}, scope=National(), run=reset_password,
      body=m.PasswordIn, response=m.UserOut, tag="auth"),
    r("GET", "/users/changes", "user_changes", "Who added, disabled, enabled or reset which user, who changed their "
      "own password, and when", roles={"admin", "auditor"}, scope=National(), run=user_changes,
      query=m.UserChangeQuery, response=list[m.UserChangeOut], tag="auth"),
    r("GET", "/me", "me", "Who this credential belongs to", roles=EVERYONE, scope=Unscoped(),
      run=lambda c: user_out(c.user), response=m.Me, tag="auth"),
    # regions
    r("POST", "/regions/import", "import_regions", "Import the official region list", roles={"admin"},
      scope=National(), run=import_regions,
      body=m.ImportRegions, response=m.RegionImported, max_body=20_000_000, tag="regions"),
    r("GET", "/regions", "list_regions", "List region codes", roles=EVERYONE, scope=Unscoped(), run=search_regions,
      query=m.RegionQuery, response=m.Page[m.RegionRow], tag="regions"),
    # households
    r("POST", "/households", "register_household", "Register a household", roles=OPERATOR, scope=BodyRegion(),
      run=register_household, body=m.RegisterHousehold, response=m.HouseholdCreated, status=201, tag="households"),
    r("GET", "/households", "search_households", "Search households (by village) or people (by name)",
      roles=EVERYONE, scope=QueryRegion("village", required=True), run=search_households, query=m.HouseholdSearch,
      response=m.Page[m.Open], tag="households"),
    r("GET", "/households/{kk}", "get_household", "Get a household", roles=EVERYONE, scope=HOUSEHOLD,
      run=lambda c: c.resource, response=m.Household, tag="households"),
    r("GET", "/households/{kk}/history", "household_history", "A household's history", roles=EVERYONE,
      scope=HOUSEHOLD, run=lambda c: c.rpc("registry", "household_history", c.reader(), c.path.kk),
      response=list[m.HistoryEntry], tag="households"),
    r("GET", "/households/{kk}/benefits", "household_benefits", "What a household already receives (KUBE groups, "
      "their proposals and grants: status, approved amount, tranches paid, fiscal year and source), for another "
      "programme's double-aid check: ids and amounts, no personal data", roles=EVERYONE, scope=HOUSEHOLD,
      run=household_benefits, response=m.HouseholdBenefits, tag="households"),
    r("POST", "/households/{kk}/members", "add_member", "Add a member to a household", roles=OPERATOR,
      scope=HOUSEHOLD, run=household_then("add_member"), body=m.AddMember, response=m.Household, tag="households"),
    r("POST", "/households/{kk}/members/{nik}/remove", "remove_member", "Remove a member from a household",
      roles=OPERATOR, scope=HOUSEHOLD, run=household_then("remove_member", nik="nik"), body=m.RemoveMember,
      response=m.Household, tag="households"),
    r("POST", "/households/{kk}/members/{nik}/correct", "correct_member", "Correct a member's data",
      roles=OPERATOR, scope=HOUSEHOLD, run=household_then("correct_member", nik="nik"), body=m.CorrectMember,
      response=m.Household, tag="households"),
    r("POST", "/households/{kk}/status", "change_status", "Change a household's BDT status", roles=OPERATOR,
      scope=HOUSEHOLD, run=household_then("change_status"), body=m.ChangeStatus, response=m.Household,
      tag="households"),
    r("POST", "/households/{kk}/decile", "change_decile", "Change a household's welfare decile", roles=OPERATOR,
      scope=HOUSEHOLD, run=household_then("change_decile"), body=m.ChangeDecile, response=m.Household,
      tag="households"),
    r("GET", "/people", "find_people", "Find people by NIK, KK or any part of the name, in a region",
      roles=EVERYONE, scope=QueryRegion(), run=find_people, query=m.PeopleQuery, response=m.Page[m.PersonFound],
      tag="households"),
    r("GET", "/people/{nik}", "get_person", "Get a person by NIK", roles=EVERYONE, scope=Lookup(person, "person"),
      run=lambda c: c.resource, response=m.Person, tag="households"),
    r("GET", "/people/{nik}/access-log", "person_access_log", "Who read a person's data, when and why (the "
      "registry's access log)", roles=AUDITORS, scope=ACCESS_LOG, run=lambda c: c.resource,
      response=m.AccessLog, tag="households"),
    r("POST", "/people/{nik}/erasure", "request_erasure", "Ask for the erasure of a person, their household staying, "
      "or of their whole household (another admin approves; refused while a legal duty keeps the data: "
      "docs/privacy.md)", roles=ADMIN,
      scope=Lookup(person, "person"), run=request_erasure, body=m.AskErasure, response=m.ErasureRequest,
      status=201, tag="households"),
    r("GET", "/erasures", "pending_erasures", "The erasure requests of a region awaiting another admin's approval "
      "(ids, who asked, when and why: no personal data)", roles=AUDITORS, scope=QueryRegion(),
      run=lambda c: c.rpc("registry", "pending_erasures", c.reader(), c.region), query=m.ErasureQuery,
      response=list[m.PendingErasure], tag="households"),
    r("POST", "/erasures/{request_id}/approve", "approve_erasure", "Approve another admin's erasure request: the "
      "person's or household's data is erased for good", roles=ADMIN, scope=EachInService(), run=approve_erasure,
      response=m.ErasureRequest, tag="households"),
    r("POST", "/imports/bdt", "import_bdt", "Import a DTKS/BDT CSV file", roles=OPERATOR, scope=CsvRegions(),
      run=bdt_import, raw_body="text/csv", max_body=50_000_000, response=m.BdtReport, tag="households",
      batch_job=True),
    r("GET", "/imports/bdt/held", "held_changes", "The changes of DTSEN/DTKS files held for review (they touch a "
      "KUBE's money: its household removed or above the decile limit, its representative gone), oldest first",
      roles=EVERYONE, scope=QueryRegion(), run=lambda c: c.rpc("registry", "held_changes", c.reader(), c.region),
      query=m.RegionFilter, response=list[m.HeldChange], tag="households"),
    r("POST", "/imports/bdt/held/{change_id}/confirm", "confirm_held_change", "Confirm a held change: it applies "
      "to the household as it is now", roles=OPERATOR, scope=EachInService(), run=decide_held_change("confirmed"),
      response=m.HeldDecision, tag="households"),
    r("POST", "/imports/bdt/held/{change_id}/reject", "reject_held_change", "Reject a held change: the household "
      "stays as it is", roles=OPERATOR, scope=EachInService(), run=decide_held_change("rejected"),
      response=m.HeldDecision, tag="households"),
    # the DCI social-registry API, for other systems (docs/dci.md)
    r("POST", "/dci/registry/sync/search", "dci_sync_search", "DCI social registry: search households by region, "
      "poverty decile and BDT status, or by NIK/KK for an entitled client (the standard's sync search; ids and "
      "selection facts only, no personal data)", roles=DCI_CLIENT, scope=dci.SearchRegions(), run=dci.sync_search,
      body=dm.SyncSearchRequest, response=dm.SyncSearchResponse, error_code=dci.standard_code,
      check_message=dci.check_message, tag="dci"),
    r("POST", "/dci/registry/sync/txn/status", "dci_sync_txn_status", "DCI social registry: what one of the "
      "client's searches came to, by transaction or correlation id (each search request's status and count, not "
      "its records)", roles=DCI_CLIENT, scope=Unscoped(), run=dci.sync_txn_status, body=dm.SyncTxnStatusRequest,
      response=dm.SyncTxnStatusResponse, error_code=dci.standard_code,
      check_message=dci.check_message, tag="dci"),
    r("POST", "/dci/registry/sync/subscribe", "dci_sync_subscribe", "DCI social registry: subscribe to the "
      "household changes of a region, pulled with notify or pushed to the header's sender_uri (each "
      "subscription's code names it in notify and unsubscribe)", roles=DCI_CLIENT,
      scope=dci.SubscribeRegions(), run=dci.sync_subscribe, body=dm.SyncSubscribeRequest,
      response=dm.SyncSubscribeResponse, error_code=dci.standard_code,
      check_message=dci.check_message, tag="dci"),
    r("GET", "/dci/.well-known/jwks.json", "dci_jwks", "DCI: the gateway's public key that signs every DCI answer "
      "(a JSON Web Key Set, Ed25519)", roles=PUBLIC, scope=Unscoped(), run=dci.jwks, response=dm.Jwks, tag="dci"),
    r("POST", "/dci/registry/sync/notify", "dci_sync_notify", "DCI social registry: the household changes of a "
      "subscription since its last pull (ids and selection facts only, as a search's records)", roles=DCI_CLIENT,
      scope=Unscoped(), run=dci.sync_notify, body=dm.SyncNotifyRequest, response=dm.SyncNotifyResponse,
      error_code=dci.standard_code, check_message=dci.check_message, tag="dci"),
    r("POST", "/dci/registry/sync/unsubscribe", "dci_sync_unsubscribe", "DCI social registry: end subscriptions "
      "by their codes (no longer pulled nor pushed; kept as ended)", roles=DCI_CLIENT, scope=Unscoped(),
      run=dci.sync_unsubscribe, body=dm.SyncUnsubscribeRequest, response=dm.SyncUnsubscribeResponse,
      error_code=dci.standard_code, check_message=dci.check_message, tag="dci"),
    # groups
    r("POST", "/groups", "form_group", "Form a KUBE group", roles=OPERATOR, scope=BodyRegion(), run=form_group,
      body=m.FormGroup, response=m.GroupCreated, status=201, tag="groups"),
    r("GET", "/groups", "list_groups", "List KUBE groups", roles=EVERYONE, scope=QueryRegion(), run=list_groups,
      query=m.GroupQuery, response=m.Page[m.GroupRow], tag="groups"),
    r("GET", "/groups/candidates", "group_candidates", "The households of a village: who may join a KUBE of "
      "that kind, and why not", roles=EVERYONE, scope=QueryRegion("village"), run=group_candidates,
      query=m.CandidateQuery, response=list[m.Candidate], tag="groups"),
    r("GET", "/groups/{group_id}", "get_group", "Get a KUBE group", roles=EVERYONE, scope=GROUP,
      run=lambda c: c.resource, response=m.Group, tag="groups"),
    r("POST", "/groups/{group_id}/members", "change_group_member", "Replace, add or remove a group member",
      roles=OPERATOR, scope=GROUP, run=group_then("change_group_member"), body=m.ChangeGroupMember,
      response=m.Group, tag="groups"),
    r("POST", "/groups/{group_id}/dissolve", "dissolve_group", "Dissolve a group", roles=OPERATOR, scope=GROUP,
      run=group_then("dissolve_group"), body=m.Dissolve, response=m.Group, tag="groups"),
    r("POST", "/groups/{group_id}/graduate", "graduate_group", "Graduate an active group (mandiri): its mentoring "
      "ends", roles=OPERATOR, scope=GROUP, run=group_then("graduate_group"), body=m.Dissolve, response=m.Group,
      tag="groups"),
    # a KUBE's own papers (docs/documents.md), kept by the registry: the scans name the group's people
    r("POST", "/groups/{group_id}/documents", "attach_group_document", "Attach a KUBE's own paper — the SK Kades "
      "forming it, the village meeting's minutes: the file's bytes as the body (PDF, JPEG or PNG, at most 10 MB; "
      "its content decides its type); its SHA-256 goes into the registry's event", roles=OPERATOR, scope=GROUP,
      run=attach_group_document, query=m.AttachToGroup, raw_body="application/octet-stream", binary_body=True,
      max_body=10 * 1024 * 1024, response=m.GroupDocument, status=201, tag="documents"),
    r("GET", "/groups/{group_id}/documents", "list_group_documents", "The papers attached to a KUBE",
      roles=EVERYONE, scope=GROUP, run=lambda c: c.rpc("registry", "group_documents", c.reader(), c.path.group_id),
      response=list[m.GroupDocument], tag="documents"),
    r("GET", "/groups/{group_id}/documents/{digest}", "download_group_document", "Download a KUBE's paper as stored "
      "(PDF, JPEG or PNG, in its own media type): written to the registry's access log", roles=EVERYONE,
      scope=GROUP, run=download_group_document, media_type="application/octet-stream", tag="documents"),
    # grievances (pengaduan): the list without personal data to every role; one grievance, with who complained and
    # what was said, to the roles that work with people, of its region
    r("POST", "/grievances", "record_grievance", "Record a grievance on behalf of a resident (or an anonymous misuse "
      "report)", roles=OPERATOR, scope=BodyRegion(), run=record_grievance, body=m.RecordGrievance,
      response=m.GrievanceCreated, status=201, tag="grievances"),
    r("GET", "/grievances", "list_grievances", "Grievances of a region, the oldest due first (no personal data)",
      roles=EVERYONE, scope=QueryRegion(), run=list_grievances, query=m.GrievanceQuery,
      response=list[m.GrievanceRow], tag="grievances"),
    r("GET", "/grievances/{grievance_id}", "get_grievance", "A grievance: who complained, what about, its notes "
      "and resolution (a logged read of personal data)", roles=GRIEVANCE_READERS, scope=GRIEVANCE,
      run=grievance_detail, response=m.Grievance, tag="grievances"),
    r("POST", "/grievances/{grievance_id}/assign", "assign_grievance", "Assign a grievance to a verifier of its "
      "region", roles=GRIEVANCE_ASSIGNERS, scope=GRIEVANCE, run=assign_grievance, body=m.AssignGrievance,
      response=m.Grievance, tag="grievances"),
    r("POST", "/grievances/{grievance_id}/notes", "note_grievance", "Add a note to an open grievance",
      roles=GRIEVANCE_NOTERS, scope=GRIEVANCE, run=grievance_then("note_grievance"), body=m.NoteGrievance,
      response=m.Grievance, tag="grievances"),
    r("POST", "/grievances/{grievance_id}/resolve", "resolve_grievance", "Resolve a grievance with its outcome (the "
      "verifier it is assigned to)", roles={"verifier"}, scope=GRIEVANCE, run=grievance_then("resolve_grievance"),
      body=m.ResolveGrievance, response=m.Grievance, tag="grievances"),
    # budgets
    r("PUT", "/budgets/{fiscal_year}/{source}", "set_budget_ceiling", "Set a budget ceiling (pagu) of a region: "
      "whoever pays (APBN the ministry, APBD-provinsi the province, APBD-kabupaten the regency's head of office)",
      roles=BUDGET_OWNER_ROLES, scope=BodyRegion("region"), run=set_ceiling, body=m.BudgetCeiling,
      response=m.Budget, tag="budgets"),
    r("GET", "/budgets", "list_budgets", "List budgets", roles=EVERYONE, scope=Unscoped(), run=list_budgets,
      query=m.BudgetQuery, response=list[m.Budget], tag="budgets"),
    # proposals
    r("POST", "/proposals", "draft_proposal", "Draft a proposal", roles=OPERATOR,
      scope=Lookup(lambda c: c.rpc("grants", "group", c.body.group_id), "group"), run=draft,
      body=m.DraftProposal, response=m.ProposalCreated, status=201, tag="proposals"),
    r("GET", "/proposals", "list_proposals", "List proposals", roles=EVERYONE, scope=QueryRegion(),
      run=list_proposals, query=m.ProposalQuery, response=m.Page[m.ProposalRow], tag="proposals"),
    r("GET", "/proposals/counts", "proposal_counts", "Proposals by status, in a region", roles=EVERYONE,
      scope=QueryRegion(), run=lambda c: c.rpc("grants", "proposal_counts", c.region), query=m.RegionFilter,
      response=dict[str, int], tag="proposals"),
    r("GET", "/proposals/{proposal_id}", "get_proposal", "Get a proposal with its history", roles=EVERYONE,
      scope=PROPOSAL, run=lambda c: c.resource, response=m.Proposal, tag="proposals"),
    r("POST", "/proposals/{proposal_id}/submit", "submit_proposal", "Submit a drafted proposal", roles=OPERATOR,
      scope=PROPOSAL, run=proposal_then("submit"), response=m.Proposal, tag="proposals"),
    r("POST", "/proposals/{proposal_id}/verify", "verify_proposal", "Verify (district)", roles={"verifier"},
      scope=PROPOSAL, run=proposal_then("verify"), response=m.Proposal, tag="proposals"),
    r("POST", "/proposals/{proposal_id}/recommend", "recommend_proposal", "Recommend (province)",
      roles={"province"}, scope=PROPOSAL, run=proposal_then("recommend"), response=m.Proposal, tag="proposals"),
    r("POST", "/proposals/{proposal_id}/approve", "approve_proposal", "Approve from a budget, by whoever pays it "
      "(APBN: the ministry; APBD-provinsi: the province; APBD-kabupaten: the regency's head, on the regent's "
      "decree)", roles=BUDGET_OWNER_ROLES, scope=PROPOSAL, run=proposal_then("approve"), body=m.Approve,
      response=m.Proposal, tag="proposals"),
    r("POST", "/proposals/{proposal_id}/return", "return_proposal", "Return for revision", roles=REVIEWERS,
      scope=PROPOSAL, run=proposal_then("return_for_revision"), body=m.Reasoned, response=m.Proposal,
      tag="proposals"),
    r("POST", "/proposals/{proposal_id}/reject", "reject_proposal", "Reject (final)", roles=REVIEWERS,
      scope=PROPOSAL, run=proposal_then("reject"), body=m.Reasoned, response=m.Proposal, tag="proposals"),
    r("POST", "/proposals/{proposal_id}/resubmit", "resubmit_proposal", "Resubmit a returned proposal",
      roles=OPERATOR, scope=PROPOSAL, run=proposal_then("resubmit"), body=m.Resubmit, response=m.Proposal,
      tag="proposals"),
    r("POST", "/proposals/{proposal_id}/cancel", "cancel_proposal", "Cancel an approved grant before payment "
      "(whoever pays it)", roles=BUDGET_OWNER_ROLES, scope=PROPOSAL, run=proposal_then("cancel"), body=m.Reasoned,
      response=m.Proposal, tag="proposals"),
    # grants and money
    r("GET", "/grants/payable", "payable_grants", "Grants with a tranche to pay, being paid, or waiting (and "
      "for what): the treasurer's list", roles=EVERYONE, scope=QueryRegion(),
      run=lambda c: c.rpc("grants", "payables", c.region), query=m.RegionFilter, response=list[m.Payable],
      tag="grants"),
    r("GET", "/grants/lpj-due", "lpj_due", "Paid tranches whose LPJ is not accepted yet (overdue ones marked)",
      roles=EVERYONE, scope=QueryRegion(), run=lambda c: c.rpc("grants", "lpj_due", c.region),
      query=m.RegionFilter, response=list[m.LpjDue], tag="grants"),
    r("GET", "/grants/visits-due", "visits_due", "Active groups whose monitoring visit is due or overdue, the "
      "longest overdue first", roles=EVERYONE, scope=QueryRegion(), run=lambda c: c.rpc("grants", "visits_due",
                                                                                         c.region),
      query=m.RegionFilter, response=list[m.VisitDue], tag="grants"),
    r("POST", "/grants/batches", "take_batch", "Take the bulk-transfer file (CSV for the bank's upload) of instructed "
      "payments: they are sent to the bank by it; the same selection again is the same file", roles=TREASURER,
      scope=EachInService(), run=take_batch, body=m.TakeBatch, response=m.TransferBatch, tag="grants"),
    r("POST", "/grants/statements", "reconcile_statement", "Upload the bank's statement (MT940 or CSV, as sent): "
      "matching lines confirm or fail their payments, the rest waits for a person; the same statement again "
      "changes nothing", roles=TREASURER, scope=EachInService(), run=reconcile_statement, query=m.StatementFormat,
      raw_body="application/octet-stream", max_body=5_000_000, response=m.Reconciliation, tag="grants"),
    r("GET", "/grants/{proposal_id}", "get_grant", "Get a grant: tranches, payments, LPJ, visits",
      roles=EVERYONE, scope=GRANT, run=lambda c: c.resource, response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/tranches/{n}/disburse", "disburse_tranche",
      "Instruct a tranche's transfer (needs Idempotency-Key)", roles=TREASURER, scope=GRANT, run=disburse,
      response=m.Payment, idempotency_key=True, tag="grants"),
    r("POST", "/grants/{proposal_id}/tranches/{n}/deliver", "deliver_tranche",
      "Record an equipment delivery with its BAST (needs Idempotency-Key)", roles={"operator", "treasurer"},
      scope=GRANT, run=deliver, body=m.Deliver, response=m.Payment, idempotency_key=True, tag="grants"),
    r("POST", "/grants/{proposal_id}/payments/{payment_id}/accept", "handover_accepted",
      "Accept an equipment delivery's handover (BAST), recorded by another person: the tranche is paid",
      roles={"operator", "treasurer"}, scope=GRANT, run=grant_then("accept_handover", payment=True),
      response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/tranches/{n}/lpj", "submit_lpj", "Submit a tranche's LPJ", roles=OPERATOR,
      scope=GRANT, run=grant_then("submit_lpj", tranche=True), body=m.SubmitLpj, response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/tranches/{n}/lpj/review", "review_lpj", "Accept (reconciled with the "
      "tranche: never above it, a balance returned or explained) or return an LPJ",
      roles=OPERATOR, scope=GRANT, run=grant_then("review_lpj", tranche=True), body=m.ReviewLpj,
      response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/payments/{payment_id}/sent", "payment_sent", "Mark a payment sent to the bank",
      roles=TREASURER, scope=GRANT, run=grant_then("mark_sent", payment=True), response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/payments/{payment_id}/confirm", "payment_confirmed",
      "Record the bank's confirmation", roles=TREASURER, scope=GRANT, run=grant_then("confirm", payment=True),
      body=m.Confirm, response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/payments/{payment_id}/fail", "payment_failed", "Record a failed transfer",
      roles=TREASURER, scope=GRANT, run=grant_then("fail", payment=True), body=m.Reasoned, response=m.Grant,
      tag="grants"),
    r("POST", "/grants/{proposal_id}/payments/{payment_id}/cancel", "payment_cancelled",
      "Cancel a payment instruction", roles=TREASURER, scope=GRANT, run=grant_then("cancel_payment", payment=True),
      body=m.Reasoned, response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/visits", "record_visit", "Record a monitoring visit",
      roles={"facilitator", "operator"}, scope=GRANT, run=grant_then("record_visit"), body=m.RecordVisit,
      response=m.Grant, tag="grants"),
    r("POST", "/grants/{proposal_id}/refunds", "record_refund", "Record a refund: misused funds, or a tranche's "
      "unspent balance",
      roles=TREASURER, scope=GRANT, run=grant_then("record_refund"), body=m.RecordRefund, response=m.Grant,
      tag="grants"),
    # evidence (docs/documents.md): attached by the role that records what it proves (the service checks which)
    r("POST", "/proposals/{proposal_id}/documents", "attach_document", "Attach evidence to a proposal or its grant "
      "— the signed proposal, the RAB, the decision letter, a delivery's BAST or photo, an LPJ's receipt, a "
      "monitoring photo: the file's bytes as the body (PDF, JPEG or PNG, at most 10 MB; its content decides its "
      "type); its SHA-256 goes into the event, on the money ledger", roles=OPERATOR | TREASURER | FACILITATOR |
      BUDGET_OWNER_ROLES, scope=PROPOSAL, run=attach_document, query=m.AttachTo,
      raw_body="application/octet-stream", binary_body=True, max_body=10 * 1024 * 1024, response=m.Document,
      status=201,
      tag="documents"),
    r("GET", "/proposals/{proposal_id}/documents", "list_documents", "The evidence attached to a proposal and its "
      "grant", roles=EVERYONE, scope=PROPOSAL,
      run=lambda c: c.rpc("grants", "documents", c.reader(), c.path.proposal_id), response=list[m.Document],
      tag="documents"),
    r("GET", "/proposals/{proposal_id}/documents/{digest}", "download_document", "Download an attached file as "
      "stored (PDF, JPEG or PNG, in its own media type): written to grants' document access log", roles=EVERYONE,
      scope=PROPOSAL, run=download_document, media_type="application/octet-stream", tag="documents"),
    # Family School
    r("GET", "/curriculum", "get_curriculum", "The Family School curriculum", roles=EVERYONE, scope=Unscoped(),
      run=lambda c: c.rpc("training", "curriculum"), response=m.Curriculum, tag="family school"),
    r("POST", "/cohorts", "open_cohort", "Open a cohort (kelas)", roles={"facilitator", "operator"},
      scope=BodyRegion(), run=open_cohort, body=m.OpenCohort, response=m.CohortCreated, status=201,
      tag="family school"),
    r("GET", "/cohorts", "list_cohorts", "List cohorts", roles=EVERYONE, scope=QueryRegion(), run=list_cohorts,
      query=m.CohortQuery, response=m.Page[m.CohortRow], tag="family school"),
    r("GET", "/cohorts/{cohort_id}", "get_cohort", "Get a cohort: sessions, participants, attendance",
      roles=EVERYONE, scope=COHORT, run=cohort_named, response=m.Cohort, tag="family school"),
    r("PUT", "/cohorts/{cohort_id}/facilitator", "assign_facilitator", "Assign a cohort's facilitator (one opened "
      "automatically when a grant was approved waits for one)", roles={"facilitator", "operator"}, scope=COHORT,
      run=assign_facilitator, body=m.AssignFacilitator, response=m.Cohort, tag="family school"),
    r("POST", "/cohorts/{cohort_id}/participants", "enrol", "Enrol a person", roles={"facilitator", "operator"},
      scope=COHORT, run=enrol, body=m.Enrol, response=m.Cohort, tag="family school"),
    r("POST", "/cohorts/{cohort_id}/sessions", "schedule_session", "Schedule a session", roles=FACILITATOR,
      scope=COHORT, run=schedule, body=m.ScheduleSession, response=m.SessionCreated, status=201,
      tag="family school"),
    r("POST", "/cohorts/{cohort_id}/sessions/{session_id}/attendance", "record_attendance",
      "Record a session's attendance", roles=FACILITATOR, scope=COHORT, run=attendance("record_attendance"),
      body=m.RecordAttendance, response=m.Completions, tag="family school"),
    r("POST", "/cohorts/{cohort_id}/sessions/{session_id}/corrections", "correct_attendance",
      "Correct one attendance mark", roles=FACILITATOR, scope=COHORT, run=attendance("correct_attendance"),
      body=m.CorrectAttendance, response=m.Completions, tag="family school"),
    r("GET", "/gates", "list_gates", "Family School gates of the groups in a region", roles=EVERYONE,
      scope=QueryRegion(), run=lambda c: c.rpc("training", "gates", c.region), query=m.RegionFilter,
      response=list[m.GateOut], tag="family school"),
    r("GET", "/participants/{person_id}", "get_participant", "A participant's enrolments and attendance",
      roles=EVERYONE, scope=Lookup(participant, "participant", key=participant_region), run=lambda c: c.resource,
      response=m.Participant, tag="family school"),
    # printouts (PDF, docs/documents.md): each carries the code of the event it stands on, which anyone may check
    r("GET", "/proposals/{proposal_id}/printouts/letter", "print_proposal_letter", "The district's letter proposing "
      "a verified KUBE proposal to the province (PDF)", roles=EVERYONE, scope=PROPOSAL,
      run=printouts.on_request(printouts.proposal_letter), media_type=PDF, tag="printouts"),
    r("GET", "/proposals/{proposal_id}/printouts/decision-annex", "print_decision_annex", "The annex of an "
      "approval: the amount and the families who benefit, NIK and KK masked (PDF)", roles=EVERYONE, scope=PROPOSAL,
      run=printouts.on_request(printouts.decision_annex), media_type=PDF, tag="printouts"),
    r("GET", "/grants/{proposal_id}/payments/{payment_id}/printouts/bast", "print_bast", "The handover record "
      "(BAST) of an equipment delivery, pre-filled for signing (PDF)", roles=EVERYONE, scope=GRANT,
      run=printouts.on_request(printouts.bast, "payment_id"), media_type=PDF, tag="printouts"),
    r("GET", "/grants/{proposal_id}/payments/{payment_id}/printouts/receipt", "print_receipt", "The receipt "
      "(kuitansi) of a paid tranche (PDF)", roles=EVERYONE, scope=GRANT,
      run=printouts.on_request(printouts.receipt, "payment_id"), media_type=PDF, tag="printouts"),
    r("GET", "/grants/{proposal_id}/payments/{payment_id}/printouts/provenance", "print_provenance", "The "
      "auditor's provenance sheet of a disbursement: every decision it rests on, by whom, when (PDF)",
      roles=AUDITORS | TREASURER, scope=GRANT, run=printouts.on_request(printouts.provenance, "payment_id"),
      media_type=PDF, tag="printouts"),
    r("GET", "/grants/{proposal_id}/tranches/{n}/printouts/lpj", "print_lpj_form", "The LPJ form of a paid "
      "tranche, with the lines submitted so far (PDF)", roles=EVERYONE, scope=GRANT,
      run=printouts.on_request(printouts.lpj_form, "n"), media_type=PDF, tag="printouts"),
    r("GET", "/cohorts/{cohort_id}/participants/{person_id}/printouts/certificate", "print_certificate", "The Family "
      "School certificate of a participant who completed it (PDF)", roles=EVERYONE, scope=COHORT,
      run=printouts.on_request(printouts.certificate, "person_id"), media_type=PDF, tag="printouts"),
    route("GET", "/verify/{code}", "verify_document", "Check a printout's verification code: whether it matches "
          "what berdaya recorded, and the non-personal essentials to compare with the paper (public, throttled)",
          roles=PUBLIC, scope=Unscoped(), run=printouts.verify_document, path_types=PATH_TYPES,
          response=m.DocumentCheck, tag="printouts"),
    # the head of the office's overview (every role reads it, for its own region)
    r("GET", "/dashboard", "dashboard", "The programme per district (or per village of a district): households, "
      "KUBE, proposals, money, LPJ, Family School", roles=EVERYONE, scope=QueryRegion(), run=dashboard,
      query=m.RegionFilter, response=m.Dashboard, tag="dashboard"),
    # audit: it covers every region, so only national users (region '') may run it
    r("GET", "/audit/verify", "audit_verify", "Verify the logs, the ledger and the read models", roles=AUDITORS,
      scope=National(), run=audit.verify, query=m.AuditQuery, response=m.AuditVerification, tag="audit"),
    r("GET", "/audit/runs", "audit_runs", "The last verifications run through the gateway, by whom",
      roles=AUDITORS, scope=National(), run=audit.runs, response=list[m.AuditRun], tag="audit"),
    r("GET", "/audit/head", "ledger_head", "The money ledger's head (keep it where the database administrator "
      "cannot reach)", roles=AUDITORS, scope=National(), run=audit.head, response=m.LedgerHead, tag="audit"),
    r("GET", "/audit/replay", "audit_replay", "Every budget, proposal and group as it was at a moment, from the "
      "events alone", roles=AUDITORS, scope=National(), run=audit.replay, query=m.ReplayQuery,
      response=m.Replayed, tag="audit"),
    r("GET", "/audit/report", "audit_report", "Download the audit report: CSV files and report.html in a zip",
      roles=AUDITORS, scope=National(), run=audit.report, query=m.AuditQuery, media_type="application/zip",
      tag="audit"),
)
