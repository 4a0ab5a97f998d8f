"""The request pipeline, the same for every route of the table (routes.py):

    authenticate (401; a console session's write needs its CSRF token, else 403) → role allowed by the route (403)
    → path and query parsed, an Idempotency-Key given if the route requires one (400) → the body: its media type
    the route's (415), its length within the route's limit (413), only then read and parsed (400) → the resource's
    region found (404) and covered by the user's region (a looked-up resource outside it: the same 404 as a missing
    one; a region the request names itself: 403) → Idempotency-Key claimed (409 if used otherwise) → the route's
    call → JSON, with every NIK and KK masked for a role that does not need them in full (masking.py).

The body is read last of all the request's parts, and only for a user the route allows: a stranger's large body
is never read (over HTTP, it arrives as :class:`Unread`).

Two credentials lead to the same user: an API client's bearer token, or the console's session cookie (the console
builds its requests with ``session`` and ``csrf`` set, and runs them through this same pipeline: no rule of who
may do what exists twice).

It knows nothing of nameko or werkzeug: it takes an :class:`ApiRequest` and a ``rpc(service, method, ...)``
callable, so the authorization matrix can run without I/O in unit tests, and against the real services in
integration tests.

Longer than ~400 lines because the pipeline's steps are read in order in one file: each is short, and together
they are every check a request passes.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import psycopg
from nameko.exceptions import RemoteError
from pydantic import BaseModel, ValidationError, create_model

from services.gateway.auth import Tokens, User
from services.gateway.dci_signatures import DciSigner
from services.gateway.errors import (
    ApiError,
    ServiceUnavailable,
    from_domain,
    from_remote_error,
    from_validation,
    invalid,
    password_change_required,
    unavailable,
)
from services.gateway.jobs import Jobs
from services.gateway.masking import masked_for
from services.gateway.models import Empty, Params
from services.gateway.printing import Printer
from services.gateway.regions import KeptRegions
from services.gateway.replays import Replays
from services.gateway.sessions import Sessions
from services.gateway.store import GatewayStore
from services.gateway.throttle import CodeThrottle, LoginThrottle, LookupLimit
from shared.actor import covers
from shared.actor_assertion import ActorSigner
from shared.errors import BerdayaError
from shared.log import get_logger
from shared.vocabulary import ROLES

PUBLIC = frozenset({"*"})  # a route anyone may call, without a token
JSON = "application/json"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
KEY_RE = re.compile(r"^[\x21-\x7e]{8,200}$")
MAX_BODY = 1_000_000
log = get_logger("gateway")


# --- requests and calls ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unread:
    """A body still in the connection: its declared length, and how to read it (once)."""

    length: int
    read: Callable[[], bytes]


@dataclass
class ApiRequest:
    method: str
    path_params: dict[str, str]
    args: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names; ``content-type`` names the body's media type
    body: bytes | Unread = b""
    session: str | None = None  # the console's session cookie: the credential instead of a bearer token
    csrf: str | None = None  # the console form's CSRF token: a write under a session needs it
    client: str | None = None  # the peer's address: logins are throttled by it (throttle.py)
    purpose: str | None = None  # why personal data is read: the console's page (None: the API route itself)


@dataclass(frozen=True)
class File:
    """A route's answer that is a file (e.g. a zip), not JSON: sent as is, as an attachment named ``filename``."""

    content: bytes
    filename: str
    # its own, for a route answering files of several types (else the route's); by keyword: a Paper adds its code
    media_type: str | None = field(default=None, kw_only=True)


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> str:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Call:
    """What a route's handler gets: who asks, the parsed request, and how to reach the services."""

    user: User | None
    path: BaseModel
    query: BaseModel | None
    body: Any
    rpc: Callable[..., Any]
    request: ApiRequest
    resource: Any = None  # what the route's scope looked up (e.g. the household), if it did
    region: str | None = None  # the effective region (lists: the filter applied)
    gateway: Gateway | None = None
    route_name: str = ""
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # named in the actors it signs

    @property
    def username(self) -> str:
        return self.user.username if self.user else ""

    def actor(self) -> dict[str, Any]:
        """The user as the actor of a command, as it travels over RPC: signed by the gateway, for this request."""
        assert self.user is not None and self.gateway is not None
        return self.gateway.actors.sign(self.user.actor(), self.request_id)

    def reader(self) -> dict[str, Any]:
        """Who reads personal data, and why, as a service's read wants it (``shared.reads``): the user signed as
        for a command, and the purpose — the console's page, else this API route (the registry's access log)."""
        return {"actor": self.actor(), "purpose": self.request.purpose or f"api.{self.route_name}"}

    def payload(self, **extra: Any) -> dict[str, Any]:
        """The body as the service's command wants it (fields the client left out stay out), plus ``extra``."""
        data = self.body.model_dump(mode="json", exclude_unset=True) if isinstance(self.body, BaseModel) else {}
        return {**data, **extra}


