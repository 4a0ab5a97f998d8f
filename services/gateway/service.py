"""The gateway: berdaya's HTTP API for office staff and other systems, and the web console at /console/ (nameko
``@http``, port 8080 by default).

Thin by construction: one generated entrypoint per row of the route table (routes.py), each handing its request
to the same pipeline (core.Gateway), and one per row of the console's page table (console/pages), each handing
its request to the console, whose pages call that same pipeline; and a timer pushing DCI notifications
(dci_push.py). Anything the router itself refuses (unknown path, wrong method) is answered in the API's JSON error
shape, or as a page under /console/.
"""

from __future__ import annotations

import time

from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request, Response

from services.gateway.auth import MissingSecret, Tokens
from services.gateway.console.pages import PAGES
from services.gateway.console.static import static_response
from services.gateway.console.templating import Templates
from services.gateway.console.web import BASE, Console, Page
from services.gateway.core import JSON, ApiRequest, ApiResponse, File, Gateway, Route, Unread
from services.gateway.dci import SENDER_ID
from services.gateway.dci_push import HeldMessages, PushTimer, push_due
from services.gateway.dci_signatures import DciSigner
from services.gateway.errors import ApiError
from services.gateway.jobs import DciPush, Jobs
from services.gateway.printing import Printer, read_letterhead
from services.gateway.routes import ROUTES
from services.gateway.rpc import Rpc
from services.gateway.sessions import Sessions
from services.gateway.store import DEFAULT_URL, GatewayStore
from services.gateway.throttle import Backoff, CodeThrottle, LoginThrottle, LookupLimit
from shared.actor_assertion import actor_signer_from_config
from shared.ed25519 import KeyConfigError
from shared.log import get_logger
from shared.runtime import ensure_green_psycopg

log = get_logger("gateway")


def json_response(response: ApiResponse) -> Response:
    return Response(response.json(), status=response.status, headers=response.headers, mimetype=JSON)


def response_for(route: Route, response: ApiResponse) -> Response:
    if isinstance(response.body, File):
        headers = {**response.headers, "Content-Disposition": f'attachment; filename="{response.body.filename}"'}
        return Response(response.body.content, status=response.status, headers=headers,
                        mimetype=response.body.media_type or route.media_type)
    return json_response(response)


def error_response(error: ApiError) -> Response:
    return json_response(ApiResponse(error.status, error.body(), error.headers))


def not_found_page() -> Response:
    """The router's own 404 under /console/ (no page, so no session nor language: both languages)."""
    return Response('<!doctype html><html lang="id"><head><meta charset="utf-8"><title>404 · berdaya</title></head>'
                    '<body><main><h1>Halaman tidak ditemukan · Page not found</h1>'
                    f'<p><a href="{BASE}/">berdaya</a></p></main></body></html>', status=404, mimetype="text/html")


class JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, with the router's own refusals (unknown path, wrong method) in the API's error shape, and
    the access log: one line per request naming its route's pattern, never the path or query it was called with
    (a KK or NIK in the path, a name searched for)."""

    def __call__(self, environ, start_response):
        started = time.monotonic()
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        route = None
        try:
            rule, values = adapter.match(return_rule=True)
            route, request.path_values = rule.rule, values
            response = rule.endpoint.handle_request(request)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            response = error_response(ApiError(405, "method_not_allowed", f"use {allowed}",
                                               headers={"Allow": allowed}))
        except NotFound:
            response = not_found_page() if request.path.startswith(BASE) else \
                error_response(ApiError(404, "not_found", "no such path (see /openapi.json)"))
        except RequestRedirect as exc:
            response = exc
        except HTTPException as exc:
            response = error_response(ApiError(exc.code or 400, "invalid", exc.description or exc.name))
        except Exception:  # never an HTML page or a dropped connection
            log.exception("gateway.wsgi_error")
            response = error_response(ApiError(500, "internal", "internal error"))
        log.info("gateway.request", method=request.method, route=route, client=environ.get("REMOTE_ADDR"),
                 status=response.code if isinstance(response, HTTPException) else response.status_code,
                 ms=round((time.monotonic() - started) * 1000))
        return response(environ, start_response)


class ApiServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=HttpOnlyProtocol, debug=False):
        server = super().get_wsgi_server(sock, wsgi_app, protocol, debug)
        server.log_output = False  # eventlet's access line is the request line as sent: JsonWsgiApp logs instead
        return server


class ApiEndpoint(HttpRequestHandler):
    server = ApiServer()

    def __init__(self, route: Route, **kwargs) -> None:
        self.route = route
        super().__init__(route.method, route.path.replace("{", "<").replace("}", ">"), **kwargs)

    def response_from_exception(self, exc):
        # By its type: nameko logs the exception itself, and its message may carry what the request did.
        log.error("gateway.worker_error", route=self.route.name, error=type(exc).__name__)
        return error_response(ApiError(500, "internal", "internal error"))


class ConsoleEndpoint(HttpRequestHandler):
    server = ApiServer()

    def __init__(self, path: str, name: str, method: str = "GET", **kwargs) -> None:
        self.name = name
        super().__init__(method, path.replace("{", "<").replace("}", ">"), **kwargs)

    def response_from_exception(self, exc):
        log.error("gateway.console_error", page=self.name, error=type(exc).__name__)  # as gateway.worker_error
        return Response("<!doctype html><title>500 · berdaya</title><h1>Terjadi kesalahan · Something went wrong</h1>",
                        status=500, mimetype="text/html")


class GatewayCore(DependencyProvider):
    """The pipeline's state: the gateway database, the token signer, the user cache."""

    def setup(self) -> None:
        ensure_green_psycopg()
        config = self.container.config
        try:  # first: without a secret nothing else is set up, and nothing is served
            tokens = Tokens(str(config.get("JWT_SECRET") or ""), int(config.get("TOKEN_TTL_S", 8 * 3600)))
        except MissingSecret as missing:
            log.error("gateway.jwt_secret_missing", error=str(missing))
            raise
        try:  # nor without its actor signing key: the services would refuse every command it sends
            actors = actor_signer_from_config(config, "gateway")
        except KeyConfigError as missing:
            log.error("gateway.actor_key_missing", error=str(missing))
            raise
        try:  # nor without the key its DCI answers are signed with (there is no built-in one)
            dci_signer = DciSigner.parse(config.get("DCI_SIGNING_KEY"), SENDER_ID)
        except KeyConfigError as missing:
            log.error("gateway.dci_key_missing", error=str(missing))
            raise
        # No default here: config.yaml says the office's choice, and a config without it does not start.
        if config.get("DCI_IDENTIFIER_LOOKUPS_PER_MINUTE") in (None, ""):
            raise KeyConfigError("DCI_IDENTIFIER_LOOKUPS_PER_MINUTE is not set: a DCI client's searches by NIK or KK "
                                 "a minute (services/gateway/config.yaml)")
        self.store = GatewayStore(config.get("DATABASE_URL") or DEFAULT_URL,
                                  pool_size=int(config.get("DB_POOL_SIZE", 10)))
        # Here, not in start(): nameko starts the entrypoints with the dependencies, and the DCI push timer's first
        # round may come before a start() had made the tables.
        self.store.ensure_schema()
        jobs = Jobs(amqp_uri=config["AMQP_URI"], actor_signing_key=str(config["ACTOR_SIGNING_KEY"]),
                    import_timeout_s=float(config.get("IMPORT_TIMEOUT_S", 600)),
                    audit_timeout_s=float(config.get("AUDIT_TIMEOUT_S", 600)),
                    audit_urls=config.get("AUDIT_DATABASE_URLS") or {}, dci_push=DciPush.from_config(config))
        sessions = Sessions(self.store, ttl_s=tokens.ttl_s, idle_s=float(config.get("CONSOLE_IDLE_S", 2 * 3600)))
        backoff = Backoff(base_s=float(config.get("LOGIN_BACKOFF_S", 1)),
                          max_s=float(config.get("LOGIN_BACKOFF_MAX_S", 900)))
        printer = Printer(Templates(), read_letterhead(config.get("LETTERHEAD_FILE") or None),
                          str(config.get("PUBLIC_URL") or "http://127.0.0.1:8080"))
        lookups = LookupLimit(self.store, int(config["DCI_IDENTIFIER_LOOKUPS_PER_MINUTE"]))
        self.gateway = Gateway(self.store, tokens, actors=actors, dci_signer=dci_signer, lookups=lookups,
                               user_cache_s=float(config.get("USER_CACHE_S", 5)),
                               jobs=jobs, rpc_timeout_s=float(config.get("RPC_TIMEOUT_S", 10)), sessions=sessions,
                               throttle=LoginThrottle(self.store, backoff),
                               code_throttle=CodeThrottle(self.store, backoff), printer=printer)

    def start(self) -> None:
        log.info("gateway.started", listening=self.container.config.get("WEB_SERVER_ADDRESS", "0.0.0.0:8000"),
                 routes=len(ROUTES))

    def stop(self) -> None:
        self.store.close()

    kill = stop

    def get_dependency(self, worker_ctx) -> Gateway:
        return self.gateway


