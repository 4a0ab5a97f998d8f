"""The DCI social-registry sync API (docs/dci.md). ``search``: another system's search of households by region,
poverty decile and BDT status — or, for a client entitled to it, by NIK or KK — answered in the standard's shapes
(dci_models.py) with the minimum the selection needs — the registry's household id, village, decile, BDT status,
member count, and what it already receives from KUBE (grants' enrolment status); never a KK, NIK, name or address.
``txn/status``: what one of the client's own searches came to, without its records. ``subscribe`` / ``notify``: a
client follows the registry's household changes in a region, each change as the same ids-only record — pulled, or
pushed to the subscriber's ``sender_uri`` (dci_push.py); ``unsubscribe`` ends a subscription.

A message is refused whole (HTTP 4xx, the standard's ``err.*`` codes) when it cannot be read, its header is wrong,
or it asks for a region outside the client's; a single search request that is malformed is answered ``rjct`` with
the standard's reason code, beside the others that succeed. Every search is on the registry's access log.

A client with a public key registered must sign its messages, and every answer is signed by the gateway
(dci_signatures.py); a client's searches by NIK or KK are limited per minute (throttle.py: LookupLimit).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from services.gateway.core import Call, Scope
from services.gateway.dci_models import (
    DciHeader,
    SearchCriteria,
    SearchRequestItem,
    SubscribeCriteria,
    SyncNotifyRequest,
    SyncSearchRequest,
    SyncSubscribeRequest,
    SyncTxnStatusRequest,
    SyncUnsubscribeRequest,
)
from services.gateway.dci_signatures import SignatureRefused, verify
from services.gateway.errors import ApiError
from services.gateway.models import Body
from shared.actor import covers
from shared.ids import NIK_RE
from shared.regions import REGION_PATTERN
from shared.vocabulary import BDT_STATUSES

VERSION = "1.0.0"
SENDER_ID = "berdaya"  # how this registry names itself in its answers' header
REG_TYPE = "ns:org:RegistryType:Social"
REG_RECORD_TYPE = "berdaya:Household"
DECILES = range(1, 11)
MAX_PAGE_SIZE = 500  # the registry's own page limit (shared.store.page)
MAX_PAGE_NUMBER = 100_000  # beyond any registry's households; keeps the offset a number PostgreSQL takes
REGION_RE = re.compile(REGION_PATTERN)
NOTIFY_PULL = 500  # the registry's log events a notify pull reads at a time (the records are of these only)
PREDICATE, IDTYPE_VALUE = "predicate", "idtype-value"  # the query types this registry answers
IDENTIFIER_TYPES = ("NIK", "KK")  # what an idtype-value query names a household by (both 16 digits)
# A search's attributes, as the predicate names them → what the registry sorts by.
SORTABLE = {"region_code": "village_code", "poverty_decile": "decile", "member_count": "member_count"}
DECILE_TESTS = {"eq": lambda d, v: d == v, "lt": lambda d, v: d < v, "le": lambda d, v: d <= v,
                "gt": lambda d, v: d > v, "ge": lambda d, v: d >= v, "in": lambda d, v: d in v}
# A refusal's HTTP status → the standard's error code (the gateway's own codes are finer; the status says enough).
STANDARD_CODES = {400: "err.request.bad", 401: "err.request.unauthorized", 403: "err.request.forbidden",
                  404: "err.request.not_found", 429: "err.request.too_many_requests"}


def standard_code(code: str, status: int) -> str:
    """A refusal's code as the DCI standard names it (a code already the standard's stays as it is)."""
    if code.startswith("err."):
        return code
    return STANDARD_CODES.get(status, "err.service.unavailable" if status >= 500 else "err.request.bad")


class Rejected(Exception):
    """One search request the standard answers ``rjct`` with this reason code (the message's others still run)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Criteria:
    """A search request's query as the registry's read takes it."""

    region: str
    deciles: set[int] = field(default_factory=lambda: set(DECILES))
    statuses: set[str] = field(default_factory=lambda: set(BDT_STATUSES))
    sort: list[list[str]] = field(default_factory=list)
    page_number: int = 1
    page_size: int = 50
    identifier: tuple[str, str] | None = None  # (NIK or KK, its value): an idtype-value query's


class Expression(Body):
    attribute_name: str
    operator: str
    attribute_value: Any


class Predicate(Body):
    seq_num: int | None = None
    expression1: Expression
    condition: str | None = None
    expression2: Expression | None = None


class IdtypeValue(Body):
    type: str
    value: str


PREDICATES = TypeAdapter(list[Predicate])


def criteria_of(search: SearchCriteria, client_region: str) -> Criteria:
    """The criteria of one search request; raises :class:`Rejected` with the standard's reason code."""
    if search.query_type not in (PREDICATE, IDTYPE_VALUE):
        raise Rejected("rjct.search_criteria.invalid", f"query_type {search.query_type!r}: 'predicate' (on "
                                                       "region_code, poverty_decile, bdt_status) or 'idtype-value'")
    if search.reg_type not in (None, REG_TYPE) or search.reg_record_type not in (None, REG_RECORD_TYPE):
        raise Rejected("rjct.search_criteria.invalid", f"this registry holds {REG_TYPE} / {REG_RECORD_TYPE}")
    criteria = Criteria(region=client_region)
    if search.query_type == IDTYPE_VALUE:
        criteria.identifier = identifier_of(search.query)
    else:
        for predicate in predicates_of(search.query):
            if predicate.expression2 is not None and predicate.condition != "and":
                raise Rejected("rjct.search_criteria.invalid", "two expressions are joined by condition 'and' only")
            for expression in filter(None, (predicate.expression1, predicate.expression2)):
                narrow(criteria, expression)
    criteria.sort = sort_of(search)
    if search.pagination is not None:
        criteria.page_number, criteria.page_size = search.pagination.page_number, search.pagination.page_size
    if not (1 <= criteria.page_number <= MAX_PAGE_NUMBER and 1 <= criteria.page_size <= MAX_PAGE_SIZE):
        raise Rejected("rjct.pagination.invalid", f"page_number 1–{MAX_PAGE_NUMBER}, page_size 1–{MAX_PAGE_SIZE}")
    return criteria


def predicates_of(query: Any) -> list[Predicate]:
    try:
        return PREDICATES.validate_python(query)
    except ValidationError:
        raise Rejected("rjct.search_criteria.invalid", "query: a list of {expression1, condition, expression2}, "
                                                       "each {attribute_name, operator, attribute_value}") from None


def identifier_of(query: Any) -> tuple[str, str]:
    """An idtype-value query's identifier (the value is never echoed back: it is a person's NIK or a KK)."""
    try:
        asked = IdtypeValue.model_validate(query)
    except ValidationError:
        asked = None
    if asked is None or asked.type not in IDENTIFIER_TYPES or not NIK_RE.fullmatch(asked.value):
        raise Rejected("rjct.search_criteria.invalid", "query: {type: NIK or KK, value: its 16 digits}")
    return asked.type, asked.value


def narrow(criteria: Criteria, expression: Expression) -> None:
    """The criteria, narrowed by one expression (the expressions of a search all hold: 'and')."""
    name, operator, value = expression.attribute_name, expression.operator, expression.attribute_value
    if name == "region_code" and operator == "eq" and isinstance(value, str) and REGION_RE.fullmatch(value):
        criteria.region = value
    elif name == "poverty_decile" and operator in DECILE_TESTS and valid_deciles(operator, value):
        criteria.deciles &= {d for d in DECILES if DECILE_TESTS[operator](d, value)}
    elif name == "bdt_status" and operator in ("eq", "in"):
        wanted = [value] if operator == "eq" else value if isinstance(value, list) else []
        if not wanted or not all(isinstance(v, str) and v in BDT_STATUSES for v in wanted):
            raise Rejected("rjct.search_criteria.invalid", f"bdt_status: one or more of {', '.join(BDT_STATUSES)}")
        criteria.statuses &= set(wanted)
    else:
        raise Rejected("rjct.search_criteria.invalid", f"{name} {operator}: the attributes are region_code (eq, a "
                                                       "region code), poverty_decile (eq lt le gt ge in, 1–10) and "
                                                       "bdt_status (eq, in)")


def valid_deciles(operator: str, value: Any) -> bool:
    if (operator == "in") != isinstance(value, list):
        return False
    values = value if operator == "in" else [value]
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) and v in DECILES for v in values)


