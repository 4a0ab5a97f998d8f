"""The gateway against real services (PostgreSQL + RabbitMQ): bad input is a 400 and never a 500, a stopped
service is a 503 within seconds, an Idempotency-Key replays the stored answer once, tokens and users behave.

``GatewaySystem`` composes a :class:`tests.support.system.System`: the services run in-process as there, and the
gateway runs as one more nameko container on a free port with a database of its own, whose users the tests create
directly (as `berdaya users add` does). Its audit reads the services' databases with a read-only role, as in
deploy/init.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import requests
from nameko.containers import ServiceContainer

from services.gateway.auth import hash_password
from services.gateway.service import GatewayService
from services.gateway.store import GatewayStore
from shared.config import SERVICES
from tests.support.households import LINES, PASSWORD, VILLAGE, group_body, household_body  # noqa: F401
from tests.support.system import ADMIN_URL, System, eventually

pytestmark = pytest.mark.integration

OTHER_VILLAGE = "18.02.01.2001"
HASH = hash_password(PASSWORD)  # argon2 takes a while: once per test run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """A thin HTTP client: ``client.post(path, json)`` → (status, body)."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.session = base, requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body=None, *, headers=None, params=None, data=None,
                timeout: float = 60) -> tuple[int, object]:
        """Every answer is JSON, except a successful download (the audit report's zip): its bytes."""
        response = self.session.request(method, self.base + path, json=body, data=data, headers=headers or {},
                                        params=params, timeout=timeout)
        if response.headers.get("Content-Disposition", "").startswith("attachment;"):
            assert response.status_code == 200, response.status_code
            return response.status_code, response.content
        assert response.headers.get("Content-Type", "").startswith("application/json"), response.text[:300]
        return response.status_code, response.json()

    def get(self, path: str, **kwargs) -> tuple[int, object]:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> tuple[int, object]:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body=None, **kwargs) -> tuple[int, object]:
        return self.request("PUT", path, body, **kwargs)

    def ok(self, method: str, path: str, body=None, **kwargs) -> object:
        status, answer = self.request(method, path, body, **kwargs)
        assert 200 <= status < 300, (method, path, status, answer)
        return answer


class GatewaySystem:
    def __init__(self, system: System, **config) -> None:
        self.system = system
        self.database = f"{system.tag}_gateway"
        self.audit_role = f"{system.tag}_audit"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.database}")
            conn.execute(f"CREATE ROLE {self.audit_role} LOGIN")
            conn.execute(f"ALTER ROLE {self.audit_role} SET default_transaction_read_only = on")
        for service in SERVICES:  # tables there now, and those the services (as postgres) create later
            with psycopg.connect(system.database_url(service), autocommit=True) as conn:
                conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {self.audit_role}")
                conn.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES "
                             f"TO {self.audit_role}")
        self.database_url = f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = {"AMQP_URI": system.amqp_uri_of("gateway"), "DATABASE_URL": self.database_url,
                       "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.port}",
                       "JWT_SECRET": f"test-secret-{system.tag}-of-32-bytes-at-least",
                       **system.gateway_key_environment(),
                       "RPC_TIMEOUT_S": 10, "RPC_PROBE_S": 1, "USER_CACHE_S": 0.2, "max_workers": 40,
                       "DCI_IDENTIFIER_LOOKUPS_PER_MINUTE": 30,
                       "AUDIT_DATABASE_URLS": {s: system.database_url(s, self.audit_role) for s in SERVICES}, **config}
        self.store = GatewayStore(self.database_url)
        self.container: ServiceContainer | None = None

    def start(self) -> GatewaySystem:
        self.container = ServiceContainer(GatewayService, self.config)
        self.container.start()
        return self

    def add_user(self, username: str, role: str, region: str) -> str:
        self.store.ensure_schema()
        self.store.add_user(username, HASH, role, region, by="test", must_change_password=False)
        return username

    def token(self, username: str, password: str = PASSWORD) -> str:
        status, answer = Client(self.base).post("/api/v1/auth/token", {"username": username, "password": password})
        assert status == 200, answer
        return answer["access_token"]

    def client(self, username: str | None = None) -> Client:
        return Client(self.base, self.token(username) if username else None)

    def user_client(self, role: str, region: str, name: str | None = None) -> Client:
        username = name or f"{role}.{region.replace('.', '-') or 'pusat'}.{uuid.uuid4().hex[:6]}"
        self.add_user(username, role, region)
        return self.client(username)

    def close(self) -> None:
        if self.container is not None:
            self.container.kill()
        self.store.close()
        for service in SERVICES:  # its grants, there, before the role can go
            with psycopg.connect(self.system.database_url(service), autocommit=True) as conn:
                conn.execute(f"DROP OWNED BY {self.audit_role}")
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            conn.execute(f"DROP ROLE IF EXISTS {self.audit_role}")


