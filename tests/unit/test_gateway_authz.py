"""The gateway's authorization matrix, generated from its route table: every route × every role × a user whose
region covers the resource and one whose region does not → the expected status. No I/O: the services and the
gateway's database are stand-ins; the pipeline, the table and the token checks are the real ones.

A route added to the table without roles or without a scope cannot be built; a route added without an example
request here fails ``test_every_route_has_an_example``.
"""

from __future__ import annotations

import json

import pytest
from nameko.exceptions import RemoteError

from berdaya.audit import report_files
from services.gateway import audit as audit_module
from services.gateway import routes as routes_module
from services.gateway.auth import Tokens, User
from services.gateway.core import (
    PUBLIC,
    ApiRequest,
    EachInService,
    Gateway,
    Lookup,
    National,
    Route,
    Unscoped,
    route,
)
from services.gateway.dci_signatures import DciSigner, new_dci_key_environment
from services.gateway.routes import ROUTES
from services.gateway.store import Claim, UnknownUser
from services.gateway.throttle import LookupLimit
from shared.actor_assertion import ActorSigner, new_actor_key_environment
from shared.errors import NotFound
from shared.ids import jakarta_today
from shared.vocabulary import ROLES

VILLAGE = "18.01.06.2001"
OWN, OTHER = "18.01", "18.02"
UUID = "0b5d2a3e-8c1f-4d2a-9e3b-5f6a7b8c9d0e"
KK = "1801060101200001"
NIK = "1801064503850001"
TODAY = jakarta_today().isoformat()

# One valid request per route: path parameters, query, body. The resource lives in VILLAGE (18.01.06.2001).
PATH = {"kk": KK, "nik": NIK, "group_id": UUID, "proposal_id": UUID, "payment_id": UUID, "cohort_id": UUID,
        "session_id": UUID, "person_id": UUID, "n": "1", "fiscal_year": "2026", "source": "APBN",
        "username": "op.kalianda", "request_id": UUID, "change_id": UUID, "grievance_id": UUID, "digest": "a" * 64}