def sort_of(search: SearchCriteria) -> list[list[str]]:
    if any(s.attribute_name not in SORTABLE or s.sort_order not in ("asc", "desc") for s in search.sort):
        raise Rejected("rjct.sort.invalid", f"sort by {', '.join(SORTABLE)}, asc or desc")
    return [[SORTABLE[s.attribute_name], s.sort_order] for s in search.sort]


def check_message(call: Call) -> None:
    """Before anything is looked up: a message is plain JSON (the standard's encryption is not supported), and a
    client with a public key registered signed it — else it is refused whole and nothing runs."""
    if call.body.header.is_msg_encrypted:
        raise ApiError(400, "err.encryption.invalid", "is_msg_encrypted: this registry reads plain messages only "
                                                      "(over TLS); encryption is not supported",
                       field="header.is_msg_encrypted", rule="dci.encryption")
    public_key = call.user.dci_public_key if call.user else None
    if public_key is None:  # no key registered: the bearer token over TLS authenticates the client
        return
    sent = json.loads(call.request.body)  # what the client signed: the header and message as it sent them
    try:
        verify(call.body.signature, sent["header"], sent["message"], call.user.username, public_key)
    except SignatureRefused as refused:
        raise ApiError(401, refused.code, refused.message, field="signature", rule="dci.signature") from None


