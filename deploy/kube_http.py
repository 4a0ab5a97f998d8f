"""A KUBE group from registration to its second tranche, through the gateway's HTTP API only, from the host.

    python3 deploy/kube_http.py BASE_URL PASSWORD [FISCAL_YEAR]

Stdlib only: it runs with the host's python3, against the port compose publishes. The users (operator, second
operator, verifier, province, ministry, treasurer, second treasurer, facilitator, auditor; all with PASSWORD) are
created beforehand with `berdaya users add` (deploy/test-compose.sh does it); the region table is already imported.
The route is that of tests/e2e/test_http.py: seven eligible households, a women's KUBE, a budget, the proposal's
climb, tranche 1 paid (instructed by the treasurer, confirmed by the second: the one who instructs may not confirm),
the LPJ accepted by a second operator, the Family School completed by six of the seven representatives, tranche 2
paid. Prints one JSON line per stage with its time; exits non-zero at the first unexpected answer.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta

VILLAGE = "18.01.06.2001"  # Jondong, Kalianda (in the built-in Lampung Selatan table)
REGION6 = "180106"
USERS = {  # username: (role, region)
    "op.kalianda": ("operator", "18.01"),
    "op2.kalianda": ("operator", "18.01"),
    "kabid.lamsel": ("verifier", "18.01"),
    "dinsos.lampung": ("province", "18"),
    "kemensos.pusat": ("ministry", ""),
    "bendahara.lamsel": ("treasurer", "18.01"),
    "bendahara2.lamsel": ("treasurer", "18.01"),
    "fasilitator.rina": ("facilitator", "18.01"),
    "inspektorat": ("auditor", ""),
}
LINES = [{"item": "Mesin jahit", "quantity": 5, "unit": "unit", "unit_price_rp": 2_500_000},
         {"item": "Kain dan benang", "quantity": 1, "unit": "paket", "unit_price_rp": 4_000_000}]


class Failed(Exception):
    pass


class Client:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base.rstrip("/"), token

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw.decode(errors="replace")[:300]

    def ok(self, method: str, path: str, body=None, headers: dict | None = None):
        status, answer = self.request(method, path, body, headers)
        if status not in (200, 201):
            raise Failed(f"{method} {path} → {status} {answer}")
        return answer


def eventually(check, what: str, timeout: float = 90.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Failed(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


def nik(day: int, month: int, year: int, serial: int, woman: bool) -> str:
    return f"{REGION6}{day + (40 if woman else 0):02d}{month:02d}{year % 100:02d}{serial:04d}"


def household(number: int) -> dict:
    """A woman head born on a leap day (no clash with the synthetic households) and her son."""
    return {
        "kk": f"{REGION6}{9_000_000_000 + number:010d}", "dtks_id": f"DEPLOY-{number}", "village_code": VILLAGE,
        "address": f"Dusun {number % 7 + 1}", "decile": 2,
        "members": [
            {"nik": nik(29, 2, 1984, 9500 + number, True), "name": f"Siti Aminah {number}", "sex": "P",
             "birth_date": "1984-02-29", "relation": "Kepala Keluarga", "marital_status": "Cerai Mati",
             "occupation": "Pedagang"},
            {"nik": nik(12, 7, 2010, 9500 + number, False), "name": f"Budi {number}", "sex": "L",
             "birth_date": "2010-07-12", "relation": "Anak", "marital_status": "Belum Kawin",
             "occupation": "Pelajar"},
        ],
    }


def group_body(name: str, households: list[dict]) -> dict:
    representatives = [h["members"][0]["nik"] for h in households]
    return {
        "name": name, "village_code": VILLAGE, "business_type": "jahit", "kind": "perempuan",
        "members": [{"kk": h["kk"], "representative_nik": h["members"][0]["nik"]} for h in households],
        "roles": {"ketua": representatives[0], "sekretaris": representatives[1], "bendahara": representatives[2]},
        "bank_account": {"bank": "BRI", "number": "0123-01-000123-50-1", "holder": name},
        "sk_kades": "140/12/SK/2026",
    }


def run(base: str, password: str, fiscal_year: int) -> None:
    started = last = time.monotonic()

    def stage(name: str, **fields) -> None:
        nonlocal last
        now = time.monotonic()
        print(json.dumps({"stage": name, "seconds": round(now - last, 2), **fields}), flush=True)
        last = now

    anonymous = Client(base)
    health = anonymous.ok("GET", "/health")
    stage("health", status=health["status"])
    clients = {}
    for username in USERS:
        token = anonymous.ok("POST", "/api/v1/auth/token", {"username": username, "password": password})
        clients[username] = Client(base, token["access_token"])
    operator, operator_2 = clients["op.kalianda"], clients["op2.kalianda"]
    verifier, province, ministry = clients["kabid.lamsel"], clients["dinsos.lampung"], clients["kemensos.pusat"]
    treasurer, treasurer_2 = clients["bendahara.lamsel"], clients["bendahara2.lamsel"]
    facilitator, auditor = clients["fasilitator.rina"], clients["inspektorat"]
    stage("tokens", users=len(clients))

    households = [household(i) for i in range(7)]
    for body in households:
        if operator.ok("POST", "/api/v1/households", body)["kk"] != body["kk"]:
            raise Failed("registration answered another KK")
    group_id = operator.ok("POST", "/api/v1/groups", group_body("KUBE Mawar Deploy", households))["group_id"]
    stage("registered", households=len(households), group_id=group_id)

    ministry.ok("PUT", f"/api/v1/budgets/{fiscal_year}/APBN", {"ceiling_rp": 100_000_000})
    draft = {"group_id": group_id, "business_plan": "Usaha jahit seragam sekolah", "budget_lines": LINES,
             "form": "cash"}

    def drafted():
        status, answer = operator.request("POST", "/api/v1/proposals", draft)
        if status not in (201, 404):  # 404: grants has not learned of the group yet
            raise Failed(f"POST /api/v1/proposals → {status} {answer}")
        return answer if status == 201 else None

    proposal_id = eventually(drafted, "grants learns of the group")["proposal_id"]
    operator.ok("POST", f"/api/v1/proposals/{proposal_id}/submit")
    verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/verify")
    province.ok("POST", f"/api/v1/proposals/{proposal_id}/recommend")
    approved = ministry.ok("POST", f"/api/v1/proposals/{proposal_id}/approve",
                           {"amount_rp": 14_000_000, "form": "cash", "fiscal_year": fiscal_year, "source": "APBN"})
    if approved["status"] != "approved":
        raise Failed(f"approval: {approved}")
    stage("approved", proposal_id=proposal_id, amount_rp=approved["approval"]["amount_rp"])

    eventually(lambda: operator.ok("GET", f"/api/v1/groups/{group_id}")["status"] == "funded", "group funded")
    cohorts = eventually(lambda: facilitator.ok("GET", f"/api/v1/cohorts?region={VILLAGE}")["items"], "cohort")
    cohort_id = cohorts[0]["cohort_id"]
    eventually(lambda: len(facilitator.ok("GET", f"/api/v1/cohorts/{cohort_id}")["participants"]) == 7,
               "seven participants enrolled")
    stage("funded_and_enrolled", cohort_id=cohort_id)

    key = {"Idempotency-Key": f"tranche-1-{uuid.uuid4()}"}
    payment = treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse", headers=key)
    if treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse", headers=key) != payment:
        raise Failed("a retried disbursement with the same Idempotency-Key answered differently")
    treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    paid = treasurer_2.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                          {"bank_reference": "BRI-DEPLOY-000001"})
    stage("tranche_1_paid", disbursed_rp=paid["disbursed_rp"])

    operator.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/lpj", {"lines": [
        {"description": "Mesin jahit 5 unit", "receipt_number": "INV-001", "receipt_date": date.today().isoformat(),
         "amount_rp": 9_800_000}]})
    operator_2.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/lpj/review", {"accept": True})
    # Training knows the representatives by the registry's ids; the facilitator's page pairs them with names.
    by_name = {p["name"]: p["person_id"]
               for p in facilitator.ok("GET", f"/api/v1/cohorts/{cohort_id}")["participants"]}
    representatives = [by_name[h["members"][0]["name"]] for h in households]
    completed = []
    for index, module in enumerate(facilitator.ok("GET", "/api/v1/curriculum")["active"]):
        session = facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions", {
            "module": module, "session_date": (date.today() - timedelta(days=60 - index * 7)).isoformat(),
            "place": "Balai Desa Jondong"})
        marks = {n: "present" for n in representatives[:6]} | {representatives[6]: "absent"}
        completed += facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions/{session['session_id']}/attendance",
                                    {"marks": marks})["completed"]
    if len(completed) != 6:
        raise Failed(f"{len(completed)} completed the Family School, expected 6")
    eventually(lambda: treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["family_school_gate_open"],
               "the Family School gate opens")
    stage("lpj_accepted_and_family_school_completed", completed=len(completed))

    key = {"Idempotency-Key": f"tranche-2-{uuid.uuid4()}"}
    payment = treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/2/disburse", headers=key)
    treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}/sent")
    grant = treasurer_2.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}/confirm",
                           {"bank_reference": "BRI-DEPLOY-000002"})
    if not grant["disbursed_rp"] == grant["amount_rp"] == 14_000_000:
        raise Failed(f"grant after tranche 2: {grant}")
    if auditor.ok("GET", f"/api/v1/proposals/{proposal_id}")["status"] != "approved":
        raise Failed("the auditor reads another status")
    stage("tranche_2_paid", disbursed_rp=grant["disbursed_rp"], tranches=[t["status"] for t in grant["tranches"]],
          total_seconds=round(time.monotonic() - started, 2))

    # The auditor verifies over HTTP: the gateway runs the audit engine in its process, reading every service's
    # database with the read-only audit roles compose gives it.
    verified = auditor.ok("GET", "/api/v1/audit/verify")
    if not verified["ok"] or verified["ledger_entries_checked"] < 4:
        raise Failed(f"the audit over HTTP: {verified}")
    stage("audit_verified", events_checked=verified["events_checked"],
          ledger_entries_checked=verified["ledger_entries_checked"])


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        run(argv[0], argv[1], int(argv[2]) if len(argv) > 2 else date.today().year)
    except Failed as failure:
        print(json.dumps({"stage": "failed", "error": str(failure)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