# --- how a route finds the region of what it acts on -----------------------------------------------------------

class Scope:
    """Every route names one: the region of its resource, which the user's region must cover."""

    kind = "scope"

    def locate(self, call: Call) -> str | None:
        raise NotImplementedError

    def outside(self, user: User, region: str) -> ApiError:
        """The answer to a user whose region does not cover ``region``: 403 naming both regions. Here the request
        named the region itself (a list's filter, the village of a household to register, a national route), so
        the answer tells the user nothing they did not send (a looked-up resource is answered otherwise)."""
        return ApiError(403, "out_of_region", f"{user.username} acts for region {user.region or 'national'}, "
                                              f"not {region or 'national'}", rule="region.scope")


class Unscoped(Scope):
    """Reference data with no region (the region table, budgets, the curriculum, one's own token)."""

    kind = "unscoped"

    def locate(self, call: Call) -> str | None:
        return None


class EachInService(Scope):
    """The request names several resources (a batch's payments, a statement's lines): the service checks each against
    the user's region in its domain — it refuses another region's, or does not know it for that user."""

    kind = "each, in the service"

    def locate(self, call: Call) -> str | None:
        return None


class National(Scope):
    """Only a national user ('' region) may call it."""

    kind = "national"

    def locate(self, call: Call) -> str | None:
        return ""


@dataclass(frozen=True)
class BodyRegion(Scope):
    """The region is a field of the request body (e.g. the village of a household being registered)."""

    field: str = "village_code"
    kind = "body"

    def locate(self, call: Call) -> str | None:
        return getattr(call.body, self.field)


@dataclass(frozen=True)
class QueryRegion(Scope):
    """A list filtered by region: the filter must be inside the user's region; left out, it is the user's region.
    ``required`` filters (exact village codes) must be given by a regional user."""

    param: str = "region"
    required: bool = False
    kind = "query"

    def locate(self, call: Call) -> str | None:
        value = getattr(call.query, self.param)
        if value is None and call.user is not None and call.user.region:
            if self.required:
                raise invalid(self.param, f"{self.param}.required",
                              f"give {self.param}: a user of region {call.user.region} lists one village at a time")
            value = call.user.region
        call.region = value
        return value


@dataclass(frozen=True)
class Lookup(Scope):
    """The resource is fetched first (a 404 if it does not exist); its ``key`` field is its region.

    A resource outside the user's region is answered exactly as one that does not exist: the same 404 and body
    (which names neither the id asked for nor the service's own wording), after the same lookup — so a user of
    another region cannot learn by guessing ids, KKs or NIKs that a record exists, or where."""

    fetch: Callable[[Call], Any]
    what: str
    key: str | Callable[[Any, Call], Any] = "village_code"
    kind = "lookup"

    def locate(self, call: Call) -> str | None:
        try:
            resource = self.fetch(call)
        except RemoteError as remote:  # some services answer a missing record with NotFound, in words of their own
            if from_remote_error(remote).status != 404:
                raise
            resource = None
        if resource is None:
            raise self.missing()
        call.resource = resource
        if callable(self.key):
            region = self.key(resource, call)
        else:
            region = resource.get(self.key) if isinstance(resource, dict) else None
        if not isinstance(region, str):
            raise ApiError(502, "upstream_error", f"the {self.what} has no region")
        return region

    def outside(self, user: User, region: str) -> ApiError:
        return self.missing()

    def missing(self) -> ApiError:
        return ApiError(404, "not_found", f"no such {self.what}")


# --- routes --------------------------------------------------------------------------------------------------