def signed_answer(call: Call, action: str, total: int, completed: int, message: dict) -> dict:
    """The answer to the client's message, signed by the gateway's key (a client checks it with the key of
    GET /dci/.well-known/jwks.json)."""
    header = answer_header(call.body.header.sender_id, action, total, completed)
    return {"signature": call.gateway.dci_signer.sign(header, message), "header": header, "message": message}


def jwks(call: Call) -> dict:
    return call.gateway.dci_signer.jwks()


class SearchRegions(Scope):
    """Each search request's region must lie in the client's: one outside refuses the whole message (403), before
    any is run. The criteria read here (or why a request is rejected) are what the search then runs."""

    kind = "each search's region"

    def locate(self, call: Call) -> str | None:
        region = call.user.region if call.user else ""
        check_identifier_search(call)
        found: list[Criteria | Rejected] = []
        for item in call.body.message.search_request:
            try:
                found.append(criteria_of(item.search_criteria, region))
            except Rejected as rejected:
                found.append(rejected)
        outside = next((c.region for c in found if isinstance(c, Criteria) and not covers(region, c.region)), None)
        if outside is not None and call.user is not None:
            raise self.outside(call.user, outside)
        call.resource = found
        return None


def check_identifier_search(call: Call) -> None:
    """A search by NIK or KK is for a client the office entitled to it (``berdaya users add-client
    --identifier-search``): another's message is refused whole, before any search runs."""
    asks = any(item.search_criteria.query_type == IDTYPE_VALUE for item in call.body.message.search_request)
    if asks and not (call.user and call.user.identifier_search):
        raise ApiError(403, "err.request.unauthorized", "this client is not entitled to search by identifier (NIK, "
                                                        "KK)", field="message.search_request",
                       rule="dci.identifier_search")


def sync_search(call: Call) -> dict:
    request: SyncSearchRequest = call.body
    check_header(request.header, "search", len(request.message.search_request), call.user.username)
    found: list[Criteria | Rejected] = []
    seen: set[str] = set()
    for item, criteria in zip(request.message.search_request, call.resource, strict=True):
        duplicate = item.reference_id in seen
        found.append(Rejected("rjct.reference_id.duplicate", "this reference_id is already in the message")
                     if duplicate else criteria)
        seen.add(item.reference_id)
    take_lookups(call, sum(isinstance(c, Criteria) and c.identifier is not None for c in found))
    answers = [answered(call, item, criteria)
               for item, criteria in zip(request.message.search_request, found, strict=True)]
    correlation_id = str(uuid.uuid4())
    # For txn/status: what each request came to, without its records (the registry holds those; this log does not).
    outcomes = [{k: v for k, v in answer.items() if k != "data"} for answer in answers]
    call.gateway.store.record_dci_transaction(call.user.username, request.message.transaction_id, correlation_id,
                                              outcomes)
    completed = sum(answer["status"] == "succ" for answer in answers)
    return signed_answer(call, "on-search", len(answers), completed,
                         {"transaction_id": request.message.transaction_id, "correlation_id": correlation_id,
                          "search_response": answers})


