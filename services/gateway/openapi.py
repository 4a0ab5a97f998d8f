"""GET /openapi.json: the OpenAPI 3.1 document, generated from the route table and its pydantic models; and the
table of resources in docs/api.md, from the same table (``python -m services.gateway.openapi`` rewrites it).
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from services.gateway.core import JSON, PUBLIC, Route
from services.gateway.models import ErrorOut, Params
from shared.vocabulary import STAFF_ROLES

REF = "#/components/schemas/{model}"
ERRORS = {
    400: "Bad input: `field` and `rule` say what and why",
    401: "No token, or an invalid or expired one",
    403: "The role may not do this, or the resource is outside the user's region, or (password_change_required) the "
         "user must change the password an administrator set (POST /api/v1/auth/password)",
    404: "No such resource",
    405: "The path does not take this method: `Allow` lists those it takes",
    409: "Conflicts with recorded state (illegal transition, duplicate, programme rule, Idempotency-Key reuse)",
    413: "The body is larger than this route takes",
    415: "The body is not of the media type this route takes (Content-Type)",
    429: "Too many failed logins for this username or from this address: try again after Retry-After seconds",
    502: "A service, or a job the gateway ran (import, audit), failed unexpectedly: not your input",
    503: "A service did not answer in time (the outcome of a write is unknown: retry with the same Idempotency-Key), "
         "or a job ran past its time-out, or an audit is already running (Retry-After)",
}
SECONDS = {"type": "string", "pattern": "^[0-9]+$"}
# The headers an error answer carries: required where every such answer has it, else sent by some of them.
ERROR_HEADERS: dict[int, dict[str, dict]] = {
    401: {"WWW-Authenticate": {"description": "how to authenticate (a bearer token)",
                               "schema": {"type": "string"}}},
    405: {"Allow": {"description": "the methods this path takes", "required": True, "schema": {"type": "string"}}},
    409: {"Retry-After": {"description": "seconds: a request with this Idempotency-Key is still running",
                          "schema": SECONDS}},
    429: {"Retry-After": {"description": "seconds until the next attempt is taken", "required": True,
                          "schema": SECONDS}},
    503: {"Retry-After": {"description": "seconds to wait before trying again", "schema": SECONDS}},
}


def statuses(route: Route) -> list[int]:
    """Every error status the server can answer for the route (the pipeline's steps in core.py, the router's 405);
    health's 503 is its own answer, documented with the 200's body."""
    found = [400, 405]
    if not route.public:
        found += [401, 403, 404, 409, 502, 503]
    if route.request_media_type is not None:
        found += [413, 415]
    if route.name == "event_schema":
        found.append(404)  # a type that has no such version
    if route.name in ("issue_token", "change_password"):
        # a wrong password; a password an administrator set, to change first; throttled; the gateway's database down
        found += [401, 403, 429, 503]
    return sorted(set(found))


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, tp: Any, mode: str) -> dict:
        schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        if "title" in schema and "$ref" not in schema and schema.get("type") == "object" and isinstance(tp, type):
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", schema["title"]).strip("_")
            self.components.setdefault(name, schema)
            return {"$ref": REF.format(model=name)}
        return schema


def _without_null(schema: dict) -> dict:
    options = schema.get("anyOf")
    if options:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            # an optional parameter's default None is no value of its type: an absent parameter says it
            rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
            return {**kept[0], **rest}
    return schema


def _parameters(model: type, where: str) -> list[dict]:
    if model is Params:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [{"name": name, "in": where, "required": where == "path" or name in required,
             "schema": _without_null(prop)} for name, prop in schema.get("properties", {}).items()]


def operation(route: Route, schemas: _Schemas) -> dict:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary, "tags": [route.tag or "api"]}
    roles = "anyone, without a token" if route.public else ", ".join(sorted(route.roles))
    op["description"] = f"Roles: {roles}. Region: {route.scope.kind}."
    params = _parameters(route.path_model, "path") + _parameters(route.query or Params, "query")
    if route.write and not route.public:
        params.append({"name": "Idempotency-Key", "in": "header", "required": route.idempotency_key,
                       "description": "the same key and body give the same stored answer, once",
                       "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{8,200}$"}})
    if params:
        op["parameters"] = params
    if route.raw_body:
        op["requestBody"] = {"required": True, "content": {route.raw_body: {"schema": {"type": "string"}}}}
    elif route.body is not None:
        body_schema = schemas.of(route.body, "validation")
        required = bool(route.body.model_json_schema().get("required"))
        op["requestBody"] = {"required": required, "content": {JSON: {"schema": body_schema}}}
    response: dict[str, Any] = {"description": "OK"}
    if route.media_type != JSON:
        # a file in a JSON-based format (+json, e.g. a JSON Schema) is a JSON document to a client; others are bytes
        file_schema = {"type": "object"} if route.media_type.endswith("+json") else {
            "type": "string", "contentMediaType": route.media_type}
        response["content"] = {route.media_type: {"schema": file_schema}}
        response["headers"] = {"Content-Disposition": {"description": "attachment; filename=\"…\"",
                                                       "schema": {"type": "string"}}}
    elif route.response is not None:
        response["content"] = {JSON: {"schema": schemas.of(route.response, "serialization")}}
    error = {"content": {JSON: {"schema": {"$ref": REF.format(model="ErrorOut")}}}}
    op["responses"] = {str(route.status): response}
    if route.name == "health":
        op["responses"]["503"] = {"description": "a dependency is down", **response}
    for status in statuses(route):
        headers = {"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}
        op["responses"][str(status)] = {"description": ERRORS[status], **error, **headers}
    if not route.public:
        op["security"] = [{"bearer": []}]
    return op


@lru_cache(maxsize=1)
def document() -> dict:
    from services.gateway.routes import ROUTES

    schemas = _Schemas()
    schemas.of(ErrorOut, "serialization")
    paths: dict[str, dict] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "berdaya API", "version": "1",
                 "description": "KUBE programme: registry, grants and the Family School over HTTP. See docs/api.md."},
        "paths": paths,
        "components": {"schemas": schemas.components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


# --- docs/api.md -----------------------------------------------------------------------------------------------

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TABLE_START = "<!-- resources: generated from services/gateway/routes.py by `python -m services.gateway.openapi` -->"
TABLE_END = "<!-- /resources -->"


def roles_text(route: Route) -> str:
    if route.roles == PUBLIC:
        return "anyone"
    return "every role of the office" if route.roles == frozenset(STAFF_ROLES) else ", ".join(sorted(route.roles))


def resources_table() -> str:
    from services.gateway.routes import ROUTES

    rows = [f"| `{r.method}` | `{r.path}` | {r.summary} | {roles_text(r)} | {r.scope.kind} |" for r in ROUTES]
    return "\n".join(["| method | path | what | roles | region scope |", "| --- | --- | --- | --- | --- |", *rows])


def api_doc_with_table(text: str) -> str:
    """docs/api.md with the resources table between its markers replaced by the route table's."""
    before, start, rest = text.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not (start and end):
        raise ValueError(f"docs/api.md has lost its markers {TABLE_START} … {TABLE_END}")
    return f"{before}{TABLE_START}\n{resources_table()}\n{TABLE_END}{after}"


if __name__ == "__main__":
    API_DOC.write_text(api_doc_with_table(API_DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{API_DOC}: resources table rewritten from the route table", file=sys.stderr)