PATH_PARAM = re.compile(r"{([a-z_]+)}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    name: str  # operationId
    summary: str
    roles: frozenset[str]
    scope: Scope
    run: Callable[[Call], Any]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    tag: str = ""
    raw_body: str | None = None  # a media type taken as is (e.g. text/csv) instead of a JSON body
    binary_body: bool = False  # the raw body is a file kept byte for byte (NUL allowed): no text is made of it
    media_type: str = JSON  # of a successful answer; anything but JSON is a File
    max_body: int = MAX_BODY
    path_model: type[BaseModel] = Params
    batch_job: bool = False  # runs a job (jobs.py) bounded by the job's time-out, not by one RPC's
    # The route speaks a standard of its own (DCI): a refusal's code as that standard names it, from the gateway's
    error_code: Callable[[str, int], str] | None = None
    idempotency_key: bool = False  # required: the write is refused without an Idempotency-Key (e.g. a payment)
    # The message's own checks before anything is looked up (DCI: its signature), over the body as sent
    check_message: Callable[[Call], None] | None = None

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC

    @property
    def write(self) -> bool:
        return self.method in WRITES

    @property
    def request_media_type(self) -> str | None:
        """The media type of the body the route takes (None: it reads no body)."""
        return self.raw_body or (JSON if self.body is not None else None)

    @property
    def path_params(self) -> list[str]:
        return PATH_PARAM.findall(self.path)


def route(method: str, path: str, name: str, summary: str, *, roles: frozenset[str] | set[str], scope: Scope,
          run: Callable[[Call], Any], path_types: dict[str, Any], **options: Any) -> Route:
    """A Route whose path parameters are checked by a model built from their declared types."""
    roles = frozenset(roles)
    if not roles or not (roles == PUBLIC or roles <= set(ROLES)):
        raise ValueError(f"{method} {path}: roles must be PUBLIC or a non-empty subset of {ROLES}")
    if not isinstance(scope, Scope):
        raise ValueError(f"{method} {path}: every route states how to find its region")
    fields = {name_: (path_types[name_], ...) for name_ in PATH_PARAM.findall(path)}
    model = create_model(f"{name}_path", __base__=Params, **fields) if fields else Params
    if method in WRITES and options.get("body") is None and options.get("raw_body") is None:
        options["body"] = Empty
    return Route(method, path, name, summary, roles, scope, run, path_model=model, **options)


# --- the pipeline ----------------------------------------------------------------------------------------------

class Gateway:
    def __init__(self, store: GatewayStore, tokens: Tokens, *, actors: ActorSigner, dci_signer: DciSigner,
                 lookups: LookupLimit, user_cache_s: float = 5.0,
                 jobs: Jobs | None = None, rpc_timeout_s: float = 10.0, sessions: Sessions | None = None,
                 throttle: LoginThrottle | None = None, code_throttle: CodeThrottle | None = None,
                 printer: Printer | None = None) -> None:
        self.store, self.tokens, self.actors, self.user_cache_s = store, tokens, actors, user_cache_s
        self.dci_signer, self.lookups = dci_signer, lookups  # DCI answers' signatures, identifier lookups' limit
        self.sessions = sessions or Sessions(store, ttl_s=tokens.ttl_s, idle_s=tokens.ttl_s)
        self.throttle = throttle or LoginThrottle(store)
        self.code_throttle = code_throttle or CodeThrottle(store)
        self.printer = printer  # printouts as PDF (printing.py)
        self.jobs = jobs or Jobs()
        self.rpc_timeout_s = rpc_timeout_s
        self.replays = Replays(tokens.secret)
        self.regions = KeptRegions()  # the official region table, as shown (regions.py)
        self._users: dict[str, tuple[float, User | None]] = {}

    def handle(self, route: Route, request: ApiRequest, rpc: Callable[..., Any]) -> ApiResponse:
        response = self._answer(route, request, rpc)
        error = response.body.get("error") if response.status >= 400 and isinstance(response.body, dict) else None
        if route.error_code is not None and isinstance(error, dict):
            error["code"] = route.error_code(error["code"], response.status)
        return response

    def _answer(self, route: Route, request: ApiRequest, rpc: Callable[..., Any]) -> ApiResponse:
        try:
            return self._handle(route, request, rpc)
        except ApiError as error:
            return ApiResponse(error.status, error.body(), error.headers)
        except RemoteError as remote:
            error = from_remote_error(remote)
            if error.status >= 500:
                # The type only: the service logged the error itself, and its text may name who the request was about.
                log.error("gateway.upstream_error", route=route.name, exc_type=remote.exc_type)
            return ApiResponse(error.status, error.body(), error.headers)
        except ServiceUnavailable as down:
            error = unavailable(down)
            return ApiResponse(error.status, error.body(), error.headers)
        except BerdayaError as refused:  # a shared check that ran here (e.g. reading a CSV)
            error = from_domain(refused)
            return ApiResponse(error.status, error.body(), error.headers)
        except psycopg.OperationalError as down:  # the gateway's own database (users, Idempotency-Keys)
            log.warning("gateway.database_unavailable", route=route.name, error=str(down).strip()[:200])
            error = ApiError(503, "unavailable", "the gateway's database is unavailable; try again later (with the "
                                                 "same Idempotency-Key)", headers={"Retry-After": "5"})
            return ApiResponse(error.status, error.body(), error.headers)
        except Exception:
            log.exception("gateway.internal_error", route=route.name)
            return ApiResponse(500, ApiError(500, "internal", "internal error").body())

    def _handle(self, route: Route, request: ApiRequest, rpc: Callable[..., Any]) -> ApiResponse:
        user = None if route.public else self.authenticate(request, write=route.write)
        if user is not None and user.role not in route.roles:
            raise ApiError(403, "forbidden", f"role {user.role} may not {route.summary.lower()}", rule="role.forbidden")
        check_no_nul(request.path_params, request.args)
        path = self._parse(route.path_model, request.path_params, "path")
        query = self._parse(route.query or Params, {k: v[-1] for k, v in request.args.items()}, "query")
        if any(len(values) > 1 for values in request.args.values()):
            name = next(k for k, v in request.args.items() if len(v) > 1)
            raise invalid(name, f"{name}.repeated", f"give {name} once")
        if route.idempotency_key and request.headers.get("idempotency-key") is None:
            raise invalid("Idempotency-Key", "idempotency_key.required", "this request needs an Idempotency-Key "
                                                                         "header (the same key acts once)")
        body = self._body(route, request)
        call = Call(user, path, query, body, rpc, request, gateway=self, route_name=route.name)
        if route.check_message is not None:
            route.check_message(call)
        region = route.scope.locate(call)
        if user is not None and region is not None and not covers(user.region, region):
            raise route.scope.outside(user, region)
        key = request.headers.get("idempotency-key")
        if key is not None and route.write and user is not None:
            return presented(self._once(route, call, user, key), user, request)
        return presented(ApiResponse(route.status, route.run(call)), user, request)

    # --- parsing ---

    @staticmethod
    def _parse(model: type[BaseModel], data: dict[str, Any], where: str) -> BaseModel:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise from_validation(exc, where) from None

    @staticmethod
    def _body(route: Route, request: ApiRequest) -> Any:
        if route.request_media_type is None:
            return None
        content = read_body(route, request)
        request.body = content  # read once; kept as sent for a check over its bytes (Route.check_message)
        if route.raw_body is not None:
            return content
        raw = content if content.strip() else b"{}"
        try:
            return route.body.model_validate_json(raw)
        except ValidationError as exc:
            raise from_validation(exc, "body") from None

    # --- who asks ---

    def authenticate(self, request: ApiRequest, *, write: bool = False) -> User:
        username = self._session_user(request, write) if request.session is not None else \
            self._token_user(request.headers.get("authorization"))
        user = self.user(username)
        if user is None or user.disabled:
            raise ApiError(401, "unauthenticated", "this user is unknown or disabled",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if user.must_change_password:  # a token from before an administrator reset the password
            raise password_change_required()
        return user  # role and region as the database says now, not as the token said then

    def _token_user(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token> (POST /api/v1/auth/token)",
                           headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = self.tokens.read(token.strip())
        except jwt.InvalidTokenError as exc:
            raise ApiError(401, "unauthenticated", f"invalid token: {exc}",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        return str(claims["sub"])

    def _session_user(self, request: ApiRequest, write: bool) -> str:
        found = self.sessions.find(request.session or "")
        if found is None:
            raise ApiError(401, "unauthenticated", "the session has ended: log in again", rule="session.ended")
        # A form from another site cannot know the token: it is in the session's own pages only.
        if write and not hmac.compare_digest(found.csrf, request.csrf or ""):
            raise ApiError(403, "forbidden", "the form's security token is missing or stale: reload the page",
                           field="_csrf", rule="csrf.token")
        return found.username

    def user(self, username: str) -> User | None:
        now = time.monotonic()
        cached = self._users.get(username)
        if cached and now - cached[0] < self.user_cache_s:
            return cached[1]
        found = self.store.user(username)
        user = found[0] if found else None
        self._users[username] = (now, user)
        return user

    def forget_user(self, username: str) -> None:
        """Read the user from the database at their next request (this gateway changed them)."""
        self._users.pop(username, None)

    # --- idempotent writes ---

    def _once(self, route: Route, call: Call, user: User, key: str) -> ApiResponse:
        if not KEY_RE.match(key):
            raise invalid("Idempotency-Key", "idempotency_key.format", "an Idempotency-Key is 8–200 visible "
                                                                       "ASCII characters")
        claim = self.store.claim(user.username, key, request_hash(route, call, self.replays.request_hash()),
                                 self.claim_hold_s(route))
        if claim.outcome == "mismatch":
            raise ApiError(409, "idempotency_mismatch", "this Idempotency-Key was used for another request",
                           field="Idempotency-Key", rule="idempotency.key_reused")
        if claim.outcome == "pending":
            raise ApiError(409, "idempotency_in_progress", "a request with this Idempotency-Key is still running",
                           field="Idempotency-Key", rule="idempotency.in_progress", headers={"Retry-After": "1"})
        if claim.outcome == "replay":
            answer = self.replays.open(user.username, key, claim.response) if claim.response else "null"
            return ApiResponse(claim.status or 200, json.loads(answer), {"Idempotent-Replayed": "true"})
        try:
            response = self._run(route, call)
        except BaseException:
            self.store.release(user.username, key)
            raise
        if response.status >= 500:
            self.store.release(user.username, key)  # outcome unknown: the client may try again
        else:
            self.store.complete(user.username, key, response.status,
                                self.replays.seal(user.username, key, response.json()))
        return response

    def claim_hold_s(self, route: Route) -> float:
        """How long a write may still be running: its RPCs each end by their deadline (the request message
        expires then too), a batch job by its time-out; a few seconds more for the gateway's own work."""
        return (self.jobs.import_timeout_s if route.batch_job else 2 * self.rpc_timeout_s) + 5

    @staticmethod
    def _run(route: Route, call: Call) -> ApiResponse:
        try:
            return ApiResponse(route.status, route.run(call))
        except ApiError as error:
            return ApiResponse(error.status, error.body(), error.headers)
        except RemoteError as remote:
            error = from_remote_error(remote)
            return ApiResponse(error.status, error.body(), error.headers)
        except ServiceUnavailable as down:
            error = unavailable(down)
            return ApiResponse(error.status, error.body(), error.headers)


def presented(response: ApiResponse, user: User | None, request: ApiRequest) -> ApiResponse:
    """An answer of the API as the user's role may see it: NIK and KK masked for a role that does not need them
    (masking.py; a replay too, whatever was stored). The console gets them as they are and masks them in its pages,
    where an operator's links and forms carry them."""
    if request.session is not None:
        return response
    return ApiResponse(response.status, masked_for(user.role if user else None, response.body), response.headers)


def read_body(route: Route, request: ApiRequest) -> bytes:
    """The body, once its media type is the route's (415) and its length within the route's limit (413): an
    :class:`Unread` body is read here, and only here. An empty body is no body, whatever type it is said to be
    (the WSGI server says text/plain of a request that names none)."""
    body = request.body
    length = body.length if isinstance(body, Unread) else len(body)
    declared = request.headers.get("content-type")
    if length:
        expected = route.request_media_type
        if not accepts(expected, declared):
            raise ApiError(415, "unsupported_media_type", f"send the body as {expected}, not "
                                                          f"{declared or 'without a Content-Type'}",
                           field="Content-Type", rule="content_type.unsupported")
    if length > route.max_body:
        raise ApiError(413, "too_large", f"the body is larger than {route.max_body:,} bytes")
    content = body.read() if isinstance(body, Unread) else body
    if not route.binary_body and (b"\x00" in content or b"\\u0000" in content):
        raise nul_refused("body")
    return content


def accepts(expected: str | None, declared: str | None) -> bool:
    """Whether a Content-Type header names the expected media type: ``application/json; charset=utf-8`` is JSON,
    any other charset is not (JSON is UTF-8)."""
    media_type, *parameters = (declared or "").split(";")
    charsets = [value.strip().strip('"').lower() for name, _, value in (part.partition("=") for part in parameters)
                if name.strip().lower() == "charset"]
    return media_type.strip().lower() == expected and all(charset == "utf-8" for charset in charsets)


def check_no_nul(path_params: dict[str, str], args: dict[str, list[str]]) -> None:
    """PostgreSQL text cannot hold NUL: refuse it here, whatever field it hides in, rather than fail downstream
    (the body's own check is in :func:`read_body`)."""
    if any("\x00" in value for values in args.values() for value in values):
        raise nul_refused("query")
    if any("\x00" in value for value in path_params.values()):
        raise nul_refused("path")


def nul_refused(where: str) -> ApiError:
    return invalid(where, "text.nul", f"the {where} contains a NUL character, which no text field may hold")


def request_hash(route: Route, call: Call, digest: hmac.HMAC) -> str:
    """What identifies a request under its Idempotency-Key, fed into ``digest`` (keyed: replays.py)."""
    digest.update(f"{route.method} {route.name} {call.path.model_dump_json()}\n".encode())
    if isinstance(call.body, bytes):
        digest.update(call.body)
    elif isinstance(call.body, BaseModel):
        digest.update(json.dumps(call.body.model_dump(mode="json"), sort_keys=True).encode())
    return digest.hexdigest()