def take_lookups(call: Call, count: int) -> None:
    """The message's searches by NIK or KK, within the client's lookups per minute: else it is refused whole (429)
    before any search runs, and none of them is counted."""
    wait_s = call.gateway.lookups.take(call.user.username, count)
    if wait_s:
        raise ApiError(429, "err.request.too_many_requests", f"at most {call.gateway.lookups.per_minute} searches "
                                                             f"by NIK or KK a minute: try again in {wait_s} s",
                       field="message.search_request", rule="dci.identifier_rate", headers={"Retry-After": str(wait_s)})


def sync_txn_status(call: Call) -> dict:
    """What the client's earlier search came to (by its transaction id, or the correlation id it was answered
    with): each search request's status, reason code and count, never its records."""
    request: SyncTxnStatusRequest = call.body
    check_header(request.header, "txn-status", 1, call.user.username)
    asked = request.message.txnstatus_request
    if asked.txn_type != "search" or asked.attribute_type not in ("transaction_id", "correlation_id"):
        raise ApiError(400, "err.request.bad", "txnstatus_request: txn_type 'search', attribute_type "
                                               "'transaction_id' or 'correlation_id'",
                       field="message.txnstatus_request", rule="dci.txn_status")
    found = call.gateway.store.dci_transaction(call.user.username, asked.attribute_type, asked.attribute_value)
    if found is None:
        status = {"transaction_id": asked.attribute_value, "correlation_id": "", "search_response": [
            {"reference_id": asked.reference_id, "timestamp": now(), "status": "rjct", "locale": "en",
             "status_reason_code": "rjct.reference_id.invalid",
             "status_reason_message": f"this client sent no search with this {asked.attribute_type}"}]}
    else:
        status = {"transaction_id": found["transaction_id"], "correlation_id": found["correlation_id"],
                  "search_response": found["outcomes"]}
    return signed_answer(call, "txn-on-status", 1, int(found is not None),
                         {"transaction_id": request.message.transaction_id, "correlation_id": str(uuid.uuid4()),
                          "txnstatus_response": {"txn_type": "search", "txn_status": status}})


def subscribed_region(criteria: SubscribeCriteria, client_region: str) -> str:
    """The region a subscription follows: its filter's region_code (eq), else the client's; raises
    :class:`Rejected` with the standard's reason code."""
    if criteria.reg_type not in (None, REG_TYPE) or criteria.notify_record_type not in (None, REG_RECORD_TYPE):
        raise Rejected("rjct.filter.invalid", f"this registry holds {REG_TYPE} / {REG_RECORD_TYPE}")
    narrowed = Criteria(region=client_region)
    try:
        predicates = predicates_of(criteria.filter or [])
    except Rejected as rejected:
        raise Rejected("rjct.filter.invalid", rejected.message) from None
    for expression in (e for p in predicates for e in (p.expression1, p.expression2) if e is not None):
        if expression.attribute_name != "region_code" or expression.operator != "eq" \
                or not REGION_RE.fullmatch(str(expression.attribute_value)):
            raise Rejected("rjct.filter.invalid", "a subscription's filter: region_code eq a region code")
        narrow(narrowed, expression)
    return narrowed.region


class SubscribeRegions(Scope):
    """Each subscription's region must lie in the client's: one outside refuses the whole message (403), before
    any is stored."""

    kind = "each subscription's region"

    def locate(self, call: Call) -> str | None:
        region = call.user.region if call.user else ""
        found: list[str | Rejected] = []
        for item in call.body.message.subscribe_request:
            try:
                found.append(subscribed_region(item.subscribe_criteria, region))
            except Rejected as rejected:
                found.append(rejected)
        outside = next((r for r in found if isinstance(r, str) and not covers(region, r)), None)
        if outside is not None and call.user is not None:
            raise self.outside(call.user, outside)
        call.resource = found
        return None


