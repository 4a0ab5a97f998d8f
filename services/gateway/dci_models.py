"""The DCI (Digital Convergence Initiative, spdci.org) social-registry API's message shapes, as far as berdaya
speaks them (docs/dci.md): the sync search's, txn/status's, subscribe's, notify's and unsubscribe's requests and
answers — header, message, the requests and their answers — with the standard's field names.

Unknown fields are refused, as in every body of the API (models.Body), but each of the standard's optional fields
is accepted. What a single search request asks (its query, pagination, sort) is kept loose here and checked by
dci.py, which answers a bad one with the standard's ``rjct.*`` reason code for that request alone rather than
refusing the whole message.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictInt

from services.gateway.models import Body
from shared.vocabulary import ENROLMENT_STATUSES

Id = Annotated[str, Field(min_length=1, max_length=99)]
Signature = Annotated[str | None, Field(max_length=2000, description=(
    'the standard\'s signature of header + message: namespace="spdci",keyId="{sender_id}|{key id}|ed25519",'
    'algorithm="ed25519",created,expires,headers="(created) (expires) digest",signature; required of a client '
    "with a public key registered (docs/dci.md)"))]


class DciHeader(Body):
    version: Annotated[str, Field(max_length=20, examples=["1.0.0"])]
    message_id: Id
    message_ts: AwareDatetime
    action: Annotated[str, Field(max_length=40, examples=["search"])]
    sender_id: Annotated[Id, Field(description="the client id this system logs in with")]
    sender_uri: Annotated[str, Field(max_length=500, description="subscribe: where the registry pushes each "
                                                                "subscription's notify messages (https; "
                                                                "docs/dci.md); left out, the client pulls them")] \
        | None = None
    receiver_id: Id | None = None
    total_count: Annotated[StrictInt, Field(description="how many search requests the message carries")]
    is_msg_encrypted: StrictBool = False
    meta: dict[str, Any] | None = None


class Pagination(Body):
    page_size: StrictInt
    page_number: StrictInt = 1


class SortBy(Body):
    attribute_name: Annotated[str, Field(max_length=100)]
    sort_order: Annotated[str, Field(max_length=10, examples=["asc"])]


class SearchCriteria(Body):
    version: Annotated[str, Field(max_length=20)] | None = None
    reg_type: Annotated[str, Field(max_length=100)] | None = None
    reg_record_type: Annotated[str, Field(max_length=100)] | None = None
    query_type: Annotated[str, Field(max_length=40, examples=["predicate"])]
    query: Any = Field(description="query_type predicate: a list of {seq_num, expression1, condition, expression2}, "
                                   "each expression {attribute_name, operator, attribute_value}; query_type "
                                   "idtype-value (entitled clients only): {type: NIK or KK, value}; docs/dci.md")
    sort: list[SortBy] = Field(default_factory=list, max_length=3)
    pagination: Pagination | None = None
    consent: dict[str, Any] | None = None
    authorize: dict[str, Any] | None = None


class SearchRequestItem(Body):
    reference_id: Id
    timestamp: AwareDatetime
    search_criteria: SearchCriteria
    locale: Annotated[str, Field(max_length=10)] = "en"


class SearchMessage(Body):
    transaction_id: Id
    search_request: Annotated[list[SearchRequestItem], Field(min_length=1, max_length=10)]


class SyncSearchRequest(Body):
    signature: Signature = None
    header: DciHeader
    message: SearchMessage


class TxnStatusQuery(Body):
    reference_id: Id
    txn_type: Annotated[str, Field(max_length=40, examples=["search"])]
    attribute_type: Annotated[str, Field(max_length=40, examples=["transaction_id"],
                                         description="transaction_id or correlation_id")]
    attribute_value: Id


class TxnStatusMessage(Body):
    transaction_id: Id
    txnstatus_request: TxnStatusQuery


class SyncTxnStatusRequest(Body):
    signature: Signature = None
    header: DciHeader
    message: TxnStatusMessage


class SubscribeCriteria(Body):
    reg_type: Annotated[str, Field(max_length=100)] | None = None
    reg_event_type: Annotated[str, Field(max_length=100)] | None = None
    frequency: Annotated[str, Field(max_length=100)] | None = None
    notify_record_type: Annotated[str, Field(max_length=100)] | None = None
    filter: Any = Field(default=None, description="a predicate on region_code (eq) only; left out: the client's "
                                                  "region; docs/dci.md")


class SubscribeRequestItem(Body):
    reference_id: Id
    timestamp: AwareDatetime
    subscribe_criteria: SubscribeCriteria
    locale: Annotated[str, Field(max_length=10)] = "en"


class SubscribeMessage(Body):
    transaction_id: Id
    subscribe_request: Annotated[list[SubscribeRequestItem], Field(min_length=1, max_length=10)]


class SyncSubscribeRequest(Body):
    signature: Signature = None
    header: DciHeader
    message: SubscribeMessage


class NotifyPull(Body):
    reference_id: Id
    subscription_code: Id


class NotifyMessage(Body):
    transaction_id: Id
    notify_request: NotifyPull


class SyncNotifyRequest(Body):
    """berdaya's pull variant of the standard's notify: the client asks for what changed (docs/dci.md)."""

    signature: Signature = None
    header: DciHeader
    message: NotifyMessage


class UnsubscribeMessage(Body):
    transaction_id: Id
    timestamp: AwareDatetime
    subscription_codes: Annotated[list[Id], Field(min_length=1, max_length=10)]


class SyncUnsubscribeRequest(Body):
    signature: Annotated[str, Field(max_length=2000)] | None = None
    header: DciHeader
    message: UnsubscribeMessage


# --- the answer ------------------------------------------------------------------------------------------------

ANSWER_SIGNATURE = ("the gateway's signature of header + message, in the request's form; its key: GET "
                    "/api/v1/dci/.well-known/jwks.json (docs/dci.md)")


class Jwk(BaseModel):
    kty: str
    crv: str
    use: str
    alg: str
    kid: str
    x: str = Field(description="the Ed25519 public key, base64url without padding")


class Jwks(BaseModel):
    keys: list[Jwk]


class Identifier(BaseModel):
    identifier_type: str
    identifier_value: str


class HouseholdRecord(BaseModel):
    """A household as another system sees it: the registry's id and what a programme selects by, nothing more."""

    identifier: list[Identifier]
    region_code: str
    poverty_decile: int
    bdt_status: str
    member_count: int
    enrolment_status: Literal[ENROLMENT_STATUSES] = Field(  # type: ignore[valid-type]
        description="what the household already receives from KUBE, as GET /households/{id}/benefits says: "
                    "receiving: a grant approved; applying: a proposal under way; member: in a KUBE not dissolved")