@contextmanager
def gateway_running(system: System, **config: str) -> Iterator[GatewaySystem]:
    """Every service of ``system`` started, the official region list imported, and a gateway in front of them."""
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    gateway = GatewaySystem(system, **config).start()
    try:
        yield gateway
    finally:
        gateway.close()


@contextmanager
def gateway_of_its_own(**config: str) -> Iterator[GatewaySystem]:
    """:func:`gateway_running` on a system of its own (what a module's fixture shares), closed after."""
    system = System()
    try:
        with gateway_running(system, **config) as gateway:
            yield gateway
    finally:
        system.close()


@pytest.fixture
def gateway(system: System):
    with gateway_running(system) as gateway:
        yield gateway


# --- tests ---------------------------------------------------------------------------------------------------------

def test_health_openapi_and_tokens(gateway: GatewaySystem):
    anonymous = Client(gateway.base)
    status, health = anonymous.get("/health")
    assert status == 200 and health["status"] == "ok", health
    assert set(health["dependencies"]) == {"registry", "grants", "training", "database"}
    status, spec = anonymous.get("/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.1")
    assert "/api/v1/proposals/{proposal_id}/approve" in spec["paths"]

    gateway.add_user("op.kalianda", "operator", "18.01")
    status, answer = anonymous.post("/api/v1/auth/token", {"username": "op.kalianda", "password": "wrong"})
    assert status == 401 and answer["error"]["code"] == "unauthenticated"
    status, answer = anonymous.post("/api/v1/auth/token", {"username": "nobody", "password": PASSWORD})
    assert status == 401
    assert anonymous.get("/api/v1/households", params={"village": VILLAGE})[0] == 401
    assert Client(gateway.base, "not.a.token").get("/api/v1/budgets")[0] == 401
    client = gateway.client("op.kalianda")
    assert client.get("/api/v1/budgets") == (200, [])

    gateway.store.set_disabled("op.kalianda", True, by="admin.test")
    eventually(lambda: client.get("/api/v1/budgets")[0] == 401, timeout=10)
    assert anonymous.post("/api/v1/auth/token", {"username": "op.kalianda", "password": PASSWORD})[0] == 401


class Staff:
    """One client per role, all of Lampung Selatan (18.01) or above it, as the office would have them."""

    def __init__(self, gateway: GatewaySystem, suffix: str = "") -> None:
        self.operator = gateway.user_client("operator", "18.01", f"op.kalianda{suffix}")
        self.operator_2 = gateway.user_client("operator", "18.01", f"op2.kalianda{suffix}")
        self.verifier = gateway.user_client("verifier", "18.01", f"kabid.lamsel{suffix}")
        self.province = gateway.user_client("province", "18", f"dinsos.lampung{suffix}")
        self.ministry = gateway.user_client("ministry", "", f"kemensos.pusat{suffix}")
        self.treasurer = gateway.user_client("treasurer", "18.01", f"bendahara.lamsel{suffix}")
        # confirms what the treasurer instructs (segregation of duties)
        self.treasurer_2 = gateway.user_client("treasurer", "18.01", f"bendahara2.lamsel{suffix}")
        self.facilitator = gateway.user_client("facilitator", "18.01", f"fasilitator.rina{suffix}")
        self.auditor = gateway.user_client("auditor", "", f"inspektorat{suffix}")


def register_group(staff: Staff, start: int, name: str = "KUBE Mawar", size: int = 7) -> tuple[str, list[dict]]:
    """Register ``size`` eligible households and form a women's KUBE of them; wait until grants knows it."""
    households = [household_body(start + i) for i in range(size)]
    for body in households:
        staff.operator.ok("POST", "/api/v1/households", body)
    group_id = staff.operator.ok("POST", "/api/v1/groups", group_body(name, households))["group_id"]
    return group_id, households