def check_notify_uri(uri: str, http_hosts: frozenset[str]) -> None:
    """Where the gateway may push a subscriber's notifications: https, or plain http to a host the office listed
    (``DCI_NOTIFY_HTTP_HOSTS``; none by default); never with credentials in it. Raises :class:`Rejected`."""
    try:
        parts = urlsplit(uri)
        host, _port = parts.hostname, parts.port  # a port that is not a number raises ValueError
    except ValueError:
        host = None
    if not host or parts.username is not None or parts.password is not None:
        raise Rejected("rjct.notify_details.invalid", "sender_uri: an absolute https URI, without credentials")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in http_hosts):
        raise Rejected("rjct.notify_details.invalid", "sender_uri: https only (plain http to a host the office "
                                                      "allowed)")


def sync_subscribe(call: Call) -> dict:
    """Subscriptions to the household changes of a region from now on, each with the code its pulls name — or,
    with the header's ``sender_uri``, pushed there (dci_push.py)."""
    request: SyncSubscribeRequest = call.body
    check_header(request.header, "subscribe", len(request.message.subscribe_request), call.user.username)
    notify_uri = request.header.sender_uri
    refused = None
    if notify_uri is not None:
        try:
            check_notify_uri(notify_uri, call.gateway.jobs.dci_push.http_hosts)
        except Rejected as rejected:
            refused = rejected  # each request is answered with it: they all name the header's URI
    start = call.rpc("registry", "backbone_status")["last_position"]
    answers = []
    for item, region in zip(request.message.subscribe_request, call.resource, strict=True):
        answer: dict[str, Any] = {"reference_id": item.reference_id, "timestamp": now(), "locale": item.locale}
        region = refused or region
        if isinstance(region, Rejected):
            answers.append({**answer, "status": "rjct", "status_reason_code": region.code,
                            "status_reason_message": region.message})
            continue
        code = str(uuid.uuid4())
        call.gateway.store.add_dci_subscription(code, call.user.username, region, start, notify_uri)
        answers.append({**answer, "status": "succ", "subscription_code": code})
    completed = sum(answer["status"] == "succ" for answer in answers)
    return signed_answer(call, "on-subscribe", len(answers), completed,
                         {"transaction_id": request.message.transaction_id, "correlation_id": str(uuid.uuid4()),
                          "subscribe_response": answers})


def sync_notify(call: Call) -> dict:
    """The changes since the subscription's last pull (berdaya's pull variant of notify: docs/dci.md): each
    household event of its region, with the household as it now stands; the next pull starts after them."""
    request: SyncNotifyRequest = call.body
    check_header(request.header, "notify", 1, call.user.username)
    asked = request.message.notify_request
    subscription = call.gateway.store.dci_subscription(call.user.username, asked.subscription_code)
    answer: dict[str, Any] = {"reference_id": asked.reference_id, "subscription_code": asked.subscription_code}
    if subscription is None or subscription["notify_uri"] is not None:
        # A pushed subscription is not pulled too: no change reaches the client twice.
        answer |= {"status": "rjct", "status_reason_code": "rjct.reference_id.invalid",
                   "status_reason_message": "this client has no subscription with this code" if subscription is None
                   else "this subscription is pushed to its sender_uri, not pulled"}
    else:
        changes = call.rpc("registry", "household_changes", call.reader(), subscription["region"],
                           subscription["position"], NOTIFY_PULL)
        answer |= {"status": "succ", "notify_events": [
            {"event_type": row["event_type"], "position": row["position"], "timestamp": row["time"],
             "reg_record": record} for row, record in zip(changes["items"], records_of(call.rpc, changes["items"]),
                                                           strict=True)]}
        call.gateway.store.advance_dci_subscription(asked.subscription_code, changes["last_position"])
    return signed_answer(call, "on-notify", 1, int(answer["status"] == "succ"),
                         {"transaction_id": request.message.transaction_id, "correlation_id": str(uuid.uuid4()),
                          "notify_response": answer})