class ConsoleProvider(DependencyProvider):
    """The console: its templates, and how its cookies are set."""

    def setup(self) -> None:
        config = self.container.config
        # Cookies are Secure unless the console is served over plain http on purpose (a developer's machine).
        secure = str(config.get("CONSOLE_SECURE_COOKIES", "true")).strip().lower() not in ("false", "0", "no")
        self.console = Console(Templates(), secure_cookies=secure,
                               session_ttl_s=int(config.get("TOKEN_TTL_S", 8 * 3600)))

    def get_dependency(self, worker_ctx) -> Console:
        return self.console


class GatewayService:
    name = "gateway"
    core: Gateway = GatewayCore()
    rpc = Rpc()
    console: Console = ConsoleProvider()
    held_notifications = HeldMessages()

    def dispatch(self, route: Route, request, path: dict) -> Response:
        api_request = ApiRequest(
            method=request.method,
            path_params=dict(path),
            args={key: request.args.getlist(key) for key in request.args},
            headers={key.lower(): value for key, value in request.headers.items()},
            # left in the connection: the pipeline reads it only for a user the route allows, within its limit
            body=Unread(request.content_length or 0, lambda: request.get_data(cache=False)),
            client=request.remote_addr,
        )
        return response_for(route, self.core.handle(route, api_request, self.rpc))

    def show(self, page: Page, request, path: dict) -> Response:
        return self.console.handle(page, request, dict(path), self.core, self.rpc)

    @ConsoleEndpoint.decorator(BASE + "/static/<path:name>", "static")
    def console_static(self, request, name: str) -> Response:
        return static_response(name)

    @PushTimer.decorator
    def push_dci_notifications(self) -> None:
        """The DCI subscriptions with a sender_uri: their changes pushed to it (dci_push.py)."""
        push_due(self.core, self.rpc, self.held_notifications)


def _entrypoint(route: Route):
    def handle(self, request, **path):
        return self.dispatch(route, request, path)

    handle.__name__ = handle.__qualname__ = route.name
    return ApiEndpoint.decorator(route)(handle)


def _page_entrypoint(page: Page):
    def show(self, request, **path):
        return self.show(page, request, path)

    show.__name__ = show.__qualname__ = page.name
    return ConsoleEndpoint.decorator(page.path, page.name, page.method)(show)


for _route in ROUTES:
    setattr(GatewayService, _route.name, _entrypoint(_route))
for _page in PAGES:
    setattr(GatewayService, _page.name, _page_entrypoint(_page))