MEMBER = {"nik": NIK, "name": "Siti", "sex": "P", "birth_date": "1985-03-05", "relation": "Istri"}
LINE = {"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": 2_500_000}
EXAMPLES: dict[str, dict] = {
    "list_users": {}, "disable_user": {}, "enable_user": {}, "me": {},
    "reset_password": {"body": {"password": "kata-sandi-baru"}}, "user_changes": {"query": {"username": "op.kalianda"}},
    "add_user": {"body": {"username": "ver.lamsel", "password": "kata-sandi-1", "role": "verifier",
                          "region": "18.01"}},
    "import_regions": {"body": {"rows": [{"code": "18", "name": "Lampung", "level": 1}], "source": "test"}},
    "list_regions": {"query": {"prefix": "18.01"}},
    "register_household": {"body": {"kk": KK, "dtks_id": "D-1", "village_code": VILLAGE, "decile": 2,
                                    "members": [{**MEMBER, "relation": "Kepala Keluarga"}]}},
    "search_households": {"query": {"village": VILLAGE}},
    "dci_sync_search": {"body": {
        "header": {"version": "1.0.0", "message_id": "m-1", "message_ts": f"{TODAY}T10:00:00+07:00",
                   "action": "search", "sender_id": "dci_client.18.01", "total_count": 1},
        "message": {"transaction_id": "t-1", "search_request": [{
            "reference_id": "r-1", "timestamp": f"{TODAY}T10:00:00+07:00", "search_criteria": {
                "query_type": "predicate", "query": [{"expression1": {
                    "attribute_name": "region_code", "operator": "eq", "attribute_value": OWN}}]}}]}}},
    "dci_sync_txn_status": {"body": {
        "header": {"version": "1.0.0", "message_id": "m-2", "message_ts": f"{TODAY}T10:00:00+07:00",
                   "action": "txn-status", "sender_id": "dci_client.18.01", "total_count": 1},
        "message": {"transaction_id": "t-2", "txnstatus_request": {
            "reference_id": "r-2", "txn_type": "search", "attribute_type": "transaction_id",
            "attribute_value": "t-1"}}}},
    "dci_sync_subscribe": {"body": {
        "header": {"version": "1.0.0", "message_id": "m-3", "message_ts": f"{TODAY}T10:00:00+07:00",
                   "action": "subscribe", "sender_id": "dci_client.18.01", "total_count": 1},
        "message": {"transaction_id": "t-3", "subscribe_request": [{
            "reference_id": "r-3", "timestamp": f"{TODAY}T10:00:00+07:00", "subscribe_criteria": {
                "filter": [{"expression1": {"attribute_name": "region_code", "operator": "eq",
                                            "attribute_value": OWN}}]}}]}}},
    "dci_sync_notify": {"body": {
        "header": {"version": "1.0.0", "message_id": "m-4", "message_ts": f"{TODAY}T10:00:00+07:00",
                   "action": "notify", "sender_id": "dci_client.18.01", "total_count": 1},
        "message": {"transaction_id": "t-4", "notify_request": {"reference_id": "r-4",
                                                                 "subscription_code": "s-1"}}}},
    "dci_sync_unsubscribe": {"body": {
        "header": {"version": "1.0.0", "message_id": "m-5", "message_ts": f"{TODAY}T10:00:00+07:00",
                   "action": "unsubscribe", "sender_id": "dci_client.18.01", "total_count": 1},
        "message": {"transaction_id": "t-5", "timestamp": f"{TODAY}T10:00:00+07:00",
                    "subscription_codes": ["s-1"]}}},
    "get_household": {}, "household_history": {}, "household_benefits": {}, "get_person": {}, "person_access_log": {},
    "request_erasure": {"body": {"reason": "permintaan subjek data", "whole_household": True}},
    "approve_erasure": {}, "pending_erasures": {"query": {"region": OWN}},
    "record_grievance": {"body": {"village_code": VILLAGE, "category": "exclusion", "description": "belum terdaftar",
                                  "complainant_name": "Siti"}},
    "list_grievances": {"query": {"region": OWN, "overdue": "true"}}, "get_grievance": {},
    "assign_grievance": {"body": {"assignee": "kabid.lamsel"}}, "note_grievance": {"body": {"text": "dicek"}},
    "resolve_grievance": {"body": {"outcome": "upheld", "resolution": "didaftarkan"}},
    "find_people": {"query": {"q": "nur'aini", "region": OWN}},
    "add_member": {"body": {"member": MEMBER, "reason": "marriage"}},
    "remove_member": {"body": {"reason": "death"}},
    "correct_member": {"body": {"changes": {"name": "Siti Aminah"}, "reason": "salah ketik"}},
    "change_status": {"body": {"status": "graduated", "reason": "mampu"}},
    "change_decile": {"body": {"decile": 3}},
    "import_bdt": {"raw": f"id_dtks,no_kk,nik,kode_wilayah\nD-1,{KK},{NIK},{VILLAGE}\n".encode()},
    "held_changes": {"query": {"region": "18.01.06"}}, "confirm_held_change": {}, "reject_held_change": {},
    "form_group": {"body": {"name": "KUBE Mawar", "village_code": VILLAGE, "business_type": "jahit",
                            "members": [{"kk": KK, "representative_nik": NIK}], "roles": {"ketua": NIK},
                            "bank_account": {"bank": "BRI", "number": "01234567", "holder": "KUBE Mawar"},
                            "sk_kades": "140/1/2026"}},
    "list_groups": {"query": {"region": "18.01.06"}}, "get_group": {},
    "group_candidates": {"query": {"village": VILLAGE, "kind": "perempuan"}},
    "change_group_member": {"body": {"removed_kk": KK, "reason": "pindah"}},
    "dissolve_group": {"body": {"reason": "bubar"}}, "graduate_group": {"body": {"reason": "mandiri"}},
    "set_budget_ceiling": {"body": {"ceiling_rp": 100_000_000, "region": OWN}},
    "list_budgets": {"query": {"fiscal_year": "2026"}},
    "draft_proposal": {"body": {"group_id": UUID, "business_plan": "Usaha jahit", "budget_lines": [LINE],
                                "form": "cash"}},
    "list_proposals": {"query": {"region": OWN, "status": "submitted", "order": "oldest"}}, "get_proposal": {},
    "proposal_counts": {"query": {"region": OWN}},
    "submit_proposal": {}, "verify_proposal": {}, "recommend_proposal": {},
    "approve_proposal": {"body": {"amount_rp": 10_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"}},
    "return_proposal": {"body": {"reason": "RAB kurang"}}, "reject_proposal": {"body": {"reason": "jenuh"}},
    "resubmit_proposal": {"body": {"business_plan": "Usaha jahit seragam"}},
    "cancel_proposal": {"body": {"reason": "batal"}},
    "get_grant": {}, "payable_grants": {"query": {"region": OWN}}, "lpj_due": {"query": {"region": OWN}},
    "visits_due": {"query": {"region": OWN}},
    "disburse_tranche": {"headers": {"idempotency-key": "tranche-1-key-0001"}},
    "deliver_tranche": {"headers": {"idempotency-key": "bast-key-0001"},
                        "body": {"items": [{"item": "Mesin", "quantity": 1, "value_rp": 1_000_000}],
                                 "handover_date": TODAY, "receiver": "Ketua"}},
    "submit_lpj": {"body": {"lines": [{"description": "Mesin", "receipt_number": "INV-1", "receipt_date": TODAY,
                                       "amount_rp": 1_000_000}]}},
    "review_lpj": {"body": {"accept": True}},
    "handover_accepted": {}, "payment_sent": {}, "payment_confirmed": {"body": {"bank_reference": "BRI-1"}},
    "payment_failed": {"body": {"reason": "rekening tutup"}}, "payment_cancelled": {"body": {"reason": "batal"}},
    "record_visit": {"body": {"visit_date": TODAY, "business_status": "running", "monthly_revenue_rp": 500_000,
                              "members_active": 7, "savings_rp": 600_000, "iuran_rp": 50_000}},
    "record_refund": {"body": {"amount_rp": 100_000, "reason": "disalahgunakan", "reference": "STS-1"}},
    "take_batch": {"body": {"payments": [{"proposal_id": UUID, "payment_id": UUID}]}},
    "reconcile_statement": {"query": {"format": "mt940"}, "raw": b":20:BERDAYA\r\n:25:0206010000123\r\n"},
    "get_curriculum": {},
    "open_cohort": {"body": {"village_code": VILLAGE, "facilitator": "fasilitator.rina"}},
    "list_cohorts": {"query": {"region": OWN}}, "get_cohort": {},
    "enrol": {"body": {"person_id": UUID}}, "assign_facilitator": {"body": {"facilitator": "fasilitator.rina"}},
    "schedule_session": {"body": {"module": "keuangan", "session_date": TODAY, "place": "Balai Desa"}},
    "record_attendance": {"body": {"marks": {UUID: "present"}}},
    "correct_attendance": {"body": {"person_id": UUID, "status": "present", "reason": "salah catat"}},
    "get_participant": {}, "list_gates": {"query": {"region": OWN}},
    "dashboard": {"query": {"region": OWN}},
    "audit_verify": {"query": {"as_of": "2026-06-30T23:59:59+07:00"}}, "audit_report": {}, "audit_runs": {},
    "ledger_head": {}, "audit_replay": {"query": {"as_of": "2026-06-30T23:59:59+07:00"}},
    "print_proposal_letter": {}, "print_decision_annex": {}, "print_bast": {}, "print_receipt": {},
    "print_provenance": {}, "print_lpj_form": {}, "print_certificate": {},
    "attach_document": {"query": {"kind": "rab"}, "raw": b"%PDF-1.7 RAB"}, "list_documents": {},
    "download_document": {},
    "attach_group_document": {"query": {"kind": "sk_kades"}, "raw": b"%PDF-1.7 SK Kades"},
    "list_group_documents": {}, "download_group_document": {},
}
# What the audit engine answers here (it reads the services' databases: the integration tests run it for real).
AUDIT_ANSWERS = {
    "verify": {"ok": True, "events_checked": 0, "ledger_entries_checked": 0, "documents_checked": 0, "ledger_head": "0",
               "problems": []},
    "ledger_head": {"seq": 0, "hash": "0", "recorded_at": None},
    "state_as_of": {"as_of": "2026-06-30T23:59:59+07:00", "budgets": [], "proposals": [], "groups": []},
}


class FakeStore:
    """The gateway's database, in memory."""

    def __init__(self) -> None:
        self.accounts: dict[str, User] = {"op.kalianda": User("op.kalianda", "operator", "18.01"),
                                          "kabid.lamsel": User("kabid.lamsel", "verifier", "18.01")}
        self.keys: dict[tuple[str, str], list] = {}

    def user(self, username: str):
        user = self.accounts.get(username)
        return (user, "hash") if user else None

    def users(self) -> list[User]:
        return list(self.accounts.values())

    def add_user(self, username, password_hash, role, region, *, by, must_change_password) -> None:
        self.accounts[username] = User(username, role, region, must_change_password=must_change_password)

    def set_disabled(self, username: str, disabled: bool, *, by: str) -> None:
        if username not in self.accounts:
            raise UnknownUser(username)
        self.accounts[username] = User(username, self.accounts[username].role, self.accounts[username].region,
                                       disabled)

    def set_password(self, username: str, password_hash: str, *, by: str, reset: bool) -> None:
        if username not in self.accounts:
            raise UnknownUser(username)

    def user_changes(self, username=None, limit=200) -> list:
        return []

    def record_audit_run(self, by, as_of, result) -> None:
        pass

    def record_dci_transaction(self, client, transaction_id, correlation_id, outcomes) -> None:
        pass

    def dci_transaction(self, client, attribute, value) -> None:
        return None

    def add_dci_subscription(self, code, client, region, position, notify_uri=None) -> None:
        pass

    def dci_subscription(self, client, code) -> None:
        return None

    def end_dci_subscription(self, client, code, *, by) -> None:
        return None

    def audit_runs(self, limit=20) -> list:
        return []

    def claim(self, username, key, request_hash, stale_after_s) -> Claim:
        stored = self.keys.get((username, key))
        if stored is None:
            self.keys[(username, key)] = [request_hash, None, None]
            return Claim("new")
        if stored[0] != request_hash:
            return Claim("mismatch")
        return Claim("replay", stored[1], stored[2]) if stored[1] else Claim("pending")

    def complete(self, username, key, status, response) -> None:
        self.keys[(username, key)][1:] = [status, response]

    def release(self, username, key) -> None:
        self.keys.pop((username, key), None)


# What a printout reads of a resource besides its region (the papers themselves: tests/integration/test_printouts.py).
PAID_PAYMENT = {"payment_id": UUID, "tranche": 1, "status": "confirmed", "amount_rp": 1_000_000, "kind": "cash"}
PRINTED = {"group_id": UUID, "proposal_id": UUID, "cohort_id": UUID, "name": "Siti", "members": [], "roles": {},
           "approval": {}, "budget_lines": [],
           "payments": [PAID_PAYMENT], "participants": [{"nik": NIK}],
           "history": [{"event": event, "by": "x", "at": f"{TODAY}T10:00:00+07:00", "details": {}}
                       for event in ("Verified", "Approved")]}


class PaperTray:
    """The printer, as a stand-in: what matters here is who may print, not the paper."""

    def pdf(self, template: str, code: str, **context) -> bytes:
        return b"%PDF-1.7 " + template.encode()


def fake_rpc(service: str, method: str, *args, **kwargs):
    """The services, answering as if every resource lived in 18.01.06.2001 and every command succeeded."""
    located = {"village_code": VILLAGE, **PRINTED}
    if method == "document_code":
        return {"code": "L1-0123456789", "at": f"{TODAY}T10:00:00+07:00"}
    if method == "participant":
        return {"person_id": UUID, "person": located, "enrolments": [], "attendance": []}
    if method == "cohort":
        return {**located, "participants": [{"person_id": UUID}]}
    if method == "household":
        return {**located, "household_id": UUID}
    if method in ("person", "group", "proposal", "grant", "grievance_row", "grievance"):
        return located
    if method == "backbone_status":
        return {"last_position": 0}
    if method == "household_benefits":
        return {"enrolment": "none", "groups": []}
    if method == "names":
        return {UUID: {"name": "Siti", "nik": NIK}}
    if method == "access_log":
        return {"nik": NIK, "reads": [], **located}
    if method == "region_rows":
        return [{"code": "18.01", "name": "Lampung Selatan", "level": 2}]
    if method == "budgets":
        return [{"source": "APBN", "fiscal_year": 2026, "region": OWN}]
    if method in ("instruct", "deliver"):
        return {"payment_id": UUID}
    if method in ("attach_group_document", "group_document"):
        return {"kind": "sk_kades", "sha256": "a" * 64, "size": 12, "media_type": "application/pdf", "by": "x",
                "attached_at": f"{TODAY}T10:00:00+00:00", "content_base64": "JVBERi0xLjcgUkFC",
                "filename": "sk_kades.pdf"}
    if method in ("attach_document", "document"):
        return {"kind": "rab", "sha256": "a" * 64, "size": 12, "media_type": "application/pdf", "by": "x",
                "attached_at": f"{TODAY}T10:00:00+00:00", "payment_id": None, "tranche": None,
                "content_base64": "JVBERi0xLjcgUkFC", "filename": "rab.pdf"}
    if method in ("documents", "group_documents"):
        return []
    if method in ("group_candidates", "payables", "lpj_due", "visits_due", "gates", "proposal_counts", "grievances",
                  "grievance_counts"):
        return [] if method != "proposal_counts" else {}
    if method == "dashboard":
        return {"villages": [], "budgets": []} if service == "grants" else []
    listed = method.endswith("s") or method == "households_where"
    return {"items": [], "page": 1, "size": 50, "total": 0} if listed else UUID


@pytest.fixture
def gateway(monkeypatch) -> Gateway:
    monkeypatch.setattr(routes_module, "run_bdt_import", lambda call: {"households_imported": 1})
    # the audit engine answers without databases; the report writes nothing here (its zip is then empty)
    for module in (audit_module.audit_verify, audit_module.audit_replay):
        for name, answer in AUDIT_ANSWERS.items():
            if hasattr(module, name):
                monkeypatch.setattr(module, name, lambda *_, answer=answer, **__: answer)
    monkeypatch.setattr(report_files, "write_report", lambda *_, **__: [])
    actors = ActorSigner.parse(new_actor_key_environment("unit")["GATEWAY_ACTOR_SIGNING_KEY"], "gateway")
    store = FakeStore()
    return Gateway(store, Tokens("unit-test-secret-of-at-least-32-bytes", 600), actors=actors,
                   dci_signer=DciSigner.parse(new_dci_key_environment("unit")["DCI_SIGNING_KEY"], "berdaya"),
                   lookups=LookupLimit(store, 30), user_cache_s=0, printer=PaperTray())


def own_region(route: Route) -> str:
    return "" if isinstance(route.scope, National) else OWN


def ask(gateway: Gateway, route: Route, role: str, region: str, rpc=fake_rpc):
    user = User(f"{role}.{region or 'pusat'}", role, region)
    gateway.store.add_user(user.username, "hash", role, region, by="test", must_change_password=False)
    token, _ = gateway.tokens.issue(user)
    example = EXAMPLES[route.name]
    body = example.get("raw") or (json.dumps(example["body"]).encode() if "body" in example else b"")
    if route.tag == "dci":  # another system names itself in the header as it logged in
        body = body.replace(b'"dci_client.18.01"', json.dumps(user.username).encode())
    request = ApiRequest(
        method=route.method,
        path_params={name: PATH[name] for name in route.path_params},
        args={key: [value] for key, value in example.get("query", {}).items()},
        headers={"authorization": f"Bearer {token}", **example.get("headers", {}),
                 **({"content-type": route.request_media_type} if body else {})},
        body=body,
    )
    return gateway.handle(route, request, rpc)


PROTECTED = [r for r in ROUTES if not r.public]


def expected(route: Route, role: str, covered: bool) -> tuple[int, str | None]:
    """The status and error code: a looked-up resource outside the user's region is answered as a missing one."""
    if role not in route.roles:
        return refused(route, 403, "forbidden")
    if not covered and isinstance(route.scope, Lookup):
        return refused(route, 404, "not_found")
    if not covered and not isinstance(route.scope, Unscoped | EachInService):  # the latter: the service checks
        return refused(route, 403, "out_of_region")
    return route.status, None


def refused(route: Route, status: int, code: str) -> tuple[int, str]:
    """The refusal, with its code as the route's standard names it (the DCI route: ``err.request.forbidden``)."""
    return status, route.error_code(code, status) if route.error_code else code


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.name)
def test_authorization_matrix(gateway: Gateway, route: Route):
    outcomes, wrong = {}, []
    for role in ROLES:
        for covered, region in ((True, own_region(route)), (False, OTHER)):
            response = ask(gateway, route, role, region)
            outcomes[(role, covered)] = response.status
            want, code = expected(route, role, covered)
            if response.status != want:
                wrong.append(f"{role} ({'own' if covered else 'other'} region {region!r}): {response.status} "
                             f"{response.body}, expected {want}")
            elif code is not None:
                assert response.body["error"]["code"] == code, response.body
    assert not wrong, "\n".join(wrong)


def test_every_route_has_an_example_and_a_unique_name():
    names = [r.name for r in ROUTES]
    assert len(names) == len(set(names))
    assert {r.name for r in PROTECTED} == set(EXAMPLES), "add an example request for each new route"
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)


