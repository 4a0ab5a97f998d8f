"""GET /openapi.json: the OpenAPI 3.1 document, generated from the route table and its pydantic models."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from services.gateway.core import Route
from services.gateway.models import ErrorOut, Params

REF = "#/components/schemas/{model}"
ERRORS = {
    400: "Bad input: `field` and `rule` say what and why",
    401: "No token, or an invalid or expired one",
    403: "The role may not do this, or the resource is outside the user's region",
    404: "No such resource",
    409: "Conflicts with recorded state (illegal transition, duplicate, programme rule, Idempotency-Key reuse)",
    503: "A service did not answer in time; the outcome of a write is unknown (retry with the same Idempotency-Key)",
}


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
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
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
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "the same key and body give the same stored answer, once",
                       "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{8,200}$"}})
    if params:
        op["parameters"] = params
    if route.raw_body:
        op["requestBody"] = {"required": True, "content": {route.raw_body: {"schema": {"type": "string"}}}}
    elif route.body is not None:
        body_schema = schemas.of(route.body, "validation")
        required = bool(route.body.model_json_schema().get("required"))
        op["requestBody"] = {"required": required, "content": {"application/json": {"schema": body_schema}}}
    response = {"description": "OK"}
    if route.response is not None:
        response["content"] = {"application/json": {"schema": schemas.of(route.response, "serialization")}}
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}}}
    op["responses"] = {str(route.status): response}
    statuses = [400, 503] if route.public else list(ERRORS)
    if route.name == "health":
        op["responses"]["503"] = {"description": "a dependency is down", **response}
        statuses = []
    if route.name == "issue_token":
        statuses = [400, 401, 503]
    for status in statuses:
        op["responses"][str(status)] = {"description": ERRORS[status], **error}
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