def approved_proposal(staff: Staff, group_id: str, amount: int = 14_000_000, form: str = "cash") -> str:
    """Draft (once grants has learnt of the group), submit, verify, recommend, approve."""
    draft = {"group_id": group_id, "business_plan": "Usaha jahit seragam sekolah", "budget_lines": LINES,
             "form": form}
    proposal_id = eventually(lambda: _created(staff.operator.post("/api/v1/proposals", draft)), timeout=30,
                             message="grants learns of the group")["proposal_id"]
    staff.operator.ok("POST", f"/api/v1/proposals/{proposal_id}/submit")
    staff.verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/verify")
    staff.province.ok("POST", f"/api/v1/proposals/{proposal_id}/recommend")
    approved = staff.ministry.ok("POST", f"/api/v1/proposals/{proposal_id}/approve",
                                 {"amount_rp": amount, "form": form, "fiscal_year": 2026, "source": "APBN"})
    assert approved["status"] == "approved"
    return proposal_id


def _created(answer: tuple[int, object]):
    status, body = answer
    assert status in (201, 404), answer  # 404: the group has not reached grants yet
    return body if status == 201 else None


def set_budget(staff: Staff, ceiling: int = 100_000_000) -> None:
    staff.ministry.ok("PUT", "/api/v1/budgets/2026/APBN", {"ceiling_rp": ceiling})


# --- bad input, conflicts, refusals --------------------------------------------------------------------------------

BAD_REQUESTS = [
    # (method, path, body or raw bytes, params, expected field)
    ("POST", "/api/v1/households", b"{not json", None, "body"),
    ("POST", "/api/v1/households", b"[1, 2]", None, "body"),
    ("POST", "/api/v1/households", b"\xff\xfe", None, "body"),
    ("POST", "/api/v1/households", {**household_body(1), "decile": "2"}, None, "decile"),
    ("POST", "/api/v1/households", {**household_body(1), "decile": 11}, None, "decile"),
    ("POST", "/api/v1/households", {**household_body(1), "kk": "12345"}, None, "kk"),
    ("POST", "/api/v1/households", {**household_body(1), "role": "admin"}, None, "role"),
    ("POST", "/api/v1/households", {**household_body(1), "members": []}, None, "members"),
    ("POST", "/api/v1/households", {**household_body(1), "members": [{"nik": 1}]}, None, "members.0.nik"),
    ("POST", "/api/v1/households", {**household_body(1), "village_code": "18.01.06.2999"}, None, "village_code"),
    ("POST", "/api/v1/households", {}, None, "kk"),
    ("POST", "/api/v1/households", None, None, "kk"),
    ("GET", "/api/v1/households/123", None, None, "kk"),
    ("GET", "/api/v1/households", None, {"village": VILLAGE, "page": "0"}, "page"),
    ("GET", "/api/v1/households", None, {"village": VILLAGE, "page": "x"}, "page"),
    ("GET", "/api/v1/households", None, {"village": VILLAGE, "colour": "red"}, "colour"),
    ("GET", "/api/v1/households", None, {"village": "18.01"}, "village"),
    ("GET", "/api/v1/households", None, None, "village"),
    ("GET", "/api/v1/households", None, {"name": "S", "village": VILLAGE}, "name"),
    ("GET", "/api/v1/proposals/not-a-uuid", None, None, "proposal_id"),
    ("POST", "/api/v1/proposals", {"group_id": str(uuid.uuid4()), "business_plan": "x", "form": "cash",
                                    "budget_lines": [{"item": "a", "quantity": 1, "unit": "u",
                                                      "unit_price_rp": 1.5}]}, None, "budget_lines.0.unit_price_rp"),
    ("POST", "/api/v1/cohorts", {"village_code": VILLAGE, "facilitator": ""}, None, "facilitator"),
    ("POST", "/api/v1/cohorts", {"village_code": VILLAGE, "facilitator": "a\u0000b"}, None, "body"),
    ("POST", "/api/v1/households/1801060000000001/decile", {"decile": True}, None, "decile"),
]