def test_the_auditor_writes_nothing_and_reads_everything():
    for r in PROTECTED:
        assert ("auditor" in r.roles) == (r.method == "GET"), r.name


def test_admin_manages_users_erases_on_request_and_reads():
    admin_writes = {r.name for r in PROTECTED if "admin" in r.roles and r.write}
    assert admin_writes == {"add_user", "disable_user", "enable_user", "reset_password", "import_regions",
                            "request_erasure", "approve_erasure"}
    assert all("admin" in r.roles for r in PROTECTED if r.method == "GET")


def test_a_route_without_roles_or_scope_cannot_be_declared():
    with pytest.raises(ValueError):
        route("GET", "/x", "x", "X", roles=set(), scope=Unscoped(), run=lambda c: None, path_types={})
    with pytest.raises(ValueError):
        route("GET", "/x", "x", "X", roles={"operator"}, scope=None, run=lambda c: None, path_types={})
    with pytest.raises(ValueError):
        route("GET", "/x", "x", "X", roles={"superuser"}, scope=Unscoped(), run=lambda c: None, path_types={})


def test_every_route_is_served_and_documented():
    from services.gateway.openapi import document
    from services.gateway.service import ApiEndpoint, GatewayService

    served = {name for name in dir(GatewayService)
              if any(isinstance(entrypoint, ApiEndpoint)
                     for entrypoint in getattr(getattr(GatewayService, name), "nameko_entrypoints", ()))}
    assert served == {r.name for r in ROUTES}
    spec = document()
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert documented == {(r.method, r.path) for r in ROUTES}
    assert all(r.roles == PUBLIC or spec["paths"][r.path][r.method.lower()]["security"] for r in ROUTES)