def sync_unsubscribe(call: Call) -> dict:
    """End the client's subscriptions by their codes: each is no longer pulled nor pushed, and kept as ended (who,
    when). A code the client did not subscribe (or another client's) is refused, as one already ended."""
    request: SyncUnsubscribeRequest = call.body
    codes = request.message.subscription_codes
    check_header(request.header, "unsubscribe", len(codes), call.user.username)
    statuses = []
    for code in codes:
        ended = call.gateway.store.end_dci_subscription(call.user.username, code, by=call.user.username)
        if ended == "ended":
            statuses.append({"code": code, "status": "succ"})
        elif ended == "already":
            statuses.append({"code": code, "status": "rjct", "status_reason_code": "rjct.event.already_unsubscribed",
                             "status_reason_message": "this subscription was ended before"})
        else:
            statuses.append({"code": code, "status": "rjct", "status_reason_code": "rjct.subscription_code.invalid",
                             "status_reason_message": "this client has no subscription with this code"})
    completed = sum(status["status"] == "succ" for status in statuses)
    return signed_answer(call, "on-unsubscribe", len(codes), completed,
                         {"transaction_id": request.message.transaction_id, "correlation_id": str(uuid.uuid4()),
                          "timestamp": now(), "status": "succ" if completed else "rjct",
                          "subscription_status": statuses})


def check_header(header: DciHeader, action: str, count: int, client_id: str) -> None:
    if header.version != VERSION:
        raise ApiError(400, "err.version.not_supported", f"version {header.version!r}: this registry speaks "
                                                         f"{VERSION}", field="header.version", rule="dci.version")
    if header.action != action:
        raise ApiError(400, "err.request.bad", f"header.action must be {action!r}", field="header.action",
                       rule="dci.action")
    if header.sender_id != client_id:  # a system answers for itself only: its id is the one it logged in with
        raise ApiError(403, "err.sender_id.invalid", "header.sender_id must be this client's id",
                       field="header.sender_id", rule="dci.sender_id")
    if header.total_count != count:
        raise ApiError(400, "err.request.bad", f"header.total_count must be {count}, the number of requests",
                       field="header.total_count", rule="dci.total_count")


def answer_header(receiver_id: str, action: str, total: int, completed: int) -> dict:
    """The header of a message this registry sends: an answer, or a notify it pushes."""
    return {"version": VERSION, "message_id": str(uuid.uuid4()), "message_ts": now(), "action": action,
            "status": "succ" if completed else "rjct", "total_count": total, "completed_count": completed,
            "sender_id": SENDER_ID, "receiver_id": receiver_id, "is_msg_encrypted": False}


def answered(call: Call, item: SearchRequestItem, criteria: Criteria | Rejected) -> dict:
    answer: dict[str, Any] = {"reference_id": item.reference_id, "timestamp": now(), "locale": item.locale}
    if isinstance(criteria, Rejected):
        return {**answer, "status": "rjct", "status_reason_code": criteria.code,
                "status_reason_message": criteria.message}
    found = households_found(call, criteria)
    records = records_of(call.rpc, found["items"])
    return {**answer, "status": "succ",
            "data": {"version": VERSION, "reg_type": REG_TYPE, "reg_record_type": REG_RECORD_TYPE,
                     "reg_records": records},
            "pagination": {"page_size": criteria.page_size, "page_number": criteria.page_number,
                           "total_count": found["total"]}}


def records_of(rpc: Callable[..., Any], rows: list[dict]) -> list[dict]:
    """The registry's rows as the standard's records: ids and selection facts, and — the double-aid check — what
    each household already receives, as its benefits answer it (one grants call for them all)."""
    enrolled = rpc("grants", "enrolments", [row["household_id"] for row in rows]) if rows else {}
    return [{"identifier": [{"identifier_type": "household_id", "identifier_value": row["household_id"]}],
             "region_code": row["village_code"], "poverty_decile": row["decile"], "bdt_status": row["bdt_status"],
             "member_count": row["member_count"], "enrolment_status": enrolled[row["household_id"]]} for row in rows]


def households_found(call: Call, criteria: Criteria) -> dict:
    """The page of households the criteria select: the household of an identifier (one or none), else those of the
    predicate."""
    if criteria.identifier is None:
        return call.rpc("registry", "households_where", call.reader(), criteria.region, sorted(criteria.deciles),
                        sorted(criteria.statuses), criteria.sort, criteria.page_number, criteria.page_size)
    rows = call.rpc("registry", "household_identified", call.reader(), *criteria.identifier)
    start = (criteria.page_number - 1) * criteria.page_size
    return {"items": rows[start:start + criteria.page_size], "total": len(rows)}


def now() -> str:
    return datetime.now(UTC).isoformat()