def test_bad_input_is_a_400_naming_field_and_rule_never_a_500(gateway: GatewaySystem):
    operator = gateway.user_client("operator", "18.01")
    for method, path, body, params, field in BAD_REQUESTS:
        raw = body if isinstance(body, bytes) else None
        status, answer = operator.request(method, path, None if raw else body, data=raw, params=params,
                                          headers={"Content-Type": "application/json"})
        assert status == 400, (method, path, body, status, answer)
        error = answer["error"]
        assert error["field"] == field and error["rule"] and error["message"], (path, body, error)
    # Wrong method, unknown path: the same JSON shape.
    status, answer = operator.request("DELETE", "/api/v1/budgets")
    assert status == 405 and answer["error"]["code"] == "method_not_allowed"
    status, answer = operator.get("/api/v1/nothing/here")
    assert status == 404 and answer["error"]["code"] == "not_found"


def test_domain_refusals_map_to_404_409_and_403(gateway: GatewaySystem):
    staff = Staff(gateway)
    set_budget(staff)
    body = household_body(20)
    assert staff.operator.post("/api/v1/households", body)[0] == 201
    status, answer = staff.operator.post("/api/v1/households", {**household_body(21),
                                                                "members": household_body(20)["members"]})
    assert status == 409 and answer["error"]["code"] == "conflict", answer  # a NIK registered in another KK
    status, answer = staff.operator.get("/api/v1/households/1801069999999999")
    assert status == 404 and answer["error"]["code"] == "not_found"
    status, answer = staff.operator.post("/api/v1/households/1801069999999999/decile", {"decile": 3})
    assert status == 404

    group_id, _ = register_group(staff, 30)
    draft = {"group_id": group_id, "business_plan": "Usaha jahit", "budget_lines": LINES, "form": "cash"}
    proposal_id = eventually(lambda: _created(staff.operator.post("/api/v1/proposals", draft)),
                             timeout=30)["proposal_id"]
    status, answer = staff.ministry.post(f"/api/v1/proposals/{proposal_id}/approve",
                                         {"amount_rp": 1, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    assert status == 409 and answer["error"]["rule"] == "proposal.transition", answer
    staff.operator.ok("POST", f"/api/v1/proposals/{proposal_id}/submit")
    # Returning is for the level whose turn it is: the province may not return a proposal the district holds.
    status, answer = staff.province.post(f"/api/v1/proposals/{proposal_id}/return", {"reason": "belum lengkap"})
    assert status == 403 and answer["error"]["rule"] == "role.forbidden", answer
    # Maker–checker: the operator who submitted may not verify, even as a verifier.
    gateway.store.set_disabled("op.kalianda", True, by="admin.test")
    other_regency = gateway.user_client("verifier", "18.02")
    status, answer = other_regency.post(f"/api/v1/proposals/{proposal_id}/verify")
    assert status == 404 and answer["error"]["code"] == "not_found", answer  # as if it did not exist
    staff.verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/verify")
    status, answer = staff.province.post(f"/api/v1/proposals/{proposal_id}/approve",
                                         {"amount_rp": 1, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    assert status == 403 and answer["error"]["rule"] == "role.forbidden", answer  # APBN is the ministry's money


def test_a_stopped_service_is_a_503_within_seconds_and_the_gateway_recovers(gateway: GatewaySystem):
    system = gateway.system
    auditor = gateway.user_client("auditor", "")
    assert auditor.get("/api/v1/budgets")[0] == 200
    system.stop("grants")
    started = time.monotonic()
    status, answer = auditor.get("/api/v1/budgets")
    elapsed = time.monotonic() - started
    assert status == 503 and answer["error"]["code"] == "unavailable", answer
    assert elapsed < 6, f"503 after {elapsed:.1f}s"
    status, health = Client(gateway.base).get("/health")
    assert status == 503 and health["status"] == "degraded"
    assert health["dependencies"]["grants"]["ok"] is False and health["dependencies"]["registry"]["ok"] is True
    # A write while grants is down: 503, and it does not happen later when grants is back (the request expired).
    ministry = gateway.user_client("ministry", "")
    written = time.monotonic()
    status, _ = ministry.put("/api/v1/budgets/2031/APBN", {"ceiling_rp": 5_000_000})
    assert status == 503
    # Reads from the other services go on.
    assert auditor.get("/api/v1/households", params={"village": VILLAGE})[0] == 200
    time.sleep(max(0.0, 11 - (time.monotonic() - written)))  # past the write's deadline (RPC_TIMEOUT_S = 10)
    system.start("grants")
    eventually(lambda: auditor.get("/api/v1/budgets")[0] == 200, timeout=60)
    assert auditor.get("/api/v1/budgets", params={"fiscal_year": "2031"}) == (200, [])
    assert Client(gateway.base).get("/health")[0] == 200


def test_a_service_never_started_is_a_503_at_once(system: System):
    system.start("registry")
    gateway = GatewaySystem(system).start()
    try:
        auditor = gateway.user_client("auditor", "")
        started = time.monotonic()
        status, answer = auditor.get("/api/v1/cohorts")
        assert status == 503 and time.monotonic() - started < 3, answer
        assert "training" in answer["error"]["message"]
    finally:
        gateway.close()


def test_an_idempotency_key_replays_the_stored_answer_once(gateway: GatewaySystem):
    operator = gateway.user_client("operator", "18.01", "op.idem")
    body = household_body(40)
    key = {"Idempotency-Key": "register-40-0001"}
    first = operator.session.post(gateway.base + "/api/v1/households", json=body, headers=key, timeout=30)
    again = operator.session.post(gateway.base + "/api/v1/households", json=body, headers=key, timeout=30)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers.get("Idempotent-Replayed") == "true"
    # Without the key the same body is a second registration: refused, a NIK is registered once.
    assert operator.post("/api/v1/households", body)[0] == 409
    history = operator.ok("GET", f"/api/v1/households/{body['kk']}/history")
    assert [entry["event"] for entry in history].count("Registered") == 1, history
    # The same key with another body is refused; another user's same key is theirs.
    status, answer = operator.post("/api/v1/households", household_body(41), headers=key)
    assert status == 409 and answer["error"]["code"] == "idempotency_mismatch"
    other = gateway.user_client("operator", "18.01", "op.idem2")
    assert other.post("/api/v1/households", household_body(41), headers=key)[0] == 201
    # A refusal is an answer too: replayed, not re-run.
    dup_key = {"Idempotency-Key": "register-40-dup-01"}
    refused = operator.post("/api/v1/households", body, headers=dup_key)
    assert refused[0] == 409 and operator.post("/api/v1/households", body, headers=dup_key) == refused
    status, answer = operator.post("/api/v1/households", body, headers={"Idempotency-Key": "short"})
    assert status == 400 and answer["error"]["field"] == "Idempotency-Key"


def test_a_claim_left_pending_by_a_dead_gateway_is_taken_over_once_its_request_cannot_be_running(
        gateway: GatewaySystem):
    """A gateway killed mid-call leaves its Idempotency-Key claimed with no answer. While that call could still be
    running (two RPC deadlines and a margin: 25 s here) a retry is told 409 in progress; after that it runs."""
    operator = gateway.user_client("operator", "18.01", "op.pending")
    body = household_body(42)
    for key, age_s in (("left-by-a-dead-gateway-1", 24), ("left-by-a-dead-gateway-2", 26)):
        with psycopg.connect(gateway.database_url, autocommit=True) as conn:
            # The request's hash, as the gateway computes it: from a claim it makes for the same request.
            operator.post("/api/v1/households", body, headers={"Idempotency-Key": key + "-probe"})
            request_hash = conn.execute("SELECT request_hash FROM idempotency_keys WHERE key = %s",
                                        (key + "-probe",)).fetchone()[0]
            conn.execute("INSERT INTO idempotency_keys (username, key, request_hash, created_at) VALUES "
                         "(%s, %s, %s, now() - make_interval(secs => %s))", ("op.pending", key, request_hash, age_s))
        status, answer = operator.post("/api/v1/households", body, headers={"Idempotency-Key": key})
        if age_s < 25:
            assert status == 409 and answer["error"]["rule"] == "idempotency.in_progress", answer
        else:  # taken over and run: the service answered (the probe registered the household: a duplicate)
            assert status == 409 and answer["error"].get("rule") != "idempotency.in_progress", answer