class SearchData(BaseModel):
    version: str
    reg_type: str
    reg_record_type: str
    reg_records: list[HouseholdRecord]


class PageOut(BaseModel):
    page_size: int
    page_number: int
    total_count: int


class SearchResponseItem(BaseModel):
    reference_id: str
    timestamp: str
    status: str = Field(description="succ, or rjct with status_reason_code")
    status_reason_code: str | None = None
    status_reason_message: str | None = None
    data: SearchData | None = None
    pagination: PageOut | None = None
    locale: str


class ResponseHeader(BaseModel):
    version: str
    message_id: str
    message_ts: str
    action: str
    status: str
    total_count: int
    completed_count: int
    sender_id: str
    receiver_id: str
    is_msg_encrypted: bool


class ResponseMessage(BaseModel):
    transaction_id: str
    correlation_id: str
    search_response: list[SearchResponseItem]


class SyncSearchResponse(BaseModel):
    signature: str = Field(description=ANSWER_SIGNATURE)
    header: ResponseHeader
    message: ResponseMessage


class TxnStatus(BaseModel):
    transaction_id: str
    correlation_id: str
    search_response: list[SearchResponseItem] = Field(description="what each search request came to, without its "
                                                                  "records")


class TxnStatusAnswer(BaseModel):
    txn_type: str
    txn_status: TxnStatus


class TxnStatusMessageOut(BaseModel):
    transaction_id: str
    correlation_id: str
    txnstatus_response: TxnStatusAnswer


class SyncTxnStatusResponse(BaseModel):
    signature: str = Field(description=ANSWER_SIGNATURE)
    header: ResponseHeader
    message: TxnStatusMessageOut


class SubscribeResponseItem(BaseModel):
    reference_id: str
    timestamp: str
    status: str = Field(description="succ with subscription_code, or rjct with status_reason_code")
    status_reason_code: str | None = None
    status_reason_message: str | None = None
    subscription_code: str | None = None
    locale: str


class SubscribeResponseMessage(BaseModel):
    transaction_id: str
    correlation_id: str
    subscribe_response: list[SubscribeResponseItem]


class SyncSubscribeResponse(BaseModel):
    signature: str = Field(description=ANSWER_SIGNATURE)
    header: ResponseHeader
    message: SubscribeResponseMessage


class NotifyEvent(BaseModel):
    """One change of a household: the public event's type and position, and the household as it now stands."""

    event_type: str
    position: int
    timestamp: str
    reg_record: HouseholdRecord


class NotifyAnswer(BaseModel):
    reference_id: str
    subscription_code: str
    status: str
    status_reason_code: str | None = None
    status_reason_message: str | None = None
    notify_events: list[NotifyEvent] = Field(default_factory=list)


class NotifyResponseMessage(BaseModel):
    transaction_id: str
    correlation_id: str
    notify_response: NotifyAnswer


class SyncNotifyResponse(BaseModel):
    signature: str = Field(description=ANSWER_SIGNATURE)
    header: ResponseHeader
    message: NotifyResponseMessage


class CodeStatus(BaseModel):
    code: str
    status: str = Field(description="succ: the subscription is ended; rjct with status_reason_code")
    status_reason_code: str | None = None
    status_reason_message: str | None = None


class UnsubscribeResponseMessage(BaseModel):
    transaction_id: str
    correlation_id: str
    timestamp: str
    status: str = Field(description="succ when at least one code was unsubscribed, else rjct")
    subscription_status: list[CodeStatus]


class SyncUnsubscribeResponse(BaseModel):
    header: ResponseHeader
    message: UnsubscribeResponseMessage