def test_region_scope_of_a_national_user_covers_all_and_a_province_its_regencies(gateway: Gateway):
    get_household = next(r for r in ROUTES if r.name == "get_household")
    assert ask(gateway, get_household, "auditor", "").status == 200
    assert ask(gateway, get_household, "province", "18").status == 200
    assert ask(gateway, get_household, "province", "17").status == 404
    assert ask(gateway, get_household, "operator", "18.01.06").status == 200
    assert ask(gateway, get_household, "operator", "18.01.04").status == 404


LOOKUPS = [r for r in PROTECTED if isinstance(r.scope, Lookup)]


@pytest.mark.parametrize("route", LOOKUPS, ids=lambda r: r.name)
def test_a_resource_of_another_region_is_answered_as_a_missing_one(gateway: Gateway, route: Route):
    """Whether the service says "none" or raises its own NotFound (naming the id), the answer is one 404 body."""
    role = sorted(route.roles)[0]
    outside = ask(gateway, route, role, OTHER)

    def none(service, method, *args, **kwargs):
        return None

    def not_found(service, method, *args, **kwargs):
        raise RemoteError("NotFound", str(NotFound(f"no {method} {args}", field="id", id=str(args))))

    for missing in (none, not_found):
        answer = ask(gateway, route, role, OWN, rpc=missing)
        assert (answer.status, answer.json(), answer.headers) == (outside.status, outside.json(), outside.headers)
    assert outside.status == 404 and outside.body["error"]["code"] == "not_found"


def test_a_region_the_request_names_itself_is_still_refused_as_out_of_region(gateway: Gateway):
    register = next(r for r in ROUTES if r.name == "register_household")
    answer = ask(gateway, register, "operator", OTHER)
    assert answer.status == 403 and answer.body["error"]["code"] == "out_of_region"


def test_a_regional_list_defaults_to_the_users_region(gateway: Gateway):
    seen = []

    def rpc(service, method, *args, **kwargs):
        seen.append((method, args))
        return {"items": [], "page": 1, "size": 50, "total": 0}

    list_proposals = next(r for r in ROUTES if r.name == "list_proposals")
    user = User("ver.lamsel", "verifier", "18.01")
    gateway.store.add_user(user.username, "hash", user.role, user.region, by="test", must_change_password=False)
    token, _ = gateway.tokens.issue(user)
    request = ApiRequest("GET", {}, {}, {"authorization": f"Bearer {token}"})
    assert gateway.handle(list_proposals, request, rpc).status == 200
    assert seen == [("proposals", (None, "18.01", 1, 50))]
