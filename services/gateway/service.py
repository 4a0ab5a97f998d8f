"""The gateway: berdaya's HTTP API for office staff and other systems (nameko ``@http``, port 8080 by default).

Thin by construction: one generated entrypoint per row of the route table (routes.py), each handing its request
to the same pipeline (core.Gateway). Anything the router itself refuses (unknown path, wrong method) is answered
in the same JSON error shape.
"""

from __future__ import annotations

from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from services.gateway.auth import DEV_SECRET, Tokens
from services.gateway.core import JSON, ApiRequest, ApiResponse, File, Gateway, Route
from services.gateway.errors import ApiError
from services.gateway.jobs import Jobs
from services.gateway.routes import ROUTES
from services.gateway.rpc import Rpc
from services.gateway.store import DEFAULT_URL, GatewayStore
from shared.log import get_logger
from shared.runtime import ensure_green_psycopg

log = get_logger("gateway")


def json_response(response: ApiResponse) -> Response:
    return Response(response.json(), status=response.status, headers=response.headers, mimetype=JSON)


def response_for(route: Route, response: ApiResponse) -> Response:
    if isinstance(response.body, File):
        headers = {**response.headers, "Content-Disposition": f'attachment; filename="{response.body.filename}"'}
        return Response(response.body.content, status=response.status, headers=headers, mimetype=route.media_type)
    return json_response(response)


def error_response(error: ApiError) -> Response:
    return json_response(ApiResponse(error.status, error.body(), error.headers))


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, with the router's own refusals (unknown path, wrong method) in the API's error shape."""

    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            response = error_response(ApiError(405, "method_not_allowed", f"use {allowed}",
                                               headers={"Allow": allowed}))
        except NotFound:
            response = error_response(ApiError(404, "not_found", "no such path (see /openapi.json)"))
        except RequestRedirect as exc:
            response = exc
        except HTTPException as exc:
            response = error_response(ApiError(exc.code or 400, "invalid", exc.description or exc.name))
        except Exception:  # never an HTML page or a dropped connection
            log.exception("gateway.wsgi_error")
            response = error_response(ApiError(500, "internal", "internal error"))
        return response(environ, start_response)


class ApiServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class ApiEndpoint(HttpRequestHandler):
    server = ApiServer()

    def __init__(self, route: Route, **kwargs) -> None:
        self.route = route
        super().__init__(route.method, route.path.replace("{", "<").replace("}", ">"), **kwargs)

    def response_from_exception(self, exc):
        log.error("gateway.worker_error", route=self.route.name, error=f"{type(exc).__name__}: {exc}")
        return error_response(ApiError(500, "internal", "internal error"))


class GatewayCore(DependencyProvider):
    """The pipeline's state: the gateway database, the token signer, the user cache."""

    def setup(self) -> None:
        ensure_green_psycopg()
        config = self.container.config
        secret = str(config.get("JWT_SECRET") or "")
        if not secret:
            secret = DEV_SECRET
            log.warning("gateway.dev_jwt_secret", hint="set JWT_SECRET: tokens are signed with a development secret "
                                                       "anyone can read in the source")
        self.store = GatewayStore(config.get("DATABASE_URL") or DEFAULT_URL,
                                  pool_size=int(config.get("DB_POOL_SIZE", 10)))
        jobs = Jobs(amqp_uri=config["AMQP_URI"], import_timeout_s=float(config.get("IMPORT_TIMEOUT_S", 600)),
                    audit_timeout_s=float(config.get("AUDIT_TIMEOUT_S", 600)),
                    audit_urls=config.get("AUDIT_DATABASE_URLS") or {})
        self.gateway = Gateway(self.store, Tokens(secret, int(config.get("TOKEN_TTL_S", 8 * 3600))),
                               user_cache_s=float(config.get("USER_CACHE_S", 5)), jobs=jobs,
                               rpc_timeout_s=float(config.get("RPC_TIMEOUT_S", 10)))

    def start(self) -> None:
        self.store.ensure_schema()
        log.info("gateway.started", address=self.container.config.get("WEB_SERVER_ADDRESS", "0.0.0.0:8000"),
                 routes=len(ROUTES))

    def stop(self) -> None:
        self.store.close()

    kill = stop

    def get_dependency(self, worker_ctx) -> Gateway:
        return self.gateway


class GatewayService:
    name = "gateway"
    core: Gateway = GatewayCore()
    rpc = Rpc()

    def dispatch(self, route: Route, request, path: dict) -> Response:
        length = request.content_length or 0
        if length > route.max_body:
            return error_response(ApiError(413, "too_large", f"the body is larger than {route.max_body:,} bytes"))
        api_request = ApiRequest(
            method=request.method,
            path_params=dict(path),
            args={key: request.args.getlist(key) for key in request.args},
            headers={key.lower(): value for key, value in request.headers.items()},
            body=request.get_data(cache=False) if route.method != "GET" else b"",
        )
        return response_for(route, self.core.handle(route, api_request, self.rpc))


def _entrypoint(route: Route):
    def handle(self, request, **path):
        return self.dispatch(route, request, path)

    handle.__name__ = handle.__qualname__ = route.name
    return ApiEndpoint.decorator(route)(handle)


for _route in ROUTES:
    setattr(GatewayService, _route.name, _entrypoint(_route))
